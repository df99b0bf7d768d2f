"""The local engine: the stages of ``pipeline.flow.STAGES`` streamed over the
corpus a batch at a time, in memory that does not grow with the corpus.

    sources -> load -> validate -> STAGES -> write -> report

Batches are read, judged and written in load order (see "the streamed run"
below); every stage's time is the sum over its batches. The next batch is loaded
and validated in a second thread while the first pass works on the current one
(``prefetched``), so those two times overlap the first pass's. ``judge`` and
``read_sources`` run the same stages on a whole frame, for refresh.
"""

from __future__ import annotations

import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import polars as pl

from pipeline import columns as C
from pipeline.config import Config, OutputConfig
from pipeline.dedup.dedup import dedup_keys, mark_rows, streamed_dedup_facts
from pipeline.engines.spill import Batches, Rows
from pipeline.flow import STAGES, Context, Stage, facts_of
from pipeline.publish.exports import as_formats, exports_section, write_exports
from pipeline.publish.write import (
    check_replaceable, check_writable, clean_columns, publishing, rejected_columns, remove_stale_scratch,
    write_run_record, write_shards,
)
from pipeline.report.build import Report, build_report
from pipeline.report.model import Facts, QuarantineFacts, RunFacts, merge, merge_all
from pipeline.stages.decide import split
from pipeline.stages.fields import ExtraFieldTypes
from pipeline.stages.load import expand_inputs, load_records, read_source, record_batches
from pipeline.stages.shapes import BatchedSource, ShapeChanged, SourceShape, conform, keys_of, shapes_section
from pipeline.stages.validate import quarantine_facts, validate


class StageTimer:
    def __init__(self, quiet: bool = False) -> None:
        self.seconds: dict[str, float] = {}
        self.quiet = quiet

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        self.said([name])

    @contextmanager
    def adding(self, name: str) -> Iterator[None]:
        """Time one batch of ``name``: a stage's time is the sum over its batches."""
        start = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def said(self, names: Iterable[str]) -> None:
        for name in names:
            self.say(f"  {name:<10} {self.seconds.get(name, 0.0):7.2f} s")

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


BATCH_ROWS = 50_000  # rows per batch: bounds the working memory of every pass


def batches(frame: pl.DataFrame) -> list[pl.DataFrame]:
    return [frame.slice(start, BATCH_ROWS) for start in range(0, max(frame.height, 1), BATCH_ROWS)]


def in_batches(stage: Stage, frame: pl.DataFrame, context: Context) -> pl.DataFrame:
    """A row-local stage batch by batch (its corpus facts summed over all batches
    first): the same rows as on the whole frame."""
    parts = batches(frame)
    context = stage.settled(context, [stage.needs.part(part) for part in parts] if stage.needs else [])
    return pl.concat([stage.run(part.lazy(), context).collect() for part in parts])


def judge(frame: pl.DataFrame, context: Context, timer: StageTimer) -> pl.DataFrame:
    """Every stage of ``STAGES`` on a whole frame of valid rows, in order, timed
    (refresh judges its new batch this way)."""
    for stage in STAGES:
        with timer(stage.name):
            frame = stage.apply(frame, context) if stage.corpus_wide else in_batches(stage, frame, context)
    return frame


def whole_run_facts(frame: pl.DataFrame, quarantine: pl.DataFrame, context: Context) -> RunFacts:
    """Every stage's facts, on rows that went through every stage (one batch)."""
    return RunFacts(quarantine=quarantine_facts(quarantine),
                    **facts_of(frame, context, corpus_wide=False), **facts_of(frame, context, corpus_wide=True))


# ---------------------------------------------------------------- the streamed run
#
# ``run`` streams the corpus through ``STAGES`` a batch at a time. ``passes`` cuts
# the stage list where a stage needs the whole corpus first: a row-local stage
# with corpus facts (``needs``) starts a pass, whose facts every batch of the pass
# before contributed; a corpus-wide stage (dedup) runs between two passes on the
# compact per-row keys the pass before collected, reading texts back only for the
# rows it compares. Between passes the batches wait in ``spill.Batches`` (on disk
# once they are large); the last pass writes the shards as it goes.


def passes(stages: tuple[Stage, ...]) -> list[tuple[Stage, ...]]:
    """``stages`` in runs that one pass over the batches can do: a new run starts
    at a stage with ``needs``, and a corpus-wide stage is a run of its own."""
    runs: list[list[Stage]] = [[]]
    for stage in stages:
        if (stage.corpus_wide or stage.needs is not None) and runs[-1]:
            runs.append([])
        runs[-1].append(stage)
        if stage.corpus_wide:
            runs.append([])
    return [tuple(run) for run in runs if run]


def loaded_batches(sources: list[str], config: Config, timer: StageTimer, quarantine: ShardWriter,
                   facts: list[QuarantineFacts], shapes: list[SourceShape],
                   known_keys: dict[str, list[str]]) -> Iterator[pl.DataFrame]:
    """Valid rows, a batch of at most ``BATCH_ROWS`` records at a time, in load
    order; quarantined records go to ``quarantine`` (and their facts to
    ``facts``), each source's shape to ``shapes``. At least one batch, maybe
    empty, so that the stages give the outputs their columns."""
    fields = config.fields.mapping()
    extras = ExtraFieldTypes()

    def validated(batch: list, first_order: int) -> pl.DataFrame:
        with timer.adding("validate"):
            valid, quarantined = validate(batch, extras, first_order=first_order)
            valid = valid.collect()
        quarantine.add(quarantined)
        facts.append(quarantine_facts(quarantined))
        return valid

    read, current = 0, None
    records = record_batches(sources, BATCH_ROWS, say=timer.say)
    while True:
        with timer.adding("load"):
            batch = next(records, None)
            if batch is not None:
                if current is None or current.source != batch[0].source:
                    if current is not None:
                        _finish_source(current, shapes, timer)
                    current = BatchedSource(batch[0].source, fields, known_keys.get(batch[0].source))
                batch = current.conform(batch)
        if batch is None:
            break
        yield validated(batch, read)
        read += len(batch)
    if current is not None:
        _finish_source(current, shapes, timer)
    if not read:
        yield validated([], 0)


_END = object()


def prefetched(items: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The items of ``items``, in order, the next one made in a second thread while
    the caller works on this one. Reading and validating records is Python (one
    core); the stages of the first pass are mostly Polars and the tokenizer, which
    let go of the interpreter, so the two overlap. One batch ahead at most; an
    error making an item is raised where that item is asked for."""
    with ThreadPoolExecutor(1, thread_name_prefix="curate-load") as pool:
        upcoming = pool.submit(next, items, _END)
        while (item := upcoming.result()) is not _END:
            upcoming = pool.submit(next, items, _END)
            yield item


def _finish_source(conformer: BatchedSource, shapes: list[SourceShape], timer: StageTimer) -> None:
    shape = conformer.finish()
    timer.say(f"  {shape.source}: {shape.describe()}")
    shapes.append(shape)


class ShardWriter:
    """``write_shards`` for rows that arrive a batch at a time: the same files,
    each written as soon as all its rows are there."""

    def __init__(self, directory: Path, output: OutputConfig) -> None:
        self.directory, self.output = directory, output
        self.pending: list[pl.DataFrame] = []
        self.rows = 0
        self.written = 0

    def add(self, frame: pl.DataFrame) -> None:
        self.pending.append(frame)
        self.rows += frame.height
        while self.rows >= self.output.shard_rows:
            self._write(self.output.shard_rows)

    def close(self) -> None:
        if self.rows or not self.written:  # an empty set still gets one (empty) shard
            self._write(self.rows)

    def _write(self, rows: int) -> None:
        buffered = pl.concat(self.pending)
        write_shards(buffered.head(rows), self.directory, self.output, first=self.written)
        self.written += 1
        rest = buffered.slice(rows)
        self.pending, self.rows = [rest], rest.height


@dataclass(frozen=True)
class Streamed:
    """The streamed form of a corpus-wide stage: ``keys`` of each batch (compact
    columns, kept in memory), ``mark`` on the keys of every row (texts read back
    from ``Rows`` where needed; one column per mark, in row order), ``facts``."""

    keys: Callable[[pl.DataFrame, Config], pl.DataFrame]
    mark: Callable[[pl.DataFrame, Rows, Config], pl.DataFrame]
    facts: Callable[[pl.DataFrame, pl.DataFrame, Rows, Context], Facts]  # (marks, keys, texts, context)


# The streamed form of each corpus-wide stage of ``STAGES``, by name.
STREAMED = {"dedup": Streamed(dedup_keys, mark_rows, streamed_dedup_facts)}


@dataclass
class Judged:
    """What the passes before the last leave: the last pass's input batches, the
    marks of the corpus-wide stages and the context of each stage."""

    batches: Batches
    marks: dict[str, Marks]
    contexts: dict[str, Context]


@dataclass
class Marks:
    """A corpus-wide stage's columns for every row (in row order), and its facts."""

    columns: pl.DataFrame
    facts: Facts


def _with_marks(frame: pl.DataFrame, marks: dict[str, Marks], offset: int) -> pl.DataFrame:
    """The batch with the columns the corpus-wide stages gave its rows (rows
    ``offset`` onwards of the whole)."""
    for marked in marks.values():
        frame = pl.concat([frame, marked.columns.slice(offset, frame.height)], how="horizontal")
    return frame


def judge_passes(frames: Iterable[pl.DataFrame], config: Config, timer: StageTimer, spill: Path) -> Judged:
    """Every pass of ``passes(STAGES)`` but the last, over ``frames``."""
    context = Context(config)
    runs = passes(STAGES)
    judged = Judged(Batches(spill, "loaded"), {}, {})
    parts: list[pl.DataFrame] = []  # the next stage's corpus facts, a part per batch
    keys: list[pl.DataFrame] = []  # the next corpus-wide stage's keys, a part per batch
    for number, run in enumerate(runs[:-1]):
        following = runs[number + 1][0]
        if run[0].corpus_wide:
            stage = run[0]
            with timer.adding(stage.name):
                streamed, texts, every_key = STREAMED[stage.name], judged.batches.columns(list(C.FIELDS)), pl.concat(keys)
                keys.clear()  # the parts are in every_key now
                marked = streamed.mark(every_key, texts, config)
                judged.marks[stage.name] = Marks(marked, streamed.facts(marked, every_key, texts, context))
            timer.said([stage.name])
            frames = judged.batches.drain()
            continue
        for stage in run:
            judged.contexts[stage.name] = stage.settled(context, parts) if stage.needs else context
        held, parts = Batches(spill, f"pass-{number}"), []
        for count, frame in enumerate(frames, start=1):
            frame = _with_marks(frame, judged.marks, held.height)
            for stage in run:
                with timer.adding(stage.name):
                    frame = stage.run(frame.lazy(), judged.contexts[stage.name]).collect()
            if following.needs is not None:
                parts.append(following.needs.part(frame))
            if following.corpus_wide:
                with timer.adding(following.name):
                    keys.append(STREAMED[following.name].keys(frame, config))
            held.append(frame)
            timer.say(f"    {', '.join(stage.name for stage in run)}: batch {count} ({held.height:,} rows)")
        timer.said((["load", "validate"] if number == 0 else []) + [stage.name for stage in run])
        frames, judged.batches = held.drain(), held
    for stage in runs[-1]:
        judged.contexts[stage.name] = context
    return judged


def decide_and_write(judged: Judged, scratch: Path, config: Config, timer: StageTimer) -> RunFacts:
    """The last pass: its stages on every batch, then the batch's clean and rejected
    rows to their shards; returns the stages' facts (row-local ones merged in load order)."""
    last = passes(STAGES)[-1]
    clean, rejected = ShardWriter(scratch / "clean", config.output), ShardWriter(scratch / "rejected", config.output)
    empty = judged.batches.empty()  # every column of every batch, each of its widest type
    facts, offset = RunFacts(**{name: marked.facts for name, marked in judged.marks.items()}), 0
    for batch in judged.batches.drain():
        frame = _with_marks(pl.concat([empty, batch], how="diagonal_relaxed"), judged.marks, offset)
        offset += frame.height
        for stage in last:
            with timer.adding(stage.name):
                frame = stage.run(frame.lazy(), judged.contexts[stage.name]).collect()
        with timer.adding("report"):  # the row-local stages' facts are the report's material
            facts = merge(facts, RunFacts(**facts_of(frame, Context(config), corpus_wide=False)))
        with timer.adding("write"):
            kept, dropped = split(frame)
            clean.add(kept.select(clean_columns(kept)))
            rejected.add(dropped.select(rejected_columns(dropped)))
    with timer.adding("write"):
        clean.close()
        rejected.close()
    return facts


def run(inputs: list[str], out: str | Path, config: Config, export: str | list[str] | None = None,
        quiet: bool = False) -> dict:
    """Curate ``inputs`` into ``out``; returns the report dictionary."""
    timer = StageTimer(quiet)
    started = time.perf_counter()
    target = Path(out)
    check_replaceable(target)  # fail before the work, not after it
    check_writable(target)
    remove_stale_scratch(target)
    sources = expand_inputs(inputs, exclude=[str(out)])  # never read what this run replaces
    timer.say(f"curate: {len(sources)} source(s) -> {out}")
    known_keys: dict[str, list[str]] = {}
    while True:
        try:
            with publishing(target) as scratch:
                report = curate_into(scratch, sources, inputs, config, export, timer, known_keys)
            break
        except ShapeChanged as changed:
            # Rare: a source's later records change the shape its first batch gave.
            known_keys[changed.source] = changed.keys or keys_of(read_source(changed.source))
            timer.seconds.clear()
            timer.say(f"  {changed.source}: later records change its shape; curating again with all its keys")
    report.timings_s["total"] = round(time.perf_counter() - started, 4)
    return report.as_json()


SPILL = ".spill"  # inside the scratch directory; removed before the manifest lists its files


def curate_into(scratch: Path, sources: list[str], inputs: list[str], config: Config, export, timer: StageTimer,
                known_keys: dict[str, list[str]]) -> Report:
    """The whole run into ``scratch``: the passes, shards, exports, report and manifest."""
    quarantine, quarantined, shapes = ShardWriter(scratch / "quarantine", config.output), [], []
    frames = prefetched(loaded_batches(sources, config, timer, quarantine, quarantined, shapes, known_keys))
    try:
        judged = judge_passes(frames, config, timer, scratch / SPILL)
        facts = decide_and_write(judged, scratch, config, timer)
        with timer.adding("write"):
            quarantine.close()
        timer.said([stage.name for stage in passes(STAGES)[-1]] + ["write"])
    finally:
        frames.close()  # on an error, the loading thread has finished before the scratch goes
        shutil.rmtree(scratch / SPILL, ignore_errors=True)
    facts = merge(RunFacts(quarantine=merge_all(quarantined)), facts)
    with timer.adding("report"):
        report = build_report(facts, config, timer.seconds, inputs, shapes_section(shapes))
    check_reconciled(report.counts)
    with timer("exports"):
        clean = pl.read_parquet(scratch / "clean") if as_formats(export) else None
        exports = exports_section(scratch, write_exports(clean, scratch, export))
    report.timings_s["report"] = round(timer.seconds["report"], 4)
    write_run_record(scratch, report.as_json(), exports=exports)
    return report
