"""The local engine: the stages of ``pipeline.flow.STAGES`` on one frame, then the
outputs published at once.

    sources -> load -> validate -> STAGES -> write -> report

The frame is materialised between stages so that the timings in the report are
the real cost of each stage rather than of one fused query at the sink.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import polars as pl

from pipeline.config import Config
from pipeline.flow import STAGES, Context, Stage, facts_of
from pipeline.report.build import build_report
from pipeline.report.model import RunFacts
from pipeline.stages.decide import split
from pipeline.stages.fields import ExtraFieldTypes
from pipeline.stages.load import expand_inputs, load_records
from pipeline.stages.validate import quarantine_facts, validate
from pipeline.publish.exports import exports_section, write_exports
from pipeline.publish.write import (
    check_replaceable, check_writable, publishing, remove_stale_scratch, write_run_record, write_sets,
)
from pipeline.stages.shapes import conform, shapes_section


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
                 fields: dict[str, str] | None = None,
                 extras: ExtraFieldTypes | None = None) -> tuple[pl.DataFrame, pl.DataFrame, list[dict]]:
    """Load, conform each source's shape, and validate: (valid rows with lineage,
    quarantine rows, the shape and mapping of each source). ``extras``: the extra
    fields' types so far (a refresh's published ones)."""
    with timer("load"):
        records = load_records(sources, say=timer.say)
        records, shapes = conform(records, fields, say=timer.say)
    with timer("validate"):
        lf, quarantine = validate(records, extras)
        return lf.collect(), quarantine, shapes_section(shapes)


BATCH_ROWS = 50_000  # rows per batch of a row-local stage: bounds its working memory


def batches(frame: pl.DataFrame) -> list[pl.DataFrame]:
    return [frame.slice(start, BATCH_ROWS) for start in range(0, max(frame.height, 1), BATCH_ROWS)]


def in_batches(stage: Stage, frame: pl.DataFrame, context: Context, timer: StageTimer) -> pl.DataFrame:
    """A row-local stage batch by batch (its corpus facts summed over all batches
    first), with progress on long runs: the same rows as on the whole frame."""
    parts = batches(frame)
    context = stage.settled(context, [stage.needs.part(part) for part in parts] if stage.needs else [])
    done = []
    for number, part in enumerate(parts, start=1):
        done.append(stage.run(part.lazy(), context).collect())
        if len(parts) > 1:
            timer.say(f"    {stage.name}: batch {number}/{len(parts)}")
    return pl.concat(done)


def judge(frame: pl.DataFrame, context: Context, timer: StageTimer) -> pl.DataFrame:
    """Every stage of ``STAGES`` on the valid rows, in order, timed; row-local
    stages batch by batch."""
    for stage in STAGES:
        with timer(stage.name):
            frame = stage.apply(frame, context) if stage.corpus_wide else in_batches(stage, frame, context, timer)
    return frame


def whole_run_facts(frame: pl.DataFrame, quarantine: pl.DataFrame, context: Context) -> RunFacts:
    """Every stage's facts, on rows that went through every stage (one batch)."""
    return RunFacts(quarantine=quarantine_facts(quarantine),
                    **facts_of(frame, context, corpus_wide=False), **facts_of(frame, context, corpus_wide=True))


def run(inputs: list[str], out: str | Path, config: Config, export: str | list[str] | None = None,
        quiet: bool = False) -> dict:
    """Curate ``inputs`` into ``out``; returns the report dictionary."""
    timer = StageTimer(quiet)
    started = time.perf_counter()
    check_replaceable(Path(out))  # fail before the work, not after it
    check_writable(Path(out))
    remove_stale_scratch(Path(out))
    sources = expand_inputs(inputs, exclude=[str(out)])  # never read what this run replaces
    timer.say(f"curate: {len(sources)} source(s) -> {out}")
    frame, quarantine, shapes = read_sources(sources, timer, config.fields.mapping())
    context = Context(config)
    frame = judge(frame, context, timer)
    report = build_report(whole_run_facts(frame, quarantine, context), config, timer.seconds, inputs, shapes)
    check_reconciled(report.counts)
    with timer("write"):
        with publishing(Path(out)) as scratch:
            clean, rejected = split(frame)
            write_sets(scratch, clean, rejected, quarantine, config.output)
            exports = exports_section(scratch, write_exports(clean, scratch, export))
            write_run_record(scratch, report.as_json(), exports=exports)
    report.timings_s["total"] = round(time.perf_counter() - started, 4)
    return report.as_json()
