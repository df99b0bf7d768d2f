"""The command-line contract: exit statuses and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import ROOT, write_jsonl


def curate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_missing_input_exits_2_with_one_line_naming_the_file(tmp_path):
    result = curate("run", "missing.json", "--out", "x", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing.json" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()


def test_unreadable_config_exits_2(tmp_path, record):
    write_jsonl(tmp_path / "in.jsonl", [record()])
    (tmp_path / "bad.toml").write_text("[output]\nshard_rows = -1\n")
    result = curate("run", "in.jsonl", "--out", "out", "--config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "shard_rows" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_usage_error_exits_2(tmp_path):
    result = curate("run", cwd=tmp_path)
    assert result.returncode == 2


def test_empty_file_gives_an_empty_valid_run(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    result = curate("run", "empty.jsonl", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["counts"] == {"rows_in": 0, "clean": 0, "rejected": 0, "quarantined": 0, "reconciled": True}
    clean = pl.read_parquet(tmp_path / "out" / "clean" / "part-00000.parquet")
    assert clean.height == 0 and {"instruction", "input", "output", "_source", "_row"} <= set(clean.columns)


def test_random_bytes_are_quarantined_not_a_crash(tmp_path):
    rng_bytes = bytes((i * 7919 + 13) % 256 for i in range(4096))
    for name in ("noise.json", "noise.jsonl", "noise.parquet", "noise.csv"):
        (tmp_path / name).write_bytes(rng_bytes)
    result = curate("run", ".", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["counts"]["reconciled"]
    assert report["counts"]["quarantined"] == report["counts"]["rows_in"] > 0
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine")
    assert set(quarantine["_source"].str.split("/").list.last()) >= {"noise.json", "noise.parquet"}


def test_empty_directory_is_an_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = curate("run", "empty", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "no input files (.json, .jsonl, .ndjson, .parquet, .csv, each optionally .gz, .zst, .bz2) in directory empty" in result.stderr


@pytest.mark.parametrize("existing", ["file", "directory with other things"])
def test_out_never_replaces_what_is_not_a_curate_run(tmp_path, record, existing):
    write_jsonl(tmp_path / "in.jsonl", [record()])
    target = tmp_path / "target"
    if existing == "file":
        target.write_text("precious")
    else:
        target.mkdir()
        (target / "notes.txt").write_text("precious")
    result = curate("run", "in.jsonl", "--out", "target", cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "target" in result.stderr
    precious = target if existing == "file" else target / "notes.txt"
    assert precious.read_text() == "precious"


def test_out_replaces_an_earlier_run_and_fills_an_empty_directory(tmp_path, record):
    write_jsonl(tmp_path / "in.jsonl", [record()])
    (tmp_path / "empty").mkdir()
    assert curate("run", "in.jsonl", "--out", "empty", cwd=tmp_path).returncode == 0
    assert curate("run", "in.jsonl", "--out", "empty", cwd=tmp_path).returncode == 0
    assert (tmp_path / "empty" / "manifest.json").exists()


def test_a_run_does_not_import_pandas(tmp_path):
    """Nothing a run does needs pandas, and importing it (as pyarrow's own
    ``pa.array`` and ``to_numpy`` do on first use, to check for it) costs a third
    of a second of CPU and tens of MB: Arrow arrays go through Polars instead."""
    script = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "try:\n"
        f"    main(['run', {str(ROOT / 'data' / 'sample')!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        "print('pandas' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
