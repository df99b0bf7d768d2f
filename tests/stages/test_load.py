"""Each loader, with lineage (_source, _row) and extra fields passing through."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.errors import InputError
from pipeline.stages.load import expand_inputs, load_records
from pipeline.stages.validate import validate
from tests.conftest import write_jsonl

RECORDS = [
    {"instruction": "Name a prime number.", "input": "", "output": "7", "category": "math"},
    {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour", "category": "translation"},
]


def load_frame(*inputs: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    lf, quarantine = validate(load_records(expand_inputs(list(inputs)), say=lambda _: None))
    return lf.collect(), quarantine


def expect_records(frame: pl.DataFrame, source: str, rows: list[int]) -> None:
    assert frame["instruction"].to_list() == [r["instruction"] for r in RECORDS]
    assert frame["category"].to_list() == ["math", "translation"]
    assert frame["_source"].to_list() == [source] * 2
    assert frame["_row"].to_list() == rows


def test_json_array(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(RECORDS))
    frame, quarantine = load_frame(str(path))
    expect_records(frame, str(path), [0, 1])
    assert quarantine.is_empty()


def test_jsonl_rows_are_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [RECORDS[0], "", RECORDS[1]])
    frame, _ = load_frame(str(path))
    expect_records(frame, str(path), [0, 2])


def test_parquet(tmp_path):
    path = tmp_path / "a.parquet"
    pl.DataFrame(RECORDS).write_parquet(path)
    frame, _ = load_frame(str(path))
    expect_records(frame, str(path), [0, 1])


def test_csv(tmp_path):
    path = tmp_path / "a.csv"
    pl.DataFrame(RECORDS).write_csv(path)
    frame, _ = load_frame(str(path))
    expect_records(frame, str(path), [0, 1])


def test_csv_empty_cells_are_empty_strings(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('instruction,input,output\n"Say hi.",,hi\n')
    frame, quarantine = load_frame(str(path))
    assert quarantine.is_empty()
    assert frame.select("input", "output").row(0) == ("", "hi")


def test_directory_takes_supported_files_sorted(tmp_path):
    write_jsonl(tmp_path / "b.jsonl", [RECORDS[1]])
    write_jsonl(tmp_path / "sub" / "a.jsonl" if (tmp_path / "sub").mkdir() is None else None, [RECORDS[0]])
    (tmp_path / "notes.txt").write_text("not data")
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "b.jsonl"), str(tmp_path / "sub" / "a.jsonl")]


def test_glob(tmp_path):
    for name in ("x1.jsonl", "x2.jsonl", "y.jsonl"):
        write_jsonl(tmp_path / name, [RECORDS[0]])
    assert expand_inputs([str(tmp_path / "x*.jsonl")]) == [str(tmp_path / "x1.jsonl"), str(tmp_path / "x2.jsonl")]


@pytest.mark.parametrize("given", ["missing.json", "nothing-*.jsonl"])
def test_missing_input_is_an_input_error_naming_it(tmp_path, given):
    with pytest.raises(InputError, match=given.replace("*", r"\*")):
        expand_inputs([str(tmp_path / given)])


def test_unsupported_file_type(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(InputError, match="unsupported file type .txt"):
        load_frame(str(tmp_path / "a.txt"))


def test_saved_hugging_face_dataset(tmp_path):
    import datasets

    datasets.Dataset.from_list(RECORDS).save_to_disk(str(tmp_path / "saved"))
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "saved")]
    frame, _ = load_frame(str(tmp_path / "saved"))
    expect_records(frame, str(tmp_path / "saved"), [0, 1])


def test_hub_dataset_unreachable_is_one_line_exit_2(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "hf:someone/no-such-dataset", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("curate: error: cannot load hf:someone/no-such-dataset")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("block", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize("data", [b"", b"\n", b"a", b"a\n", b"ab\ncd", b"ab\n\ncd\n", b"\n\nx" * 50, b"long" * 100 + b"\nz"])
def test_lines_are_the_pieces_split_gives_whatever_the_block_size(tmp_path, monkeypatch, block, data):
    from pipeline.stages import load

    monkeypatch.setattr(load, "_BLOCK", block)
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    pieces = data.split(b"\n")
    assert list(load._lines_of(path)) == (pieces[:-1] if pieces[-1] == b"" else pieces)
