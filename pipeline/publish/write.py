"""Write: Parquet shards, the run's record (report files and manifest, written
here only) and atomic publication (the exports are in ``pipeline.publish.exports``).

Everything is written into a hidden sibling directory first and swapped into
place at the end, so a run that fails midway leaves the previous output intact.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import polars as pl

from pipeline import columns as C
from pipeline.config import OutputConfig
from pipeline.errors import InputError
from pipeline.report.summary import write_report_pages
from train.manifest import training_keys

INTERNAL = [C.ORDER, C.DEDUP_REASON]
MANIFEST = "manifest.json"


def user_columns(frame: pl.DataFrame) -> list[str]:
    """The input's own fields: instruction, input, output, then extras in input order."""
    extras = [c for c in frame.columns if not C.is_pipeline_column(c) and c not in C.FIELDS]
    return [*C.FIELDS, *extras]


def clean_columns(frame: pl.DataFrame) -> list[str]:
    return [*user_columns(frame), C.SOURCE, C.ROW, C.REPAIRS, C.FLAGS]


def rejected_columns(frame: pl.DataFrame) -> list[str]:
    # The benchmark match columns exist only in a run with --decontaminate.
    benchmark = [c for c in (C.BENCHMARK, C.BENCHMARK_ROW) if c in frame.columns]
    return [*clean_columns(frame), C.REASONS, C.CLUSTER, C.DUPLICATE_OF, *benchmark]


def write_shards(frame: pl.DataFrame, directory: Path, output: OutputConfig, first: int = 0) -> list[Path]:
    """Write ``part-00000.parquet`` … of at most ``shard_rows`` rows each, numbered
    from ``first`` (a refresh appends to the shards of earlier versions).

    An empty frame still gets one (empty) shard, so readers always find the schema.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    starts = range(0, max(frame.height, 1), output.shard_rows)
    for number, start in enumerate(starts, start=first):
        path = directory / f"part-{number:05d}.parquet"
        frame.slice(start, output.shard_rows).write_parquet(path, compression=output.compression, statistics=True)
        paths.append(path)
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_files(root: Path, paths: list[Path]) -> list[dict]:
    """Manifest entries: relative path, row count (for Parquet), sha256."""
    entries = []
    for path in sorted(paths):
        entry = {"path": path.relative_to(root).as_posix(), "sha256": sha256_of(path), "bytes": path.stat().st_size}
        if path.suffix == ".parquet":
            entry["rows"] = pl.scan_parquet(path).select(pl.len()).collect().item()
        entries.append(entry)
    return entries


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def write_sets(directory: Path, clean: pl.DataFrame, rejected: pl.DataFrame, quarantine: pl.DataFrame,
               output: OutputConfig) -> None:
    """clean/, rejected/ and quarantine/ shards of a whole-frame run."""
    write_shards(clean.select(clean_columns(clean)), directory / "clean", output)
    write_shards(rejected.select(rejected_columns(rejected)), directory / "rejected", output)
    write_shards(quarantine, directory / "quarantine", output)


def write_run_record(directory: Path, report: dict, identity: dict | None = None,
                     earlier: tuple[Path, list[dict]] | None = None, exports: dict[str, list[str]] | None = None) -> None:
    """report.json, report.html, report.md, then manifest.json: every engine's run
    (and every refresh version) ends here, so the manifest has one shape.

    The manifest lists every file of ``directory`` (the shards, exports and report
    files written before it). ``identity`` leads it (a refresh's version, parent and
    inputs). ``earlier`` is a previous version's directory and manifest entries: a
    file hard-linked from it keeps its entry (same bytes) instead of being hashed again.
    """
    write_json(directory / "report.json", report)
    write_report_pages(directory, report)
    known = {entry["path"]: entry for entry in earlier[1]} if earlier else {}
    entries, fresh = [], []
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p != directory / MANIFEST):
        relative = path.relative_to(directory).as_posix()
        if relative in known and os.path.samefile(path, earlier[0] / relative):
            entries.append(known[relative])
        else:
            fresh.append(path)
    manifest = {
        **(identity or {}),
        "counts": report["counts"],
        "shapes": report.get("shapes", []),
        "exports": exports or {},
        "files": sorted(entries + describe_files(directory, fresh), key=lambda entry: entry["path"]),
        "config": report["config"],
        "versions": report["versions"],
        # what `curate train` reads back: the tokenizer, template and length the rows were judged by
        **training_keys(report["config"]["tokens"]["tokenizer"], report["config"]["tokens"]["max_seq_len"]),
    }
    write_json(directory / MANIFEST, manifest)


def check_replaceable(target: Path) -> None:
    """Refuse an output path whose replacement would destroy something that is not
    a curate run: a file, or a non-empty directory without a manifest.json (``--out .``
    must not replace the working directory)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise InputError(f"--out {target} exists and is not a directory")
    if (target / "manifest.json").exists() or not any(target.iterdir()):
        return
    raise InputError(f"refusing to replace {target}: it is not empty and holds no curate run (no manifest.json)")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, and someone else's
    return True


def remove_stale_scratch(target: Path) -> list[Path]:
    """Remove the scratch directories of earlier runs into ``target`` that were
    killed before they could clean up (``.OUT.building-PID-*``, ``.OUT.previous-PID``
    of a process that no longer exists). A live run's scratch is left alone."""
    target = target.resolve()  # as ``publishing`` names it
    removed = []
    if not target.parent.is_dir():
        return removed
    for kind in ("building", "previous"):
        for path in target.parent.glob(f".{glob.escape(target.name)}.{kind}-*"):
            pid = path.name.rsplit(f".{kind}-", 1)[1].split("-")[0]
            if not (pid.isdigit() and _pid_alive(int(pid))):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def check_writable(target: Path) -> None:
    """Fail before the work, not after it, when ``target`` cannot be created: its
    parent is a file, or read-only. The parent folders are created here."""
    try:
        target = target.resolve()
    except (OSError, RuntimeError) as error:  # a loop of symlinks
        raise InputError(f"cannot write --out {target}: {error}") from None
    existing = next(p for p in target.parents if p.exists())
    if not existing.is_dir():
        raise InputError(f"cannot write --out {target}: {existing} is a file, not a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{target.name}.building-{os.getpid()}-", dir=target.parent)
    except OSError as error:
        raise InputError(f"cannot write --out {target}: {error.strerror or error}") from None
    os.rmdir(probe)


@contextmanager
def publishing(target: Path) -> Iterator[Path]:
    """Yield a scratch directory; on success it replaces ``target`` as a whole.

    The swap is two renames on the same filesystem: ``target`` is only ever the
    old complete output or the new complete output. On failure the scratch
    directory is removed and ``target`` is untouched.
    """
    check_replaceable(target)
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-{os.getpid()}-", dir=target.parent))
    scratch.chmod(0o755)  # mkdtemp makes it private; the output is an ordinary directory
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    previous = target.parent / f".{target.name}.previous-{os.getpid()}"
    if target.exists():
        os.rename(target, previous)
    os.rename(scratch, target)
    shutil.rmtree(previous, ignore_errors=True)
