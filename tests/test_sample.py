"""The shipped sample: the committed files are what the generator writes, every
planted defect is what the generator's answer key says it is, and a run over the
sample finds what today's pipeline can find (quarantine, empty-input spellings,
empty outputs, exact duplicates) while keeping every good record.
"""

from __future__ import annotations

import ast
import csv
import difflib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.stages.normalise import is_empty_input_spelling

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_sample", DATA / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


make_sample = _load_generator()
PLANTED = make_sample.planted()
MAIN, CSV_BATCH, BATCH2 = make_sample.MAIN, make_sample.CSV_BATCH, make_sample.BATCH2
# The order the pipeline reads them in (sorted paths), then the later batch.
READ_ORDER = (CSV_BATCH, MAIN, BATCH2)
GOOD_KINDS = make_sample.GOOD_KINDS
MALFORMED = make_sample.MALFORMED
NOT_A_RECORD = ("blank_line",)
OVERLAY = ("extra_fields",)  # marks rows that are also listed under their own class


def rows_of(name: str, *kinds: str) -> list[int]:
    return sorted(row for kind in kinds for row in PLANTED[name].get(kind, []))


# --- reading the committed files back, independently of the pipeline -----------------


def read_lines(name: str) -> list[bytes]:
    data = (DATA / name).read_bytes()
    lines = data.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def read_csv(name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO((DATA / name).read_text(encoding="utf-8"))))


def parsed(line: bytes):
    """The JSON value of a line, or None when it does not parse as UTF-8 JSON."""
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def entries() -> dict[tuple[str, int], object]:
    """(file, row) -> the record (dict) or the raw bytes of a line that is not one."""
    found: dict[tuple[str, int], object] = {}
    for name in READ_ORDER:
        if name.endswith(".csv"):
            for row, value in enumerate(read_csv(name)):
                found[(name, row)] = value
        else:
            for row, line in enumerate(read_lines(name)):
                value = parsed(line)
                found[(name, row)] = value if isinstance(value, dict) else line
    return found


ENTRIES = entries()
ORDERED = list(ENTRIES)  # dicts keep insertion order: the read order


def text(value, field: str) -> str:
    found = value.get(field) if isinstance(value, dict) else None
    return found if isinstance(found, str) else ""


def comparable(value) -> tuple[str, ...]:
    """The pipeline's exact-duplicate key, computed here without it."""
    fields = [text(value, f) for f in ("instruction", "input", "output")]
    if is_spelled_empty(fields[1]):
        fields[1] = ""
    return tuple(re.sub(r"\s+", " ", f.lower()).strip() for f in fields)


def is_spelled_empty(value: str) -> bool:
    return pl.select(is_empty_input_spelling(pl.lit(value.strip()))).item()


def earlier(key: tuple[str, int]) -> list:
    return [ENTRIES[k] for k in ORDERED[: ORDERED.index(key)] if isinstance(ENTRIES[k], dict)]


# --- (1) the committed files are the generator's output -------------------------------


def test_regenerating_gives_byte_identical_files(tmp_path):
    result = subprocess.run([sys.executable, str(DATA / "make_sample.py"), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in make_sample.files():
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), f"{name} differs: rerun python data/make_sample.py"


def test_sample_folders_hold_only_generated_data():
    # `curate run data/sample` reads every data file there; nothing else may sit beside them.
    present = {str(p.relative_to(DATA)) for folder in ("sample", "sample_batch2") for p in (DATA / folder).rglob("*") if p.is_file()}
    assert present == set(make_sample.files())


# --- (3) the answer key matches the files ------------------------------------------------


EQUATION = re.compile(r"[\d(][\d\s+*/×÷^().,-]*(?:=[\d\s+*/×÷^().,-]+)+")


def _value(expression: str) -> float:
    """Evaluate digits, operators and brackets only; thousands separators allowed."""
    cleaned = re.sub(r"(?<=\d),(?=\d{3})", "", expression).replace("×", "*").replace("÷", "/").replace("^", "**")
    tree = ast.parse(cleaned.strip(), mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator, ast.unaryop)
    assert all(isinstance(node, allowed) for node in ast.walk(tree)), expression
    return eval(compile(tree, "<equation>", "eval"))


def _equations(output: str) -> list[list[float]]:
    """Each line of the output that is a whole equation chain ("a op b = c = ..."), as
    the values of its sides. Equations inside prose (units, currency) are not read."""
    lines = (line.strip().rstrip(".") for line in output.splitlines())
    return [[_value(side) for side in line.split("=")] for line in lines if EQUATION.fullmatch(line)]


def _right(sides: list[float]) -> bool:
    return all(abs(side - sides[0]) < 1e-9 for side in sides)


def _similar(value, others) -> bool:
    joined = "\n".join(text(value, f) for f in ("instruction", "input", "output"))
    return any(
        difflib.SequenceMatcher(None, joined, "\n".join(text(o, f) for f in ("instruction", "input", "output"))).ratio() >= 0.9
        for o in others
    )


FOREIGN_WORDS = {"und", "die", "des", "el", "la", "las", "los", "une", "avec", "puis", "für", "para", "del"}

SIGNATURES = {
    "url_reference": lambda v, k: re.search(r"https?://|www\.", text(v, "instruction") + text(v, "input")),
    "url_cited": lambda v, k: re.search(r"https://", text(v, "output")),
    "attachment_reference": lambda v, k: re.search(r"attach", text(v, "instruction") + text(v, "input"), re.I),
    "merged_tasks": lambda v, k: re.search(r"##\n\d+\. Instruction:", text(v, "output")),
    "empty_output": lambda v, k: isinstance(v, dict) and text(v, "output").strip() == "",
    "missing_code": lambda v, k: re.search(r"Python|SQL", text(v, "instruction")) and not re.search(r"def |SELECT|\(", text(v, "output")),
    "image_request": lambda v, k: re.match(r"(Draw|Create|Generate|Design) ", text(v, "instruction")),
    "no_output_placeholder": lambda v, k: text(v, "output").strip() in {"N/A", "<No Output>", "No output."},
    "empty_input_spelling": lambda v, k: text(v, "input").strip() != "" and is_spelled_empty(text(v, "input")),
    "input_null": lambda v, k: isinstance(v, dict) and "input" in v and v["input"] is None,
    # Word problems state no equation to check; their answers are wrong by design.
    "wrong_arithmetic": lambda v, k: not all(_right(sides) for sides in _equations(text(v, "output")))
    if _equations(text(v, "output")) else re.search(r"\d", text(v, "output")),
    "correct_arithmetic": lambda v, k: _equations(text(v, "output")) and all(_right(sides) for sides in _equations(text(v, "output"))),
    "control_characters": lambda v, k: any(re.search(r"[\x00-\x08\x0b-\x1f\x7f\u200b]|\\n", text(v, f)) for f in ("instruction", "output")),
    "template_leak": lambda v, k: "### Instruction:" in text(v, "instruction") + text(v, "output"),
    "refusal": lambda v, k: re.match(r"(As an AI|I'm sorry, but I cannot)", text(v, "output")),
    "echo_output": lambda v, k: text(v, "output").rstrip(".") == text(v, "instruction").rstrip("."),
    "input_repeats_instruction": lambda v, k: text(v, "input").rstrip(".") == text(v, "instruction").rstrip("."),
    "truncated_output": lambda v, k: not text(v, "output").rstrip().endswith((".", "!", "?")),
    "repetitive_output": lambda v, k: max(
        (text(v, "output").count(piece) for piece in re.split(r"(?<=[.!])\s+|\n", text(v, "output")) if piece), default=0
    ) >= 5,
    "non_english": lambda v, k: len(FOREIGN_WORDS & set(re.findall(r"\w+", text(v, "output").lower()))) >= 2
    and " the " not in text(v, "output"),
    "long_output": lambda v, k: len(text(v, "output").split()) > 2048,
    "exact_duplicate": lambda v, k: comparable(v) in {comparable(o) for o in earlier(k)},
    "near_duplicate": lambda v, k: comparable(v) not in {comparable(o) for o in earlier(k)} and _similar(v, earlier(k)),
    "conflicting_output": lambda v, k: any(
        comparable(o)[:2] == comparable(v)[:2] and comparable(o)[2] != comparable(v)[2] for o in earlier(k)
    ),
    "invalid_utf8": lambda v, k: isinstance(v, bytes)
    and _fails_utf8(v)
    and isinstance(json.loads(v.decode("utf-8", errors="replace")), dict),
    "not_json": lambda v, k: isinstance(v, bytes) and v.strip() and parsed(v) is None and not _fails_utf8(v),
    "not_object": lambda v, k: isinstance(v, bytes) and parsed(v) is not None and not isinstance(parsed(v), dict),
    "missing_output": lambda v, k: isinstance(v, dict) and "output" not in v,
    "output_not_string": lambda v, k: isinstance(v, dict) and "output" in v and not isinstance(v["output"], str),
    "blank_instruction": lambda v, k: isinstance(v, dict) and text(v, "instruction").strip() == "",
    "blank_line": lambda v, k: v == b"",
    "extra_fields": lambda v, k: isinstance(v, dict) and any(v.get(f) for f in set(v) - {"instruction", "input", "output"}),
    "templated_distinct": lambda v, k: text(v, "instruction") == make_sample.SENTIMENT,
}


def _fails_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _is_good(value) -> bool:
    fields = ("instruction", "input", "output")
    if not isinstance(value, dict) or not all(isinstance(value.get(f), str) for f in fields):
        return False
    spelled_empty = value["input"].strip() != "" and is_spelled_empty(value["input"])
    return bool(value["instruction"].strip() and value["output"].strip()) and not spelled_empty


PLANTED_CLASSES = [(name, kind) for name in READ_ORDER for kind in PLANTED[name]]


@pytest.mark.parametrize("name,kind", PLANTED_CLASSES, ids=[f"{n}:{k}" for n, k in PLANTED_CLASSES])
def test_each_planted_row_is_what_the_key_says(name, kind):
    for row in PLANTED[name][kind]:
        value = ENTRIES[(name, row)]
        if kind in GOOD_KINDS:
            assert _is_good(value), (row, value)
        if kind in SIGNATURES:
            assert SIGNATURES[kind](value, (name, row)), (row, value)


@pytest.mark.parametrize("name", READ_ORDER)
def test_every_line_is_under_exactly_one_class(name):
    rows = sorted(row for kind, listed in PLANTED[name].items() if kind not in OVERLAY for row in listed)
    lines = len(read_csv(name)) if name.endswith(".csv") else len(read_lines(name))
    assert rows == list(range(lines))


def test_good_rows_have_no_duplicates_among_themselves():
    keys = [comparable(ENTRIES[(n, r)]) for n in (CSV_BATCH, MAIN) for r in rows_of(n, *GOOD_KINDS)]
    assert len(keys) == len(set(keys))


def test_equations_in_good_outputs_are_right():
    checked = 0
    for name in READ_ORDER:
        for row in rows_of(name, *GOOD_KINDS):
            for sides in _equations(text(ENTRIES[(name, row)], "output")):
                assert _right(sides), (name, row, sides)
                checked += 1
    assert checked >= 6


REQUIRED = [
    "url_reference", "attachment_reference", "merged_tasks", "empty_output", "missing_code", "image_request",
    "no_output_placeholder", "empty_input_spelling", "wrong_arithmetic", "nonsensical_instruction",
    "control_characters", "template_leak", "refusal", "echo_output", "input_repeats_instruction",
    "truncated_output", "repetitive_output", "non_english", "long_output", "exact_duplicate", "near_duplicate",
    "conflicting_output", "templated_distinct", "correct_arithmetic", "url_cited", "extra_fields",
    "input_null", "invalid_utf8", *MALFORMED,
]


def test_main_file_plants_every_class_and_enough_good_records():
    assert {kind for kind in REQUIRED if not PLANTED[MAIN].get(kind)} == set()
    assert len(rows_of(MAIN, *GOOD_KINDS)) >= 250
    assert len(PLANTED[MAIN]["non_english"]) >= 3 and len(PLANTED[MAIN]["templated_distinct"]) >= 5


def test_later_batch_has_new_rows_copies_and_defects():
    key = PLANTED[BATCH2]
    assert len(key["good"]) == 40
    assert len(key["exact_duplicate"]) + len(key["near_duplicate"]) == 10
    assert sum(len(rows) for kind, rows in key.items() if kind not in (*GOOD_KINDS, *OVERLAY, "exact_duplicate", "near_duplicate")) == 10


# --- (2) a run over the sample -------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_run") / "curated"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "data/sample", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    frames = {part: pl.read_parquet(out / part) for part in ("clean", "rejected", "quarantine")}
    return json.loads((out / "report.json").read_text()), frames


def lineage(frame: pl.DataFrame) -> set[tuple[str, int]]:
    return {(Path(source).relative_to("data").as_posix(), row) for source, row in frame.select("_source", "_row").iter_rows()}


def planted_set(*kinds: str) -> set[tuple[str, int]]:
    return {(name, row) for name in (CSV_BATCH, MAIN) for row in rows_of(name, *kinds)}


def test_run_reads_every_record_and_reconciles(sample_run):
    report, _ = sample_run
    records = planted_set(*{kind for name in (CSV_BATCH, MAIN) for kind in PLANTED[name]} - set(NOT_A_RECORD) - set(OVERLAY))
    counts = report["counts"]
    assert counts["rows_in"] == len(records)
    assert counts["rows_in"] >= 300 + len(planted_set(*MALFORMED))
    assert counts["reconciled"] and counts["rows_in"] == counts["clean"] + counts["rejected"] + counts["quarantined"]


def test_exactly_the_malformed_lines_are_quarantined(sample_run):
    _, frames = sample_run
    assert lineage(frames["quarantine"]) == planted_set(*MALFORMED)


@pytest.mark.parametrize(
    "kind,says",
    [
        ("not_json", "not valid JSON"),
        ("not_object", "not a JSON object"),
        ("missing_output", "output"),
        ("output_not_string", "output"),
        ("blank_instruction", "instruction"),
    ],
)
def test_quarantine_error_names_the_problem_and_keeps_the_raw_line(sample_run, kind, says):
    _, frames = sample_run
    quarantine = frames["quarantine"].with_columns(pl.col("_source").str.replace("^data/", ""))
    for row in rows_of(MAIN, kind):
        found = quarantine.filter((pl.col("_source") == MAIN) & (pl.col("_row") == row))
        assert found.height == 1
        assert says in found["_error"][0]
        assert found["_raw"][0] == read_lines(MAIN)[row].decode("utf-8")


def test_empty_input_spellings_and_null_input_become_empty(sample_run):
    _, frames = sample_run
    columns = ["_source", "_row", "input", "_repairs"]
    kept = pl.concat([frames["clean"].select(columns), frames["rejected"].select(columns)])
    by_row = {(source.removeprefix("data/"), row): (input_, repairs) for source, row, input_, repairs in kept.iter_rows()}
    spelled, null = planted_set("empty_input_spelling"), planted_set("input_null")
    assert len(spelled) >= 9 and len(null) == 1
    for key in spelled | null:
        assert by_row[key][0] == "", key
    assert {key for key in spelled | null if "empty_input_spelling" in by_row[key][1]} == spelled


@pytest.mark.parametrize("reason,kind", [("exact_duplicate", "exact_duplicate"), ("empty_output", "empty_output")])
def test_rejected_rows_are_the_planted_ones(sample_run, reason, kind):
    _, frames = sample_run
    rejected = frames["rejected"].filter(pl.col("_reasons").list.contains(reason))
    assert lineage(rejected) == planted_set(kind)


def test_good_records_all_stay_clean_with_their_extra_fields(sample_run):
    _, frames = sample_run
    clean = frames["clean"]
    assert planted_set(*GOOD_KINDS) <= lineage(clean)
    by_row = {(s.removeprefix("data/"), r): row for s, r, row in zip(clean["_source"], clean["_row"], clean.to_dicts())}
    for key in planted_set("extra_fields"):
        original = ENTRIES[key]
        for field in set(original) - {"instruction", "input", "output"}:
            assert by_row[key][field] == original[field], (key, field)


def test_invalid_utf8_is_kept_with_replacement_characters(sample_run):
    _, frames = sample_run
    rows = [(MAIN, row) for row in rows_of(MAIN, "invalid_utf8")]
    clean = frames["clean"].with_columns(pl.col("_source").str.replace("^data/", ""))
    for name, row in rows:
        found = clean.filter((pl.col("_source") == name) & (pl.col("_row") == row))
        assert found.height == 1 and "\ufffd" in found["input"][0]
