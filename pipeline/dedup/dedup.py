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

Rows linked by any of these relations are grouped by union-find. Links are
transitive, so a group can chain rows that are not duplicates of each other
(A ~ B ~ C, A and C far apart); within a group the best row survives and takes
the rows that duplicate *it*, then the best remaining row does the same, and so
on. Every rejected row is therefore an exact copy, a conflicting output or a
verified near duplicate of the row in its ``_duplicate_of``. "Best" is the
fewest drop rules fired, then the fewest rules fired, then the longest output,
then the row read first, so the result depends only on the input and the
config. A rejected row's reason is its relation to its survivor; ``_cluster``
is the smallest ``_order`` among the survivor and the rows it replaced.

Each field is checked twice, with all its words and without the corpus's
boilerplate words (found in more than ``boilerplate_share`` of the rows): a
template that wraps a short task ("<tool description> What is the square root
of 729?") would otherwise make every task of that template look alike.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from pipeline import columns as C
from pipeline.dedup import minhash
from pipeline.config import Config, DedupConfig
from pipeline.report.examples import clipped
from pipeline.report.model import EXAMPLE_CLUSTERS, DedupFacts, ExampleCluster, best_candidates
from rules import Severity

if TYPE_CHECKING:
    from pipeline.flow import Context, PublishedRows

EXACT = "exact_duplicate"
CONFLICTING = "conflicting_output"
NEAR = "near_duplicate"
PREVIOUS = "duplicate_of_previous"  # refresh: duplicates a row published by an earlier version
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


def _blake2b(texts: pl.Series) -> pl.Series:
    # Bytes straight from Polars: only the hash runs per row in Python (16-byte digests).
    digests = [hashlib.blake2b(text, digest_size=16).digest() for text in texts.cast(pl.Binary).to_list()]
    return pl.Series(digests, dtype=pl.Binary)


def _joined(texts: list[pl.Expr]) -> pl.Expr:
    """The texts as one string, each prefixed with its length in bytes, so that
    ("ab", "c") and ("a", "bc") differ."""
    parts = []
    for text in texts:
        parts += [text.str.len_bytes().cast(pl.String), pl.lit(":"), text]
    return pl.concat_str(parts)


def hash_texts(texts: list[pl.Expr]) -> pl.Expr:
    """128-bit blake2b of the texts taken together (``_joined``), as 32 hex
    characters: what is stored and compared across runs."""
    return _joined(texts).map_batches(_blake2b, return_dtype=pl.Binary).bin.encode("hex")


_HIGH_HALF = pl.lit(1 << 64, dtype=pl.Int128)  # times this, a 64-bit value fills the upper half


def run_hash(texts: list[pl.Expr]) -> pl.Expr:
    """128 bits (an Int128) of the texts taken together (``_joined``): two of Polars'
    own 64-bit hashes, seeded differently. Several times faster than ``hash_texts``
    and as unlikely to collide by chance (not against texts crafted to collide), but
    Polars' hashes may change between versions: only for keys compared within one
    run, never stored."""
    joined = _joined(texts)
    high = joined.hash(seed=0).reinterpret(signed=True).cast(pl.Int128) * _HIGH_HALF
    return high + joined.hash(seed=1).cast(pl.Int128)


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

    BULK = 1000  # pairs from which joining them in bulk (NumPy) beats one union each

    def union_pairs(self, a: np.ndarray, b: np.ndarray) -> None:
        if len(a) < self.BULK:
            for left, right in zip(a.tolist(), b.tolist()):
                self.union(left, right)
            return
        # A merged set's root is its smallest node, in whatever order its pairs are
        # joined: roots hook onto the smaller root of each pair whose ends still
        # differ, then every node follows its parents to its root, until no pair differs.
        root = self.roots()
        left, right = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        while True:
            root_left, root_right = root[left], root[right]
            differ = root_left != root_right
            if not differ.any():
                break
            left, right, root_left, root_right = left[differ], right[differ], root_left[differ], root_right[differ]
            lower = np.minimum(root_left, root_right)
            np.minimum.at(root, root_left, lower)
            np.minimum.at(root, root_right, lower)
            root = _followed(root)
        self.parent = root.tolist()

    def roots(self) -> np.ndarray:
        """Each node's root: parents followed in bulk."""
        return _followed(np.array(self.parent, dtype=np.int64))


def _followed(parent: np.ndarray) -> np.ndarray:
    """Each node's root, parents followed in bulk (a parent is never larger than
    its child, so this ends once every node points at a root)."""
    while True:
        grandparent = parent[parent]
        if np.array_equal(grandparent, parent):
            return parent
        parent = grandparent


def group_edges(keys: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Links every row to the first row with the same key (rows with a unique key give none)."""
    linked = (
        pl.DataFrame({"key": keys})
        .with_row_index("row")
        .with_columns(first=pl.col("row").first().over("key"))
        .filter(pl.col("row") != pl.col("first"))
    )
    return linked.get_column("row").to_numpy(), linked.get_column("first").to_numpy()


ESTIMATE_MARGIN = 0.15
BOILERPLATE_MIN_ROWS = 20  # below this many rows a word is never boilerplate, whatever the share


BOILERPLATE_SAMPLE = 10_000  # rows, evenly spaced, on which the shares are measured


def boilerplate_step(height: int) -> int:
    """One row in this many is sampled: at most ``BOILERPLATE_SAMPLE``, evenly spaced."""
    return max(1, height // BOILERPLATE_SAMPLE)


def boilerplate_floor(sampled: int, height: int, config: DedupConfig) -> float:
    """Sampled rows a word must be in, more than, to be boilerplate."""
    return max(config.boilerplate_share * sampled, BOILERPLATE_MIN_ROWS * sampled / max(height, 1))


def boilerplate(words: dict[str, minhash.FieldWords], config: DedupConfig) -> dict[str, pl.Series]:
    """Per field, the words found in more than ``boilerplate_share`` of the rows
    (and in at least ``BOILERPLATE_MIN_ROWS``): template text and function words.
    ``words``: every row's, in row order (``sampled_boilerplate`` reads the same
    rows' texts instead, where their words are not at hand).

    Shares are measured on at most ``BOILERPLATE_SAMPLE`` evenly spaced rows: a
    word in 5% of the rows is in about 500 of them, give or take 22.
    """
    height = len(next(iter(words.values())).codes)
    sample = np.arange(0, height, boilerplate_step(height))
    floor = boilerplate_floor(len(sample), height, config)
    common = {}
    for field, field_words in words.items():
        # A word's code at most once per row: the count of each code is the rows it is in.
        rows = np.bincount(field_words.codes.take(sample).sets.values, minlength=field_words.vocabulary.len())
        common[field] = field_words.vocabulary.filter(pl.Series(rows > floor))
    return common


def verify(shingles: minhash.Ragged, words: dict[str, minhash.FieldWords], a: np.ndarray, b: np.ndarray,
           config: DedupConfig, common: dict[str, pl.Series] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(whole-record Jaccard, is a near duplicate) for the pairs (a[i], b[i]) of the
    records of ``shingles`` and ``words`` (as ``minhash.record_shingles`` makes them).

    A field must be similar twice: with all its words, and without the corpus's
    boilerplate words (``common``). The second check is what keeps apart rows
    whose instruction is a long template with a short task inside it ("<tool
    description> What is the square root of 729?"): without the template, the
    words that make the task are what is compared.
    """
    similarity = minhash.set_jaccard(shingles.sets, a, b)
    near = similarity >= config.threshold
    for field in config.fields:
        # Only pairs still in the running, and only their rows: the per-field checks cost more.
        still = np.flatnonzero(near)
        rows, (left, right) = _rows_of_pairs(a[still], b[still])
        sets = words[field].codes.sets.take(rows)
        similar = minhash.set_jaccard(sets, left, right) >= config.field_threshold
        if common is not None and common[field].len():
            template = words[field].flags(pl.col("word").is_in(common[field].cast(pl.String).implode()))
            without = sets.where(~template[sets.values])
            similar &= minhash.set_jaccard(without, left, right) >= config.field_threshold
        near[still] = similar
    still = np.flatnonzero(near)
    near[still] = _same_maths(words, a[still], b[still])
    return similarity, near


def _rows_of_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(the rows of the pairs (a[i], b[i]), sorted, and each pair as positions among them)."""
    rows = minhash.sorted_unique(np.r_[a, b])
    return rows, (np.searchsorted(rows, a), np.searchsorted(rows, b))


# Rows whose words and shingles exist at once while signatures are computed (~120 MB
# of real text); the signing pipeline holds up to three such batches at a time.
SIGNATURE_BATCH = 10_000


class _Gathered:
    """The rows ``rows`` of ``frame``, taken a slice at a time: what near dedup reads
    of the representatives, without a copy of all their texts."""

    def __init__(self, frame: pl.DataFrame, rows: np.ndarray) -> None:
        self.frame, self.rows = frame, rows

    @property
    def height(self) -> int:
        return len(self.rows)

    def slice(self, start: int, length: int) -> pl.DataFrame:
        return self.frame[self.rows[start : start + length]]

    def gather_every(self, step: int) -> pl.DataFrame:
        return self.frame[self.rows[::step]]

    def __getitem__(self, positions: np.ndarray) -> pl.DataFrame:
        return self.frame[self.rows[positions]]


def _banded_pairs(keys: "_Spilled", eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``minhash.bucket_pairs`` of the band keys of the ``eligible`` rows, one band
    at a time: a bucket never spans two bands (the band is mixed into its keys), so
    the pairs are the same as from all keys at once, without holding or sorting
    them all together (200 bytes a row at 25 bands)."""
    record = np.flatnonzero(eligible).astype(np.int64)
    span = int(record.max()) + 1 if len(record) else 1
    pairs = minhash.sorted_unique(np.concatenate([
        minhash.bucket_pair_codes(keys.column(band)[eligible], record, span) for band in range(keys.columns)
    ] or [np.empty(0, dtype=np.int64)]))
    return pairs // span, pairs % span


class _Spilled:
    """A 2-D array (a row per record) made a batch of records at a time: in memory
    while small, otherwise each batch's part in a temporary file, so that a corpus
    of millions of rows never holds its signatures (512 bytes a row at 128
    permutations) or band keys (200 bytes a row) at once. Read back: the rows of
    candidate pairs, or one column (band) at a time."""

    IN_MEMORY_BYTES = 64 << 20

    def __init__(self) -> None:
        self.parts: list[np.ndarray | Path] = []  # each part column-major: a column is contiguous
        self.starts = [0]
        self.columns = 0
        self.held = 0
        self.directory: tempfile.TemporaryDirectory | None = None

    def append(self, rows: np.ndarray) -> None:
        part = np.ascontiguousarray(rows.T)
        self.columns = part.shape[0]
        if self.held + part.nbytes <= self.IN_MEMORY_BYTES:
            self.parts.append(part)
            self.held += part.nbytes
        else:
            self.directory = self.directory or tempfile.TemporaryDirectory(prefix="curate-dedup-")
            path = Path(self.directory.name) / f"{len(self.parts)}.npy"
            np.save(path, part)
            self.parts.append(path)
        self.starts.append(self.starts[-1] + len(rows))

    def _part(self, number: int) -> np.ndarray:
        part = self.parts[number]
        return np.load(part, mmap_mode="r") if isinstance(part, Path) else part

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows ``rows`` (sorted, distinct), in that order."""
        owner = np.searchsorted(np.asarray(self.starts), rows, side="right") - 1
        found = [np.asarray(self._part(number)[:, rows[owner == number] - self.starts[number]]).T
                 for number in np.unique(owner).tolist()]
        return np.concatenate(found) if found else np.empty((0, self.columns), dtype=np.uint32)

    def column(self, column: int) -> np.ndarray:
        """Column ``column`` of every row."""
        return np.concatenate([np.asarray(self._part(number)[column]) for number in range(len(self.parts))])

    def close(self) -> None:
        if self.directory is not None:
            self.directory.cleanup()


@dataclass(frozen=True)
class Tokenised:
    """The shingles and field words of some records (``minhash.record_shingles``):
    made once, then read by every check of those records."""

    shingles: minhash.Ragged
    words: dict[str, minhash.FieldWords]

    @property
    def size(self) -> int:
        """Values held (4 bytes each): what keeping it costs."""
        return len(self.shingles.values) + sum(len(w.codes.values) for w in self.words.values())

    def take(self, records: np.ndarray) -> "Tokenised":
        return Tokenised(self.shingles.take(records), {f: w.take(records) for f, w in self.words.items()})

    @staticmethod
    def stack(parts: list["Tokenised"]) -> "Tokenised":
        if len(parts) == 1:
            return parts[0]
        return Tokenised(minhash.Ragged.stack([part.shingles for part in parts]),
                         {f: minhash.FieldWords.stack([part.words[f] for part in parts]) for f in parts[0].words})


def tokenise(source: pl.DataFrame | _Gathered, config: DedupConfig) -> Tokenised:
    """``Tokenised`` of every row of ``source``, made batch by batch: the texts are
    only ever copied a batch at a time."""
    return Tokenised.stack([
        Tokenised(*minhash.record_shingles(source.slice(start, SIGNATURE_BATCH), C.FIELDS, config.ngram))
        for start in range(0, max(source.height, 1), SIGNATURE_BATCH)
    ])


KEEP_TOKENISED = 16_000_000  # values (64 MB) of the signature pass kept for verification, at most


def _signatures_and_bands(frame: pl.DataFrame | _Gathered, config: DedupConfig
                          ) -> tuple[_Spilled, _Spilled, np.ndarray, Tokenised | None]:
    """(signatures, band keys, has shingles, the rows tokenised) of every row,
    computed batch by batch (they are row by row: the same values in any batch).

    The batches' shingles (as their sets) and words are kept for verification
    while they hold at most ``KEEP_TOKENISED`` values (None past that: candidate
    rows are then tokenised again), so a large corpus never holds them all at once."""
    bands, rows = band_shape(config)
    signatures, keys = _Spilled(), _Spilled()
    eligible = np.empty(frame.height, dtype=bool)
    kept: list[Tokenised] | None = []

    word_hashes = {field: minhash.WordHashes() for field in C.FIELDS}  # words hashed in earlier batches

    def sign(start: int, coding: Future) -> tuple[int, np.ndarray, np.ndarray, Tokenised]:
        # The sets are what verification reads: they replace the shingles, and a
        # minimum ignores repeats, so the signatures are the same from them.
        words = coding.result()
        shingles = minhash.shingles_of(words, config.ngram).sets
        signature = minhash.signatures(shingles, config.num_perm, config.seed)
        return start, signature, minhash.band_keys(signature, bands, rows), Tokenised(shingles, words)

    def keep(signed) -> None:
        nonlocal kept
        start, signature, band_keys, batch = signed.result()
        eligible[start : start + len(batch.shingles)] = batch.shingles.lengths > 0
        keys.append(band_keys)
        signatures.append(signature)
        if kept is not None:
            kept.append(batch)
            if sum(part.size for part in kept) > KEEP_TOKENISED:
                kept = None

    # Three steps in a pipeline, each on its own thread, all releasing the GIL:
    # the main thread splits a batch's texts into words (Polars), the next codes
    # the words of the batch before (Arrow; one thread, so that the batches'
    # words are coded in order, with one word_hashes), the last makes the
    # shingles, their sets and the signatures of the batch before that (NumPy).
    with ThreadPoolExecutor(1) as coder, ThreadPoolExecutor(1) as signer:
        signing: deque[Future] = deque()
        for start in range(0, frame.height, SIGNATURE_BATCH):
            split = minhash.split_fields(frame.slice(start, SIGNATURE_BATCH), C.FIELDS)
            if len(signing) == 2:  # one batch being coded, one being signed: wait for the older
                keep(signing.popleft())
            signing.append(signer.submit(sign, start, coder.submit(minhash.coded_words, split, word_hashes)))
        while signing:
            keep(signing.popleft())
    return signatures, keys, eligible, Tokenised.stack(kept) if kept else None


def sampled_boilerplate(frame: pl.DataFrame, config: DedupConfig) -> dict[str, pl.Series]:
    """``boilerplate`` of the rows of ``frame``, tokenising only the rows it samples."""
    sample = frame.gather_every(boilerplate_step(frame.height)).select(minhash.words(pl.col(field)).alias(field) for field in C.FIELDS)
    common = {}
    for field in C.FIELDS:
        lists = sample.get_column(field)
        floor = boilerplate_floor(lists.len(), frame.height, config)
        counts = lists.list.unique().explode(empty_as_null=False, keep_nulls=False).value_counts(name="rows")
        common[field] = counts.filter(pl.col("rows") > floor).get_column(counts.columns[0])
    return common


# Words of a prompt that say which calculation it asks for, besides its numbers.
MATHS_WORDS = (
    "square", "squares", "squared", "cube", "cubes", "cubed", "root", "roots", "sum", "product", "difference",
    "quotient", "derivative", "integral", "factorial", "prime", "primes", "even", "odd", "log", "logarithm", "sin",
    "cos", "tan", "power", "powers", "exponent", "mean", "median", "mode", "average", "minimum", "maximum", "min",
    "max", "reciprocal", "inverse", "area", "perimeter", "volume", "circumference", "radius", "diameter",
)


def _same_maths(words: dict[str, minhash.FieldWords], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether the prompts of (a[i], b[i]) ask for the same calculation: the same
    numbers and maths words in each prompt field (as multisets: "area of a circle of
    radius 7" -> {7, area, radius}). Rows of one long template that differ only in
    "radius 7" / "radius 4", "x^3" / "x^3 + x^2" or "sum" / "sum of squares" are
    different tasks, however similar the rest of the text."""
    same = np.ones(len(a), dtype=bool)
    maths = pl.col("word").str.contains(r"\d") | pl.col("word").is_in(MATHS_WORDS)
    rows, (left, right) = _rows_of_pairs(a, b)
    for field in PROMPT_FIELDS:
        if field not in words or len(a) == 0:
            continue
        codes = words[field].codes.take(rows)
        # Sorted codes of the same words are equal exactly when the sorted words are.
        maths_words = codes.where(words[field].flags(maths)[codes.values]).sorted()
        same &= minhash.equal_records(maths_words, left, right)
    return same


def near_pairs(frame: pl.DataFrame, config: DedupConfig, rows: np.ndarray | None = None) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Verified near-duplicate pairs (a, b, similarity) among the rows ``rows`` of
    ``frame`` (all rows when None), as indices into ``rows``, and the boilerplate
    words of each field (see ``_near_pairs``)."""
    pairs, common, _ = _near_pairs(frame, config, rows)
    return pairs, common


@dataclass(frozen=True)
class _Answers:
    """Pairs of rows already verified and whether each is a near duplicate. A
    pair's answer (``verify``) depends only on its two rows' texts, the config and
    the boilerplate words, so a pair near dedup verified is never verified again
    when survivors are chosen."""

    keys: np.ndarray  # _pair_keys of the pairs, sorted
    near: np.ndarray  # in the same order

    @staticmethod
    def of(a: np.ndarray, b: np.ndarray, near: np.ndarray) -> "_Answers":
        keys = _pair_keys(a, b)
        if len(keys) > 1 and (keys[1:] < keys[:-1]).any():  # near dedup's pairs come sorted
            order = np.argsort(keys)
            keys, near = keys[order], near[order]
        return _Answers(keys, near)

    def lookup(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(whether each pair (a[i], b[i]) was verified, its answer where it was)."""
        if len(self.keys) == 0:
            return np.zeros(len(a), dtype=bool), np.zeros(len(a), dtype=bool)
        keys = _pair_keys(a, b)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = self.keys[at] == keys
        return found, found & self.near[at]


def _pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One int64 per unordered pair of rows (rows below 2^31)."""
    keys = np.minimum(a, b).astype(np.int64)
    keys <<= 32
    keys |= np.maximum(a, b)
    return keys


@dataclass(frozen=True)
class _Known:
    """Rows already tokenised: ``tokenised`` record i is row ``rows[i]`` (None, and
    no rows, when near dedup could not hold them); ``answers``: the pairs it verified."""

    tokenised: Tokenised | None
    rows: np.ndarray
    answers: _Answers | None = None


def _best_pair_of_each_row(a: np.ndarray, b: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Indices of the pairs that are, for some row, its pair with the highest estimate."""
    ends, pair = np.r_[a, b], np.r_[np.arange(len(a)), np.arange(len(a))]
    order = np.lexsort((-np.r_[estimate, estimate], ends))
    first = order[np.r_[True, ends[order][1:] != ends[order][:-1]]] if len(order) else order
    return minhash.sorted_unique(pair[first])


def _near_pairs(frame: pl.DataFrame, config: DedupConfig, rows: np.ndarray | None = None,
                clusters: UnionFind | None = None) -> tuple[pl.DataFrame, dict[str, pl.Series], _Known]:
    """``near_pairs``, and what it knows: the rows of candidate pairs (indices into
    ``rows``; every row when most are in one) tokenised (unless there were too
    many to hold at once), and the answer of every pair it verified (rows of ``frame``).

    With ``clusters`` (over the rows of ``frame``), verified pairs are joined in it
    as they are found, and a candidate whose rows are already in one cluster is not
    verified at all: it could not change any cluster. Each row's most likely pair
    is verified first, so that most candidates inside a group of near copies are
    skipped; only the pairs verified are returned then.

    Signatures and band keys are kept for every row; shingles and words too while
    they are small enough (``KEEP_TOKENISED``), otherwise they are made again for
    the rows of candidate pairs alone, to verify them (in blocks of ``VERIFY_ROWS``
    rows when there are more). The texts are never copied
    as a whole: batches are taken from ``frame`` as needed. ``frame`` may be any
    source with ``height``, ``slice``, ``gather_every`` and ``[positions]``."""
    if rows is not None:
        frame = _Gathered(frame, rows)
    signature, keys, eligible, everyone = _signatures_and_bands(frame, config)
    a, b = _banded_pairs(keys, eligible)
    keys.close()
    # Candidates whose estimate is far below the threshold are dropped before the
    # exact check: a pair truly at the threshold falls ESTIMATE_MARGIN below it
    # in fewer than one case in ten thousand (3.7 standard errors at 128
    # permutations), and templated data can give hundreds of thousands of them.
    estimate = np.empty(len(a), dtype=np.float64)
    for block in _pair_blocks(a, b):  # the signatures of a block's rows at a time
        paired = minhash.sorted_unique(np.r_[a[block], b[block]])
        estimate[block] = minhash.estimated_jaccard(
            signature.rows(paired), np.searchsorted(paired, a[block]), np.searchsorted(paired, b[block]))
    signature.close()
    plausible = estimate >= config.threshold - ESTIMATE_MARGIN
    a, b, estimate = a[plausible], b[plausible], estimate[plausible]
    common = boilerplate(everyone.words, config) if everyone is not None else sampled_boilerplate(frame, config)
    involved = minhash.sorted_unique(np.r_[a, b])
    known, tokenised = _Known(None, np.empty(0, dtype=np.int64)), None
    if everyone is not None and 2 * len(involved) > frame.height:
        # Most rows are in a pair (99% of them on real text): keeping the few
        # others costs less than copying the words of all these.
        involved, tokenised = np.arange(frame.height, dtype=np.int64), everyone
    elif everyone is not None:
        tokenised = everyone.take(involved)
    elif len(involved) <= VERIFY_ROWS:
        tokenised = tokenise(_Gathered(frame, involved), config)
    if tokenised is not None:
        known = _Known(tokenised, involved)
        local_a, local_b = np.searchsorted(involved, a), np.searchsorted(involved, b)

        def check(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return verify(tokenised.shingles, tokenised.words, local_a[pairs], local_b[pairs], config, common)
    else:  # too many rows to hold their words at once: blocks of pairs, each tokenised on its own

        def check(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return _verified(frame, a[pairs], b[pairs], config, common)
    del everyone
    similarity, near = np.zeros(len(a)), np.zeros(len(a), dtype=bool)
    if clusters is None:
        steps = [np.arange(len(a))]
    else:
        first = _best_pair_of_each_row(a, b, estimate)
        rest = np.ones(len(a), dtype=bool)
        rest[first] = False
        steps = [first, np.flatnonzero(rest)]
    row_of = (lambda x: x) if rows is None else (lambda x: rows[x])
    checked = []
    for step in steps:
        if clusters is not None:
            roots = clusters.roots()
            step = step[roots[row_of(a[step])] != roots[row_of(b[step])]]
        similarity[step], near[step] = check(step)
        if clusters is not None:
            found = step[near[step]]
            clusters.union_pairs(row_of(a[found]), row_of(b[found]))
        checked.append(step)
    keep = minhash.sorted_unique(np.concatenate(checked))
    answers = _Answers.of(row_of(a[keep]), row_of(b[keep]), near[keep])
    keep = keep[near[keep]]
    pairs = pl.DataFrame({"a": a[keep], "b": b[keep], "similarity": similarity[keep]})
    return pairs, common, _Known(known.tokenised, known.rows, answers)


VERIFY_ROWS = 50_000  # rows whose texts, words and shingles exist at once while pairs are verified


def _pair_blocks(a: np.ndarray, b: np.ndarray) -> list[slice]:
    """The pairs in blocks whose rows number at most ``VERIFY_ROWS``: one block
    when they all fit (each row's signature or words read once), else blocks of
    half as many pairs (a row in several blocks is read once in each)."""
    if len(minhash.sorted_unique(np.r_[a, b])) <= VERIFY_ROWS:
        return [slice(0, len(a))]
    step = VERIFY_ROWS // 2
    return [slice(start, start + step) for start in range(0, len(a), step)]


def _verified(frame, a: np.ndarray, b: np.ndarray, config: DedupConfig,
              common: dict[str, pl.Series] | None) -> tuple[np.ndarray, np.ndarray]:
    """``verify`` of the pairs (a[i], b[i]) of rows of ``frame``, block by block:
    each block's distinct rows read and tokenised once."""
    similarity, near = np.zeros(len(a), dtype=np.float64), np.zeros(len(a), dtype=bool)
    for block in _pair_blocks(a, b):
        involved = minhash.sorted_unique(np.r_[a[block], b[block]])
        tokenised = tokenise(_Gathered(frame, involved), config)
        local_a, local_b = np.searchsorted(involved, a[block]), np.searchsorted(involved, b[block])
        similarity[block], near[block] = verify(tokenised.shingles, tokenised.words, local_a, local_b, config, common)
    return similarity, near


def pair_similarity(left: pl.DataFrame, right: pl.DataFrame, config: DedupConfig,
                    common: dict[str, pl.Series] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(whole-record Jaccard, is a near duplicate) of each row of ``left`` with the
    same row of ``right``."""
    both = tokenise(pl.concat([left.select(C.FIELDS), right.select(C.FIELDS)]), config)
    a = np.arange(left.height, dtype=np.int64)
    return verify(both.shingles, both.words, a, a + left.height, config, common)


def band_shape(config: DedupConfig) -> tuple[int, int]:
    if config.bands is not None and config.rows is not None:
        return config.bands, config.rows
    return minhash.band_shape(config.threshold, config.num_perm)


def cluster_roots(frame: pl.DataFrame, keys: pl.DataFrame, config: DedupConfig) -> tuple[np.ndarray, dict | None]:
    """For each row, the smallest row index of its cluster (itself when unique),
    and the boilerplate words near dedup found (None when it did not run).
    ``keys`` holds the ``content`` and ``prompt`` hashes of the rows; ``frame``
    may also be a ``spill.Rows`` (the streamed engine's texts)."""
    roots, common, _ = _cluster_roots(frame, keys, config)
    return roots, common


def _cluster_roots(frame: pl.DataFrame, keys: pl.DataFrame, config: DedupConfig
                   ) -> tuple[np.ndarray, dict | None, _Known | None]:
    """``cluster_roots``, and what near dedup knows of the rows (None when it did not run)."""
    clusters = UnionFind(frame.height)
    known = None
    common = None
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
        _, common, found = _near_pairs(frame.select(C.FIELDS), config, representatives, clusters)
        known = _Known(found.tokenised, representatives[found.rows], found.answers)
    return clusters.roots(), common, known


MAX_ROUNDS = 100  # survivor rounds per cluster; rows still unassigned after them are kept


class _NearCheck:
    """Whether rows of ``texts`` are near duplicates of each other (``verify``).

    A pair near dedup already verified (``known.answers``) keeps its answer. The
    rows ``rows`` are tokenised once, when first asked about (reusing
    ``known``: rows near dedup tokenised, or with ``same_as`` a row of the same
    content, which has the same words), and every later check (each survivor
    round, the near answers) reads the same values. When that would mean
    tokenising more than ``VERIFY_ROWS`` rows, each check reads its pairs' texts
    a block at a time instead (``_verified``), so memory stays bounded."""

    def __init__(self, texts: pl.DataFrame, rows: np.ndarray, config: DedupConfig, common: dict | None,
                 known: _Known | None = None, same_as: np.ndarray | None = None) -> None:
        self.texts, self.rows, self.config, self.common = texts, rows, config, common
        self.known, self.same_as = known, same_as
        self.place = np.full(texts.height, -1, dtype=np.int64)
        self.tokenised: Tokenised | None = None
        self.planned = False

    def _tokenise(self) -> Tokenised | None:
        """The rows tokenised, or None when too many of them are not known yet."""
        known = self.known or _Known(None, np.empty(0, dtype=np.int64))
        source = self.rows if self.same_as is None else self.same_as[self.rows]
        at = np.minimum(np.searchsorted(known.rows, source), max(len(known.rows) - 1, 0))
        found = known.rows[at] == source if len(known.rows) else np.zeros(len(source), dtype=bool)
        missing = minhash.sorted_unique(source[~found])
        if len(missing) > VERIFY_ROWS:
            return None
        self.place[self.rows[found]] = at[found]
        self.place[self.rows[~found]] = len(known.rows) + np.searchsorted(missing, source[~found])
        parts = [known.tokenised] if known.tokenised is not None else []
        if len(missing) or not parts:
            parts.append(tokenise(_Gathered(self.texts, missing), self.config))
        return Tokenised.stack(parts)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each (a[i], b[i]) is a near duplicate: the answer near dedup gave
        where it verified the pair (or one of the same contents), else ``verify``."""
        answers = self.known.answers if self.known is not None else None
        if answers is None:
            return self._checked(a, b)
        source = (lambda rows: rows) if self.same_as is None else (lambda rows: self.same_as[rows])
        found, near = answers.lookup(source(a), source(b))
        unknown = np.flatnonzero(~found)
        if len(unknown):
            near[unknown] = self._checked(a[unknown], b[unknown])
        return near

    def _checked(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if not self.planned:
            self.tokenised, self.planned = self._tokenise(), True
        if self.tokenised is None:
            return _verified(self.texts, a, b, self.config, self.common)[1]
        local_a, local_b = self.place[a], self.place[b]
        if len(a) and min(local_a.min(), local_b.min()) < 0:
            raise ValueError("near check of a row that was not tokenised")
        return verify(self.tokenised.shingles, self.tokenised.words, local_a, local_b, self.config, self.common)[1]


def _first_of_each(keys: pl.Series) -> np.ndarray:
    """For each row, the first row with the same key (near dedup's representative)."""
    frame = pl.DataFrame({"key": keys}).with_row_index("row")
    return frame.select(pl.col("row").first().over("key")).to_series().to_numpy().astype(np.int64)


def _in_clusters(roots: np.ndarray) -> np.ndarray:
    """Rows whose cluster has more than one row."""
    return np.flatnonzero(np.bincount(roots, minlength=len(roots))[roots] > 1)


def assign_survivors(texts: pl.DataFrame, keys: pl.DataFrame, roots: np.ndarray, rank: np.ndarray,
                     config: DedupConfig, common: dict | None, near_check: _NearCheck | None = None) -> np.ndarray:
    """For each row, the index of the row that survives in its place (itself for
    survivors and unique rows).

    Union-find links are transitive, so a cluster can chain rows that are not
    duplicates of each other (A ~ B ~ C with A and C far apart). Within each
    cluster the best row survives and takes every row that is a duplicate of
    *it*; the best of the rest survives next, and so on. So every removed row is
    an exact copy, a conflicting output or a verified near duplicate of the row
    named in its ``_duplicate_of``.
    """
    survivor = np.arange(len(roots))
    # Only equality matters here: dense integer codes of the hashes, not a Python
    # string object per row (about 90 bytes each, twice, at a million rows).
    codes = keys.select(pl.col("content", "prompt").rank("dense"))
    content, prompt = codes.get_column("content").to_numpy(), codes.get_column("prompt").to_numpy()
    pending = _in_clusters(roots)
    if near_check is None:
        near_check = _NearCheck(texts, pending, config, common)
    for _ in range(MAX_ROUNDS):
        if len(pending) == 0:
            break
        by_cluster = pending[np.lexsort((rank[pending], roots[pending]))]
        leaders = by_cluster[np.r_[True, roots[by_cluster][1:] != roots[by_cluster][:-1]]]
        leader_of = np.full(len(roots), -1)
        leader_of[roots[leaders]] = leaders
        rest = np.setdiff1d(pending, leaders, assume_unique=True)
        lead = leader_of[roots[rest]]
        taken = np.zeros(len(rest), dtype=bool)
        if config.exact:
            taken |= content[rest] == content[lead]
        if config.conflicting_output:
            taken |= prompt[rest] == prompt[lead]
        if config.near and (~taken).any():
            check = np.flatnonzero(~taken)
            taken[check[near_check(rest[check], lead[check])]] = True
        survivor[rest[taken]] = lead[taken]
        pending = rest[~taken]
    return survivor


def duplicate_keys(frame: pl.DataFrame, compact: bool = False) -> pl.DataFrame:
    """Per row, the ``content`` and ``prompt`` hashes (row by row: a batch's keys
    are the same wherever the batch is computed): ``hash_texts``, or with
    ``compact`` ``run_hash`` (16 bytes a row instead of 48, computed several times
    faster), for keys that are only compared with each other within the run."""
    comparable_texts = frame.select(comparable(field).alias(field) for field in C.FIELDS)
    hashed = run_hash if compact else hash_texts
    return comparable_texts.select(
        hashed([pl.col(field) for field in C.FIELDS]).alias("content"),
        hashed([pl.col(field) for field in PROMPT_FIELDS]).alias("prompt"),
    )


def best_first_rank(frame: pl.DataFrame, config: Config, published: np.ndarray | None = None) -> np.ndarray:
    """Each row's position when the rows are sorted best first (``quality_rank``);
    rows in ``published`` come before every other row."""
    best_first = frame.select(pl.arg_sort_by(quality_rank(config)).alias("row")).get_column("row").to_numpy()
    rank = np.empty(frame.height, dtype=np.int64)
    rank[best_first] = np.arange(frame.height)
    if published is not None:
        rank[published] -= frame.height  # published rows lead their clusters
    return rank


def mark_duplicates(frame: pl.DataFrame, config: Config, published: np.ndarray | None = None) -> pl.DataFrame:
    """Add ``_cluster``, ``_duplicate_of`` and ``_dedup_reason``.

    ``published`` (refresh) marks rows an earlier version already published:
    they always survive, whatever their rank, and a row they replace gets the
    reason ``duplicate_of_previous``. Rows among the others keep the usual reasons.
    """
    keys = duplicate_keys(frame)
    rank = best_first_rank(frame, config, published)
    roots, common, known = _cluster_roots(frame, keys, config.dedup)
    return frame.with_columns(mark_clusters(frame, keys, roots, rank, config.dedup, common, published, known=known))


def mark_clusters(frame: pl.DataFrame, keys: pl.DataFrame, roots: np.ndarray, rank: np.ndarray,
                  config: DedupConfig, common: dict | None, published: np.ndarray | None = None,
                  texts=None, known: _Known | None = None) -> pl.DataFrame:
    """``_dedup_reason``, ``_cluster`` and ``_duplicate_of`` of the rows of
    ``frame`` (in load order), given each row's cluster root. Clusters are
    independent of each other, so this can run on one cluster at a time.
    ``texts``: where the rows' texts are read when ``frame`` holds only lineage
    (the streamed engine's ``spill.Rows``). ``known``: rows ``cluster_roots``
    already tokenised, reused for rows of the same content."""
    texts = frame.select(C.FIELDS) if texts is None else texts
    same_as = _first_of_each(keys.get_column("content")) if known is not None and config.exact else None
    near_check = _NearCheck(texts, _in_clusters(roots), config, common, known, same_as)
    survivor = assign_survivors(texts, keys, roots, rank, config, common, near_check)
    if published is not None:
        # Published rows are never taken back, even where two of them turn out
        # to be duplicates of each other (candidates LSH missed before).
        survivor[published] = np.flatnonzero(published)
    # Only the rows of clusters (survivors that took rows, and the rows they took)
    # get marks, and only narrow columns of theirs take part; the texts stay put.
    members = np.flatnonzero(np.bincount(survivor, minlength=len(survivor))[survivor] > 1)
    narrow = pl.concat(
        [
            pl.DataFrame({"_survivor": np.searchsorted(members, survivor[members]), "_removed": survivor[members] != members}),
            frame.select(C.ORDER, pl.col(C.SOURCE).cast(pl.String), pl.col(C.ROW).cast(pl.Int64))[members],
            keys.select(pl.col("content").alias("_content"), pl.col("prompt").alias("_prompt"))[members],
        ],
        how="horizontal",
    )
    of_survivor = {name: pl.col(name).gather(pl.col("_survivor")) for name in ("_content", "_prompt", C.SOURCE, C.ROW)}
    reason = (
        pl.when(pl.col("_content") == of_survivor["_content"])
        .then(pl.lit(EXACT))
        .when(pl.col("_prompt") == of_survivor["_prompt"])
        .then(pl.lit(CONFLICTING))
        .otherwise(pl.lit(NEAR))
    )
    in_cluster = pl.len().over("_survivor") > 1
    marked = narrow.with_columns(
        pl.when("_removed").then(reason).alias(C.DEDUP_REASON),
        pl.when(in_cluster).then(pl.col(C.ORDER).min().over("_survivor")).cast(pl.Int64).alias(C.CLUSTER),
        pl.when("_removed")
        .then(pl.struct(of_survivor[C.SOURCE].alias(C.SOURCE), of_survivor[C.ROW].alias(C.ROW)))
        .alias(C.DUPLICATE_OF),
    )
    if config.near:
        marked = marked.with_columns(_near_answers(marked, members, near_check))
    if published is not None:
        of_published = pl.lit(pl.Series(published[members])).gather(pl.col("_survivor"))
        marked = marked.with_columns(
            pl.when(pl.col("_removed") & of_published).then(pl.lit(PREVIOUS)).otherwise(pl.col(C.DEDUP_REASON))
            .alias(C.DEDUP_REASON)
        )
    # Every other row is unmarked: nulls, as a left join leaves them.
    every_row = pl.DataFrame({"_row": np.arange(len(survivor), dtype=np.int64)})
    marks = marked.select(pl.Series("_row", members, dtype=pl.Int64), C.DEDUP_REASON, C.CLUSTER, C.DUPLICATE_OF)
    return every_row.join(marks, on="_row", how="left", maintain_order="left").drop("_row")


def record_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """``content`` and ``prompt`` hashes of each row (comparable form), as dedup groups them."""
    return frame.select(content_hash().alias("content"), prompt_hash().alias("prompt"))


def band_key_lists(frame: pl.DataFrame, config: DedupConfig) -> pl.Series:
    """Each row's LSH band keys (a list of uint64; null for a row without shingles):
    what a later refresh compares new rows with, without recomputing signatures."""
    shingles, _ = minhash.record_shingles(frame.select(C.FIELDS), C.FIELDS, config.ngram)
    signature = minhash.signatures(shingles, config.num_perm, config.seed)
    bands, rows = band_shape(config)
    keys = minhash.band_keys(signature, bands, rows)
    lists = pl.Series("bands", keys.ravel()).reshape((len(keys), bands)).arr.to_list()
    return pl.select(pl.when(pl.Series(shingles.lengths > 0)).then(lists)).to_series().alias("bands")


def _near_answers(marked: pl.DataFrame, members: np.ndarray, near_check: _NearCheck) -> pl.Series:
    """The same prompt with an answer that differs by a word or two is a near
    duplicate, not a conflict: relabel those rows of ``conflicting_output``.
    ``marked`` holds the rows ``members`` of ``texts``."""
    reasons = marked.get_column(C.DEDUP_REASON)
    rows = np.flatnonzero((reasons == CONFLICTING).fill_null(False).to_numpy())
    if len(rows) == 0:
        return reasons
    survivors = marked.get_column("_survivor").to_numpy()[rows]
    near = near_check(members[rows], members[survivors])
    return reasons.scatter(rows[near], NEAR) if near.any() else reasons


def unmarked(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(None, pl.String).alias(C.DEDUP_REASON),
        pl.lit(None, pl.Int64).alias(C.CLUSTER),
        pl.lit(None, _LINEAGE).alias(C.DUPLICATE_OF),
    )


def dedup(lf: pl.LazyFrame, context: Context) -> pl.LazyFrame:
    """The dedup stage: mark duplicates; decide moves them to rejected/. Corpus-wide,
    so it collects. With published rows in ``context`` (refresh), the new rows are
    also compared with those, which always survive."""
    frame = lf.collect()
    config = context.config
    settings = config.dedup
    if frame.height == 0 or not (settings.exact or settings.conflicting_output or settings.near):
        return unmarked(frame).lazy()
    if context.published is not None:
        return mark_against_published(frame, config, context.published).lazy()
    return mark_duplicates(frame, config).lazy()


def mark_against_published(frame: pl.DataFrame, config: Config, published: PublishedRows) -> pl.DataFrame:
    """New rows among themselves as in a full run, and against the published rows
    they may duplicate (only those are read back), which always survive."""
    settings = config.dedup
    new_keys = record_keys(frame)
    new_bands = band_key_lists(frame, settings) if settings.near else None
    old = published.near(new_keys, new_bands)
    rule_columns = [c for c in frame.columns if c.startswith(C.RULE_PREFIX)]
    old = old.with_columns(
        (pl.int_range(pl.len()) + frame.height).cast(pl.Int64).alias(C.ORDER),
        *[pl.lit(False).alias(c) for c in rule_columns],
    )
    combined = pl.concat([frame.select(*C.FIELDS, C.SOURCE, C.ROW, C.ORDER, *rule_columns), old], how="vertical_relaxed")
    is_published = np.r_[np.zeros(frame.height, dtype=bool), np.ones(old.height, dtype=bool)]
    marked = mark_duplicates(combined, config, published=is_published).head(frame.height)
    return frame.with_columns(marked.select(C.DEDUP_REASON, C.CLUSTER, C.DUPLICATE_OF))


# ---------------------------------------------------------------- facts


EXAMPLE_REMOVED = 5  # removed rows shown per example cluster


def _cluster_reasons(removed: pl.DataFrame) -> pl.DataFrame:
    """Per cluster: its most common reason (ties: alphabetical) and its removed rows."""
    return removed.group_by(C.CLUSTER).agg(
        pl.col(C.DEDUP_REASON).mode().sort().first().alias("reason"), pl.len().alias("removed")
    )


def _examples(frame: pl.DataFrame, clusters: list[ExampleCluster], config: DedupConfig) -> list[dict]:
    """Each cluster's example: its survivor against (the first ``EXAMPLE_REMOVED``
    of) the rows it replaced, with their similarity. A pair's similarity depends
    on its two rows only, so every cluster's pairs are measured together (the
    texts tokenised once, not once per cluster)."""
    if not clusters:
        return []
    survivors, removed = [], []
    for example in clusters:
        members = frame.filter(pl.col(C.CLUSTER) == example.cluster)
        survivors.append(members.filter(pl.col(C.DEDUP_REASON).is_null()).head(1))
        removed.append(members.filter(pl.col(C.DEDUP_REASON).is_not_null()).head(EXAMPLE_REMOVED))
    against = pl.concat([survivor for survivor, rows in zip(survivors, removed) for _ in range(rows.height)])
    similarity, _ = pair_similarity(pl.concat(removed), against, config)
    ends = np.cumsum([rows.height for rows in removed])
    shown = [C.SOURCE, C.ROW, *C.FIELDS]
    return [
        {
            "cluster": int(example.cluster),
            "reason": example.reason,
            "survivor": clipped(survivor.select(shown).to_dicts()[0]),
            "removed": [
                {**clipped(row), "similarity": round(float(value), 4)}
                for row, value in zip(rows.select(shown).to_dicts(), similarity[end - rows.height : end])
            ],
        }
        for example, survivor, rows, end in zip(clusters, survivors, removed, ends.tolist())
    ]


def dedup_facts(frame: pl.DataFrame, context: Context, texts=None) -> DedupFacts:
    """Clusters, rows removed per reason, cluster sizes, and the clusters the report
    may show (the largest of each reason, survivor against the rows it replaced).

    Needs whole clusters: every row of a cluster in ``frame`` (the Ray engine
    partitions by ``_cluster``). ``texts``: where the texts of the shown clusters
    are read when ``frame`` holds only lineage and a ``_position`` column."""
    config = context.config.dedup
    clustered = frame.filter(pl.col(C.CLUSTER).is_not_null()) if C.CLUSTER in frame.columns else frame.clear()
    if clustered.is_empty():
        return DedupFacts()
    sizes = clustered.group_by(C.CLUSTER).len().group_by("len").agg(pl.len().alias("clusters"))
    reasons = clustered.get_column(C.DEDUP_REASON).drop_nulls().value_counts()
    by_cluster = _cluster_reasons(clustered.filter(pl.col(C.DEDUP_REASON).is_not_null()))
    # Not duplicate_of_previous: that survivor is in an earlier version. Only the
    # clusters ``best_candidates`` keeps (the largest of each reason) become
    # models: thousands of pydantic models would cost a tenth of a second.
    leading = (
        by_cluster.filter(pl.col("reason").is_in(REASONS))
        .sort(["removed", C.CLUSTER], descending=[True, False])
        .filter(pl.int_range(pl.len()).over("reason") < EXAMPLE_CLUSTERS)
    )
    candidates = best_candidates([
        ExampleCluster(cluster=cluster, reason=reason, removed_rows=removed, example={})
        for cluster, reason, removed in leading.iter_rows()
    ])
    shown = clustered
    if texts is not None:
        shown = clustered.filter(pl.col(C.CLUSTER).is_in([c.cluster for c in candidates]))
        shown = pl.concat([shown, texts[shown.get_column(POSITION).to_numpy()]], how="horizontal")
    return DedupFacts(
        clusters=clustered.get_column(C.CLUSTER).n_unique(),
        rows_removed={str(name): int(count) for name, count in reasons.iter_rows()},
        cluster_sizes={int(size): int(count) for size, count in sizes.iter_rows()},
        candidates=[c.model_copy(update={"example": example})
                    for c, example in zip(candidates, _examples(shown, candidates, config))],
    )


# ---------------------------------------------------------------- streamed (the local engine)
#
# The local engine keeps only these compact keys of every row in memory; the texts
# wait on disk (``pipeline.engines.spill``) and are read back for the rows that
# near dedup, survivor checks and the report's examples compare.

POSITION = "_position"  # a row's index in the whole corpus, in load order
RANK = ("_rank_drops", "_rank_fired", "_rank_informative")


def dedup_keys(frame: pl.DataFrame, config: Config) -> pl.DataFrame:
    """A batch's part of dedup: lineage, ``content`` / ``prompt`` hashes and the
    quality sort keys of every row (row by row, so batches add up)."""
    drops, fired, informative, order = quality_rank(config)
    return pl.concat([
        # A source's path once, not once a row: a categorical, cast back to a string
        # before it goes into any column (``mark_clusters``, ``streamed_dedup_facts``).
        frame.select(order, pl.col(C.SOURCE).cast(pl.Categorical), pl.col(C.ROW).cast(pl.Int64),
                     *(key.cast(pl.Int64).alias(name) for key, name in zip((drops, fired, informative), RANK))),
        duplicate_keys(frame, compact=True),
    ], how="horizontal")


def mark_rows(keys: pl.DataFrame, texts, config: Config) -> pl.DataFrame:
    """``mark_duplicates`` on the ``dedup_keys`` of every row, texts read from
    ``texts`` only where rows are compared: the three dedup columns, in row order."""
    settings = config.dedup
    if keys.height == 0 or not (settings.exact or settings.conflicting_output or settings.near):
        return unmarked(keys).select(C.DEDUP_REASON, C.CLUSTER, C.DUPLICATE_OF)
    best_first = keys.select(pl.arg_sort_by([*RANK, C.ORDER]).alias("row")).get_column("row").to_numpy()
    rank = np.empty(keys.height, dtype=np.int64)
    rank[best_first] = np.arange(keys.height)
    hashes = keys.select("content", "prompt")
    roots, common, known = _cluster_roots(texts, hashes, settings)
    return mark_clusters(keys, hashes, roots, rank, settings, common, texts=texts, known=known)


def streamed_dedup_facts(marks: pl.DataFrame, keys: pl.DataFrame, texts, context: Context) -> DedupFacts:
    """``dedup_facts`` from ``mark_rows``' columns and the ``dedup_keys`` of every
    row, texts read for the clusters the report shows."""
    frame = pl.concat([keys.select(pl.col(C.SOURCE).cast(pl.String), C.ROW), marks], how="horizontal")
    return dedup_facts(frame.with_row_index(POSITION).with_columns(pl.col(POSITION).cast(pl.Int64)), context, texts)
