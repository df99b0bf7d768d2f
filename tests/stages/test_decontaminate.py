"""Decontamination: benchmark problems planted in a training set are rejected as
``benchmark_overlap``; paraphrases and common phrases are kept; every benchmark
format the loaders read works."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline import columns as C
from pipeline.config import Config, DecontaminationConfig, benchmark_name, load_config
from pipeline.errors import InputError
from pipeline.engines.local import run
from pipeline.flow import Context
from pipeline.stages import decontaminate as D
from rules import RULES
from tests.conftest import REFERENCE, needs_reference, write_jsonl

GSM = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins "
    "for her friends every day with four. She sells the remainder at the farmers' market daily for $2 "
    "per fresh duck egg. How much in dollars does she make every day at the farmers' market?"
)
GSM_ANSWER = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer's market.\n#### 18"
HUMANEVAL = (
    "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    '    """ Check if in given list of numbers, are any two numbers closer to each other than\n'
    "    given threshold.\n    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n"
    '    """\n'
)
SHORT = "How do I detail a car?"  # 6 words: shorter than an n-gram, matched whole
BENCHMARK_ROWS = [
    {"question": GSM, "answer": GSM_ANSWER},
    {"task_id": "HumanEval/0", "prompt": HUMANEVAL, "entry_point": "add"},
    {"instruction": SHORT, "output": "Wash it, clay it, polish it and wax it.", "dataset": "helpful_base"},
    # A code idiom of several lines: short, but code, so never matched whole.
    {"canonical_solution": "    while b:\n        a, b = b, a % b\n    return a\n"},
]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test hashes its benchmarks into its own cache directory (the tokenizer's
    cache stays where it is: converting it again costs seconds)."""
    monkeypatch.setattr(D, "cache_dir", lambda: tmp_path / "decontamination-cache")


@pytest.fixture
def bench_file(tmp_path):
    return write_jsonl(tmp_path / "bench.jsonl", BENCHMARK_ROWS)


def config_for(*paths: Path, **settings) -> Config:
    return Config.model_validate({"decontamination": {"benchmarks": [str(p) for p in paths], **settings}})


def frame_of(records: list[dict]) -> pl.DataFrame:
    rows = [{"instruction": r.get("instruction", ""), "input": r.get("input", ""), "output": r.get("output", "")} for r in records]
    return pl.DataFrame(rows, schema={f: pl.String for f in C.FIELDS}).with_row_index(C.ORDER).with_columns(
        pl.lit("train.jsonl").alias(C.SOURCE), pl.col(C.ORDER).cast(pl.Int64).alias(C.ROW)
    )


def marked(records: list[dict], config: Config) -> pl.DataFrame:
    frame = D.mark_benchmark_overlap(frame_of(records).lazy(), Context(config)).collect()
    return frame.with_columns(RULES["benchmark_overlap"].expr(config.rules).alias("fired"))


def recased(text: str) -> str:
    return "".join(c.upper() if i % 3 else c.lower() for i, c in enumerate(text))


def respaced(text: str) -> str:
    return "  \n ".join(text.split(" "))


def repunctuated(text: str) -> str:
    return text.replace(".", "!").replace("?", ";").replace(",", " -").replace("'", "").replace("$", "USD ")


PLANTED = [
    # (case, record, benchmark row)
    ("verbatim", {"instruction": GSM, "output": "18"}, 0),
    ("recased", {"instruction": recased(GSM), "output": "18"}, 0),
    ("re-spaced", {"instruction": respaced(GSM), "output": "18"}, 0),
    ("punctuation changed", {"instruction": repunctuated(GSM), "output": "18"}, 0),
    ("embedded in a longer instruction", {"instruction": f"Solve this grade-school problem step by step. {GSM} Show your work.", "output": "18"}, 0),
    ("as the input", {"instruction": "Answer the word problem.", "input": GSM, "output": "18"}, 0),
    ("reference answer as the output", {"instruction": "How many eggs?", "output": GSM_ANSWER}, 0),
    ("code prompt", {"instruction": "Complete the function.", "input": "from typing import List\n\n\n" + HUMANEVAL, "output": "pass"}, 1),
    ("code prompt recased and re-indented", {"instruction": "Finish it.", "input": respaced(HUMANEVAL.upper()), "output": "pass"}, 1),
    ("short text whole", {"instruction": SHORT, "output": "Wash and wax it."}, 2),
    ("short text inside a longer instruction", {"instruction": f"A friend asks: {SHORT.lower()} Reply briefly.", "output": "Wash and wax it."}, 2),
]


@pytest.mark.parametrize("case, record, benchmark_row", PLANTED, ids=[case for case, _, _ in PLANTED])
def test_planted_benchmark_problems_are_found(bench_file, case, record, benchmark_row):
    row = marked([record], config_for(bench_file)).row(0, named=True)
    assert row["fired"], case
    assert (row[C.BENCHMARK], row[C.BENCHMARK_ROW]) == ("bench", benchmark_row)


KEPT = [
    ("paraphrase sharing no n-gram", {"instruction": (
        "A farmer's ducks produce sixteen eggs daily; three are eaten at breakfast and four go into muffins. "
        "The rest sell for two dollars apiece. What is the daily income?"), "output": "18 dollars"}),
    ("common phrase", {"instruction": "Write a Python function that takes a list of numbers and returns the largest one.", "output": "def f(x): return max(x)"}),
    ("shares one n-gram of a long text", {"instruction": (
        "She sells the remainder at the farmers' market daily for $2 per fresh duck egg, said the teacher, "
        "and then the lesson moved on to fractions, decimals, percentages, ratios, rates and many other topics."), "output": "ok"}),
    ("short text cut short", {"instruction": "How do I detail", "output": "Carefully."}),
    ("benchmark text under short_min_words", {"instruction": "Add two numbers.", "output": "def add(a, b): return a + b"}),
    ("a code idiom of several lines", {"instruction": "Greatest common divisor.", "output": "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a"}),
    ("metadata label", {"instruction": "Is this helpful_base data?", "output": "HumanEval/0 is an id."}),
]


@pytest.mark.parametrize("case, record", KEPT, ids=[case for case, _ in KEPT])
def test_paraphrases_and_common_phrases_are_kept(bench_file, case, record):
    row = marked([record], config_for(bench_file)).row(0, named=True)
    assert not row["fired"], case
    assert row[C.BENCHMARK] is None


@pytest.mark.parametrize(
    "benchmark, fires",
    [("alpaca_eval", True), (None, False)],
)
def test_rule_reads_the_match_column(benchmark, fires):
    frame = pl.DataFrame({C.BENCHMARK: [benchmark]}, schema={C.BENCHMARK: pl.String})
    params = config_for_existing().rules
    assert frame.select(RULES["benchmark_overlap"].expr(params)).item() is fires


def config_for_existing() -> Config:
    return Config.model_validate({"decontamination": {"benchmarks": [__file__]}})


def test_rule_is_not_active_without_benchmarks():
    assert "benchmark_overlap" not in Config().active_rules()
    assert "benchmark_overlap" in config_for_existing().active_rules()
    frame = frame_of([{"instruction": GSM, "output": "18"}])
    assert D.mark_benchmark_overlap(frame.lazy(), Context(Config())).collect().equals(frame)


def test_min_overlap_is_a_share_of_the_benchmark_text(bench_file):
    # Half of the GSM8K question: about half of its n-grams.
    half = " ".join(GSM.split()[: len(GSM.split()) // 2 + 7])
    record = {"instruction": half, "output": "?"}
    assert marked([record], config_for(bench_file, min_overlap=0.3)).row(0, named=True)["fired"]
    assert not marked([record], config_for(bench_file, min_overlap=0.9)).row(0, named=True)["fired"]


def test_span_marks_the_shared_words(bench_file):
    record = {"instruction": f"Please solve: {GSM} Thanks!", "output": "18"}
    row = marked([record], config_for(bench_file)).row(0, named=True)
    assert row[C.BENCHMARK_FIELD] == "instruction"
    words = record["instruction"].split()
    start, end = row[C.BENCHMARK_SPAN]
    # Every whitespace token of GSM is one normalised word ("Janet's" -> "janets", "$2" -> "2").
    assert (start, end) == (2, 2 + len(GSM.split()))
    shown = D.highlighted(record["instruction"], row[C.BENCHMARK_SPAN])
    assert shown["text"][shown["span"][0] : shown["span"][1]] == GSM[:-1]  # the closing "?" is no word
    assert words[2] == "Janet's"



def test_normalised_makes_every_run_of_non_word_characters_one_space():
    """``normalised`` leaves single spaces alone for speed; it must still turn every
    run of separators (spaces, punctuation, tabs, no-break spaces, underscores) into
    exactly one space, as the plain ``[^\\p{L}\\p{N}]+`` would."""
    alphabet = list("ab Z9é٣中") + list("  \t\n.,-_'’!\u00a0") + ["\u2003"]
    generator = random.Random(7)
    texts = ["", " ", "  ", "a b", "a  b", "a, b", " a ", "a_b", "a\u00a0b"]
    texts += ["".join(generator.choice(alphabet) for _ in range(generator.randint(1, 40))) for _ in range(3000)]
    frame = pl.DataFrame({"text": texts})
    plain = pl.col("text").str.to_lowercase().str.replace_all(r"['\u2019]", "").str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()
    got = frame.select(D.normalised(pl.col("text")).alias("got"), plain.alias("want"))
    assert got.get_column("got").to_list() == got.get_column("want").to_list()
    assert frame.head(9).select(D.normalised(pl.col("text"))).to_series().to_list() == ["", "", "", "a b", "a b", "a b", "a", "a b", "a b"]

# ---------------------------------------------------------------- benchmark formats and shapes


def _write(path: Path, rows: list[dict]) -> Path:
    kind = path.name.removesuffix(".gz").rsplit(".", 1)[1]
    if kind == "json":
        data = json.dumps(rows).encode()
    elif kind == "jsonl":
        data = "\n".join(json.dumps(r) for r in rows).encode() + b"\n"
    elif kind == "parquet":
        import io

        buffer = io.BytesIO()
        pl.DataFrame(rows).write_parquet(buffer)
        data = buffer.getvalue()
    else:
        import io

        buffer = io.BytesIO()
        pl.DataFrame(rows).write_csv(buffer)
        data = buffer.getvalue()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


FLAT = [{"id": "x", "question": "What is two plus two?"}, {"id": "y", "question": GSM}]
FORMATS = [
    ("bench.json", FLAT),
    ("bench.jsonl", FLAT),
    ("bench.parquet", FLAT),
    ("bench.csv", FLAT),
    ("bench.json.gz", FLAT),
    ("bench.jsonl.gz", FLAT),
    ("bench.parquet.gz", FLAT),
    ("bench.csv.gz", FLAT),
    # other shapes: chat messages (nested strings), prompt/completion
    ("chat.jsonl", [{"messages": [{"role": "user", "content": "Hi"}]}, {"messages": [{"role": "user", "content": GSM}, {"role": "assistant", "content": "18"}]}]),
    ("pc.jsonl", [{"prompt": "Hello", "completion": "Hi"}, {"prompt": "Q: " + GSM, "completion": "A: 18"}]),
]


@pytest.mark.parametrize("name, rows", FORMATS, ids=[name for name, _ in FORMATS])
def test_every_benchmark_format_and_shape_works(tmp_path, name, rows):
    path = _write(tmp_path / name, rows)
    frame = marked([{"instruction": "Unrelated task about colours.", "output": "Blue."}, {"instruction": GSM, "output": "18"}], config_for(path))
    assert frame["fired"].to_list() == [False, True]
    assert frame.row(1, named=True)[C.BENCHMARK_ROW] == 1
    assert frame.row(1, named=True)[C.BENCHMARK] == benchmark_name(path) == name.split(".")[0]


def test_json_wrapper_and_named_benchmark(tmp_path):
    path = tmp_path / "eval.json"
    path.write_text(json.dumps({"data": FLAT}))
    config = Config.model_validate({"decontamination": {"benchmarks": [str(path)], "names": {"eval": "GSM8K"}}})
    assert marked([{"instruction": GSM, "output": "18"}], config).row(0, named=True)[C.BENCHMARK] == "GSM8K"


def test_broken_benchmark_is_an_input_error(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "fine"}\n{not json\n')
    with pytest.raises(InputError, match="broken.jsonl row 1"):
        D.mark_benchmark_overlap(frame_of([{"instruction": "x"}]).lazy(), Context(config_for(path))).collect()


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"benchmarks": ["missing.jsonl"]}, "benchmark file not found"),
        ({"ngram": 2}, "ngram"),
        ({"min_overlap": 0}, "min_overlap"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_decontamination_config_fails_at_load(tmp_path, settings, message):
    path = tmp_path / "c.toml"
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
    path.write_text(f"[decontamination]\n{body}\n")
    with pytest.raises(InputError, match=message):
        load_config(path)


def test_two_benchmarks_with_one_name_are_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    paths = [write_jsonl(a / "x.jsonl", FLAT), write_jsonl(b / "x.jsonl", FLAT)]
    with pytest.raises(InputError, match="two benchmarks are named x"):
        Config().with_benchmarks([str(p) for p in paths])


def test_benchmarks_are_hashed_once_and_cached_by_sha256(tmp_path, bench_file):
    settings = DecontaminationConfig(benchmarks=[str(bench_file)])
    first = D.read_benchmark(str(bench_file), "bench", settings)
    cached = sorted(p.name for p in D.cache_dir().iterdir())
    assert len(cached) == 2 and all(name.startswith(first.sha256) for name in cached)
    again = D.read_benchmark(str(bench_file), "bench", settings)
    assert again.ngrams.equals(first.ngrams) and again.shorts.equals(first.shorts)
    # A damaged cache entry is rebuilt, not trusted.
    (D.cache_dir() / cached[0]).write_bytes(b"garbage")
    assert D.read_benchmark(str(bench_file), "bench", settings).ngrams.equals(first.ngrams)
    # A changed file is a new entry.
    write_jsonl(bench_file, BENCHMARK_ROWS[:1])
    assert D.read_benchmark(str(bench_file), "bench", settings).sha256 != first.sha256
    assert len(list(D.cache_dir().iterdir())) == 4


# ---------------------------------------------------------------- whole runs


def test_run_rejects_planted_rows_with_their_benchmark(tmp_path, bench_file, record):
    train = write_jsonl(tmp_path / "train.jsonl", [
        record(),
        record(instruction="Solve it.", input=GSM, output="18"),
        record(instruction="Give a synonym for happy.", output="Joyful."),
        record(instruction=SHORT.upper(), output="Wash and wax it."),
    ])
    report = run([str(train)], tmp_path / "out", config_for(bench_file), quiet=True)
    assert report["counts"]["reconciled"] and report["rejected_by_reason"] == {"benchmark_overlap": 2}
    rejected = pl.read_parquet(tmp_path / "out" / "rejected")
    assert rejected.select(C.ROW, C.BENCHMARK, C.BENCHMARK_ROW).rows() == [(1, "bench", 0), (3, "bench", 2)]
    assert not {C.BENCHMARK_FIELD, C.BENCHMARK_SPAN} & set(rejected.columns)
    section = report["decontamination"]["benchmarks"][0]
    assert (section["name"], section["matched_rows"], section["benchmark_rows"]) == ("bench", 2, 4)
    example = section["examples"][0]
    assert example["field"] == "input" and example["text"][example["span"][0] : example["span"][1]] == GSM[:-1]
    assert example["benchmark_text"][example["benchmark_span"][0] : example["benchmark_span"][1]].startswith("Janet's ducks")
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text())
    assert on_disk["decontamination"] == report["decontamination"]
    page = (tmp_path / "out" / "report.html").read_text()
    section = page[page.index('id="decontamination"'):].split("</section>")[0]
    assert "<mark>Janet&#x27;s ducks lay 16 eggs" in section and "bench row 0" in section
    assert "Benchmark overlap (rows matched): bench 2." in (tmp_path / "out" / "report.md").read_text()


def test_run_without_benchmarks_writes_no_benchmark_columns(tmp_path, record):
    train = write_jsonl(tmp_path / "train.jsonl", [record(), record(output="")])
    report = run([str(train)], tmp_path / "out", Config(), quiet=True)
    assert "decontamination" not in report
    assert not any(rule["rule"] == "benchmark_overlap" for rule in report["rules"])
    assert C.BENCHMARK not in pl.read_parquet(tmp_path / "out" / "rejected").columns


def curate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def test_cli_decontaminate_is_repeatable_and_checks_files(tmp_path, bench_file, record):
    write_jsonl(tmp_path / "train.jsonl", [record(), record(instruction=GSM, output="18")])
    other = write_jsonl(tmp_path / "other.jsonl", [{"q": "Name three primary colours."}])
    ok = curate("run", "train.jsonl", "--out", "out", "--decontaminate", str(bench_file), "--decontaminate", str(other), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "benchmark_overlap" in ok.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [b["name"] for b in report["decontamination"]["benchmarks"]] == ["bench", "other"]
    assert report["rejected_by_reason"] == {"benchmark_overlap": 1}  # the short "other" text has 4 words: ignored
    missing = curate("run", "train.jsonl", "--out", "out2", "--decontaminate", "nope.jsonl", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "nope.jsonl" in missing.stderr and "Traceback" not in missing.stderr and not (tmp_path / "out2").exists()


def test_refresh_decontaminates_new_batches(tmp_path, bench_file, record):
    from pipeline.engines.refresh import refresh

    first = write_jsonl(tmp_path / "a.jsonl", [record()])
    second = write_jsonl(tmp_path / "b.jsonl", [record(instruction=GSM, output="18")])
    config = config_for(bench_file)
    refresh([str(first)], tmp_path / "state", config, quiet=True)
    outcome = refresh([str(second)], tmp_path / "state", config, quiet=True)
    assert outcome.report["rejected_by_reason"] == {"benchmark_overlap": 1}


# ---------------------------------------------------------------- real benchmarks


BENCHMARKS = [
    REFERENCE / "benchmarks" / "alpaca_eval_davinci003.json",
    REFERENCE / "benchmarks" / "humaneval.jsonl.gz",
    REFERENCE / "dev" / "gsm8k_test.jsonl",
]


@needs_reference(BENCHMARKS[1])
def test_real_benchmarks_planted_in_real_alpaca_rows():
    """GSM8K and HumanEval problems and AlpacaEval prompts planted among 1,000 real
    Alpaca rows are all found; the real rows are not (none of the first 1,000 holds
    a benchmark text, read in labels/decontamination/matches.csv)."""
    alpaca = json.loads((REFERENCE / "alpaca_5000.json").read_text())[:1000]
    gsm = [json.loads(line) for line in (REFERENCE / "dev" / "gsm8k_test.jsonl").read_text().splitlines()[:3]]
    humaneval = [json.loads(line) for line in gzip.decompress(BENCHMARKS[1].read_bytes()).decode().splitlines()[:2]]
    alpaca_eval = json.loads(BENCHMARKS[0].read_text())[100:102]
    planted = [
        {"instruction": gsm[0]["question"].upper(), "output": "?"},
        {"instruction": "Solve:", "input": gsm[1]["question"], "output": "?"},
        {"instruction": "Explain.", "output": gsm[2]["answer"]},
        {"instruction": "Complete this function.", "input": humaneval[0]["prompt"], "output": "pass"},
        {"instruction": "Write the body.", "output": humaneval[1]["prompt"] + humaneval[1]["canonical_solution"]},
        {"instruction": "Please answer. " + alpaca_eval[0]["instruction"], "output": "..."},
        {"instruction": alpaca_eval[1]["instruction"], "output": alpaca_eval[1]["output"]},
    ]
    config = config_for(*BENCHMARKS)
    frame = marked(alpaca + planted, config)
    fired = frame.filter(pl.col("fired"))
    assert fired[C.ORDER].to_list() == list(range(1000, 1000 + len(planted)))
    assert fired.select(C.BENCHMARK, C.BENCHMARK_ROW).rows() == [
        ("gsm8k_test", 0), ("gsm8k_test", 1), ("gsm8k_test", 2), ("humaneval", 0), ("humaneval", 1),
        ("alpaca_eval_davinci003", 100), ("alpaca_eval_davinci003", 101),
    ]


LABELS = Path(__file__).resolve().parents[2] / "labels" / "decontamination" / "matches.csv"


def _real_records(dataset: str) -> list[dict]:
    if dataset.startswith("t0_"):  # prompt/completion
        lines = (REFERENCE / f"dev/{dataset}.jsonl").read_text().splitlines()
        return [{"instruction": r["prompt"], "output": r["completion"]} for r in map(json.loads, filter(None, lines))]
    path = REFERENCE / ("alpaca_5000.json" if dataset == "alpaca_5000" else f"dev/{dataset}.json")
    rows = json.loads(path.read_text())
    # GPTeacher names the output "response"; the loader's shape detection is not needed here.
    return [{"instruction": r["instruction"], "input": r.get("input") or "", "output": r.get("output", r.get("response", ""))} for r in rows]


@needs_reference(BENCHMARKS[1])
@pytest.mark.parametrize("dataset", ["alpaca_5000", "code_alpaca_2k", "gpteacher_codegen", "t0_wiki_hop_generate_object", "t0_multi_news_summary"])
def test_defaults_drop_exactly_the_rows_labelled_so(dataset):
    """The matches read on the real data (labels/decontamination/matches.csv, with a verdict
    each): the defaults drop the rows labelled ``dropped_by_default`` and no other
    row of the dataset, and no row labelled a coincidence."""
    import csv

    labels = [row for row in csv.DictReader(LABELS.open()) if row["dataset"] == dataset]
    expected = sorted(int(row["row"]) for row in labels if row["dropped_by_default"] == "yes")
    assert all(row["verdict"] != "coincidental" for row in labels if row["dropped_by_default"] == "yes")
    frame = marked(_real_records(dataset), config_for(*BENCHMARKS))
    fired = frame.filter(pl.col("fired"))
    assert sorted(fired[C.ROW].to_list()) == expected
    by_row = {int(row["row"]): (row["benchmark"], int(row["benchmark_row"])) for row in labels}
    assert all(by_row[r] == (b, br) for r, b, br in fired.select(C.ROW, C.BENCHMARK, C.BENCHMARK_ROW).rows())
