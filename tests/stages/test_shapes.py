"""Input shapes: detection per source, --map / [fields], conversations, compressed files."""

from __future__ import annotations

import bz2
import gzip
import io
import json
from pathlib import Path

import polars as pl
import pytest
import zstandard

from pipeline.cli import main
from pipeline.config import Config, FieldsConfig, load_config, with_field_map
from pipeline.errors import InputError
from pipeline.stages.load import expand_inputs, load_records
from pipeline.engines.local import run
from pipeline.stages.shapes import conform, detect, parse_map, single_turn
from pipeline.stages.validate import validate
from tests.conftest import REFERENCE, needs_reference, write_jsonl

TASK = {"instruction": "Name the capital of France.", "output": "Paris is the capital of France."}

# One record of each shape, and the Alpaca row it must become.
SHAPED = [
    ("alpaca", {"instruction": "Name the capital of France.", "input": "", "output": "Paris is the capital of France."},
     {"instruction": "Name the capital of France.", "input": "", "output": "Paris is the capital of France."}),
    ("gpteacher", {"instruction": "Reverse the list.", "input": "[1, 2, 3]", "response": "[3, 2, 1]"},
     {"instruction": "Reverse the list.", "input": "[1, 2, 3]", "output": "[3, 2, 1]"}),
    ("dolly", {"instruction": "Who wrote it?", "context": "Hamlet is a play by Shakespeare.",
               "response": "Shakespeare wrote it.", "category": "closed_qa"},
     {"instruction": "Who wrote it?", "input": "Hamlet is a play by Shakespeare.", "output": "Shakespeare wrote it.",
      "category": "closed_qa"}),
    ("prompt_completion", {"prompt": "Translate to French: cat", "completion": "chat"},
     {"instruction": "Translate to French: cat", "input": "", "output": "chat"}),
    ("question_answer", {"question": "What is 2 + 2?", "answer": "2 + 2 = 4.\n#### 4"},
     {"instruction": "What is 2 + 2?", "input": "", "output": "2 + 2 = 4.\n#### 4"}),
    ("sharegpt", {"id": "c1", "conversations": [{"from": "system", "value": "Be brief."},
                                                {"from": "human", "value": "Say hello."},
                                                {"from": "gpt", "value": "Hello."}]},
     {"instruction": "Say hello.", "input": "", "output": "Hello.", "system": "Be brief.", "id": "c1"}),
    ("messages", {"messages": [{"role": "user", "content": "Say hello."}, {"role": "assistant", "content": "Hello."}]},
     {"instruction": "Say hello.", "input": "", "output": "Hello."}),
]


def write_json(path: Path, records: list) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def read(paths: list, fields: dict | None = None) -> tuple[pl.DataFrame, pl.DataFrame, list]:
    records = load_records(expand_inputs([str(p) for p in paths]), say=lambda _: None)
    records, shapes = conform(records, fields, say=lambda _: None)
    valid, quarantine = validate(records)
    return valid.collect(), quarantine, shapes


def user_rows(frame: pl.DataFrame) -> list[dict]:
    return [{k: v for k, v in row.items() if not k.startswith("_") and v is not None} for row in frame.to_dicts()]


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize("shape, record, expected", SHAPED, ids=[s for s, _, _ in SHAPED])
@pytest.mark.parametrize("writer", [write_json, write_jsonl], ids=["json", "jsonl"])
def test_each_shape_is_detected_and_mapped(tmp_path, shape, record, expected, writer):
    path = writer(tmp_path / ("in.json" if writer is write_json else "in.jsonl"), [record, record])
    valid, quarantine, shapes = read([path])
    assert [s.shape for s in shapes] == [shape]
    assert quarantine.is_empty()
    assert user_rows(valid) == [expected, expected]
    assert valid["_row"].to_list() == [0, 1]


@pytest.mark.parametrize(
    "keys, shape",
    [
        (["instruction", "input", "output"], "alpaca"),
        (["instruction", "output", "response", "messages"], "alpaca"),  # Alpaca's own keys win
        (["instruction", "input"], "alpaca"),  # incomplete Alpaca: quarantined by field, not refused
        (["output"], "alpaca"),
        ([], "alpaca"),  # nothing parsed: validation quarantines it as before
        (["instruction", "context", "response", "category"], "dolly"),
        (["instruction", "input", "response"], "gpteacher"),
        (["prompt", "completion"], "prompt_completion"),
        (["question", "answer"], "question_answer"),
        (["id", "conversations"], "sharegpt"),
        (["messages"], "messages"),
    ],
)
def test_detect(keys, shape):
    assert detect("f.jsonl", keys).name == shape


@pytest.mark.parametrize("keys", [["text"], ["title", "body"], ["question", "solution"], ["prompt", "response"]])
def test_unknown_shape_names_its_keys_and_an_example_map(keys):
    with pytest.raises(InputError) as caught:
        detect("f.jsonl", keys)
    message = str(caught.value)
    assert message.startswith("f.jsonl: unknown record shape; keys found: " + ", ".join(keys))
    assert f"--map instruction={keys[0]}" in message and "\n" not in message


@pytest.mark.parametrize("writer", [write_json, write_jsonl], ids=["json", "jsonl"])
def test_a_record_missing_its_mapped_key_is_quarantined_by_field(tmp_path, writer):
    good = {"instruction": "Reverse the list.", "input": "[1, 2]", "response": "[2, 1]"}
    broken = {"instruction": "Reverse the list.", "input": "[1, 2]", "response": 7}
    path = writer(tmp_path / ("in.json" if writer is write_json else "in.jsonl"), [good, broken])
    valid, quarantine, _ = read([path])
    assert valid.height == 1
    assert quarantine["_error"].to_list() == ["output: Input should be a valid string"]
    assert json.loads(quarantine["_raw"][0]) == broken, "the raw text is the record as read"


def test_mixed_shapes_are_handled_per_source(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for number, (shape, record, _) in enumerate(SHAPED):
        write_jsonl(folder / f"{number}-{shape}.jsonl", [record])
    valid, quarantine, shapes = read([folder])
    assert [s.shape for s in shapes] == [shape for shape, _, _ in SHAPED]
    assert quarantine.is_empty()
    assert user_rows(valid) == [expected for _, _, expected in SHAPED]


def test_csv_blank_cells_of_mapped_columns_are_empty_strings(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("prompt,completion\nSay hi.,\n", encoding="utf-8")
    valid, quarantine, shapes = read([path])
    assert shapes[0].shape == "prompt_completion" and quarantine.is_empty()
    assert valid["output"].to_list() == [""], "an empty answer goes to the rules (empty_output), as for Alpaca CSV"


# ---------------------------------------------------------------- --map and [fields]


@pytest.mark.parametrize(
    "text, mapping",
    [
        ("output=response", {"output": "response"}),
        ("output=response,input=context", {"output": "response", "input": "context"}),
        (" instruction = q , output = a ", {"instruction": "q", "output": "a"}),
        ("system=persona", {"system": "persona"}),
    ],
)
def test_parse_map(text, mapping):
    assert parse_map(text) == mapping


@pytest.mark.parametrize("text", ["output", "output=", "=response", "answer=response", "output=a,output=b"])
def test_parse_map_rejects(text):
    with pytest.raises(InputError, match="--map"):
        parse_map(text)


def test_map_names_the_fields_for_every_source(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"task": "Say hi.", "background": "", "reply": "Hi.", "lang": "en"}])
    valid, quarantine, shapes = read([path], {"instruction": "task", "input": "background", "output": "reply"})
    assert quarantine.is_empty() and shapes[0].shape == "mapped"
    assert user_rows(valid) == [{"instruction": "Say hi.", "input": "", "output": "Hi.", "lang": "en"}]


def test_map_overrides_detection(tmp_path):
    record = {"instruction": "Say hi.", "output": "hello", "better": "Hi."}
    valid, _, _ = read([write_jsonl(tmp_path / "in.jsonl", [record])], {"output": "better"})
    assert user_rows(valid) == [{"instruction": "Say hi.", "input": "", "output": "Hi."}]


def test_fields_table_in_the_config_and_map_over_it(tmp_path):
    (tmp_path / "c.toml").write_text('[fields]\noutput = "response"\ninput = "context"\n', encoding="utf-8")
    config = load_config(tmp_path / "c.toml")
    assert config.fields.mapping() == {"input": "context", "output": "response"}
    merged = with_field_map(config, {"output": "reply"})
    assert merged.fields.mapping() == {"input": "context", "output": "reply"}
    assert Config().fields == FieldsConfig() and Config().fields.mapping() == {}


def test_fields_table_rejects_unknown_fields(tmp_path):
    (tmp_path / "c.toml").write_text('[fields]\nanswer = "response"\n', encoding="utf-8")
    with pytest.raises(InputError, match="fields.answer"):
        load_config(tmp_path / "c.toml")


def one_line_error(capsys) -> str:
    """The error: one line, the last on stderr (progress lines may come before it)."""
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("curate: error:")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0] and "Traceback" not in err
    return errors[0]


def test_unknown_shape_exits_2_with_one_line(tmp_path, capsys):
    path = write_jsonl(tmp_path / "in.jsonl", [{"title": "A", "body": "B"}])
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    line = one_line_error(capsys)
    assert "unknown record shape; keys found: title, body" in line and "--map instruction=title,output=body" in line
    assert not (tmp_path / "out").exists()


def test_map_naming_a_missing_key_exits_2_with_one_line(tmp_path, capsys):
    path = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "Say hi.", "response": "Hi."}])
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--map", "output=answer"]) == 2
    line = one_line_error(capsys)
    assert "answer" in line and "keys found: instruction, response" in line


def test_refresh_takes_map_and_records_it(tmp_path, capsys):
    path = write_jsonl(tmp_path / "in.jsonl", [{"q": "What is 2 + 3?", "a": "2 + 3 = 5."}])
    assert main(["refresh", str(path), "--state", str(tmp_path / "state"), "--map", "instruction=q,output=a"]) == 0
    manifest = json.loads((tmp_path / "state" / "versions" / "1" / "manifest.json").read_text())
    assert manifest["counts"]["clean"] == 1
    assert manifest["shapes"][0]["mapping"] == {"instruction": "q", "output": "a"}
    assert manifest["config"]["fields"]["output"] == "a"


def test_run_prints_and_records_shapes_and_mapping(tmp_path, capsys):
    gpteacher = write_jsonl(tmp_path / "g.jsonl", [{"instruction": "Reverse [1, 2].", "input": "", "response": "[2, 1]"}])
    assert main(["run", str(gpteacher), "--out", str(tmp_path / "out")]) == 0
    assert f"{gpteacher}: shape gpteacher (instruction, input, output=response)" in capsys.readouterr().err
    out = tmp_path / "out"
    for name in ("report.json", "manifest.json"):
        shapes = json.loads((out / name).read_text())["shapes"]
        assert shapes == [{"source": str(gpteacher), "shape": "gpteacher", "records": 1, "multi_turn": 0, "turns": None,
                           "mapping": {"instruction": "instruction", "input": "input", "output": "response"}}]
    assert "output=response" in (out / "report.html").read_text() and "output=response" in (out / "report.md").read_text()


# ---------------------------------------------------------------- conversations


def turns(*pairs: tuple[str, str]) -> list[dict]:
    return [{"role": role, "content": text} for role, text in pairs]


@pytest.mark.parametrize(
    "conversation, error",
    [
        (turns(("user", "Hi."), ("assistant", "Hello.")), None),
        (turns(("system", "Be kind."), ("user", "Hi."), ("assistant", "Hello.")), None),
        ([{"from": "human", "value": "Hi."}, {"from": "gpt", "value": "Hello."}], None),
        (turns(("user", "Hi."), ("assistant", "Hello."), ("user", "Bye."), ("assistant", "Bye.")),
         "multi-turn conversation (4 turns)"),
        (turns(("system", "S"), ("user", "Hi."), ("assistant", "Hello."), ("user", "And?")), "multi-turn conversation (3 turns)"),
        (turns(("user", "Hi.")), "messages: expected one user turn then one assistant turn (found: user)"),
        (turns(("assistant", "Hello."), ("user", "Hi.")), "messages: expected one user turn then one assistant turn"),
        (turns(("user", "Hi."), ("system", "S"), ("assistant", "Hello.")), "messages: a system message after"),
        (turns(("user", "Hi."), ("tool", "{}")), "messages[1]: unknown speaker 'tool'"),
        ([{"role": "user", "content": ["Hi."]}, {"role": "assistant", "content": "Hello."}],
         "messages[0]: the text must be a string"),
        ("Hi.", "messages: expected a list of turns (found str)"),
        ([], "messages: expected one user turn then one assistant turn (found: none)"),
    ],
)
def test_single_turn(conversation, error):
    row, found = single_turn({"messages": conversation}, "messages")
    if error is None:
        assert found is None and row["instruction"] == "Hi." and row["output"] == "Hello." and row["input"] == ""
    else:
        assert row is None and found.startswith(error)


def test_multi_turn_goes_to_quarantine_with_its_raw_text_and_rows_reconcile(tmp_path):
    single = {"conversations": [{"from": "human", "value": "Name a colour."}, {"from": "gpt", "value": "Blue."}]}
    multi = {"conversations": [{"from": "human", "value": "Hi."}, {"from": "gpt", "value": "Hello."},
                               {"from": "human", "value": "Name a colour."}, {"from": "gpt", "value": "Blue."}]}
    path = write_jsonl(tmp_path / "chat.jsonl", [single, multi, "{broken"])
    report = run([str(path)], tmp_path / "out", Config(), quiet=True)
    counts = report["counts"]
    assert counts["rows_in"] == 3 and counts["rows_in"] == counts["clean"] + counts["rejected"] + counts["quarantined"]
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine")
    multi_row = quarantine.filter(pl.col("_row") == 1).row(0, named=True)
    assert multi_row["_error"] == "multi-turn conversation (4 turns)"
    assert json.loads(multi_row["_raw"]) == multi
    assert report["quarantine"]["by_error"]["multi-turn conversation"] == 1
    assert report["shapes"][0]["multi_turn"] == 1


def test_system_text_is_kept_in_a_system_column(tmp_path):
    with_system = {"messages": turns(("system", "Answer in French."), ("user", "Say cat."), ("assistant", "Chat."))}
    without = {"messages": turns(("user", "Name a colour."), ("assistant", "Blue."))}
    run([str(write_jsonl(tmp_path / "chat.jsonl", [with_system, without]))], tmp_path / "out", Config(), quiet=True)
    clean = pl.read_parquet(tmp_path / "out" / "clean").sort("_row")
    assert clean.columns[:4] == ["instruction", "input", "output", "system"]
    assert clean["system"].to_list() == ["Answer in French.", None]


# ---------------------------------------------------------------- compressed inputs

COMPRESS = {
    ".gz": lambda data: gzip.compress(data, mtime=0),
    ".bz2": bz2.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}
RECORDS = [dict(TASK, input=""), {"instruction": "Add 2 and 3.", "input": "", "output": "2 + 3 = 5."}]


def plain_bytes(suffix: str, records: list[dict]) -> bytes:
    if suffix == ".parquet":
        buffer = io.BytesIO()
        pl.DataFrame(records).write_parquet(buffer)
        return buffer.getvalue()
    if suffix == ".json":
        return json.dumps(records).encode()
    if suffix == ".jsonl":
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    return pl.DataFrame(records).write_csv().encode()


@pytest.mark.parametrize("compression", list(COMPRESS))
@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".parquet"])
def test_compressed_files_read_as_the_plain_ones(tmp_path, suffix, compression):
    data = plain_bytes(suffix, RECORDS)
    plain = tmp_path / f"in{suffix}"
    plain.write_bytes(data)
    packed = tmp_path / f"packed{suffix}{compression}"
    packed.write_bytes(COMPRESS[compression](data))
    expected, _, _ = read([plain])
    found, quarantine, _ = read([packed])
    assert quarantine.is_empty()
    assert found.drop("_source").equals(expected.drop("_source"))
    assert found["_row"].to_list() == [0, 1] and found["_source"].unique().to_list() == [str(packed)]


def test_compressed_files_in_directories_and_globs(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for number, compression in enumerate(COMPRESS):
        (folder / f"part{number}.jsonl{compression}").write_bytes(COMPRESS[compression](plain_bytes(".jsonl", RECORDS)))
    (folder / "notes.txt.gz").write_bytes(gzip.compress(b"not records"))
    expected = sorted(str(p) for p in folder.glob("part*"))
    assert expand_inputs([str(folder)]) == expected
    assert expand_inputs([str(folder / "*.jsonl.*")]) == expected
    valid, _, _ = read([folder])
    assert valid.height == 3 * len(RECORDS)


def test_a_compressed_shaped_file_is_detected(tmp_path):
    record = {"conversations": [{"from": "human", "value": "Say hi."}, {"from": "gpt", "value": "Hi."}]}
    path = tmp_path / "chat.jsonl.zst"
    path.write_bytes(COMPRESS[".zst"](plain_bytes(".jsonl", [record])))
    valid, _, shapes = read([path])
    assert shapes[0].shape == "sharegpt" and valid["output"].to_list() == ["Hi."]


@pytest.mark.parametrize("compression", list(COMPRESS))
def test_a_damaged_archive_is_quarantined_not_a_crash(tmp_path, compression):
    path = tmp_path / f"in.jsonl{compression}"
    path.write_bytes(COMPRESS[compression](plain_bytes(".jsonl", RECORDS))[:-8] + b"garbage!")
    valid, quarantine, _ = read([path])
    assert valid.height == 0
    assert quarantine["_error"].to_list()[0].startswith(f"not a readable {compression[1:]} file")


def test_a_compressed_file_of_another_type_is_an_input_error(tmp_path, capsys):
    path = tmp_path / "notes.txt.gz"
    path.write_bytes(gzip.compress(b"x"))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "unsupported file type .txt.gz" in one_line_error(capsys)


# ---------------------------------------------------------------- the reference data

REFERENCE_SHAPES = {
    "alpaca_5000.json": "alpaca",
    "dev/code_alpaca_2k.json": "alpaca",
    "dev/gpteacher_codegen.json": "gpteacher",
    "dev/gsm8k_test.jsonl": "question_answer",
    "dev/t0_wiki_hop_generate_object.jsonl": "prompt_completion",
    "dev/t0_multi_news_summary.jsonl": "prompt_completion",
}


@needs_reference(REFERENCE / "dev")
def test_every_reference_file_reads_without_map_and_loses_no_row_to_its_shape():
    found = {str(p.relative_to(REFERENCE)) for p in (REFERENCE / "dev").iterdir()} | {"alpaca_5000.json"}
    assert found == set(REFERENCE_SHAPES), "a new reference file: add its expected shape here"
    for name, shape in REFERENCE_SHAPES.items():
        path = REFERENCE / name
        valid, quarantine, shapes = read([path])
        rows = len(json.loads(path.read_text())) if path.suffix == ".json" else len(path.read_text().splitlines())
        assert [s.shape for s in shapes] == [shape], name
        assert quarantine.is_empty() and valid.height == rows, name
        # The mapped key really filled the field (Alpaca itself has a few empty outputs).
        assert valid.select((pl.col("output").str.strip_chars() != "").mean()).item() > 0.99, name
