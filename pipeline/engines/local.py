"""The pipeline, as one visible list of stages.

    sources -> load -> validate -> normalise -> tokens -> rules -> dedup -> decide -> write -> report

Each middle stage is a function ``pl.LazyFrame -> pl.LazyFrame``. The runner
materialises the frame between stages so that the timings in the report are the
real cost of each stage rather than of one fused query at the sink.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from pipeline.stages.rules import apply_rules
from pipeline.config import Config
from pipeline.stages.decide import decide, split
from pipeline.dedup.dedup import dedup
from pipeline.stages.fields import ExtraFieldTypes
from pipeline.stages.load import expand_inputs, load_records
from pipeline.stages.normalise import normalise
from pipeline.report.build import build_report
from pipeline.report.summary import write_report_pages
from pipeline.stages.tokens import count_stage
from pipeline.stages.validate import validate
from pipeline.publish.write import (
    check_replaceable,
    check_writable,
    remove_stale_scratch,
    clean_columns,
    describe_files,
    export_alpaca,
    publishing,
    rejected_columns,
    write_json,
    write_shards,
)

Stage = Callable[[pl.LazyFrame], pl.LazyFrame]


def stages(config: Config) -> list[tuple[str, Stage]]:
    return [
        ("normalise", normalise),
        ("tokens", partial(count_stage, config=config)),  # before rules: too_long and length_outlier read the counts
        ("rules", partial(apply_rules, config=config)),
        ("dedup", partial(dedup, config=config)),
        ("decide", partial(decide, config=config)),
    ]


class StageTimer:
    def __init__(self, quiet: bool = False) -> None:
        self.seconds: dict[str, float] = {}
        self.quiet = quiet

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        self.say(f"  {name:<10} {self.seconds[name]:7.2f} s")

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


class ReconciliationError(RuntimeError):
    """Rows were lost or invented: a bug, never an input problem."""


def check_reconciled(counts: dict) -> None:
    total = counts["clean"] + counts["rejected"] + counts["quarantined"]
    if counts["rows_in"] != total:
        raise ReconciliationError(
            f"rows in ({counts['rows_in']}) != clean + rejected + quarantined ({total})"
        )


def read_sources(sources: list[str], timer: StageTimer,
                 extras: ExtraFieldTypes | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Load and validate: (valid rows with lineage, quarantine rows). ``extras``: the
    extra fields' types so far (a refresh's published ones)."""
    with timer("load"):
        records = load_records(sources, say=timer.say)
    with timer("validate"):
        lf, quarantine = validate(records, extras)
        return lf.collect(), quarantine


def judge(frame: pl.DataFrame, config: Config, timer: StageTimer, dedup_stage: Stage | None = None) -> pl.DataFrame:
    """Every stage of ``stages()`` on the valid rows, timed; ``dedup_stage`` (refresh's
    dedup against published rows) stands in for dedup when given."""
    for name, stage in stages(config):
        if name == "dedup" and dedup_stage is not None:
            stage = dedup_stage
        with timer(name):
            frame = stage(frame.lazy()).collect()
    return frame


def run(inputs: list[str], out: str | Path, config: Config, export: str | None = None, quiet: bool = False) -> dict:
    """Curate ``inputs`` into ``out``; returns the report dictionary."""
    timer = StageTimer(quiet)
    started = time.perf_counter()
    check_replaceable(Path(out))  # fail before the work, not after it
    check_writable(Path(out))
    remove_stale_scratch(Path(out))
    sources = expand_inputs(inputs, exclude=[str(out)])  # never read what this run replaces
    timer.say(f"curate: {len(sources)} source(s) -> {out}")
    frame, quarantine = read_sources(sources, timer)
    frame = judge(frame, config, timer)
    clean, rejected = split(frame)
    report = build_report(frame, clean, rejected, quarantine, config, timer.seconds, inputs)
    check_reconciled(report["counts"])
    with timer("write"):
        with publishing(Path(out)) as scratch:
            write_outputs(scratch, clean, rejected, quarantine, config, report, export)
    report["timings_s"]["total"] = round(time.perf_counter() - started, 4)
    return report


def write_outputs(directory: Path, clean: pl.DataFrame, rejected: pl.DataFrame, quarantine: pl.DataFrame,
                  config: Config, report: dict, export: str | None) -> None:
    files = write_shards(clean.select(clean_columns(clean)), directory / "clean", config.output)
    files += write_shards(rejected.select(rejected_columns(rejected)), directory / "rejected", config.output)
    files += write_shards(quarantine, directory / "quarantine", config.output)
    if export:
        files.append(export_alpaca(clean, directory, export))
    write_json(directory / "report.json", report)
    files.append(directory / "report.json")
    files += write_report_pages(directory, report)
    manifest = {
        "counts": report["counts"],
        "files": describe_files(directory, files),
        "config": report["config"],
        "versions": report["versions"],
    }
    write_json(directory / "manifest.json", manifest)

