"""The Ray engine: the stages of ``pipeline.flow.STAGES``, spread over a Ray cluster.

    curate run INPUT... --out DIR --engine ray [--ray-address ADDR]

Nothing here re-implements or re-lists a stage. The engine walks ``STAGES``: a
row-local stage runs on Arrow batches in Ray Data ``map_batches``, after its
``needs`` (a corpus fact) are summed from per-batch parts; a corpus-wide stage
runs in its distributed form (``DISTRIBUTED``: dedup on hash partitions shuffled
by plain Ray tasks, ``_grouped``). What is different from the local engine is
only where the corpus-wide numbers come from:

- ``_order`` (the global load order, the tie-breaker everywhere): a first pass
  over the sources (one task each) counts each source's records; source offsets are summed on the driver (one
  number per source) and each worker adds its source's offset.
- ``length_outlier``'s median and MAD (the rules stage's ``needs``): each batch
  gives a histogram of token counts, the driver sums them (a few thousand numbers)
  and the rule is applied with those values, the same floats as over one frame.
- dedup: exact and conflicting duplicates by a group-by on the content and
  prompt hashes; near duplicates by a group-by on LSH band keys, each partition
  finding and verifying its buckets' candidate pairs with
  ``minhash.bucket_pairs`` and ``dedup.verify``; the boilerplate words by a
  distributed word count on the same evenly spaced sample as the local engine.
  Connected components: min-label propagation over the verified edges, in
  partitions by row (``connected_roots``); survivors are chosen per cluster
  (``dedup.mark_clusters``) in partitions of whole clusters.
- Output shards: each clean / rejected / quarantined row gets its position in
  load order from per-bucket counts of ``_order``, and workers write the rows of
  one shard each, so the files are the local engine's, byte for byte.

Driver memory, honestly: the driver holds per-source counts and schemas, the
summed token-length histograms, the boilerplate words, one object reference per
partition and, per propagation round, one count per partition: none of that
grows with the corpus; nor do the report's facts (``pipeline.report.model``),
computed per batch (and per partition of whole clusters for dedup) by the workers
and merged on the driver. What does grow: the quarantined rows (gathered from the
first pass over the sources) and, with ``--export``, the clean set's three fields,
which the driver writes as one file.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import pickle
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import polars as pl

from pipeline import columns as C
from pipeline.config import Config
from pipeline.dedup import dedup as D
from pipeline.dedup import minhash
from pipeline.engines.local import ReconciliationError, StageTimer, check_reconciled
from pipeline.errors import InputError
from pipeline.flow import STAGES, Context, CorpusFact, Stage, facts_of
from pipeline.publish.exports import exports_section, write_exports
from pipeline.publish.write import (
    check_replaceable, clean_columns, publishing, rejected_columns, write_run_record,
)
from pipeline.report.build import build_report
from pipeline.report.model import RunFacts, merge_all
from pipeline.stages.load import expand_inputs, load_records
from pipeline.stages.shapes import SourceShape, conform_source
from pipeline.stages.validate import QUARANTINE_SCHEMA, quarantine_facts, validate

BATCH_ROWS = 8192  # rows per map_batches call: large enough for the per-batch chunk caches of the tokens stage
ORDER_BUCKET = 1 << 16  # _order values per bucket when rows are numbered in load order
LOCAL_OBJECT_STORE = 1 << 30  # bytes; a local instance on a small machine must not take half its memory
QKEY = "_qkey"  # quarantine rows: sort key in load order (source offset + position)


# ---------------------------------------------------------------- Arrow <-> Polars


def _frame(table) -> pl.DataFrame:
    return pl.from_arrow(table) if table.num_rows or table.num_columns else pl.DataFrame()


def _arrow(frame: pl.DataFrame):
    # The oldest compat level gives plain large_string / large_list columns, which
    # every Ray Data operator (sort, group-by, concat) handles.
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def _dataset(frame: pl.DataFrame):
    import ray.data

    return ray.data.from_arrow(_arrow(frame))


def _collect(ds) -> pl.DataFrame:
    import ray

    frames = [_frame(table) for table in ray.get(ds.to_arrow_refs())]
    frames = [f for f in frames if f.height]  # empty partitions carry no schema
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def _partition_of(frame: pl.DataFrame, column: str, partitions: int) -> pl.Series:
    """A partition number per row: integer keys by value, text keys by Polars'
    seeded hash (the same in every worker of one run, which is all a shuffle needs)."""
    key = pl.col(column)
    key = key.hash(seed=0) if frame.schema[column] == pl.String else key.cast(pl.UInt64)
    return frame.select((key % partitions).cast(pl.Int64)).to_series()


def _skip_empty(function):
    """Batch functions pass empty batches through: an empty partition of a
    shuffle has no columns, and nothing in it to compute."""

    @functools.wraps(function)
    def guarded(batch, *args, **kwargs):
        return batch if batch.num_rows == 0 else function(batch, *args, **kwargs)

    return guarded


# ---------------------------------------------------------------- Ray lifetime


@contextlib.contextmanager
def ray_session(address: str | None, quiet: bool) -> Iterator[None]:
    """Connect to ``address``, or start a local two-CPU instance and stop it at
    the end. An instance already started in this process is reused as is."""
    import ray
    import ray.data

    started = False
    # Ray Data logs every finished dataset at INFO; the stage timings say enough.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if not ray.is_initialized():
        options = dict(include_dashboard=False, log_to_driver=not quiet, logging_level=logging.WARNING)
        if address:
            try:
                ray.init(address=address, **options)
            except (ConnectionError, RuntimeError, ValueError) as error:
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise InputError(f"cannot connect to the Ray cluster at {address}: {first}") from None
        else:
            ray.init(num_cpus=2, object_store_memory=LOCAL_OBJECT_STORE, **options)
        started = True
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    try:
        yield
    finally:
        if started:
            ray.shutdown()


# ---------------------------------------------------------------- load and validate


def _read_one(source: str, fields: dict[str, str] | None):
    """One source's records in Alpaca shape, and its shape (``pipeline.stages.shapes``)."""
    return conform_source(source, load_records([source], say=lambda line: None), fields)


def _describe_sources(batch, fields: dict[str, str] | None = None) -> object:
    """First pass, per source: its record count, its valid rows' schema, its quarantine
    rows, its shape (or the input error that stops the run, raised on the driver)."""
    rows = []
    for index, source in zip(batch["_source_index"].to_pylist(), batch["_source"].to_pylist()):
        try:
            records, shape = _read_one(source, fields)
        except InputError as error:
            rows.append({"_source_index": index, "records": 0, "valid": 0, "error": str(error)})
            continue
        valid, quarantine = validate(records)
        schema = valid.collect_schema()
        rows.append({"_source_index": index, "records": len(records), "valid": len(records) - quarantine.height,
                     "schema": pickle.dumps(list(schema.items())), "quarantine": pickle.dumps(quarantine),
                     "shape": pickle.dumps(shape.as_dict())})
    return _arrow(pl.DataFrame(rows, schema={"_source_index": pl.Int64, "records": pl.Int64, "valid": pl.Int64,
                                             "schema": pl.Binary, "quarantine": pl.Binary, "shape": pl.Binary,
                                             "error": pl.String}))


def _load_sources(batch, offsets: dict[int, int], schema: dict[str, pl.DataType],
                  fields: dict[str, str] | None = None) -> object:
    """Second pass, per source: the valid rows, numbered in global load order and
    cast to the run's schema (the union of all sources' columns)."""
    frames = []
    for index, source in zip(batch["_source_index"].to_pylist(), batch["_source"].to_pylist()):
        valid, _ = validate(_read_one(source, fields)[0])
        frame = valid.collect().with_columns(pl.col(C.ORDER) + offsets[index])
        missing = [pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns]
        frames.append(frame.with_columns(missing).select(pl.col(n).cast(t) for n, t in schema.items()))
    return _arrow(pl.concat(frames) if frames else pl.DataFrame(schema=schema))


def load_and_validate(sources: list[str], fields: dict[str, str] | None = None):
    """(valid rows as a Ray dataset, quarantine frame, rows in, each source's shape)."""
    import ray.data

    listing = ray.data.from_items([{"_source_index": i, "_source": s} for i, s in enumerate(sources)],
                                  override_num_blocks=max(1, len(sources)))
    described = _collect(listing.map_batches(_describe_sources, batch_size=1, batch_format="pyarrow",
                                             fn_kwargs={"fields": fields})).sort("_source_index")
    for error in described.get_column("error").drop_nulls():
        raise InputError(error)
    shapes = [pickle.loads(s) for s in described.get_column("shape")]
    counts = described.get_column("records").to_list()
    offsets = dict(zip(described.get_column("_source_index").to_list(), np.cumsum([0, *counts[:-1]]).tolist()))
    # The run's columns: as the local engine's frame builds them, in order of first
    # appearance, with a type that holds every source's values.
    empty = [pl.DataFrame(schema=dict(pickle.loads(s))) for s, n in zip(described["schema"], described["valid"]) if n]
    schema = dict(pl.concat(empty, how="diagonal_relaxed").schema) if empty else None
    quarantine = [pickle.loads(q).with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(QKEY) + offsets[i])
                  for i, q in zip(described["_source_index"], described["quarantine"])]
    quarantine = pl.concat(quarantine) if quarantine else pl.DataFrame(schema={**QUARANTINE_SCHEMA, QKEY: pl.Int64})
    if schema is None:
        rows = ray.data.from_items([])
    else:
        rows = listing.map_batches(_load_sources, batch_size=1, batch_format="pyarrow",
                                   fn_kwargs={"offsets": offsets, "schema": schema, "fields": fields})
    return rows.materialize(), quarantine, int(sum(counts)), shapes


# ---------------------------------------------------------------- per-row stages


@_skip_empty
def _run_stage(batch, stage: Stage, context: Context) -> object:
    return _arrow(stage.run(_frame(batch).lazy(), context).collect())


@_skip_empty
def _fact_part(batch, fact: CorpusFact) -> object:
    return _arrow(fact.part(_frame(batch)))


def run_stage(stage: Stage, rows, context: Context, partitions: int):
    """One stage over the distributed rows: its corpus facts summed from per-batch
    parts first, then batch by batch (row-local) or in its distributed form."""
    if stage.needs is not None:
        parts = _collect(rows.map_batches(_fact_part, batch_format="pyarrow", fn_kwargs={"fact": stage.needs}))
        context = stage.settled(context, [parts])
    if stage.corpus_wide:
        if stage.run not in DISTRIBUTED:
            raise NotImplementedError(f"the Ray engine has no distributed form of the corpus-wide stage {stage.name!r}")
        return DISTRIBUTED[stage.run].run(rows, context, partitions).materialize()
    return rows.map_batches(_run_stage, batch_size=BATCH_ROWS, batch_format="pyarrow",
                            fn_kwargs={"stage": stage, "context": context}).materialize()


# ---------------------------------------------------------------- dedup


def _edges_to_first(group, key: str) -> object:
    """Each row to the first row (in load order) with the same ``key``."""
    frame = _frame(group)
    edges = frame.select(pl.col(C.ORDER).alias("a"), pl.col(C.ORDER).min().over(key).alias("b"))
    return _arrow(edges.filter(pl.col("a") != pl.col("b")))


def _first_of_key(group, key: str) -> object:
    frame = _frame(group)
    return _arrow(frame.filter(pl.col(C.ORDER) == pl.col(C.ORDER).min().over(key)).select(C.ORDER, *C.FIELDS))


@_skip_empty
def _sample_words(batch, step: int) -> object:
    """Per field, in how many sampled rows each word occurs (``dedup.sampled_boilerplate``'s counts)."""
    frame = _frame(batch).filter(pl.col("_position") % step == 0)
    parts = []
    for field in C.FIELDS:
        lists = frame.select(minhash.words(pl.col(field))).to_series()
        counts = lists.list.unique().explode(empty_as_null=False, keep_nulls=False).value_counts(name="rows")
        parts.append(counts.select(pl.lit(field).alias("field"), pl.col(counts.columns[0]).alias("word"),
                                   pl.col("rows").cast(pl.Int64)))
    return _arrow(pl.concat(parts))


@_skip_empty
def _band_rows(batch, config) -> object:
    """One row per (representative, band): the band key and the row's texts."""
    frame = _frame(batch)
    shingles, _ = minhash.record_shingles(frame, C.FIELDS, config.ngram)
    bands, rows = D.band_shape(config)
    keys = minhash.band_keys(minhash.signatures(shingles, config.num_perm, config.seed), bands, rows)
    eligible = np.flatnonzero(shingles.lengths > 0)
    picked = frame[eligible]
    return _arrow(pl.DataFrame({"_band": keys[eligible].ravel()}).with_columns(
        pl.Series("_row_in", np.repeat(np.arange(len(eligible)), bands))
    ).join(picked.with_row_index("_row_in").with_columns(pl.col("_row_in").cast(pl.Int64)), on="_row_in").drop("_row_in"))


def _verify_buckets(group, config, common: dict | None) -> object:
    """Candidate pairs of the LSH buckets in this partition, verified exactly."""
    frame = _frame(group).sort(["_band", C.ORDER])
    texts = frame.select(C.ORDER, *C.FIELDS).unique(C.ORDER).sort(C.ORDER)
    local = texts.get_column(C.ORDER).to_numpy()
    owner = np.searchsorted(local, frame.get_column(C.ORDER).to_numpy())
    candidates = minhash.bucket_pairs(frame.get_column("_band").to_numpy(), owner)
    a, b = candidates.get_column("a").to_numpy(), candidates.get_column("b").to_numpy()
    shingles, words = minhash.record_shingles(texts, C.FIELDS, config.ngram)
    signature = minhash.signatures(shingles, config.num_perm, config.seed)
    plausible = minhash.estimated_jaccard(signature, a, b) >= config.threshold - D.ESTIMATE_MARGIN
    a, b = a[plausible], b[plausible]
    _, near = D.verify(shingles, words, a, b, config, common)
    return _arrow(pl.DataFrame({"a": local[a[near]], "b": local[b[near]]}, schema={"a": pl.Int64, "b": pl.Int64}))


def _grouped(ds, column: str, partitions: int, fn, **kwargs):
    """``fn`` on hash partitions of ``column``: every row sharing a key lands in
    one call. A plain two-step shuffle in Ray tasks (each block split into
    ``partitions`` pieces, each partition's pieces concatenated by one task):
    on a small cluster it starts in milliseconds, where Ray Data's group-by
    operators take seconds per shuffle to set up."""
    import ray
    import ray.data

    blocks = ds.to_arrow_refs()
    if not blocks:
        return ray.data.from_items([])
    pieces = [_split_block.options(num_returns=partitions).remote(block, column, partitions) for block in blocks]
    pieces = [p if isinstance(p, list) else [p] for p in pieces]
    reduced = [_reduce_partition.remote(fn, kwargs, *(split[p] for split in pieces)) for p in range(partitions)]
    return ray.data.from_arrow_refs(reduced)


def _remote(function):
    import ray

    return ray.remote(function)


def _split_block_fn(table, column: str, partitions: int):
    frame = _frame(table)
    if frame.is_empty():
        parts = [frame] * partitions
    else:
        part = _partition_of(frame, column, partitions)
        parts = [frame.filter(part == p) for p in range(partitions)]
    tables = [_arrow(p) for p in parts]
    return tables if partitions > 1 else tables[0]


def _reduce_partition_fn(fn, kwargs, *tables):
    frames = [_frame(t) for t in tables]
    frames = [f for f in frames if f.height]
    if not frames:
        return _arrow(pl.DataFrame())  # an empty partition: no rows, no columns
    return fn(_arrow(pl.concat(frames, how="vertical_relaxed")), **kwargs)


class _Lazy:
    """A Ray remote function made on first use, so importing this module needs no Ray."""

    def __init__(self, function) -> None:
        self.function, self.remote_function = function, None

    def options(self, **options):
        return self._get().options(**options)

    def remote(self, *args):
        return self._get().remote(*args)

    def _get(self):
        if self.remote_function is None:
            self.remote_function = _remote(self.function)
        return self.remote_function


_split_block = _Lazy(_split_block_fn)
_reduce_partition = _Lazy(_reduce_partition_fn)


def _positions(ds, key: str):
    """Add ``_position``: each row's index when ``ds`` is sorted by the distinct
    integer ``key``. Counts per bucket of ``key`` values go to the driver (one
    number per ``ORDER_BUCKET`` keys), rows are numbered within their bucket."""
    bucketed = ds.map_batches(_with_bucket, batch_format="pyarrow", fn_kwargs={"key": key, "size": ORDER_BUCKET}).materialize()
    counts = _collect(bucketed.map_batches(_bucket_counts, batch_format="pyarrow"))
    if counts.is_empty():
        return bucketed  # no rows to number
    counts = counts.group_by("_bucket").agg(pl.col("rows").sum()).sort("_bucket")
    sizes = counts.get_column("rows").to_numpy()
    offsets = dict(zip(counts.get_column("_bucket").to_list(), np.cumsum(np.r_[0, sizes[:-1]]).tolist()))
    return _grouped(bucketed, "_bucket", _partitions(), _number_buckets, key=key, offsets=offsets)


def _partitions() -> int:
    import ray

    return max(2, int(ray.cluster_resources().get("CPU", 2)))


@_skip_empty
def _bucket_counts(batch) -> object:
    return _arrow(_frame(batch).group_by("_bucket").agg(pl.len().cast(pl.Int64).alias("rows")))


def _number_buckets(group, key: str, offsets: dict) -> object:
    frame = _frame(group)
    if frame.is_empty():
        return _arrow(frame.drop("_bucket", strict=False))
    frame = frame.sort(key)
    start = pl.col("_bucket").replace_strict(offsets, return_dtype=pl.Int64)
    within = pl.int_range(pl.len(), dtype=pl.Int64).over("_bucket")
    return _arrow(frame.with_columns((start + within).alias("_position")).drop("_bucket"))


@_skip_empty
def _with_bucket(batch, key: str, size: int) -> object:
    return _arrow(_frame(batch).with_columns((pl.col(key) // size).alias("_bucket")))


def boilerplate_words(representatives, total: int, config) -> dict[str, pl.Series]:
    """``dedup.sampled_boilerplate`` over the distributed representatives: the same
    evenly spaced sample, the same floor, a distributed word count."""
    step = D.boilerplate_step(total)
    floor = D.boilerplate_floor(len(range(0, total, step)), total, config)
    numbered = _positions(representatives, C.ORDER) if step > 1 else representatives.map_batches(
        _skip_empty(lambda t: _arrow(_frame(t).with_columns(pl.lit(0, pl.Int64).alias("_position")))), batch_format="pyarrow")
    counts = numbered.map_batches(_sample_words, batch_format="pyarrow", fn_kwargs={"step": step})
    summed = _collect(_grouped(counts, "word", _partitions(), _sum_words, floor=floor))
    if summed.is_empty():
        return {field: pl.Series("word", [], dtype=pl.String) for field in C.FIELDS}
    return {field: summed.filter(pl.col("field") == field).get_column("word").sort() for field in C.FIELDS}


def _sum_words(group, floor: float) -> object:
    frame = _frame(group)
    if frame.is_empty():
        return _arrow(pl.DataFrame(schema={"field": pl.String, "word": pl.String, "rows": pl.Int64}))
    summed = frame.group_by("field", "word").agg(pl.col("rows").sum())
    return _arrow(summed.filter(pl.col("rows") > floor))


def duplicate_edges(rows, config: Config, partitions: int) -> tuple[list, dict | None]:
    """(blocks of edges (a, b) between ``_order`` values that are duplicates,
    boilerplate words). The edges stay in the object store."""
    settings = config.dedup
    edges, common = [], None
    if settings.exact:
        edges += _grouped(rows, "_content", partitions, _edges_to_first, key="_content").to_arrow_refs()
    if settings.conflicting_output:
        edges += _grouped(rows, "_prompt", partitions, _edges_to_first, key="_prompt").to_arrow_refs()
    if settings.near:
        if settings.exact:
            representatives = _grouped(rows, "_content", partitions, _first_of_key, key="_content").materialize()
        else:
            representatives = rows.map_batches(_skip_empty(lambda t: _arrow(_frame(t).select(C.ORDER, *C.FIELDS))), batch_format="pyarrow")
        total = representatives.count()
        common = boilerplate_words(representatives, total, settings)
        bands = representatives.map_batches(_band_rows, batch_format="pyarrow", fn_kwargs={"config": settings})
        edges += _grouped(bands, "_band", partitions, _verify_buckets, config=settings, common=common).to_arrow_refs()
    return edges, common


def cluster_roots_of(edges: pl.DataFrame) -> pl.DataFrame:
    """(``_order``, ``_root``) for every row with a duplicate edge: union-find over
    the edge list's nodes only, the root being the cluster's first row in load
    order. The single-machine reference for ``connected_roots`` (tests)."""
    nodes = np.unique(np.r_[edges.get_column("a").to_numpy(), edges.get_column("b").to_numpy()])
    clusters = D.UnionFind(len(nodes))
    clusters.union_pairs(np.searchsorted(nodes, edges.get_column("a").to_numpy()),
                         np.searchsorted(nodes, edges.get_column("b").to_numpy()))
    return pl.DataFrame({C.ORDER: nodes, "_root": nodes[clusters.roots()]}, schema={C.ORDER: pl.Int64, "_root": pl.Int64})


# Connected components by min-label propagation, partitioned by node: every node
# starts as its own label, and each round every node takes the smallest label
# among its own and its neighbours'. After as many rounds as the longest shortest
# path in a cluster, every node holds its cluster's smallest ``_order``: the
# union-find root of the local engine. The driver holds one object reference per
# partition and one count per partition and round, whatever the corpus size.
MAX_LABEL_ROUNDS = 1000


def _remote_list(function, count: int, *args) -> list:
    refs = function.options(num_returns=count).remote(*args)
    return refs if count > 1 else [refs]


def _adjacency_fn(partitions: int, *edge_tables):
    """Both directions of every edge, split by node into ``partitions`` pieces."""
    frames = [_frame(t) for t in edge_tables]
    frames = [f for f in frames if f.width]
    edges = pl.concat(frames) if frames else pl.DataFrame(schema={"a": pl.Int64, "b": pl.Int64})
    both = pl.concat([edges.select(pl.col("a").alias("node"), pl.col("b").alias("nbr")),
                      edges.select(pl.col("b").alias("node"), pl.col("a").alias("nbr"))]).unique()
    part = both.get_column("node") % partitions
    tables = [_arrow(both.filter(part == p)) for p in range(partitions)]
    return tables if partitions > 1 else tables[0]


def _concat_fn(*tables):
    frames = [_frame(t) for t in tables]
    frames = [f for f in frames if f.width]
    return _arrow(pl.concat(frames) if frames else pl.DataFrame(schema={"node": pl.Int64, "nbr": pl.Int64}))


def _initial_labels_fn(adjacency):
    nodes = _frame(adjacency).select(pl.col("node").unique().sort())
    return _arrow(nodes.with_columns(pl.col("node").alias("label")))


def _send_fn(partitions: int, adjacency, labels):
    """Each node's label, sent to its neighbours (the smallest per neighbour), split by receiver."""
    joined = _frame(adjacency).join(_frame(labels), on="node")
    sent = joined.group_by("nbr").agg(pl.col("label").min()).rename({"nbr": "node"})
    part = sent.get_column("node") % partitions
    tables = [_arrow(sent.filter(part == p)) for p in range(partitions)]
    return tables if partitions > 1 else tables[0]


def _update_fn(labels, *messages):
    current = _frame(labels)
    frames = [_frame(m) for m in messages]
    received = pl.concat([f for f in frames if f.width] or [current.clear()])
    best = received.group_by("node").agg(pl.col("label").min().alias("offered"))
    updated = current.join(best, on="node", how="left").with_columns(
        pl.min_horizontal("label", "offered").alias("new")
    )
    changed = int((updated.get_column("new") < updated.get_column("label")).sum())
    return _arrow(updated.select("node", pl.col("new").alias("label"))), changed


_adjacency = _Lazy(_adjacency_fn)
_concat = _Lazy(_concat_fn)
_initial_labels = _Lazy(_initial_labels_fn)
_send = _Lazy(_send_fn)
_update = _Lazy(_update_fn)


def connected_roots(edge_blocks: list, partitions: int) -> list:
    """Per partition (node % partitions), a block of (``_order``, ``_root``) for
    every row that has a duplicate edge; the root is its cluster's first row."""
    import ray

    if not edge_blocks:
        return []
    split = [_remote_list(_adjacency, partitions, partitions, block) for block in edge_blocks]
    adjacency = [_concat.remote(*(pieces[p] for pieces in split)) for p in range(partitions)]
    labels = [_initial_labels.remote(adjacency[p]) for p in range(partitions)]
    for _ in range(MAX_LABEL_ROUNDS):
        sent = [_remote_list(_send, partitions, partitions, adjacency[p], labels[p]) for p in range(partitions)]
        updated = [_update.options(num_returns=2).remote(labels[q], *(s[q] for s in sent)) for q in range(partitions)]
        labels = [label for label, _ in updated]
        if sum(ray.get([changed for _, changed in updated])) == 0:
            return [_as_roots.remote(label) for label in labels]
    raise RuntimeError(f"connected components did not settle in {MAX_LABEL_ROUNDS} rounds")


def _as_roots_fn(labels):
    return _arrow(_frame(labels).select(pl.col("node").alias(C.ORDER), pl.col("label").alias("_root")))


_as_roots = _Lazy(_as_roots_fn)


def _join_roots_fn(roots, *row_tables):
    """Rows of one partition (by ``_order``) with their cluster root (null: no duplicate)."""
    frames = [_frame(t) for t in row_tables]
    frames = [f for f in frames if f.width]
    if not frames:
        return _arrow(pl.DataFrame())
    rows = pl.concat(frames, how="vertical_relaxed")
    table = _frame(roots) if roots is not None else pl.DataFrame(schema={C.ORDER: pl.Int64, "_root": pl.Int64})
    return _arrow(rows.join(table, on=C.ORDER, how="left", maintain_order="left"))


_join_roots = _Lazy(_join_roots_fn)


def with_roots(rows, roots: list, partitions: int):
    """``rows`` with ``_root``: a join of the rows, partitioned by ``_order``,
    with the root blocks of the same partitions."""
    import ray.data

    blocks = rows.to_arrow_refs()
    split = [_remote_list(_split_block, partitions, block, C.ORDER, partitions) for block in blocks]
    joined = [_join_roots.remote(roots[p] if roots else None, *(pieces[p] for pieces in split)) for p in range(partitions)]
    return ray.data.from_arrow_refs(joined)


def _mark_partition(group, config: Config, common: dict | None) -> object:
    """``dedup.mark_clusters`` on whole clusters (rows sharing ``_root``)."""
    frame = _frame(group).sort(C.ORDER)
    # Each row's cluster root as an index into this frame: its cluster's first row.
    first = frame.with_row_index("_i").select(pl.col("_i").min().over("_root")).to_series().to_numpy().astype(np.int64)
    keys = frame.select(pl.col("_content").alias("content"), pl.col("_prompt").alias("prompt"))
    rank = D.best_first_rank(frame, config)
    marks = D.mark_clusters(frame, keys, first, rank, config.dedup, common)
    return _arrow(frame.drop("_root").with_columns(marks))


def _unmarked(batch) -> object:
    """The rows without a duplicate (no ``_root``), marked as such."""
    if batch.num_columns == 0:
        return batch
    frame = _frame(batch)
    return _arrow(D.unmarked(frame.filter(pl.col("_root").is_null()).drop("_root")))


@_skip_empty
def _dedup_keys(batch) -> object:
    """The per-row part of dedup: content / prompt hashes (the quality rank is
    computed per partition, from the rule columns, by ``D.best_first_rank``)."""
    frame = _frame(batch)
    keys = D.duplicate_keys(frame)
    return _arrow(frame.with_columns(keys.get_column("content").alias("_content"), keys.get_column("prompt").alias("_prompt")))


def mark_all(rows, context: Context, partitions: int):
    """The dedup stage, distributed: every row with ``_dedup_reason``, ``_cluster``
    and ``_duplicate_of``."""
    config = context.config
    settings = config.dedup
    if not (settings.exact or settings.conflicting_output or settings.near):
        return rows.map_batches(_skip_empty(lambda t: _arrow(D.unmarked(_frame(t)))), batch_format="pyarrow")
    rows = rows.map_batches(_dedup_keys, batch_size=BATCH_ROWS, batch_format="pyarrow").materialize()
    edges, common = duplicate_edges(rows, config, partitions)
    rooted = with_roots(rows, connected_roots(edges, partitions), partitions).materialize()
    alone = rooted.map_batches(_unmarked, batch_format="pyarrow")
    clustered = rooted.map_batches(lambda t: t.filter(_valid_mask(t, "_root")) if t.num_rows else t, batch_format="pyarrow")
    marked = _grouped(clustered, "_root", partitions, _mark_partition, config=config, common=common)
    return alone.union(marked)


@dataclass(frozen=True)
class Distributed:
    """The distributed form of a corpus-wide stage: ``run`` over the dataset, and
    the column whose groups its facts need whole (one partition each)."""

    run: Callable
    whole_groups_of: str


# The distributed form of each corpus-wide stage of ``STAGES``, by its local function.
DISTRIBUTED = {D.dedup: Distributed(mark_all, C.CLUSTER)}


def _valid_mask(table, column: str):
    import pyarrow.compute as pc

    return pc.is_valid(table[column])


# ---------------------------------------------------------------- write


def _write_shards(group, directory: str, shard_rows: int, columns: list[str], compression: str, key: str) -> object:
    """Write the shards whose rows are in this partition (whole shards only)."""
    frame = _frame(group)
    paths = []
    if not frame.is_empty():
        frame = frame.sort(key)
        for (number,), shard in frame.group_by("_shard", maintain_order=True):
            path = Path(directory) / f"part-{number:05d}.parquet"
            shard.select(columns).write_parquet(path, compression=compression, statistics=True)
            paths.append(str(path))
    return _arrow(pl.DataFrame({"path": paths}, schema={"path": pl.String}))


def write_shards_ray(ds, empty: pl.DataFrame, directory: Path, config: Config, key: str) -> list[Path]:
    """Shards in the layout of ``pipeline.publish.write.write_shards``, each written by a worker."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = empty.columns
    if ds.count() == 0:  # an empty set still gets one (empty) shard, so readers find the schema
        path = directory / "part-00000.parquet"
        empty.write_parquet(path, compression=config.output.compression, statistics=True)
        return [path]
    numbered = _positions(ds, key).map_batches(
        _skip_empty(lambda t: _arrow(_frame(t).with_columns((pl.col("_position") // config.output.shard_rows).alias("_shard")))),
        batch_format="pyarrow",
    ).materialize()
    written = _collect(_grouped(
        numbered, "_shard", _partitions(), _write_shards, directory=str(directory), shard_rows=config.output.shard_rows,
        columns=columns, compression=config.output.compression, key=key,
    ))
    return sorted(Path(p) for p in written.get_column("path").to_list())


# ---------------------------------------------------------------- the run


def run_ray(inputs: list[str], out: str | Path, config: Config, export: str | list[str] | None = None, quiet: bool = False,
            address: str | None = None) -> dict:
    """``pipeline.engines.local.run`` on Ray: the same outputs, computed by Ray workers."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InputError("--engine ray needs Ray: pip install 'curate[ray]' (or .[ray] in a checkout)") from None
    timer = StageTimer(quiet)
    started = time.perf_counter()
    check_replaceable(Path(out))  # fail before the work, not after it
    sources = expand_inputs(inputs, exclude=[str(out)])
    timer.say(f"curate: {len(sources)} source(s) -> {out} (engine: ray)")
    with ray_session(address, quiet):
        partitions = _partitions()
        with timer("load"):
            rows, quarantine, rows_in, shapes = load_and_validate(sources, config.fields.mapping())
            for shape in shapes:
                timer.say(f"  {shape['source']}: {SourceShape(**shape).describe()}")
        if rows.count() == 0:
            # Nothing valid to distribute: the local engine writes the (empty) sets
            # and the quarantine exactly as it always does.
            from pipeline.engines.local import run

            return run(inputs, out, config, export=export, quiet=quiet)
        context = Context(config)
        for stage in STAGES:
            with timer(stage.name):
                rows = run_stage(stage, rows, context, partitions)
        with timer("report"):
            in_order = quarantine.sort(QKEY).drop(QKEY)
            report = build_report(distributed_facts(rows, in_order, context, partitions), config, timer.seconds,
                                  inputs, shapes)
            check_reconciled(report.counts)
            if report.counts["rows_in"] != rows_in:
                raise ReconciliationError(f"rows read ({rows_in}) != rows curated ({report.counts['rows_in']})")
        with timer("write"):
            with publishing(Path(out)) as scratch:
                clean = write_sets(scratch, rows, quarantine, config)
                # Exports are single files written by the driver: only they gather the clean rows.
                clean_rows = _collect(clean).sort(C.ORDER) if export else None
                exports = exports_section(scratch, write_exports(clean_rows, scratch, export))
                write_run_record(scratch, report.as_json(), exports=exports)
    report.timings_s["total"] = round(time.perf_counter() - started, 4)
    return report.as_json()


def _pickled(facts, first: int | None = None) -> object:
    return _arrow(pl.DataFrame({"_first": [first], "facts": [pickle.dumps(facts)]},
                               schema={"_first": pl.Int64, "facts": pl.Binary}))


@_skip_empty
def _row_local_facts(batch, context: Context) -> object:
    frame = _frame(batch)
    return _pickled(facts_of(frame, context, corpus_wide=False), frame.get_column(C.ORDER).min())


def _corpus_wide_facts(group, context: Context) -> object:
    frame = _frame(group)
    if frame.is_empty():
        return _arrow(pl.DataFrame(schema={"_first": pl.Int64, "facts": pl.Binary}))
    return _pickled(facts_of(frame.sort(C.ORDER), context, corpus_wide=True))


def _unpickled(table: pl.DataFrame) -> list[RunFacts]:
    if table.is_empty():
        return []
    return [RunFacts.model_construct(**pickle.loads(blob)) for blob in table.sort("_first").get_column("facts")]


def distributed_facts(rows, quarantine: pl.DataFrame, context: Context, partitions: int) -> RunFacts:
    """The stages' facts, computed by the workers and merged on the driver: per
    batch for the row-local stages (merged in load order), per partition of whole
    groups (``Distributed.whole_groups_of``) for the corpus-wide ones."""
    parts = _unpickled(_collect(rows.map_batches(_row_local_facts, batch_format="pyarrow", fn_kwargs={"context": context})))
    for stage in STAGES:
        if stage.corpus_wide:
            column = DISTRIBUTED[stage.run].whole_groups_of
            grouped = rows.map_batches(_skip_empty(lambda t, c=column: t.filter(_valid_mask(t, c))), batch_format="pyarrow")
            parts += _unpickled(_collect(_grouped(grouped, column, partitions, _corpus_wide_facts, context=context)))
    facts = merge_all([RunFacts(quarantine=quarantine_facts(quarantine)), *parts])
    return RunFacts.model_construct(**{name: getattr(facts, name) for name in RunFacts.model_fields})


def _is_rejected(table, rejected: bool):
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return table

    fired = pc.greater(pc.list_value_length(table[C.REASONS]), 0)
    return table.filter(fired if rejected else pc.invert(fired))


def write_sets(scratch: Path, rows, quarantine: pl.DataFrame, config: Config):
    """clean/, rejected/ and quarantine/ shards, each written by workers; returns the clean rows."""
    clean_ds = rows.map_batches(lambda t: _is_rejected(t, False), batch_format="pyarrow")
    rejected_ds = rows.map_batches(lambda t: _is_rejected(t, True), batch_format="pyarrow")
    empty = _collect(rows.limit(1)).clear()  # the run's columns and types, for empty sets
    write_shards_ray(clean_ds, empty.select(clean_columns(empty)), scratch / "clean", config, C.ORDER)
    write_shards_ray(rejected_ds, empty.select(rejected_columns(empty)), scratch / "rejected", config, C.ORDER)
    write_shards_ray(_dataset(quarantine), quarantine.drop(QKEY).clear(), scratch / "quarantine", config, QKEY)
    return clean_ds
