"""Whole runs: outputs, reconciliation, determinism, atomic publication, export."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import polars as pl
import pytest

from pipeline.engines import local as run_module
from pipeline.engines import spill
from pipeline.config import Config, FieldsConfig, OutputConfig, load_config
from pipeline.engines.local import ReconciliationError, check_reconciled, run
from pipeline.publish.write import sha256_of
from tests.conftest import ALPACA_5000, needs_reference, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mixed_input(tmp_path, record):
    """Good rows, an exact duplicate, an empty output and two malformed lines."""
    return write_jsonl(
        tmp_path / "in.jsonl",
        [
            record(id=1),
            record(instruction="Give a synonym for happy.", output="Joyful.", id=2),
            record(instruction="Name three primary colours.", output="red, yellow and blue.  ", id=3),
            record(instruction="Summarise the text.", input="<noinput>", output="", id=4),
            "{not json",
            {"instruction": "No output field"},
        ],
    )


def run_quietly(inputs, out, config=None, **kwargs):
    return run([str(p) for p in inputs], out, config or Config(), quiet=True, **kwargs)


def test_rows_go_to_exactly_one_place(mixed_input, tmp_path):
    report = run_quietly([mixed_input], tmp_path / "out")
    assert report["counts"] == {"rows_in": 6, "clean": 2, "rejected": 2, "quarantined": 2, "reconciled": True}
    rejected = pl.read_parquet(tmp_path / "out" / "rejected")
    assert sorted(map(tuple, rejected["_reasons"].to_list())) == [("empty_output",), ("exact_duplicate",)]
    duplicate = rejected.filter(pl.col("_reasons").list.contains("exact_duplicate")).row(0, named=True)
    # The survivor is the better row: same text up to case and spacing, read first.
    assert duplicate["_duplicate_of"] == {"_source": str(mixed_input), "_row": 0}
    assert duplicate["id"] == 3


def test_clean_columns_and_lineage(mixed_input, tmp_path):
    run_quietly([mixed_input], tmp_path / "out")
    clean = pl.read_parquet(tmp_path / "out" / "clean" / "part-00000.parquet")
    assert clean.columns[:4] == ["instruction", "input", "output", "id"]
    assert {"_source", "_row", "_repairs", "_flags"} <= set(clean.columns)
    assert not any(c.startswith("_rule_") or c == "_order" for c in clean.columns)
    assert clean["_row"].to_list() == [0, 1]
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine")
    assert quarantine.columns == ["_source", "_row", "_raw", "_error"]
    assert quarantine["_row"].to_list() == [4, 5]


def test_reconciliation_check_refuses_lost_rows():
    with pytest.raises(ReconciliationError):
        check_reconciled({"rows_in": 5, "clean": 2, "rejected": 1, "quarantined": 1})


def test_manifest_lists_every_file_with_rows_and_sha256(mixed_input, tmp_path):
    run_quietly([mixed_input], tmp_path / "out")
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert set(listed) == on_disk
    assert listed["clean/part-00000.parquet"]["rows"] == 2
    for path, entry in listed.items():
        assert entry["sha256"] == sha256_of(out / path)


def test_shard_size(tmp_path, record):
    path = write_jsonl(tmp_path / "in.jsonl", [record(instruction=f"Task number {i}.") for i in range(7)])
    config = Config(output=OutputConfig(shard_rows=3))
    run_quietly([path], tmp_path / "out", config)
    shards = sorted((tmp_path / "out" / "clean").iterdir())
    assert [p.name for p in shards] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert [pl.read_parquet(p).height for p in shards] == [3, 3, 1]


def test_same_input_gives_byte_identical_shards(mixed_input, tmp_path):
    run_quietly([mixed_input], tmp_path / "a")
    run_quietly([mixed_input], tmp_path / "b")
    shards = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert shards
    for shard in shards:
        assert sha256_of(tmp_path / "a" / shard) == sha256_of(tmp_path / "b" / shard)


def test_failed_run_leaves_previous_output_intact(mixed_input, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_quietly([mixed_input], out)
    before = {p: sha256_of(p) for p in out.rglob("*") if p.is_file()}

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module, "write_run_record", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        run_quietly([mixed_input], out)
    assert {p: sha256_of(p) for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "scratch directory cleaned up"


@pytest.mark.parametrize("fmt, name", [("alpaca-json", "clean.json"), ("alpaca-jsonl", "clean.jsonl")])
def test_export_alpaca(mixed_input, tmp_path, fmt, name):
    run_quietly([mixed_input], tmp_path / "out", export=fmt)
    text = (tmp_path / "out" / name).read_text()
    records = json.loads(text) if fmt == "alpaca-json" else [json.loads(line) for line in text.splitlines()]
    assert records == [
        {"instruction": "Name three primary colours.", "input": "", "output": "Red, yellow and blue."},
        {"instruction": "Give a synonym for happy.", "input": "", "output": "Joyful."},
    ]


def test_shipped_config_files_load_and_match_the_defaults():
    configs = sorted((ROOT / "config").glob("*.toml"))
    assert configs
    for path in configs:
        load_config(path)
    assert load_config(ROOT / "config" / "default.toml") == Config()


@needs_reference()
@pytest.mark.slow
def test_alpaca_5000_end_to_end(tmp_path):
    report = run_quietly([ALPACA_5000], tmp_path / "out")
    counts = report["counts"]
    assert counts["rows_in"] == 5000 and counts["reconciled"]
    raw = pl.DataFrame(json.loads(ALPACA_5000.read_text()))
    spelled_empty = raw.filter(
        pl.col("input").str.contains(r"(?i)^\W*no\s*input\W*$|^\W*n/?a\W*$|^none$|noinput")
    ).height
    assert report["repairs"]["empty_input_spelling"] >= spelled_empty > 50
    written = pl.concat(
        [pl.read_parquet(tmp_path / "out" / part).select("input") for part in ("clean", "rejected")]
    )
    assert written.height == counts["clean"] + counts["rejected"]
    left = written.filter(pl.col("input").str.contains(r"(?i)^\W*no\s*input\W*$|noinput|^\W*n/a\W*$"))
    assert left.is_empty(), left["input"].to_list()


@pytest.mark.parametrize("memory_bytes", [0, spill.MEMORY_BYTES], ids=["on disk", "in memory"])
def test_many_small_batches_write_the_same_bytes(tmp_path, monkeypatch, capsys, memory_bytes):
    """Streamed in batches of 37 rows, held between passes on disk or in memory:
    the shards and the report of one big batch."""
    sample = str(ROOT / "data" / "sample")
    run([sample], tmp_path / "whole", Config(), quiet=True)
    monkeypatch.setattr(run_module, "BATCH_ROWS", 37)
    monkeypatch.setattr(spill, "MEMORY_BYTES", memory_bytes)
    spilled = []
    monkeypatch.setattr(pl.DataFrame, "write_parquet", _recording(pl.DataFrame.write_parquet, spilled))
    run([sample], tmp_path / "batched", Config())
    assert "tokens, decontaminate: batch 2 (" in capsys.readouterr().err  # progress per batch
    assert any(".spill" in str(path) for path in spilled) == (memory_bytes == 0)
    assert not list((tmp_path / "batched").rglob(".spill*"))  # nothing of the spill is left
    for name in ("clean", "rejected", "quarantine"):
        for shard in sorted((tmp_path / "whole" / name).glob("*.parquet")):
            assert sha256_of(shard) == sha256_of(tmp_path / "batched" / name / shard.name), f"{name}/{shard.name}"
    whole, batched = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("whole", "batched"))
    assert {**whole, "timings_s": None} == {**batched, "timings_s": None}


def _recording(write, paths: list):
    def recorded(frame, path, *args, **kwargs):
        paths.append(path)
        return write(frame, path, *args, **kwargs)

    return recorded


def _shard_hashes(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): sha256_of(p) for p in sorted(out.rglob("*.parquet"))}


def _streamed_like_whole(tmp_path, monkeypatch, path: Path, config: Config = Config()) -> tuple[dict, dict]:
    """(whole-batch report, 2-row-batch report) of ``path``; their shards must be equal."""
    whole = run([str(path)], tmp_path / "whole", config, quiet=True)
    monkeypatch.setattr(run_module, "BATCH_ROWS", 2)
    batched = run([str(path)], tmp_path / "batched", config, quiet=True)
    assert _shard_hashes(tmp_path / "whole") == _shard_hashes(tmp_path / "batched")
    return whole, batched


def test_a_key_first_seen_in_a_later_batch_counts_as_if_seen_first(tmp_path, monkeypatch, record):
    """The shape is detected on the first batch's keys; a later batch holding
    "input" for the first time changes the mapping, so the run starts again with
    every key of the source known, and ends as a one-batch run would."""
    rows = [{"instruction": f"Name colour {i}.", "output": f"Colour {i} is blue."} for i in range(4)]
    path = write_jsonl(tmp_path / "late_input.jsonl", [*rows, record(input="Some context.")])
    whole, batched = _streamed_like_whole(tmp_path, monkeypatch, path)
    assert batched["shapes"] == whole["shapes"]
    assert "input" in batched["shapes"][0]["mapping"]


def test_a_mapped_key_missing_from_the_first_batch_only_is_no_error(tmp_path, monkeypatch):
    rows = [{"question": f"What is {i} + 1?", "extra": i} for i in range(4)]
    answered = [{"question": f"What is {i} + 2?", "answer": str(i + 2)} for i in range(3)]
    path = write_jsonl(tmp_path / "late_answer.jsonl", rows + answered)
    config = Config().model_copy(update={"fields": FieldsConfig(instruction="question", output="answer")})
    whole, batched = _streamed_like_whole(tmp_path, monkeypatch, path, config)
    assert batched["counts"] == whole["counts"]
    assert batched["quarantine"] == whole["quarantine"]


def test_prefetched_gives_every_item_in_order_and_raises_where_an_item_failed():
    from pipeline.engines.local import prefetched

    def items():
        yield from (1, 2, 3)
        raise ValueError("record 4 is broken")

    got = []
    with pytest.raises(ValueError, match="record 4"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2, 3]
    assert list(prefetched(iter([]))) == []


def test_closing_prefetched_waits_for_the_item_being_made():
    """An error downstream closes the prefetcher; the loading thread must be done
    before the run's scratch directory is removed."""
    import threading
    import time

    from pipeline.engines.local import prefetched

    started, finished = threading.Event(), []

    def items():
        yield 1
        started.set()
        time.sleep(0.3)  # the next batch, still being read when the consumer gives up
        finished.append(2)
        yield 2

    frames = prefetched(items())
    assert next(frames) == 1
    assert started.wait(5)
    frames.close()
    assert finished == [2]


def test_a_stage_failing_while_the_next_batch_loads_leaves_no_scratch(tmp_path, monkeypatch, record):
    """Three batches; the first pass fails on the first while the second is being
    loaded in the other thread: the error reaches the caller and nothing is left."""
    monkeypatch.setattr(run_module, "BATCH_ROWS", 2)
    source = write_jsonl(tmp_path / "in.jsonl", [record(id=i, output=f"Answer {i}.") for i in range(6)])

    def fail(*args, **kwargs):
        raise RuntimeError("stage failed")

    first, *rest = run_module.STAGES
    monkeypatch.setattr(run_module, "STAGES", (dataclasses.replace(first, run=fail), *rest))
    with pytest.raises(RuntimeError, match="stage failed"):
        run_quietly([source], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "scratch directory cleaned up"
