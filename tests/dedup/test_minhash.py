"""Bulk MinHash: the same signatures and LSH candidates as datasketch, computed in bulk."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from pipeline.dedup import minhash

FIELDS = ("instruction", "input", "output")


def frame(*records: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(list(records), schema=list(FIELDS), orient="row")


def shingle_sets(*records: tuple[str, str, str], n: int = 3) -> list[set[int]]:
    shingles, _ = minhash.record_shingles(frame(*records), FIELDS, n)
    return [set(shingles.values[shingles.offsets[i] : shingles.offsets[i + 1]].tolist()) for i in range(len(shingles))]


def test_token_hashes_are_stable_blake2b():
    # A literal: the value must not change with the Python, Polars or NumPy version.
    assert minhash.stable_hash64("hello") == 9022087748821825191


@pytest.mark.parametrize(
    "left, right, same",
    [
        (("Name three colours.", "", "Red, yellow and blue."), ("NAME three   colours!", "", "red yellow and blue"), True),
        (("Name three colours.", "", "Red, yellow and blue."), ("Name three colours.", "", "Red, yellow and green."), False),
        # The same words in another field are other shingles.
        (("Red yellow blue", "", "x"), ("x", "", "Red yellow blue"), False),
    ],
)
def test_shingles_ignore_case_punctuation_and_spacing_but_not_fields(left, right, same):
    a, b = shingle_sets(left, right)
    assert (a == b) is same


@pytest.mark.parametrize(
    "text, n, count",
    [
        ("one two three four five", 3, 3),
        ("one two", 3, 1),  # shorter than n: one shingle of all its words
        ("", 3, 0),
        ("?!", 3, 0),  # no words at all
        ("one two three four five", 1, 5),
    ],
)
def test_ngram_counts(text, n, count):
    words = minhash.word_hashes(pl.select(minhash.words(pl.lit(pl.Series([text])))).to_series())
    assert len(minhash.ngrams(words, n, salt="output").values) == count


def test_signatures_equal_datasketch_minhash_with_the_same_shingles():
    records = [
        ("Name three colours.", "", "Red, yellow and blue are the three primary colours of paint."),
        ("Translate to French.", "The cat sleeps.", "Le chat dort."),
        ("?", "", ""),  # no shingles: the empty signature
    ]
    shingles, _ = minhash.record_shingles(frame(*records), FIELDS, 3)
    ours = minhash.signatures(shingles, num_perm=64, seed=7)
    for i in range(len(records)):
        sketch = MinHash(num_perm=64, seed=7, hashfunc=lambda value: value)
        for value in shingles.values[shingles.offsets[i] : shingles.offsets[i + 1]].tolist():
            sketch.update(value)
        np.testing.assert_array_equal(ours[i], sketch.hashvalues)


def test_signatures_do_not_depend_on_the_block_size(monkeypatch):
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 50, 300)
    shingles = minhash.Ragged.from_lengths(rng.integers(0, 2**32, int(lengths.sum()), dtype=np.uint64).astype(np.uint32), lengths)
    whole = minhash.signatures(shingles, 32, 1)
    monkeypatch.setattr(minhash, "_BLOCK_SHINGLES", 7)
    np.testing.assert_array_equal(minhash.signatures(shingles, 32, 1), whole)


def test_permutations_are_datasketchs():
    a, b = minhash.permutations(16, seed=3)
    expected = MinHash(num_perm=16, seed=3).permutations
    np.testing.assert_array_equal(a, expected[0])
    np.testing.assert_array_equal(b, expected[1])


def test_candidate_pairs_equal_datasketch_lsh():
    rng = np.random.default_rng(1)
    # A tiny alphabet, so that many records share bands (and small values collide
    # easily across bands if the band number were mixed in carelessly).
    signature = rng.integers(0, 4, (300, 20), dtype=np.uint32)
    ours = set(minhash.candidate_pairs(signature, bands=10, rows=2).iter_rows())
    lsh = MinHashLSH(num_perm=20, params=(10, 2))
    for i, values in enumerate(signature):
        lsh.insert(i, LeanMinHash(seed=1, hashvalues=values, scheme="affine32"))
    theirs = {
        (i, j)
        for i, values in enumerate(signature)
        for j in lsh.query(LeanMinHash(seed=1, hashvalues=values, scheme="affine32"))
        if i < j
    }
    assert ours == theirs and ours


def test_candidate_pairs_skip_ineligible_records():
    signature = np.zeros((3, 8), dtype=np.uint32)
    pairs = minhash.candidate_pairs(signature, 4, 2, eligible=np.array([True, False, True]))
    assert set(pairs.iter_rows()) == {(0, 2)}


@pytest.mark.parametrize(
    "left, right, expected",
    [
        ([1, 2, 3], [1, 2, 3], 1.0),
        ([1, 2, 3, 4], [1, 2, 3, 5], 0.6),
        ([1, 1, 2], [2, 2, 1], 1.0),  # sets: repeats do not count
        ([1], [2], 0.0),
        ([], [], 1.0),  # two empty fields are equal
        ([], [1], 0.0),
    ],
)
def test_jaccard(left, right, expected):
    result = minhash.jaccard(pl.Series([left], dtype=pl.List(pl.Int64)), pl.Series([right], dtype=pl.List(pl.Int64)))
    assert result[0] == pytest.approx(expected)


def test_ragged_lists_follow_the_requested_order():
    ragged = minhash.Ragged.from_lengths(np.array([1, 2, 3, 4], dtype=np.uint32), np.array([1, 0, 3]))
    lists = minhash.Ragged.lists(ragged, np.array([2, 0, 1, 2]))
    assert lists.to_list() == [[2, 3, 4], [1], [], [2, 3, 4]]


@pytest.mark.parametrize("threshold, num_perm", [(0.7, 128), (0.5, 64), (0.9, 256), (0.8, 16)])
def test_band_shape_finds_pairs_at_the_threshold(threshold, num_perm):
    bands, rows = minhash.band_shape(threshold, num_perm)
    assert bands * rows <= num_perm
    assert 1 - (1 - threshold**rows) ** bands >= 0.98
    # One more row per band would miss more than 2% of the pairs at the threshold.
    wider = rows + 1
    assert 1 - (1 - threshold**wider) ** (num_perm // wider) < 0.98


@pytest.mark.parametrize(
    "text",
    ["Hello, World!", "a\tb\nc  d", "snake_case and kebab-case", "Ünïcode café — naïve «quotes»", "3.14 + 2,5 = x", "   ", "!!!", "日本語 テキスト"],
)
def test_words_are_the_lowercased_regex_words(text):
    found = pl.select(minhash.words(pl.lit(pl.Series([text])))).to_series().to_list()[0]
    assert found == re.findall(r"\w+", text.lower())


def test_a_large_bucket_pairs_its_members_with_pivots_only():
    size = minhash.LARGE_BUCKET + 50
    signature = np.zeros((size, 4), dtype=np.uint32)  # everyone shares every band
    pairs = minhash.candidate_pairs(signature, bands=2, rows=2)
    pivots = minhash.PIVOTS
    # Each pivot meets every other member; no other pair is formed.
    assert pairs.height == sum(size - 1 - j for j in range(pivots))
    assert pairs.get_column("a").max() == pivots - 1


def test_a_large_buckets_pivots_are_its_first_members_wherever_the_sort_puts_them():
    rng = np.random.default_rng(4)
    keys = np.where(rng.random(3000) < 0.5, 7, rng.integers(100, 200, 3000)).astype(np.uint64)
    owner = np.arange(3000, dtype=np.int64) * 2
    expected = set()
    for key in np.unique(keys).tolist():
        members = owner[keys == key].tolist()
        firsts = members[: minhash.PIVOTS] if len(members) > minhash.LARGE_BUCKET else members
        expected |= {(min(p, m), max(p, m)) for p in firsts for m in members if p != m}
    pairs = minhash.bucket_pairs(keys, owner)
    assert set(zip(pairs.get_column("a").to_list(), pairs.get_column("b").to_list())) == expected


def test_a_bucket_at_the_limit_pairs_everyone():
    size = minhash.LARGE_BUCKET
    signature = np.zeros((size, 4), dtype=np.uint32)
    assert minhash.candidate_pairs(signature, bands=2, rows=2).height == size * (size - 1) // 2


def test_concat_records_puts_each_records_parts_together():
    first = minhash.Ragged.from_lengths(np.array([1, 2, 3], dtype=np.uint32), np.array([2, 0, 1]))
    second = minhash.Ragged.from_lengths(np.array([7, 8, 9], dtype=np.uint32), np.array([1, 2, 0]))
    joined = minhash.concat_records([first, second])
    assert joined.values.tolist() == [1, 2, 7, 8, 9, 3] and joined.lengths.tolist() == [3, 2, 1]


def test_each_ngram_is_its_own_window():
    # "a b c d" gives the n-grams abc and bcd; "b c d" alone gives bcd: they share one.
    (four,), (three,) = shingle_sets(("a b c d", "", "")), shingle_sets(("b c d", "", ""))
    assert len(four) == 2 and len(three) == 1 and three < four


@pytest.mark.parametrize("block, threads", [(1 << 16, 2), (5, 1), (5, 2)])
def test_set_jaccard_equals_polars_set_operations(monkeypatch, block, threads):
    monkeypatch.setattr(minhash, "PAIR_BLOCK", block)
    monkeypatch.setattr(minhash, "THREADS", threads)
    rng = np.random.default_rng(1)
    lengths = rng.integers(0, 12, 200)
    ragged = minhash.Ragged.from_lengths(rng.integers(0, 20, int(lengths.sum())).astype(np.uint32), lengths)
    a, b = rng.integers(0, 200, 1000), rng.integers(0, 200, 1000)
    lists = ragged.lists(np.arange(200))
    expected = minhash.jaccard(lists.gather(a), lists.gather(b))
    np.testing.assert_array_equal(minhash.set_jaccard(ragged.sets, a, b), expected)


def test_field_words_give_back_the_words_exactly():
    texts = pl.Series(["Hello,  hello WORLD!", None, "", "  ?! ", "naïve café — Straße ΟΔΟΣ.", "a b a"])
    split = pl.select(minhash._split_words(pl.lit(texts))).to_series()
    coded = minhash.field_words(split)
    expected = pl.select(minhash.words(pl.lit(texts))).to_series().to_list()
    got = [coded.vocabulary.gather(coded.codes.values[coded.codes.offsets[i]:coded.codes.offsets[i + 1]]).to_list()
           for i in range(len(texts))]
    assert got == expected
    assert coded.hashes.tolist() == [minhash.stable_hash64(word) for word in coded.vocabulary.to_list()]


def test_stacked_field_words_keep_each_word_and_its_hash():
    first = minhash.field_words(pl.Series([["b", "a"], ["c"]]))
    second = minhash.field_words(pl.Series([["d", "a"], []], dtype=pl.List(pl.String)))
    stacked = minhash.FieldWords.stack([first, second])
    words = [stacked.vocabulary.gather(stacked.codes.values[stacked.codes.offsets[i]:stacked.codes.offsets[i + 1]]).to_list()
             for i in range(4)]
    assert words == [["b", "a"], ["c"], ["d", "a"], []]
    assert stacked.hashes.tolist() == [minhash.stable_hash64(word) for word in stacked.vocabulary.to_list()]



def test_remembered_word_hashes_are_the_stable_hashes():
    cache = minhash.WordHashes()
    batches = [["naïve", "a", "b"], ["b", "c", "naïve", ""], ["c", "d"], []]
    for words in batches:  # words met before, and words new to the cache
        got, _ = cache.find(pl.Series(words, dtype=pl.String))
        assert got.tolist() == [minhash.stable_hash64(word) for word in words]
    assert len(cache.hashes) == 6  # each distinct word remembered once


def test_word_hashes_past_the_limit_are_computed_not_remembered(monkeypatch):
    monkeypatch.setattr(minhash.WordHashes, "LIMIT", 2)
    cache = minhash.WordHashes()
    assert cache.find(pl.Series(["a", "b"]))[0].tolist() == [minhash.stable_hash64(w) for w in "ab"]
    assert cache.find(pl.Series(["c", "a"]))[0].tolist() == [minhash.stable_hash64(w) for w in "ca"]
    assert len(cache.hashes) == 2


def words_of_records(coded: minhash.FieldWords) -> list[list[str]]:
    offsets = coded.codes.offsets
    return [coded.vocabulary.gather(coded.codes.values[offsets[i]:offsets[i + 1]]).to_list() for i in range(len(offsets) - 1)]


@pytest.mark.parametrize("limit", [100, 4])  # every word remembered (shared codes), or the limit reached (recoded)
def test_field_words_coded_with_remembered_words_stack_to_the_same_words(monkeypatch, limit):
    monkeypatch.setattr(minhash.WordHashes, "LIMIT", limit)
    cache = minhash.WordHashes()
    # Empty strings (what runs of spaces split into) are no words, in the first batch or a later one.
    batches = [[["b", "", "a"], ["c"]], [["d", "a"], []], [["a", "", "e", "b"]]]
    parts = [minhash.field_words(pl.Series(lists, dtype=pl.List(pl.String)), cache) for lists in batches]
    assert [part.shared is cache for part in parts] == ([True, True, True] if limit == 100 else [True, False, False])
    stacked = minhash.FieldWords.stack(parts)
    assert words_of_records(stacked) == [["b", "a"], ["c"], ["d", "a"], [], ["a", "e", "b"]]
    assert [len(part.vocabulary) for part in parts][-1] == (6 if limit == 100 else 4)  # the empty string is a word there
    assert stacked.hashes.tolist() == [minhash.stable_hash64(word) for word in stacked.vocabulary.to_list()]
    taken = stacked.take(np.array([4, 0]))
    assert words_of_records(taken) == [["a", "e", "b"], ["b", "a"]]

def lists_of(ragged: minhash.Ragged) -> list[list[int]]:
    return [ragged.values[ragged.offsets[i] : ragged.offsets[i + 1]].tolist() for i in range(len(ragged))]


def test_sets_are_each_records_distinct_values_sorted_and_their_own_sets():
    ragged = minhash.Ragged.from_lengths(np.array([3, 1, 3, 2, 5, 5, 7], dtype=np.uint32), np.array([4, 0, 2, 1]))
    sets = ragged.sets
    assert lists_of(sets) == [[1, 2, 3], [], [5], [7]]
    assert lists_of(ragged.sorted()) == [[1, 2, 3, 3], [], [5, 5], [7]]
    assert sets.sets is sets and not ragged.distinct
    stacked = minhash.Ragged.stack([sets, sets.take(np.array([3, 0]))])
    assert stacked.distinct and lists_of(stacked) == [[1, 2, 3], [], [5], [7], [7], [1, 2, 3]]
    assert lists_of(minhash.Ragged.stack([ragged, sets]).sets) == [[1, 2, 3], [], [5], [7], [1, 2, 3], [], [5], [7]]


def test_signatures_of_the_shingles_sets_equal_those_of_the_shingles():
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 40, 200)
    shingles = minhash.Ragged.from_lengths(rng.integers(0, 50, int(lengths.sum())).astype(np.uint32), lengths)
    assert len(shingles.sets.values) < len(shingles.values)  # repeats were dropped
    np.testing.assert_array_equal(minhash.signatures(shingles.sets, 32, 1), minhash.signatures(shingles, 32, 1))
