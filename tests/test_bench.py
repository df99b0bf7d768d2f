"""The benchmark's corpus and scoring, at a small scale (no timing assertions)."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from pipeline import bench, synthetic
from pipeline.config import Config
from pipeline.engines.local import run


def test_corpus_is_deterministic_and_planted_as_described():
    records, truth = synthetic.make_corpus(2000, seed=3)
    again, _ = synthetic.make_corpus(2000, seed=3)
    assert records == again and len(records) == truth.height == 2000
    kinds = dict(truth.group_by("kind").len().iter_rows())
    assert kinds["exact"] == 100 and kinds["near"] == 100 and kinds["conflicting"] == 20
    assert kinds["template"] % synthetic.TEMPLATE_GROUP == 0 and kinds["template"] > 0
    assert truth.get_column("row").to_list() == list(range(2000))


def test_originals_have_distinct_prompts():
    records, truth = synthetic.make_corpus(2000)
    originals = truth.filter(pl.col("kind") == "unique").get_column("row").to_list()
    prompts = {" ".join(re.findall(r"\w+", f"{records[i]['instruction']} {records[i]['input']}".lower())) for i in originals}
    assert len(prompts) == len(originals)


def test_planted_copies_differ_from_their_original_only_as_planted():
    records, truth = synthetic.make_corpus(2000)
    first = {}
    for row, group, kind in truth.sort("row").iter_rows():
        if kind == "unique":
            first[group] = records[row]
    for row, group, kind in truth.iter_rows():
        original, copy = first.get(group), records[row]
        if kind == "conflicting":
            assert (copy["instruction"], copy["input"]) == (original["instruction"], original["input"])
            assert copy["output"] != original["output"]
        elif kind == "near":
            assert copy != original
            assert sum(a != b for a, b in zip(copy.values(), original.values())) <= 2


@pytest.mark.parametrize(
    "groups, removed, precision, recall, lost",
    [
        # (group of each row), rows removed
        ([0, 0, 1, 2], [1], 1.0, 1.0, 0),
        ([0, 0, 1, 2], [0], 1.0, 1.0, 0),  # the original may go when its copy is the better row
        ([0, 0, 1, 2], [], 1.0, 0.0, 0),
        ([0, 0, 1, 2], [1, 2], 0.5, 1.0, 1),  # row 2 had no duplicate
        ([0, 0, 0, 1], [0, 1, 2], 2 / 3, 1.0, 1),  # the whole group went
        ([0, 0, 0, 1], [1], 1.0, 0.5, 0),
    ],
)
def test_score(groups, removed, precision, recall, lost):
    truth = pl.DataFrame({"row": range(len(groups)), "group": groups, "kind": ["unique"] * len(groups)})
    result = bench.score(truth, pl.Series(removed, dtype=pl.Int64))
    assert result["precision"] == pytest.approx(precision)
    assert result["recall"] == pytest.approx(recall)
    assert result["unique_rows_removed"] == lost


def test_pipeline_finds_the_planted_duplicates_and_keeps_templated_tasks(tmp_path):
    records, truth = synthetic.make_corpus(3000, seed=5)
    corpus = synthetic.write_jsonl(records, tmp_path / "corpus.jsonl")
    run([str(corpus)], tmp_path / "out", Config(), quiet=True)
    result = bench.score(truth, bench.removed_by_dedup(tmp_path / "out").get_column("row"))
    assert result["recall"] >= 0.99
    assert result["unique_rows_removed"] == 0
    assert result["templated_rows"] > 0 and result["templated_rows_removed"] == 0


def test_sections_are_named_once_and_corpus_section_runs(tmp_path, capsys):
    names = [name for name, _ in bench.SECTIONS]
    assert len(names) == len(set(names)) and {"pipeline", "minhash", "dedup quality", "memory scaling"} <= set(names)
    assert bench.main(["--rows", "300", "--workdir", str(tmp_path), "--only", "corpus"]) == 0
    assert (tmp_path / "corpus_300.jsonl").exists()
    assert "300 records" in capsys.readouterr().out


def test_pipeline_child_reports_timings_and_its_own_peak_memory(tmp_path):
    records, _ = synthetic.make_corpus(300)
    corpus = synthetic.write_jsonl(records, tmp_path / "corpus.jsonl")
    result = bench._child(["run", str(corpus), str(tmp_path / "out")])
    assert {"load", "dedup", "total"} <= set(result["timings_s"])
    assert result["peak_mb"] > 0 and sum(result["dedup"].values()) > 0
    assert (tmp_path / "out" / "report.json").exists()


def test_refresh_section_times_a_refresh_and_a_full_run(tmp_path, capsys):
    run = bench.Bench(rows=300, workdir=tmp_path, refresh_rows=1_100)
    result = bench.refresh_section(run)
    assert result["refresh_s"] > 0 and result["full_s"] > 0
    assert (tmp_path / "refresh_state" / "CURRENT").read_text().strip() == "2"
    assert "refresh adding 100 rows" in capsys.readouterr().out


# ---------------------------------------------------------------- the real-text corpus


def test_real_text_corpus_is_skipped_without_the_shared_data(tmp_path):
    assert bench.real_text_corpus(tmp_path / "c.jsonl", data=tmp_path / "absent") is None
    assert not (tmp_path / "c.jsonl").exists()


@pytest.mark.skipif(not (bench.SHARED_DATA / "dev" / "gsm8k_test.jsonl").exists(), reason="reference data not present")
def test_real_text_corpus_holds_every_real_record_and_reworded_copies(tmp_path):
    base = bench.real_records()
    path = bench.real_text_corpus(tmp_path / "c.jsonl", least_rows=2 * len(base) + 1, least_bytes=1)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 3 * len(base)  # rows rounded up to whole copies
    assert all(set(r) == {"instruction", "input", "output"} for r in records)
    as_tuples = [tuple(r.values()) for r in records]
    originals = {tuple(r.values()) for r in base}
    assert originals <= set(as_tuples)  # every real record once, as it was
    reworded = [t for t in as_tuples if t not in originals]
    assert len(reworded) > len(base)  # most copies differ from their original
    # a reworded copy stays a near duplicate: its words are nearly those of one original
    sample = reworded[0]
    words = set(" ".join(sample).lower().split())
    assert any(len(words & set(" ".join(o).lower().split())) >= 0.8 * len(words) for o in originals)
    assert path.read_bytes() == bench.real_text_corpus(tmp_path / "again.jsonl", least_rows=2 * len(base) + 1, least_bytes=1).read_bytes()


def test_real_text_corpus_reaches_the_size_asked_for(tmp_path):
    if not (bench.SHARED_DATA / "alpaca_5000.json").exists():
        pytest.skip("reference data not present")
    path = bench.real_text_corpus(tmp_path / "c.jsonl", least_rows=1, least_bytes=20_000_000)
    assert path.stat().st_size >= 20_000_000


# ---------------------------------------------------------------- the real-text section


def test_real_text_section_says_it_is_skipped_without_the_shared_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "SHARED_DATA", tmp_path / "absent")
    run = bench.Bench(rows=300, workdir=tmp_path)
    assert bench.real_text_section(run) == {}
    assert "skipped: the real data is not present" in capsys.readouterr().out
    assert run.targets == []


def test_rules_child_times_every_active_rule_alone(tmp_path):
    records, _ = synthetic.make_corpus(300)
    corpus = synthetic.write_jsonl(records, tmp_path / "corpus.jsonl")
    result = bench._child(["rules", str(corpus)])
    assert result["rows"] == 300
    assert list(result["rules_s"]) == Config().active_rules()
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in result["rules_s"].values())


def test_io_floor_reads_the_corpus_and_writes_it_as_parquet(tmp_path):
    records, _ = synthetic.make_corpus(300)
    corpus = synthetic.write_jsonl(records, tmp_path / "corpus.jsonl")
    assert bench.io_floor(corpus, tmp_path / "floor.parquet") > 0
    assert pl.read_parquet(tmp_path / "floor.parquet").height == 300


def test_pipeline_child_times_the_report_and_the_write(tmp_path):
    records, _ = synthetic.make_corpus(300)
    corpus = synthetic.write_jsonl(records, tmp_path / "corpus.jsonl")
    timings = bench._child(["run", str(corpus), str(tmp_path / "out")])["timings_s"]
    assert {"report", "write", "total"} <= set(timings) and timings["report"] < timings["total"]
