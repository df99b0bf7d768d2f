"""The rules and tokens stages inside a whole run: reasons and flags land where
they should, the report carries tokens and languages, internal columns stay in."""

from __future__ import annotations

import json

import polars as pl

from pipeline.config import Config
from pipeline.engines.local import run
from tests.conftest import write_jsonl


def test_a_run_drops_flags_and_reports(tmp_path, record):
    rows = [
        record(),
        record(instruction="Summarize the article.", input="https://www.example.com/a", output="It says things."),
        record(instruction="Name the colour of a clear sky.", output="N/A"),
        record(instruction="What is 87 * 183?", output="15781"),
        record(instruction="Edit this sentence: He go home after the long meeting.", input="He go home after the long meeting.", output="He goes home."),
    ]
    write_jsonl(tmp_path / "in.jsonl", rows)
    report = run([str(tmp_path / "in.jsonl")], tmp_path / "out", Config(), quiet=True)
    assert report["counts"]["reconciled"] and report["counts"]["rows_in"] == 5
    assert report["rejected_by_reason"] == {"arithmetic_mismatch_v2": 1, "external_reference_v2": 1, "placeholder_output": 1}
    assert report["flagged_by_rule"] == {"input_repeats_instruction": 1}
    assert report["languages"] == {"en": 5}
    assert report["tokens"]["fields"]["total"]["max"] > report["tokens"]["fields"]["prompt"]["p50"]
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(on_disk["tokens"]) == {"tokenizer", "max_seq_len", "fields", "truncated_share", "histograms", "outlier_thresholds"}
    for part in ("clean", "rejected"):
        columns = pl.read_parquet(tmp_path / "out" / part).columns
        assert not [c for c in columns if c.startswith("_tokens_") or c.startswith("_rule_")]


def test_max_seq_len_decides_too_long(tmp_path, record):
    write_jsonl(tmp_path / "in.jsonl", [record(instruction="Repeat the word forever.", output="word " * 120), record()])
    short = Config.model_validate({"tokens": {"max_seq_len": 64}})
    report = run([str(tmp_path / "in.jsonl")], tmp_path / "out", short, quiet=True)
    assert report["rejected_by_reason"] == {"too_long": 1}
    assert report["tokens"]["max_seq_len"] == 64
