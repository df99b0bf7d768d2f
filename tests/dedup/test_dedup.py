"""Dedup: what is a duplicate, which row survives, what the rejected rows say."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from pipeline import columns as C
from pipeline.config import Config, DedupConfig, load_config
from pipeline.dedup.dedup import content_hash, dedup, dedup_facts
from pipeline.report.build import dedup_section
from pipeline.flow import Context, stages_before
from pipeline.engines.local import run
from tests.conftest import write_jsonl

STORY = (
    "Once upon a time there was a small dragon who could not fly. Every morning he watched the birds "
    "soar over the mountains and wished that he could join them high up in the clear blue sky."
)
TEMPLATE = (
    "Classify the sentiment of the following customer review as positive, negative or neutral. "
    "Consider the tone, the wording and any sarcasm carefully before you answer with one word."
)


def prepared(*records: tuple[str, str, str], config: Config = Config()) -> pl.DataFrame:
    """Records as the dedup stage sees them: lineage added, every stage before dedup applied."""
    frame = pl.DataFrame(list(records), schema=list(C.FIELDS), orient="row").with_columns(
        pl.lit("in.jsonl").alias(C.SOURCE),
        pl.int_range(pl.len()).cast(pl.Int64).alias(C.ROW),
        pl.int_range(pl.len()).cast(pl.Int64).alias(C.ORDER),
    )
    for stage in stages_before("dedup"):
        frame = stage.apply(frame, Context(config))
    return frame


def marked(*records: tuple[str, str, str], config: Config = Config()) -> pl.DataFrame:
    return dedup(prepared(*records, config=config).lazy(), Context(config)).collect()


def reasons(*records: tuple[str, str, str], config: Config = Config()) -> list[str | None]:
    return marked(*records, config=config).get_column(C.DEDUP_REASON).to_list()


def test_content_hash_is_a_stable_literal():
    frame = pl.DataFrame({"instruction": ["Name three colours."], "input": [""], "output": ["Red, yellow and blue."]})
    assert frame.select(content_hash()).item() == "b0564bcba2fab9cfaed5d75404f3d6a6"


@pytest.mark.parametrize(
    "left, right, equal",
    [
        (("Name it", "", "Red"), ("NAME  it", "", " red "), True),
        (("Name it", "", "Red"), ("Name it\n", "", "Red\t"), True),
        (("Name it", "", "Red"), ("Name it.", "", "Red"), False),
        (("ab", "c", "x"), ("a", "bc", "x"), False),  # field boundaries count
    ],
)
def test_content_hash_ignores_case_and_whitespace_only(left, right, equal):
    hashes = pl.DataFrame([left, right], schema=list(C.FIELDS), orient="row").select(content_hash()).to_series()
    assert (hashes[0] == hashes[1]) is equal


# One row per case: two records, and the reason the pair gets (None = both kept).
PAIRS = [
    ("exact copy", ("Name three colours.", "", STORY), ("Name three colours.", "", STORY), "exact_duplicate"),
    ("case and spacing", ("Name three colours.", "", STORY), ("name  THREE colours.", "", STORY.upper()), "exact_duplicate"),
    ("punctuation", ("Write a story about a dragon.", "", STORY), ("Write a story about a dragon!", "", STORY), "near_duplicate"),
    ("one word in a long output", ("Write a story.", "", STORY), ("Write a story.", "", STORY.replace("birds", "eagles")), "near_duplicate"),
    ("one word and casing", ("Write a story about a dragon.", "", STORY),
     ("WRITE A STORY ABOUT A DRAGON.", "", STORY.replace("morning", "evening")), "near_duplicate"),
    ("same prompt, other answer", ("Name three colours.", "", "Red, yellow and blue."),
     ("Name three colours.", "", "Cyan, magenta and yellow are used in printing."), "conflicting_output"),
    ("template, other input, same output", (TEMPLATE, "The food was great and the staff friendly.", "Positive"),
     (TEMPLATE, "Delivery came quickly and the box was intact.", "Positive"), None),
    ("template, one word of a short input", (TEMPLATE, "The food was great.", "Positive"),
     (TEMPLATE, "The food was awful.", "Positive"), None),
    ("short instruction, one word", ("Name three primary colours.", "", "Red, yellow and blue."),
     ("Name three secondary colours.", "", "Red, yellow and blue."), None),
    ("unrelated", ("Name three colours.", "", "Red, yellow and blue."), ("Translate to French.", "The cat sleeps.", "Le chat dort."), None),
    ("words reordered in a short input", ("Sort these numbers.", "3, 1, 2", "1, 2, 3"), ("Sort these numbers.", "1, 3, 2", "1, 2, 3"), None),
]


@pytest.mark.parametrize("left, right, expected", [case[1:] for case in PAIRS], ids=[case[0] for case in PAIRS])
def test_what_is_a_duplicate(left, right, expected):
    found = reasons(left, right)
    if expected is None:
        assert found == [None, None]
    else:
        assert sorted(found, key=str) == sorted([expected, None], key=str)


def test_survivor_has_the_fewest_drop_rules_then_the_longest_output():
    # Row 0 has an empty output (drop rule empty_output); row 2 is the longest of the rest.
    result = marked(
        ("Write a story.", "", ""),
        ("Write a story.", "", "A short one."),
        ("Write a story.", "", "A longer one, with more words."),
    )
    assert result.get_column(C.DEDUP_REASON).to_list() == ["conflicting_output", "conflicting_output", None]
    assert result.get_column(C.DUPLICATE_OF).to_list()[:2] == [{C.SOURCE: "in.jsonl", C.ROW: 2}] * 2
    assert result.get_column(C.CLUSTER).to_list() == [0, 0, 0]


def test_ties_go_to_the_row_read_first():
    result = marked(("Name it.", "", "Red"), ("Name it.", "", "Red"), ("Name it.", "", "Red"))
    assert result.get_column(C.DEDUP_REASON).to_list() == [None, "exact_duplicate", "exact_duplicate"]
    assert result.get_column(C.DUPLICATE_OF).to_list() == [None, {C.SOURCE: "in.jsonl", C.ROW: 0}, {C.SOURCE: "in.jsonl", C.ROW: 0}]


def test_unique_rows_have_no_cluster():
    result = marked(("Name it.", "", "Red"), ("Translate to French.", "The cat sleeps.", "Le chat dort."))
    assert result.get_column(C.CLUSTER).to_list() == [None, None]
    assert result.schema[C.DUPLICATE_OF] == pl.Struct({C.SOURCE: pl.String, C.ROW: pl.Int64})


def test_links_are_transitive_and_the_label_is_relative_to_the_survivor():
    copy_of_short = ("Write a story.", "", STORY.replace("birds", "eagles"))
    result = marked(
        ("Write a story.", "", STORY.replace("birds", "eagles")),
        ("Write a story.", "", STORY.replace("birds", "eagles") + " The end."),  # survives: longest
        copy_of_short,
    )
    assert result.get_column(C.CLUSTER).to_list() == [0, 0, 0]
    # Rows 0 and 2 are exact copies of each other but near duplicates of the survivor.
    assert result.get_column(C.DEDUP_REASON).to_list() == ["near_duplicate", None, "near_duplicate"]


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({}, [None, "exact_duplicate", "near_duplicate", "conflicting_output"]),
        ({"near": False}, [None, "exact_duplicate", None, "conflicting_output"]),
        ({"conflicting_output": False}, [None, "exact_duplicate", "near_duplicate", None]),
        # Without the exact pass, near dedup still finds identical rows (similarity 1).
        ({"exact": False}, [None, "exact_duplicate", "near_duplicate", "conflicting_output"]),
        ({"exact": False, "near": False, "conflicting_output": False}, [None, None, None, None]),
    ],
)
def test_each_kind_can_be_switched_off(settings, expected):
    config = Config(dedup=DedupConfig(**settings))
    result = reasons(
        ("Write a story.", "", STORY),
        ("Write a story.", "", STORY),
        ("Write a story!", "", STORY.replace("birds", "eagles")[:-1]),
        ("Write a story.", "", "No."),
        config=config,
    )
    assert result == expected


def test_thresholds_are_read_from_the_config():
    pair = (("Write a story.", "", STORY), ("Write a story.", "", STORY.replace("birds", "eagles").replace("blue", "grey")))
    assert "near_duplicate" in reasons(*pair)
    strict = Config(dedup=DedupConfig(threshold=0.95, conflicting_output=False))
    assert reasons(*pair, config=strict) == [None, None]


def test_empty_input_gives_the_dedup_columns():
    empty = prepared(("Name it.", "", "Red")).head(0)
    result = dedup(empty.lazy(), Context(Config())).collect()
    assert {C.DEDUP_REASON, C.CLUSTER, C.DUPLICATE_OF} <= set(result.columns) and result.height == 0


@pytest.mark.parametrize(
    "settings",
    [{"bands": 10}, {"rows": 4}, {"bands": 20, "rows": 8}, {"threshold": 0}, {"threshold": 1.5}, {"ngram": 0}, {"fields": []},
     {"fields": ["answer"]}],
)
def test_bad_dedup_settings_are_rejected(settings):
    with pytest.raises(ValidationError):
        DedupConfig(**settings)


def test_shipped_config_equals_the_defaults():
    assert load_config("config/default.toml").dedup == DedupConfig()


def test_report_counts_clusters_and_shows_survivor_against_removed():
    frame = marked(
        ("Write a story.", "", STORY),
        ("Write a story.", "", STORY),
        ("Write a story.", "", STORY + " The end."),
        ("Name three colours.", "", "Red, yellow and blue."),
        ("Name three colours.", "", "Cyan, magenta and yellow."),
        ("Translate to French.", "The cat sleeps.", "Le chat dort."),
    )
    report = dedup_section(dedup_facts(frame, Context(Config())), Config())
    assert report["clusters"] == 2
    assert report["rows_removed"] == {"exact_duplicate": 0, "near_duplicate": 2, "conflicting_output": 1}
    assert report["cluster_sizes"] == {"2": 1, "3": 1}
    assert report["config"]["bands"] * report["config"]["rows"] <= report["config"]["num_perm"]
    by_reason = {example["reason"]: example for example in report["examples"]}
    assert set(by_reason) == {"near_duplicate", "conflicting_output"}
    near = by_reason["near_duplicate"]
    assert near["survivor"]["_row"] == 2 and [row["_row"] for row in near["removed"]] == [0, 1]
    assert all(0.7 <= row["similarity"] < 1 for row in near["removed"])
    assert set(near["survivor"]) == {"_source", "_row", "instruction", "input", "output"}
    json.dumps(report)  # plain JSON types only


def test_example_similarities_measured_together_equal_each_clusters_own():
    """Every example cluster's pairs are measured in one go: each similarity is the
    one its cluster's pairs give alone."""
    from pipeline.dedup import dedup as D

    frame = marked(
        ("Write a story.", "", STORY),
        ("Write a story.", "", STORY + " The end."),
        ("Write a story.", "", STORY + " Or so they say."),
        ("Name three colours.", "", "Red, yellow and blue."),
        ("Name three colours.", "", "Cyan, magenta and yellow."),
        ("Tell me a tale.", "", STORY.replace("dragon", "lizard")),
        ("Tell me a tale.", "", STORY.replace("dragon", "lizard") + " He never did."),
    )
    facts = dedup_facts(frame, Context(Config()))
    assert len(facts.candidates) >= 2
    for candidate in facts.candidates:
        members = frame.filter(pl.col(C.CLUSTER) == candidate.cluster)
        survivor = members.filter(pl.col(C.DEDUP_REASON).is_null())
        removed = members.filter(pl.col(C.DEDUP_REASON).is_not_null())
        alone, _ = D.pair_similarity(removed, pl.concat([survivor] * removed.height), DedupConfig())
        assert [row["similarity"] for row in candidate.example["removed"]] == [round(float(v), 4) for v in alone]


def test_example_candidates_are_the_largest_clusters_of_each_reason():
    """Per reason, the EXAMPLE_CLUSTERS clusters that replaced the most rows, the
    smallest cluster first among equals; clusters of two reasons never mix."""
    from pipeline.report.model import EXAMPLE_CLUSTERS

    records, removed_by_cluster = [], {}
    for task in range(25):  # exact copies: task t has 1 + (t % 4) copies of its survivor
        records += [(f"Name fact number {task}.", "", f"Fact {task} is true.")] * (2 + task % 4)
    for task in range(3):  # and three clusters of conflicting outputs
        records += [(f"Pick a number, {task}.", "", answer) for answer in ("One.", "Two.")]
    frame = marked(*records)
    removed = frame.filter(pl.col(C.DEDUP_REASON).is_not_null())
    for cluster, reason, count in removed.group_by(C.CLUSTER, C.DEDUP_REASON).len().iter_rows():
        removed_by_cluster[cluster] = (reason, count)
    facts = dedup_facts(frame, Context(Config()))
    expected = []
    for reason in sorted({reason for reason, _ in removed_by_cluster.values()}):
        mine = [(-count, cluster) for cluster, (r, count) in removed_by_cluster.items() if r == reason]
        expected += [(reason, cluster) for _, cluster in sorted(mine)[:EXAMPLE_CLUSTERS]]
    assert [(c.reason, c.cluster) for c in facts.candidates] == expected
    assert {reason for reason, _ in expected} == {"exact_duplicate", "conflicting_output"}
    assert sum(reason == "exact_duplicate" for reason, _ in expected) == EXAMPLE_CLUSTERS


def test_report_clips_long_texts():
    long_output = "word " * 200
    frame = marked(("Say it.", "", long_output), ("Say it.", "", long_output))
    report = dedup_section(dedup_facts(frame, Context(Config())), Config())
    example = report["examples"][0]
    assert len(example["survivor"]["output"]) == 301 and example["survivor"]["output"].endswith("…")
    assert example["removed"][0]["similarity"] == 1.0


def test_a_run_rejects_duplicates_with_their_survivor(tmp_path, record):
    rows = [
        record(instruction="Write a story.", output=STORY),
        record(instruction="write a story.", output=STORY),
        record(instruction="Write a story!", output=STORY.replace("birds", "owls")),
        record(),
    ]
    report = run([str(write_jsonl(tmp_path / "in.jsonl", rows))], tmp_path / "out", Config(), quiet=True)
    rejected = pl.read_parquet(tmp_path / "out" / "rejected")
    assert sorted(rejected.get_column(C.REASONS).to_list()) == [["exact_duplicate"], ["near_duplicate"]]
    assert set(rejected.get_column(C.DUPLICATE_OF).struct.field(C.ROW)) == {0}
    assert report["dedup"]["rows_removed"]["near_duplicate"] == 1
    assert report["counts"]["clean"] == 2 and report["counts"]["reconciled"]


def test_a_large_template_group_keeps_its_tasks_and_still_finds_a_copy():
    import random

    rng = random.Random(0)
    vocabulary = [f"word{i}" for i in range(2000)]
    rows = [(TEMPLATE, " ".join(rng.sample(vocabulary, 8)), "Positive") for _ in range(400)]
    rows.append((TEMPLATE, rows[5][1] + "!", "Positive"))  # a punctuation copy of row 5
    found = reasons(*rows)
    assert [i for i, reason in enumerate(found) if reason] in ([5], [400])
    assert found.count("near_duplicate") == 1


def test_a_chain_removes_only_rows_that_duplicate_their_survivor():
    base = [f"w{i}" for i in range(60)]

    def edited(positions):
        return " ".join(f"x{i}" if i in positions else word for i, word in enumerate(base))

    a, b, c = edited(set()), edited({10, 20, 30}), edited({10, 20, 30, 40, 50, 55})
    # a ~ b and b ~ c are near duplicates, a and c are not: c must stay.
    result = marked(("Write it.", "", a), ("Write it.", "", b), ("Write it.", "", c),
                    config=Config(dedup=DedupConfig(conflicting_output=False)))
    assert result.get_column(C.DEDUP_REASON).to_list() == [None, "near_duplicate", None]
    assert result.get_column(C.CLUSTER).to_list() == [0, 0, None]


TOOL = (
    "toolformer: enabled. toolformer access: python. A Python shell. Use this to execute python commands. "
    "Input should be a valid python command or script. If you expect output it should be printed out. "
    "Useful for all code, as well as math calculations. python(codetoexecute)"
)


@pytest.mark.parametrize("sample", [10_000, 7])  # every row, and every ninth
def test_boilerplate_from_coded_words_equals_it_from_the_texts(monkeypatch, sample):
    """Near dedup finds the boilerplate from the words it has coded when it keeps
    them, else from the sampled rows' texts: the same words either way."""
    from pipeline.dedup import dedup as D
    from pipeline.dedup import minhash

    monkeypatch.setattr(D, "BOILERPLATE_SAMPLE", sample)
    tools = "You can call search(query) and calculator(expression). Answer the user's question:"
    # The input's words are in one row in four, twice each: rows, not words, count.
    rows = [(f"{tools} What is {n} squared?", "" if n % 4 else f"Note {n}: brief, brief", f"It is {n * n}.")
            for n in range(64)]
    frame = pl.DataFrame(rows, schema=list(C.FIELDS), orient="row")
    config = DedupConfig(boilerplate_share=0.3)
    _, words = minhash.record_shingles(frame, C.FIELDS, config.ngram)
    from_words, from_texts = D.boilerplate(words, config), D.sampled_boilerplate(frame, config)
    assert {f: sorted(from_words[f].to_list()) for f in C.FIELDS} == {f: sorted(from_texts[f].to_list()) for f in C.FIELDS}
    assert {"calculator", "squared"} <= set(from_words["instruction"].to_list())
    assert sorted(from_words["output"].to_list()) == ["is", "it"]
    assert from_words["input"].to_list() == []


@pytest.mark.parametrize("boilerplate_share, removed", [(0.05, 1), (1.0, 1)])
def test_a_template_around_a_short_task_does_not_merge_the_tasks(boilerplate_share, removed):
    # 30 tasks that differ in one number inside a long tool template, plus one real
    # copy (punctuation only) of the first. Even without the boilerplate check
    # (share 1.0: nothing is boilerplate), their different numbers keep them apart.
    numbers = [729 + 37 * i for i in range(30)]
    rows = [(f"{TOOL} What is the square root of {n}?", "", f"The square root of {n} is python('import math; math.sqrt({n})').")
            for n in numbers]
    rows.append((rows[0][0].replace("?", "!"), "", rows[0][2]))
    config = Config(dedup=DedupConfig(boilerplate_share=boilerplate_share))
    found = reasons(*rows, config=config)
    assert len(found) - found.count(None) == removed


def test_near_pairs_do_not_depend_on_the_signature_batch(monkeypatch):
    """Signatures are made batch by batch (and kept on disk past a size), shingles
    again for candidate rows only, a block of pairs at a time: the verified pairs
    are the same whatever the sizes."""
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(1500, seed=4)
    frame = pl.DataFrame(records).select(C.FIELDS)
    whole, common = D.near_pairs(frame, DedupConfig())
    monkeypatch.setattr(D, "SIGNATURE_BATCH", 97)
    monkeypatch.setattr(D._Spilled, "IN_MEMORY_BYTES", 0)  # every batch's signatures and band keys in a file
    monkeypatch.setattr(D, "VERIFY_ROWS", 40)  # candidates verified in many small blocks
    batched, batched_common = D.near_pairs(frame, DedupConfig())
    assert whole.height > 50
    assert batched.sort("a", "b").equals(whole.sort("a", "b"))
    assert all(batched_common[f].sort().equals(common[f].sort()) for f in C.FIELDS)


TEMPLATE = (
    "You are a careful assistant. Read the task below and answer with the final value only, showing no working, "
    "in plain text without units or explanation of any kind. Task: "
)


@pytest.mark.parametrize(
    "first, second, duplicates",
    [
        ("Find the area of a circle of radius 7.", "Find the area of a circle of radius 4.", False),
        ("Find the derivative of x^3.", "Find the derivative of x^3 + x^2.", False),
        ("Find the sum of 1..10.", "Find the sum of squares of 1..10.", False),
        ("Write a function that computes the factorial of a given integer.",
         "Implement a function that computes the factorial of a given integer.", True),
    ],
)
def test_a_shared_template_with_different_numbers_or_formulae_is_not_a_duplicate(first, second, duplicates):
    found = reasons((TEMPLATE + first, "", "The value."), (TEMPLATE + second, "", "The value."),
                    config=Config(dedup=DedupConfig(conflicting_output=False)))
    assert (found == [None, "near_duplicate"]) is duplicates and found[0] is None


def test_near_pairs_of_some_rows_read_in_place_equal_those_of_a_copy():
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(1200, seed=6)
    frame = pl.DataFrame(records).select(C.FIELDS)
    some = np.arange(0, frame.height, 2, dtype=np.int64)
    in_place, _ = D.near_pairs(frame, DedupConfig(), some)
    copied, _ = D.near_pairs(frame[some], DedupConfig())
    assert in_place.height > 0 and in_place.sort("a", "b").equals(copied.sort("a", "b"))


def test_survivors_checked_in_small_blocks_are_the_same(monkeypatch):
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(1500, seed=5)
    frame = prepared(*[(r["instruction"], r["input"], r["output"]) for r in records])
    whole = D.mark_duplicates(frame, Config())
    monkeypatch.setattr(D, "VERIFY_ROWS", 40)
    assert D.mark_duplicates(frame, Config()).equals(whole)
    assert whole.get_column(C.DEDUP_REASON).drop_nulls().len() > 50


def test_near_pairs_are_the_same_whether_the_signature_pass_keeps_its_words_or_not(monkeypatch):
    """Rows tokenised by the signature pass are reused for verification while they are
    small (``KEEP_TOKENISED``); past it, candidate rows are tokenised again."""
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(1500, seed=5)
    frame = pl.DataFrame(records).select(C.FIELDS)
    monkeypatch.setattr(D, "SIGNATURE_BATCH", 211)  # several batches: their vocabularies are merged
    kept, _ = D.near_pairs(frame, DedupConfig())
    monkeypatch.setattr(D, "KEEP_TOKENISED", 0)
    again, _ = D.near_pairs(frame, DedupConfig())
    assert kept.height > 50 and kept.equals(again)


def test_clusters_skipping_pairs_already_joined_equal_clusters_of_every_verified_pair():
    """cluster_roots verifies only candidates not yet in one cluster: the clusters are
    those that every verified near pair gives."""
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(2000, seed=8)
    frame = pl.DataFrame(records).select(C.FIELDS)
    keys = D.duplicate_keys(frame)
    config = DedupConfig(exact=False, conflicting_output=False)
    roots, _ = D.cluster_roots(frame, keys, config)
    every, _ = D.near_pairs(frame, config)
    clusters = D.UnionFind(frame.height)
    clusters.union_pairs(every.get_column("a").to_numpy(), every.get_column("b").to_numpy())
    assert every.height > 50
    np.testing.assert_array_equal(roots, clusters.roots())


def _clusters_of_a_synthetic_corpus():
    """(frame, keys, rank, roots, boilerplate, rows tokenised, config) of 1,500
    synthetic rows, as near dedup leaves them for choosing survivors."""
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(1500, seed=9)
    frame = prepared(*[(r["instruction"], r["input"], r["output"]) for r in records])
    config = Config()
    keys = D.duplicate_keys(frame)
    rank = D.best_first_rank(frame, config)
    roots, common, known = D._cluster_roots(frame, keys, config.dedup)
    return frame, keys, rank, roots, common, known, config


def test_survivors_are_the_same_with_the_rows_near_dedup_tokenised_or_tokenised_again():
    from pipeline.dedup import dedup as D

    frame, keys, rank, roots, common, known, config = _clusters_of_a_synthetic_corpus()
    reused = D.mark_clusters(frame, keys, roots, rank, config.dedup, common, known=known)
    fresh = D.mark_clusters(frame, keys, roots, rank, config.dedup, common)
    assert reused.get_column(C.DEDUP_REASON).drop_nulls().len() > 50
    assert reused.equals(fresh)


def test_survivor_checks_reuse_the_answers_near_dedup_gave(monkeypatch):
    """Pairs near dedup verified are not verified again when survivors are chosen,
    and the marks are those of verifying every pair (answers dropped)."""
    from dataclasses import replace

    from pipeline.dedup import dedup as D

    frame, keys, rank, roots, common, known, config = _clusters_of_a_synthetic_corpus()
    assert known.answers.near.any() and not known.answers.near.all()
    verified = []
    real_verify = D.verify
    monkeypatch.setattr(D, "verify", lambda *args, **kwargs: verified.append(len(args[2])) or real_verify(*args, **kwargs))
    reused = D.mark_clusters(frame, keys, roots, rank, config.dedup, common, known=known)
    with_answers, verified[:] = sum(verified), []
    again = D.mark_clusters(frame, keys, roots, rank, config.dedup, common, known=replace(known, answers=None))
    assert with_answers < sum(verified)
    assert reused.get_column(C.DEDUP_REASON).drop_nulls().len() > 50
    assert reused.equals(again)


def test_answers_are_found_whichever_way_round_a_pair_is_asked():
    from pipeline.dedup.dedup import _Answers

    for order in ([0, 1, 2], [2, 1, 0]):  # given sorted or not
        answers = _Answers.of(np.array([5, 2, 9])[order], np.array([1, 7, 3])[order], np.array([True, False, False])[order])
        found, near = answers.lookup(np.array([1, 7, 3, 1, 0]), np.array([5, 2, 9, 2, 4]))
        assert found.tolist() == [True, True, True, False, False]
        assert near.tolist() == [True, False, False, False, False]
    found, near = _Answers.of(*[np.empty(0, dtype=np.int64)] * 2, np.empty(0, dtype=bool)).lookup(np.array([1]), np.array([2]))
    assert found.tolist() == [False] and near.tolist() == [False]


def test_union_find_roots_in_bulk_equal_find():
    from pipeline.dedup.dedup import UnionFind

    rng = np.random.default_rng(2)
    clusters = UnionFind(500)
    clusters.union_pairs(rng.integers(0, 500, 400), rng.integers(0, 500, 400))
    assert clusters.roots().tolist() == [clusters.find(node) for node in range(500)]


@pytest.mark.parametrize("pairs", [3000, 20000])
def test_union_of_pairs_in_bulk_gives_the_roots_of_one_union_at_a_time(pairs):
    """Random pairs over a forest already holding some sets, and a long chain given
    from its far end: the same roots as joining each pair on its own."""
    from pipeline.dedup.dedup import UnionFind

    rng = np.random.default_rng(pairs)
    size = 30000
    a, b = rng.integers(0, size, pairs), rng.integers(0, size, pairs)
    chain = np.arange(size - 1, size - 2001, -1)
    a, b = np.r_[a, chain[1:]], np.r_[b, chain[:-1]]
    bulk, one_by_one = UnionFind(size), UnionFind(size)
    for clusters in (bulk, one_by_one):
        clusters.union_pairs(np.arange(0, 600, 2), np.arange(1, 601, 2))  # below BULK: one at a time
    bulk.union_pairs(a, b)
    for left, right in zip(a.tolist(), b.tolist()):
        one_by_one.union(left, right)
    assert len(a) >= UnionFind.BULK
    np.testing.assert_array_equal(bulk.roots(), one_by_one.roots())
    assert bulk.roots().tolist() == [bulk.find(node) for node in range(size)]


def test_marks_are_the_same_when_nothing_is_kept_and_everything_is_checked_in_blocks(monkeypatch):
    """No words kept from the signature pass and blocks of 40 rows: verification and
    survivor checks then read their texts block by block, with the same marks."""
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(1500, seed=5)
    frame = prepared(*[(r["instruction"], r["input"], r["output"]) for r in records])
    whole = D.mark_duplicates(frame, Config())
    monkeypatch.setattr(D, "KEEP_TOKENISED", 0)
    monkeypatch.setattr(D, "VERIFY_ROWS", 40)
    assert D.mark_duplicates(frame, Config()).equals(whole)


def test_compact_duplicate_keys_group_rows_exactly_as_the_hex_hashes():
    """The streamed engine's Int128 keys (``run_hash``) are equal exactly where the
    stored hex hashes are equal."""
    from pipeline.dedup import dedup as D
    from pipeline.synthetic import make_corpus

    records, _ = make_corpus(3000, seed=4)
    literal = [("Add 2 and 3.", "", "5"), ("add 2  and 3.", "", "5"), ("Add 2 and 3.", "", "6"),
               ("Name a colour.", "", "Red."), ("Name a colour.", "x", "Red."), ("ab", "c", ""), ("a", "bc", "")]
    frame = prepared(*literal, *[(r["instruction"], r["input"], r["output"]) for r in records])
    hex_keys, compact = D.duplicate_keys(frame), D.duplicate_keys(frame, compact=True)
    assert compact.schema == pl.Schema({"content": pl.Int128, "prompt": pl.Int128})
    for name in ("content", "prompt"):
        both = pl.DataFrame({"hex": hex_keys.get_column(name), "compact": compact.get_column(name)})
        groups = both.select(pl.col("hex").n_unique(), pl.col("compact").n_unique(), pl.struct("hex", "compact").n_unique().alias("both"))
        assert len(set(groups.row(0))) == 1  # the same partition of the rows
        assert groups.item(0, 0) < frame.height  # and there are duplicates in it
