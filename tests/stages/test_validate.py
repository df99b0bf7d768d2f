"""Each quarantine reason, and what must NOT be quarantined."""

from __future__ import annotations

import pytest

from pipeline.stages.load import load_records
from pipeline.stages.validate import validate
from tests.conftest import write_jsonl

GOOD = {"instruction": "Add 2 and 3.", "input": "", "output": "5"}


@pytest.mark.parametrize(
    "line, error",
    [
        ('{"instruction": "x", "output": ', "line is not valid JSON"),
        ("[1, 2, 3]", "record is not a JSON object (found list)"),
        ('"just a string"', "record is not a JSON object (found str)"),
        ("42", "record is not a JSON object (found int)"),
        ('{"instruction": "Add 2 and 3.", "input": ""}', "output: Field required"),
        ('{"input": "", "output": "5"}', "instruction: Field required"),
        ('{"instruction": "Add 2 and 3.", "output": 5}', "output: Input should be a valid string"),
        ('{"instruction": ["Add"], "output": "5"}', "instruction: Input should be a valid string"),
        ('{"instruction": "Add.", "input": {"a": 1}, "output": "5"}', "input: Input should be a valid string"),
        ('{"instruction": "   ", "output": "5"}', "instruction: must not be blank"),
        ('{"instruction": "Add.", "output": null}', "output: Input should be a valid string"),
        ('{"instruction": "Add.", "output": "5", "_source": "x"}', "field name(s) reserved for the pipeline's own columns: _source"),
    ],
)
def test_quarantine_reasons(tmp_path, line, error):
    path = write_jsonl(tmp_path / "in.jsonl", [GOOD, line, GOOD])
    lf, quarantine = validate(load_records([str(path)], say=lambda _: None))
    assert lf.collect().height == 2, "the other rows of the file go on"
    assert quarantine.height == 1
    row = quarantine.row(0, named=True)
    assert row["_error"].startswith(error)
    assert row["_row"] == 1 and row["_source"] == str(path)
    assert row["_raw"] == line


@pytest.mark.parametrize(
    "record, expected_input",
    [
        ({"instruction": "Say hi.", "output": "hi"}, ""),
        ({"instruction": "Say hi.", "input": None, "output": "hi"}, ""),
        ({"instruction": "Say hi.", "input": "to Bob", "output": "hi Bob"}, "to Bob"),
    ],
)
def test_missing_or_null_input_becomes_empty(tmp_path, record, expected_input):
    path = write_jsonl(tmp_path / "in.jsonl", [record])
    lf, quarantine = validate(load_records([str(path)], say=lambda _: None))
    assert quarantine.is_empty()
    assert lf.collect()["input"].to_list() == [expected_input]


def test_empty_output_is_not_quarantined_but_left_to_the_rules(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "Say hi.", "output": ""}])
    lf, quarantine = validate(load_records([str(path)], say=lambda _: None))
    assert quarantine.is_empty() and lf.collect().height == 1


def test_invalid_utf8_never_crashes(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"instruction": "Caf\xe9 menu", "output": "ok"}\n\xff\xfe\xfa\n')
    lf, quarantine = validate(load_records([str(path)], say=lambda _: None))
    assert lf.collect()["instruction"].to_list() == ["Caf\ufffd menu"]
    assert quarantine["_error"].to_list()[0].startswith("line is not valid JSON")


def test_mixed_types_in_an_extra_field_quarantine_the_odd_record_not_the_file(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{**GOOD, "id": 1}, {**GOOD, "id": "two"}, GOOD])
    lf, quarantine = validate(load_records([str(path)], say=lambda _: None))
    frame = lf.collect()
    assert frame["id"].to_list() == [1, None]  # the first value fixed the type; nothing was rewritten
    assert quarantine["_error"].to_list() == ["extra field 'id' is a string here but an integer in earlier records"]
