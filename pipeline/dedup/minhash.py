"""MinHash signatures in bulk, LSH banding and exact Jaccard verification.

Everything works on whole columns at once: no Python loop runs per shingle or per
record. The steps, and what people get wrong about each:

1. **Tokens.** Lowercased ``\\w+`` words, so casing, punctuation and whitespace
   never make two texts different. Each distinct token is hashed once with
   blake2b (stable across processes and library versions, unlike Polars'
   ``hash``), so signatures and band keys could be stored and compared later.
2. **Shingles.** Word n-grams taken *within* a field and salted with the field's
   name: the same words in the instruction and in the output are different
   shingles. A field shorter than n words is one shingle (all its words), an
   empty field none. Each shingle is a 32-bit value.
3. **Signatures.** datasketch's default ``affine32`` scheme, applied as one
   matrix operation per block of shingles: ``fmix32(h) * a + b (mod 2^32)``,
   then the minimum per record (``np.minimum.reduceat``). With the same seed the
   values equal ``datasketch.MinHash(num_perm, seed, hashfunc=identity)`` updated
   with the same shingles, so the signatures are datasketch signatures, only
   computed in bulk (tests check this).
4. **Banding.** The signature is cut into ``bands`` bands of ``rows`` values;
   records sharing any band's values are candidates, exactly as
   ``datasketch.MinHashLSH`` buckets them (tests check the candidate sets are
   the same), but found by sorting all band keys at once instead of one Python
   dict per band. Very large buckets (a shared template) pair with pivots only
   (see ``candidate_pairs``).
5. **Verification.** Candidates are only candidates: their exact Jaccard
   similarity is computed from the shingle sets before anything is merged
   (``set_jaccard``: each record's distinct values sorted once, then a pair's two
   sorted runs merged and its repeated values counted, in bulk).

Words are coded once per batch (``FieldWords``: an exact code per distinct word,
its blake2b hash, and each record's codes), so the field checks, the boilerplate
filter and the maths check compare small integers, never strings. Across the
batches of one pass, the words already met are remembered (``WordHashes``, a
bounded number): a batch's words are then coded by their place among them (one
Arrow lookup per word, no blake2b for a known word), so the batches share one
coding and stack without recoding.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.arrow import arrow_array, numpy_array

MAX_HASH32 = np.uint32(0xFFFFFFFF)
_NOT_WORD = r"[^\w ]+"
_U64 = np.uint64
_ODD = 0x9E3779B97F4A7C15  # multiplier of the polynomial combining words and band values
# The 32-bit MurmurHash3 finalizer, as datasketch's affine schemes apply it.
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
# Shingles permuted per block: a block's values (block x num_perm x 4 bytes, 4 MB
# at 128 permutations) stay in cache, whatever the corpus size.
_BLOCK_SHINGLES = 1 << 13


def fmix32(values: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    values = values ^ (values >> s1)
    values = values * m1
    values = values ^ (values >> s2)
    values = values * m2
    return values ^ (values >> s3)


def _mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the 64 output bits."""
    values = values ^ (values >> _U64(30))
    values = values * _U64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> _U64(27))
    values = values * _U64(0x94D049BB133111EB)
    return values ^ (values >> _U64(31))


def stable_hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` for integers: NumPy's own (hash based since 2.3) is
    several times slower than one sort on millions of values."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


# ---------------------------------------------------------------- tokens, shingles


@dataclass(frozen=True)
class Ragged:
    """One variable-length array per record, stored flat: ``values[offsets[i]:offsets[i+1]]``."""

    values: np.ndarray
    offsets: np.ndarray  # int64, len = records + 1
    distinct: bool = False  # each array sorted, without repeats: its own ``sets``

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lists(self, records: np.ndarray) -> pl.Series:
        """The arrays of ``records`` (in that order, repeats allowed) as a Polars list column."""
        wanted = sorted_unique(records)
        owner = np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)
        keep = np.isin(owner, wanted)
        grouped = pl.DataFrame({"record": owner[keep], "value": self.values[keep]}).group_by("record").agg("value")
        order = pl.DataFrame({"record": records.astype(np.int64)})
        joined = order.join(grouped, on="record", how="left", maintain_order="left")
        return joined.get_column("value").fill_null(pl.lit([], dtype=pl.List(grouped.schema["value"].inner)))

    @staticmethod
    def from_lengths(values: np.ndarray, lengths: np.ndarray, distinct: bool = False) -> "Ragged":
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return Ragged(values, offsets, distinct)

    @staticmethod
    def stack(parts: list["Ragged"]) -> "Ragged":
        """The records of every part, one part after the other. The first part's
        ``sets``, if made, are kept (record by record, they are the same)."""
        stacked = Ragged.from_lengths(np.concatenate([part.values for part in parts]),
                                      np.concatenate([part.lengths for part in parts]),
                                      all(part.distinct for part in parts))
        if not stacked.distinct and (parts[0].distinct or "_made_sets" in parts[0].__dict__):
            stacked.__dict__["_made_sets"] = Ragged.stack([part.sets for part in parts])
        return stacked

    def positions(self, records: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Indices into ``values`` of the arrays of ``records``, one after the other
        (``lengths``: their lengths, when already known)."""
        lengths = self.lengths[records] if lengths is None else lengths
        starts = np.repeat(self.offsets[:-1][records] - (np.cumsum(lengths) - lengths), lengths)
        return starts + np.arange(int(lengths.sum()), dtype=np.int64)

    def take(self, records: np.ndarray) -> "Ragged":
        """The arrays of ``records``, in that order (repeats allowed)."""
        return Ragged.from_lengths(self.values[self.positions(records)], self.lengths[records], self.distinct)

    def where(self, keep: np.ndarray) -> "Ragged":
        """Each array with only the values where ``keep`` (aligned with ``values``) is true."""
        kept_before = np.zeros(len(keep) + 1, dtype=np.int64)  # kept values before each position
        np.cumsum(keep, out=kept_before[1:])
        return Ragged(self.values[keep], kept_before[self.offsets])

    @property
    def sets(self) -> "Ragged":
        """Each array's distinct values, sorted (uint32 values only): what set
        similarities are computed from, made once per Ragged."""
        return self if self.distinct else self._made_sets

    @cached_property
    def _made_sets(self) -> "Ragged":
        return _sorted_sets(self, distinct=True)

    def sorted(self) -> "Ragged":
        """Each array sorted, repeats kept (uint32 values only)."""
        return _sorted_sets(self, distinct=False)


def _sorted_sets(ragged: Ragged, distinct: bool) -> Ragged:
    # Tagged with its record, each value sorts within its record's place, so the
    # records keep their offsets: no gather, and no count of each record's values.
    keys = np.repeat(np.arange(len(ragged), dtype=_U64) << _U64(32), ragged.lengths)
    keys |= ragged.values
    keys.sort()
    values = keys.astype(np.uint32)  # the low half: the value
    if not distinct or len(keys) == 0:
        return Ragged(values, ragged.offsets)
    first = np.empty(len(keys), dtype=bool)  # first of its run of equal values in its record
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    kept = Ragged(values, ragged.offsets).where(first)
    return Ragged(kept.values, kept.offsets, distinct=True)


def _tagged(ragged: Ragged, records: np.ndarray) -> np.ndarray:
    """The uint32 values of ``records`` as uint64 keys ``i << 32 | value``, i the
    record's place in ``records``: sorted whenever each array is."""
    lengths = ragged.lengths[records]
    keys = np.repeat(np.arange(len(records), dtype=_U64) << _U64(32), lengths)
    keys |= ragged.values[ragged.positions(records, lengths)]
    return keys


def words(texts: pl.Expr) -> pl.Expr:
    """The lowercased ``\\w+`` words of each text, as a list column (null text: no words).

    Spelled as "everything but word characters and spaces becomes a space, then
    split on spaces": the same words as ``str.extract_all(r"\\w+")``, about twice
    as fast, because the regex then matches only the rare punctuation runs.
    """
    split = texts.str.to_lowercase().str.replace_all(_NOT_WORD, " ").str.split(" ")
    return split.list.eval(pl.element().filter(pl.element() != "")).fill_null(pl.lit([], dtype=pl.List(pl.String)))


def _split_words(texts: pl.Expr) -> pl.Expr:
    """``words`` before its empty strings are dropped (they are dropped as codes, cheaper)."""
    return texts.str.to_lowercase().str.replace_all(_NOT_WORD, " ").str.split(" ")


def _codes(flat: pl.Series | pa.Array) -> tuple[np.ndarray, pl.Series]:
    """(code of each word, the distinct words in order of first appearance):
    Arrow's dictionary encoding, one pass of one hash table, exact (several times
    faster than Polars' unique and Enum cast)."""
    encoded = pc.dictionary_encode(flat.to_arrow() if isinstance(flat, pl.Series) else flat)
    return numpy_array(encoded.indices).astype(np.uint32), pl.Series(encoded.dictionary, dtype=pl.String)


def _stable_hashes(words: pl.Series) -> np.ndarray:
    """``stable_hash64`` of each word (uint64)."""
    digests = b"".join([hashlib.blake2b(word, digest_size=8).digest() for word in words.cast(pl.Binary).to_list()])
    return np.frombuffer(digests, dtype="<u8").astype(_U64)


class WordHashes:
    """``_stable_hashes`` with the words already hashed remembered (at most
    ``LIMIT`` of them): the batches of a corpus share most of their words
    (92,897 real-text rows: 430,000 distinct words batch by batch, 61,000 in
    all), and finding a word among the remembered ones (one Arrow hash lookup
    per batch) costs far less than its blake2b in Python. The same hashes
    either way; the memory is per distinct word, bounded, never per row."""

    LIMIT = 500_000  # words (about 30 MB with their hashes)

    def __init__(self) -> None:
        self.words: pa.Array | None = None
        self.hashes = np.empty(0, dtype=_U64)
        self._vocabulary: pl.Series | None = None

    def find(self, vocabulary: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """(the hash of each word, its place among the remembered words once this
        call has remembered the new ones; -1 where the limit left it out)."""
        words = vocabulary.to_arrow()
        if self.words is None or len(self.words) == 0:
            at = np.full(len(words), -1, dtype=np.int64)
        else:
            found = pc.index_in(words, value_set=self.words.cast(words.type))
            at = pl.Series(found).fill_null(-1).to_numpy().astype(np.int64)
        hashes = np.empty(len(words), dtype=_U64)
        known = at >= 0
        hashes[known] = self.hashes[at[known]]
        new = np.flatnonzero(~known)
        hashes[new] = _stable_hashes(vocabulary.gather(new))
        if len(new) and len(self.hashes) + len(new) <= self.LIMIT:
            added = words.take(arrow_array(new))
            at[new] = len(self.hashes) + np.arange(len(new))
            self.words = added if self.words is None else pa.concat_arrays([self.words.cast(added.type), added])
            self.hashes = np.concatenate([self.hashes, hashes[new]])  # a new array: earlier ones stay as they were
        return hashes, at

    def vocabulary(self) -> pl.Series:
        """The remembered words, in order (as they are now: later words are appended)."""
        if self.words is None:
            return pl.Series([], dtype=pl.String)
        if self._vocabulary is None or self._vocabulary.len() != len(self.words):
            self._vocabulary = pl.Series(self.words, dtype=pl.String)
        return self._vocabulary


@dataclass(frozen=True)
class FieldWords:
    """The words of one field of each record: ``codes`` (one array per record, in
    text order) index ``vocabulary``, the distinct words of these records. A code
    is the same word wherever it occurs in one FieldWords, and only there, unless
    ``shared``: then the codes are places among the words ``shared`` remembers,
    the same in every FieldWords coded with it (stacked without recoding)."""

    codes: Ragged  # uint32
    vocabulary: pl.Series  # String
    hashes: np.ndarray  # the stable hash of each vocabulary word
    shared: "WordHashes | None" = None

    @staticmethod
    def of(codes: Ragged, vocabulary: pl.Series) -> "FieldWords":
        # One blake2b per distinct word: a corpus has far fewer distinct words than words.
        return FieldWords(codes, vocabulary, _stable_hashes(vocabulary))

    @staticmethod
    def stack(parts: list["FieldWords"]) -> "FieldWords":
        """The records of every part, one part after the other, coded with one vocabulary."""
        shared = parts[0].shared
        if shared is not None and all(part.shared is shared for part in parts):
            # Every part's vocabulary is a beginning of the longest one: the codes stand.
            longest = max(parts, key=lambda part: part.vocabulary.len())
            return FieldWords(Ragged.stack([part.codes for part in parts]), longest.vocabulary, longest.hashes, shared)
        # One dictionary encoding of every part's vocabulary: the words in order of
        # first appearance, and each part's codes in it (a cast to an Enum of the
        # whole vocabulary, per part, cost several times more).
        recodes, vocabulary = _codes(pl.concat([part.vocabulary for part in parts]))
        hashes = np.empty(vocabulary.len(), dtype=_U64)
        recoded, first = [], 0
        for part in parts:
            recode = recodes[first : first + part.vocabulary.len()]
            first += part.vocabulary.len()
            hashes[recode] = part.hashes
            # The first part's words come first in the vocabulary: its codes (and sets) stay as they are.
            same = np.array_equal(recode, np.arange(len(recode)))
            recoded.append(part.codes if same else Ragged(recode[part.codes.values], part.codes.offsets))
        return FieldWords(Ragged.stack(recoded), vocabulary, hashes)

    def take(self, records: np.ndarray) -> "FieldWords":
        """The words of ``records``, in that order, with the same codes."""
        return FieldWords(self.codes.take(records), self.vocabulary, self.hashes, self.shared)

    def word_hashes(self) -> Ragged:
        return Ragged(self.hashes[self.codes.values], self.codes.offsets)

    def flags(self, predicate: pl.Expr) -> np.ndarray:
        """Per code, whether ``predicate`` (an expression on ``pl.col("word")``) holds for its word."""
        return pl.DataFrame({"word": self.vocabulary}).select(predicate).to_series().fill_null(False).to_numpy()


def field_words(split_lists: pl.Series, cache: WordHashes | None = None) -> FieldWords:
    """FieldWords of a column of ``_split_words`` lists (null: no words); ``cache``
    remembers word hashes from one call to the next."""
    # The words straight from the list column as Arrow string views: no copy of
    # their bytes (a plain Arrow string array would be one), and no exploded
    # copy in Polars first. Only the distinct words are looked up in ``cache``.
    lists = split_lists.to_arrow(compat_level=pl.CompatLevel.newest())
    lengths = split_lists.list.len().fill_null(0).to_numpy().astype(np.int64)
    codes, vocabulary = _codes(lists.flatten())
    coded = Ragged.from_lengths(codes, lengths)
    # Splitting on single spaces leaves empty strings between runs of spaces: no
    # words. The empty string is at most one code.
    empty = np.flatnonzero(vocabulary.str.len_bytes().to_numpy() == 0)
    coded = coded.where(codes != empty[0]) if len(empty) else coded
    if cache is None:
        return FieldWords.of(coded, vocabulary)
    hashes, at = cache.find(vocabulary)
    if (at >= 0).all():  # every word remembered: coded by its place there, like every other batch's
        return FieldWords(Ragged(at.astype(np.uint32)[coded.values], coded.offsets), cache.vocabulary(), cache.hashes, cache)
    return FieldWords(coded, vocabulary, hashes)


def word_hashes(word_lists: pl.Series) -> Ragged:
    """Stable 64-bit hashes of the words, one array per record."""
    return field_words(word_lists).word_hashes()


def equal_records(ragged: Ragged, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether the arrays ``a[i]`` and ``b[i]`` of ``ragged`` are equal, value by value."""
    equal = ragged.lengths[a] == ragged.lengths[b]
    same_length = np.flatnonzero(equal)
    left = ragged.values[ragged.positions(a[same_length])]
    right = ragged.values[ragged.positions(b[same_length])]
    owner = np.repeat(np.arange(len(same_length)), ragged.lengths[a[same_length]])
    equal[same_length[np.bincount(owner[left != right], minlength=len(same_length)) > 0]] = False
    return equal


def ngrams(words: Ragged, n: int, salt: str) -> Ragged:
    """32-bit hashes of the word n-grams of each record; a record with fewer than
    ``n`` words (but at least one) gives one shingle made of all its words."""
    values, lengths = words.values, words.lengths
    # Words from this one to the end of its record (each record's end, less the position).
    remaining = np.repeat(words.offsets[1:], lengths) - np.arange(len(values))
    # Every word starts an n-gram hash; shifted views of the flat array give the
    # following words without any gather. Past a record's end a word is replaced
    # by a pad value, so "a b" padded is never the same shingle as "a b c".
    padded = np.concatenate([values, np.zeros(n, dtype=_U64)])
    accumulator = values + _U64(stable_hash64(salt) * _ODD % (1 << 64))  # k = 0: every word is in its record
    for k in range(1, n):
        word = np.where(remaining > k, padded[k : k + len(values)], _U64(k + 1))
        accumulator *= _U64(_ODD)
        accumulator += word
    # Keep whole n-grams, and the one shingle of a record shorter than n words (its first word's).
    keep = remaining >= n
    keep[words.offsets[:-1][lengths > 0]] = True
    counts = np.where(lengths == 0, 0, np.maximum(lengths - n + 1, 1))
    return Ragged.from_lengths((_mix64(accumulator[keep]) >> _U64(32)).astype(np.uint32), counts)


def concat_records(parts: list[Ragged]) -> Ragged:
    """Record i of the result is record i of every part, one after the other."""
    lengths = np.sum([part.lengths for part in parts], axis=0)
    result = Ragged.from_lengths(np.empty(int(lengths.sum()), dtype=parts[0].values.dtype), lengths)
    before = np.zeros(len(lengths), dtype=np.int64)  # elements of earlier parts, per record
    for part in parts:
        owner = np.repeat(np.arange(len(part)), part.lengths)
        local = np.arange(len(part.values)) - part.offsets[:-1][owner]
        result.values[result.offsets[:-1][owner] + before[owner] + local] = part.values
        before += part.lengths
    return result


def record_shingles(frame: pl.DataFrame, fields: tuple[str, ...], n: int) -> tuple[Ragged, dict[str, FieldWords]]:
    """(shingles of the whole record, words of each field), for every row of ``frame``."""
    words_of = coded_words(split_fields(frame, fields))
    return shingles_of(words_of, n), words_of


def split_fields(frame: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    """The ``_split_words`` lists of each field, a column each (``coded_words`` makes them ``FieldWords``)."""
    # One select: Polars tokenises the fields in parallel.
    return frame.select(_split_words(pl.col(field)) for field in fields)


def coded_words(split: pl.DataFrame, caches: dict[str, WordHashes] | None = None) -> dict[str, FieldWords]:
    """``field_words`` of each column of ``split_fields``."""
    caches = caches or {}
    return {field: field_words(split.get_column(field), caches.get(field)) for field in split.columns}


def shingles_of(words_of: dict[str, FieldWords], n: int) -> Ragged:
    """The shingles of the whole record, from the words of its fields (``coded_words``)."""
    return concat_records([ngrams(words.word_hashes(), n, salt=field) for field, words in words_of.items()])


# ---------------------------------------------------------------- signatures


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of datasketch's ``affine32`` scheme for this seed: the same
    random draws in the same order as ``MinHash(num_perm, seed)``."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signatures(shingles: Ragged, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures, one row per record (uint32, ``records x num_perm``). A
    record without shingles keeps the empty value (all ``0xFFFFFFFF``)."""
    a, b = permutations(num_perm, seed)
    result = np.full((len(shingles), num_perm), MAX_HASH32, dtype=np.uint32)
    filled = np.flatnonzero(shingles.lengths)
    if len(filled) == 0:
        return result
    mixed = fmix32(shingles.values)
    starts, ends = shingles.offsets[filled], shingles.offsets[filled + 1]
    # One buffer for every block: a fresh 4 MB array per block costs its page
    # faults each time (about 40 % of the work).
    buffer = np.empty((num_perm, 2 * _BLOCK_SHINGLES), dtype=np.uint32)
    first = 0
    while first < len(filled):
        # Blocks end on record boundaries, so a block's minima are final.
        last = max(int(np.searchsorted(ends, starts[first] + _BLOCK_SHINGLES, side="right")), first + 1)
        lo, hi = int(starts[first]), int(ends[last - 1])
        # Permutations along the first axis: the reduction then runs over
        # contiguous memory, about four times faster than shingles-first.
        fits = hi - lo <= buffer.shape[1]  # a block is one record longer than the buffer only
        permuted = buffer[:, : hi - lo] if fits else np.empty((num_perm, hi - lo), dtype=np.uint32)
        np.multiply(a[:, None], mixed[None, lo:hi], out=permuted)
        permuted += b[:, None]
        result[filled[first:last]] = np.minimum.reduceat(permuted, starts[first:last] - lo, axis=1).T
        first = last
    return result


# ---------------------------------------------------------------- banding


def band_shape(threshold: float, num_perm: int, least_recall: float = 0.98) -> tuple[int, int]:
    """(bands, rows) with the most rows per band (the fewest spurious candidates)
    such that a pair exactly at ``threshold`` becomes a candidate with probability
    at least ``least_recall``: 1 - (1 - t^rows)^bands.

    datasketch's ``MinHashLSH`` weighs missed and spurious pairs equally, which
    misses about half the pairs near the threshold. Here every candidate is
    verified exactly, so a spurious one costs a little time and a missed one a
    duplicate left in the data: recall comes first.
    """
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= least_recall:
            return bands, rows
    return num_perm, 1


def band_keys(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per (record, band); equal values in the same band give
    equal keys, and the band's number is mixed in so bands never collide."""
    sliced = signature[:, : bands * rows].reshape(len(signature), bands, rows).astype(_U64)
    # The band's number is part of the key, so equal values in two bands never meet.
    key = np.broadcast_to(_mix64(np.arange(1, bands + 1, dtype=_U64))[None, :], sliced.shape[:2])
    for column in range(rows):
        key = key * _U64(_ODD) + sliced[:, :, column]
    return _mix64(key)


LARGE_BUCKET = 50  # members; above this a bucket pairs its members with pivots only
PIVOTS = 16


def candidate_pairs(signature: np.ndarray, bands: int, rows: int, eligible: np.ndarray | None = None) -> pl.DataFrame:
    """Pairs (a, b), a < b, of record indices that share at least one band.

    In a bucket of up to ``LARGE_BUCKET`` records every member pairs with every
    other. A larger bucket is what a shared instruction template makes (thousands
    of rows whose long instruction dominates some bands): all its pairs would be
    quadratic work and almost all of them fail verification, so each member is
    paired with the bucket's first ``PIVOTS`` members only. Records that really
    are near duplicates also share their input and output, so they usually meet
    again in a small bucket of another band.
    """
    keys = band_keys(signature, bands, rows)
    record = np.arange(len(signature), dtype=np.int64)
    if eligible is not None:
        keys, record = keys[eligible], record[eligible]
    return bucket_pairs(keys.ravel(), np.repeat(record, bands))


def bucket_pairs(keys: np.ndarray, owner: np.ndarray) -> pl.DataFrame:
    """Pairs (a, b), a < b, of the ``owner`` values that share a key (see
    ``candidate_pairs``). ``owner`` must be non-negative and, for each key, in
    increasing order of the rows given: the first members of a large bucket are
    its pivots. Buckets are independent, so any split of the keys into groups of
    whole buckets gives, together, the same pairs."""
    span = int(owner.max()) + 1 if len(owner) else 1
    pairs = sorted_unique(bucket_pair_codes(keys, owner, span))
    return pl.DataFrame({"a": pairs // span, "b": pairs % span}, schema={"a": pl.Int64, "b": pl.Int64})


def bucket_pair_codes(keys: np.ndarray, owner: np.ndarray, span: int) -> np.ndarray:
    """``a * span + b`` of each pair of ``bucket_pairs`` (``span`` above every
    owner), unsorted and possibly repeated: what to gather from several groups of
    buckets before one ``sorted_unique``."""
    # Not a stable sort (twice as fast): only a large bucket's order matters, and
    # that is restored below.
    order = np.argsort(keys)
    sorted_keys = keys[order]
    # Buckets are runs of equal keys in the sorted keys.
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    small = (sizes > 1) & (sizes <= LARGE_BUCKET)
    a, b = _all_pairs(owner[order], starts[small], sizes[small])
    a, b = [a], [b]
    for start, size in zip(starts[sizes > LARGE_BUCKET].tolist(), sizes[sizes > LARGE_BUCKET].tolist()):
        # The members in the order given (their positions sorted): the first are the pivots.
        members = owner[np.sort(order[start : start + size])]
        a.append(np.repeat(members[:PIVOTS], size))
        b.append(np.tile(members, PIVOTS))
    a, b = np.concatenate(a), np.concatenate(b)
    low, high = np.minimum(a, b), np.maximum(a, b)
    distinct = low != high
    return low[distinct] * span + high[distinct]


def _all_pairs(owner: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of members inside each run ``owner[start:start + size]``."""
    position = np.repeat(starts, sizes) + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    later = np.repeat(starts + sizes, sizes) - position - 1  # members after this one in its run
    first = np.repeat(position, later)
    step = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
    return owner[first], owner[first + 1 + step]


# ---------------------------------------------------------------- verification


def estimated_jaccard(signature: np.ndarray, a: np.ndarray, b: np.ndarray, block: int = 65536) -> np.ndarray:
    """The MinHash estimate of each pair's Jaccard similarity: the share of equal
    signature values (standard error about 0.04 at 0.7 with 128 permutations)."""
    estimate = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), block):
        stop = start + block
        estimate[start:stop] = (signature[a[start:stop]] == signature[b[start:stop]]).mean(axis=1)
    return estimate


PAIR_BLOCK = 1 << 16  # set values compared at once (each side): the merge stays in cache


THREADS = 2  # NumPy releases the GIL inside each operation: blocks in two threads use both cores


def in_threads(work, items: list) -> None:
    """``work(item)`` for every item, in ``THREADS`` threads (items must not share outputs)."""
    if len(items) < 2 or THREADS < 2:
        for item in items:
            work(item)
        return
    with ThreadPoolExecutor(THREADS) as pool:
        for _ in pool.map(work, items):
            pass


def _blocks(sizes: np.ndarray, block: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive runs of items whose ``sizes`` add up to about ``block``."""
    ends = np.cumsum(sizes)
    found, start = [], 0
    while start < len(sizes):
        before = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, before + block, side="right")), start + 1)
        found.append((start, stop))
        start = stop
    return found


def set_jaccard(sets: Ragged, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of the sets ``a[i]`` and ``b[i]`` of ``sets`` (each
    record's distinct values, sorted: ``Ragged.sets``). Two empty sets are identical (1.0).

    Both sides tagged with the pair's number are sorted runs; one stable sort
    merges them, and a value shared by a pair's two sets is then a repeated key."""
    shared = np.zeros(len(a), dtype=np.int64)
    sizes = sets.lengths[a] + sets.lengths[b]

    def count(block: tuple[int, int]) -> None:
        start, stop = block
        merged = np.concatenate([_tagged(sets, a[start:stop]), _tagged(sets, b[start:stop])])
        merged.sort(kind="stable")
        repeated = merged[1:][merged[1:] == merged[:-1]]
        shared[start:stop] = np.bincount((repeated >> _U64(32)).astype(np.int64), minlength=stop - start)

    in_threads(count, _blocks(sizes, PAIR_BLOCK))
    either = sizes - shared
    return np.where(either == 0, 1.0, shared / np.maximum(either, 1))


def jaccard(left: pl.Series, right: pl.Series) -> np.ndarray:
    """Exact Jaccard similarity of each pair of lists (two aligned list columns;
    duplicates inside a list ignored). Two empty sets are identical (1.0)."""
    pairs = pl.DataFrame({"a": left, "b": right})
    shared = pl.col("a").list.set_intersection(pl.col("b")).list.len()
    either = pl.col("a").list.set_union(pl.col("b")).list.len()
    similarity = pl.when(either == 0).then(1.0).otherwise(shared / either)
    return pairs.select(similarity).to_series().to_numpy().astype(np.float64)
