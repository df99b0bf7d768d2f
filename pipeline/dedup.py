"""Dedup at instruction granularity: exact copies, conflicting outputs, near
duplicates; the best row of each cluster survives.

What counts as a duplicate (texts compared lowercased, whitespace collapsed):

- **exact_duplicate**: the same (instruction, input, output).
- **conflicting_output**: the same (instruction, input) with a different output.
  Training on both teaches two answers to one prompt; the best one is kept.
- **near_duplicate**: both of
    1. the Jaccard similarity of the two records' word n-gram sets is at least
       ``threshold``. N-grams are taken within a field and tagged with it, so the
       same words in the instruction and in the output do not match;
    2. every field in ``fields`` is similar on its own: the Jaccard similarity of
       its word sets is at least ``field_threshold`` (two empty fields are equal,
       an empty and a non-empty one are not similar).
  (1) alone would merge rows that share a long instruction template but differ in
  their input: "Classify the sentiment of this review ... | Great food." and
  "... | Rude staff." are different tasks even when both outputs say "Positive".
  (2) keeps them apart. MinHash LSH only proposes candidate pairs for (1); every
  candidate is verified with the exact Jaccard values before it is merged.

Rows linked by any of these relations form a cluster (union-find, so the links
are transitive). The survivor of a cluster is the row with the fewest drop rules
fired, then the fewest rules fired, then the longest output, then the row read
first, so the result depends only on the input and the config. Every other row
of the cluster is rejected with the relation it has *to the survivor*: an exact
copy of the survivor is ``exact_duplicate`` even if it joined the cluster
through a near duplicate. ``_cluster`` is the smallest ``_order`` in the
cluster (stable when rules change which row survives); ``_duplicate_of`` is the
survivor's ``_source``/``_row``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from pipeline import columns as C
from pipeline import minhash
from pipeline.config import Config, DedupConfig
from rules import Severity

EXACT = "exact_duplicate"
CONFLICTING = "conflicting_output"
NEAR = "near_duplicate"
REASONS = (EXACT, NEAR, CONFLICTING)
PROMPT_FIELDS = ("instruction", "input")

_LINEAGE = pl.Struct({C.SOURCE: pl.String, C.ROW: pl.Int64})


# ---------------------------------------------------------------- hashes


def comparable(column: str) -> pl.Expr:
    """Case and whitespace differences do not make a different record: lowercase,
    every run of whitespace one space, none at either end."""
    # "\s\s+|[^\S ]" matches exactly the runs "\s+" would, except single spaces,
    # which stay as they are: the same result, several times faster.
    return pl.col(column).fill_null("").str.to_lowercase().str.replace_all(r"\s\s+|[^\S ]", " ").str.strip_chars()


def _blake2b_hex(encoded: pl.Series) -> pl.Series:
    return pl.Series(
        [hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest() for text in encoded.to_list()],
        dtype=pl.String,
    )


def hash_texts(texts: list[pl.Expr]) -> pl.Expr:
    """128-bit blake2b, as 32 hex characters, of the texts taken together; each
    is prefixed with its length in bytes, so ("ab", "c") and ("a", "bc") differ."""
    parts = []
    for text in texts:
        parts += [text.str.len_bytes().cast(pl.String), pl.lit(":"), text]
    return pl.concat_str(parts).map_batches(_blake2b_hex, return_dtype=pl.String)


def content_hash(fields: tuple[str, ...] = C.FIELDS) -> pl.Expr:
    """Stable hash of the comparable form of ``fields`` (see ``comparable``).

    blake2b, so the value is the same across processes, machines and library
    versions (unlike Polars' ``hash``) and can be stored and compared by a later run.
    """
    return hash_texts([comparable(field) for field in fields])


def prompt_hash() -> pl.Expr:
    return content_hash(PROMPT_FIELDS)


# ---------------------------------------------------------------- survivors


def quality_rank(config: Config) -> list[pl.Expr]:
    """Sort keys that put the best row of a cluster first."""
    active = config.active_rules()
    drop_columns = [C.rule_column(n) for n in active if config.severity_of(n) is Severity.DROP]
    rule_columns = [C.rule_column(n) for n in active]
    drops = pl.sum_horizontal(drop_columns) if drop_columns else pl.lit(0)
    fired = pl.sum_horizontal(rule_columns) if rule_columns else pl.lit(0)
    informative = pl.col("output").str.len_chars().fill_null(0).cast(pl.Int64)
    return [drops, fired, -informative, pl.col(C.ORDER)]


# ---------------------------------------------------------------- clusters


class UnionFind:
    """Disjoint sets over 0..n-1, with path halving; the smaller index becomes the root."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            low, high = min(root_a, root_b), max(root_a, root_b)
            self.parent[high] = low

    def union_pairs(self, a: np.ndarray, b: np.ndarray) -> None:
        for left, right in zip(a.tolist(), b.tolist()):
            self.union(left, right)

    def roots(self) -> np.ndarray:
        return np.fromiter((self.find(node) for node in range(len(self.parent))), dtype=np.int64, count=len(self.parent))


def group_edges(keys: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Links every row to the first row with the same key (rows with a unique key give none)."""
    linked = (
        pl.DataFrame({"key": keys})
        .with_row_index("row")
        .with_columns(first=pl.col("row").first().over("key"))
        .filter(pl.col("row") != pl.col("first"))
    )
    return linked.get_column("row").to_numpy(), linked.get_column("first").to_numpy()


def verify(shingles: minhash.Ragged, words: dict[str, pl.Series], a: np.ndarray, b: np.ndarray,
           config: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """(whole-record Jaccard, is a near duplicate) for the pairs (a[i], b[i])."""
    similarity = minhash.jaccard(shingles.lists(a), shingles.lists(b))
    near = similarity >= config.threshold
    for field in config.fields:
        # Only pairs still in the running: the per-field check is the costlier one.
        still = np.flatnonzero(near)
        field_similarity = minhash.jaccard(words[field].gather(a[still]), words[field].gather(b[still]))
        near[still] = field_similarity >= config.field_threshold
    return similarity, near


def near_pairs(frame: pl.DataFrame, config: DedupConfig) -> pl.DataFrame:
    """Verified near-duplicate pairs (a, b, similarity) of row indices of ``frame``."""
    shingles, words = minhash.record_shingles(frame, C.FIELDS, config.ngram)
    signature = minhash.signatures(shingles, config.num_perm, config.seed)
    bands, rows = band_shape(config)
    candidates = minhash.candidate_pairs(signature, bands, rows, eligible=shingles.lengths > 0)
    a, b = candidates.get_column("a").to_numpy(), candidates.get_column("b").to_numpy()
    similarity, near = verify(shingles, words, a, b, config)
    return pl.DataFrame({"a": a[near], "b": b[near], "similarity": similarity[near]})


def pair_similarity(left: pl.DataFrame, right: pl.DataFrame, config: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """(whole-record Jaccard, is a near duplicate) of each row of ``left`` with the
    same row of ``right``."""
    both = pl.concat([left.select(C.FIELDS), right.select(C.FIELDS)])
    shingles, words = minhash.record_shingles(both, C.FIELDS, config.ngram)
    a = np.arange(left.height, dtype=np.int64)
    return verify(shingles, words, a, a + left.height, config)


def band_shape(config: DedupConfig) -> tuple[int, int]:
    if config.bands is not None and config.rows is not None:
        return config.bands, config.rows
    return minhash.band_shape(config.threshold, config.num_perm)


def cluster_roots(frame: pl.DataFrame, keys: pl.DataFrame, config: DedupConfig) -> np.ndarray:
    """For each row, the smallest row index of its cluster (itself when unique).
    ``keys`` holds the ``content`` and ``prompt`` hashes of the rows."""
    clusters = UnionFind(frame.height)
    if config.exact:
        clusters.union_pairs(*group_edges(keys.get_column("content")))
    if config.conflicting_output:
        clusters.union_pairs(*group_edges(keys.get_column("prompt")))
    if config.near:
        # Exact copies have identical shingles: one row per distinct content is enough.
        if config.exact:
            first = keys.with_row_index("row").unique("content", keep="first").get_column("row")
            representatives = np.sort(first.to_numpy()).astype(np.int64)
        else:
            representatives = np.arange(frame.height, dtype=np.int64)
        pairs = near_pairs(frame.select(C.FIELDS)[representatives], config)
        clusters.union_pairs(
            representatives[pairs.get_column("a").to_numpy()], representatives[pairs.get_column("b").to_numpy()]
        )
    return clusters.roots()


def mark_duplicates(frame: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Add ``_cluster``, ``_duplicate_of`` and ``_dedup_reason``."""
    texts = frame.select(comparable(field).alias(field) for field in C.FIELDS)
    keys = texts.select(
        hash_texts([pl.col(field) for field in C.FIELDS]).alias("content"),
        hash_texts([pl.col(field) for field in PROMPT_FIELDS]).alias("prompt"),
    )
    best_first = frame.select(pl.arg_sort_by(quality_rank(config)).alias("row")).get_column("row").to_numpy()
    rank = np.empty(frame.height, dtype=np.int64)
    rank[best_first] = np.arange(frame.height)
    # Only the narrow columns take part in the grouping and joins; the texts stay put.
    narrow = pl.DataFrame(
        {
            "_root": cluster_roots(frame, keys, config.dedup),
            "_rank": rank,
            "_index": np.arange(frame.height, dtype=np.int64),
            "_content": keys.get_column("content"),
            "_prompt": keys.get_column("prompt"),
        }
    ).with_columns(frame.select(C.ORDER, C.SOURCE, pl.col(C.ROW).cast(pl.Int64)))
    narrow = narrow.with_columns(
        pl.len().over("_root").alias("_size"),
        pl.col(C.ORDER).min().over("_root").alias("_smallest_order"),
    )
    survivors = narrow.sort("_rank").unique("_root", keep="first").select(
        "_root",
        pl.col("_index").alias("_survivor_index"),
        pl.struct(C.SOURCE, C.ROW).alias("_survivor"),
        pl.col("_content").alias("_survivor_content"),
        pl.col("_prompt").alias("_survivor_prompt"),
        pl.col("_rank").alias("_survivor_rank"),
    )
    narrow = narrow.join(survivors, on="_root", how="left", maintain_order="left")
    removed = (pl.col("_size") > 1) & (pl.col("_rank") != pl.col("_survivor_rank"))
    reason = (
        pl.when(pl.col("_content") == pl.col("_survivor_content"))
        .then(pl.lit(EXACT))
        .when(pl.col("_prompt") == pl.col("_survivor_prompt"))
        .then(pl.lit(CONFLICTING))
        .otherwise(pl.lit(NEAR))
    )
    marked = narrow.with_columns(
        pl.when(removed).then(reason).alias(C.DEDUP_REASON),
        pl.when(pl.col("_size") > 1).then(pl.col("_smallest_order")).cast(pl.Int64).alias(C.CLUSTER),
        pl.when(removed).then(pl.col("_survivor")).alias(C.DUPLICATE_OF),
    )
    if config.dedup.near:
        marked = marked.with_columns(_near_answers(frame, marked, config.dedup))
    return frame.with_columns(marked.select(C.DEDUP_REASON, C.CLUSTER, C.DUPLICATE_OF))


def _near_answers(frame: pl.DataFrame, marked: pl.DataFrame, config: DedupConfig) -> pl.Series:
    """The same prompt with an answer that differs by a word or two is a near
    duplicate, not a conflict: relabel those rows of ``conflicting_output``."""
    reasons = marked.get_column(C.DEDUP_REASON)
    rows = np.flatnonzero((reasons == CONFLICTING).fill_null(False).to_numpy())
    if len(rows) == 0:
        return reasons
    survivors = marked.get_column("_survivor_index").to_numpy()[rows]
    texts = frame.select(C.FIELDS)
    _, near = pair_similarity(texts[rows], texts[survivors], config)
    return reasons.scatter(rows[near], NEAR) if near.any() else reasons


def _unmarked(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(None, pl.String).alias(C.DEDUP_REASON),
        pl.lit(None, pl.Int64).alias(C.CLUSTER),
        pl.lit(None, _LINEAGE).alias(C.DUPLICATE_OF),
    )


def dedup(lf: pl.LazyFrame, config: Config) -> pl.LazyFrame:
    """Mark duplicates; decide moves them to rejected/. Needs the whole column, so
    it collects."""
    frame = lf.collect()
    settings = config.dedup
    if frame.height == 0 or not (settings.exact or settings.conflicting_output or settings.near):
        return _unmarked(frame).lazy()
    return mark_duplicates(frame, config).lazy()


# ---------------------------------------------------------------- report


EXAMPLE_CLUSTERS = 10
EXAMPLE_REMOVED = 5  # removed rows shown per example cluster
EXAMPLE_CHARS = 300


def _clipped(row: dict) -> dict:
    return {
        key: value[:EXAMPLE_CHARS] + "…" if isinstance(value, str) and len(value) > EXAMPLE_CHARS else value
        for key, value in row.items()
    }


def _example_clusters(frame: pl.DataFrame) -> list[tuple[int, str]]:
    """Up to ``EXAMPLE_CLUSTERS`` (cluster, reason), taking the reasons in turn so
    that every kind of duplicate is shown, the largest clusters first."""
    removed = frame.filter(pl.col(C.DEDUP_REASON).is_not_null())
    by_cluster = (
        removed.group_by(C.CLUSTER)
        .agg(pl.col(C.DEDUP_REASON).mode().sort().first().alias("reason"), pl.len().alias("removed"))
        .sort(["removed", C.CLUSTER], descending=[True, False])
    )
    queues = {reason: by_cluster.filter(pl.col("reason") == reason).get_column(C.CLUSTER).to_list() for reason in REASONS}
    chosen: list[tuple[int, str]] = []
    while len(chosen) < EXAMPLE_CLUSTERS and any(queues.values()):
        for reason in (NEAR, CONFLICTING, EXACT):
            if queues[reason] and len(chosen) < EXAMPLE_CLUSTERS:
                chosen.append((queues[reason].pop(0), reason))
    return chosen


def _example(frame: pl.DataFrame, cluster: int, reason: str, config: DedupConfig) -> dict:
    members = frame.filter(pl.col(C.CLUSTER) == cluster)
    survivor = members.filter(pl.col(C.DEDUP_REASON).is_null()).head(1)
    removed = members.filter(pl.col(C.DEDUP_REASON).is_not_null()).head(EXAMPLE_REMOVED)
    similarity, _ = pair_similarity(removed, pl.concat([survivor] * removed.height), config)
    shown = [C.SOURCE, C.ROW, *C.FIELDS]
    return {
        "cluster": int(cluster),
        "reason": reason,
        "survivor": _clipped(survivor.select(shown).to_dicts()[0]),
        "removed": [
            {**_clipped(row), "similarity": round(float(value), 4)}
            for row, value in zip(removed.select(shown).to_dicts(), similarity)
        ],
    }


def dedup_report(frame: pl.DataFrame, config: Config) -> dict:
    """``report["dedup"]``: clusters, rows removed per reason, cluster sizes, the
    settings used and examples of survivors against the rows they replaced."""
    clustered = frame.filter(pl.col(C.CLUSTER).is_not_null()) if C.CLUSTER in frame.columns else frame.clear()
    sizes = clustered.group_by(C.CLUSTER).len().group_by("len").agg(pl.len().alias("clusters")).sort("len")
    reasons = clustered.get_column(C.DEDUP_REASON).drop_nulls().value_counts() if clustered.height else None
    removed = {reason: 0 for reason in REASONS}
    if reasons is not None:
        removed.update({str(name): int(count) for name, count in reasons.iter_rows()})
    bands, rows = band_shape(config.dedup)
    return {
        "clusters": int(clustered.get_column(C.CLUSTER).n_unique()) if clustered.height else 0,
        "rows_removed": removed,
        "cluster_sizes": {str(size): int(count) for size, count in sizes.iter_rows()},
        "config": {**config.dedup.model_dump(mode="json"), "bands": bands, "rows": rows},
        "examples": [_example(clustered, cluster, reason, config.dedup) for cluster, reason in _example_clusters(clustered)],
    }
