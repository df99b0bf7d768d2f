"""The Ray engine gives exactly the local engine's outputs: the same clean,
rejected and quarantined rows, with the same reasons and survivors, in the same
shard files (byte for byte). Runs on a local two-CPU Ray instance started once
for the module; skipped only where Ray is not installed (``make setup`` installs it)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.dedup import dedup
from pipeline.synthetic import make_corpus, write_jsonl
from pipeline.config import Config, OutputConfig
from pipeline.engines.local import run

ray = pytest.importorskip("ray")
engine = pytest.importorskip("pipeline.engines.ray")

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SETS = ("clean", "rejected", "quarantine")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=engine.LOCAL_OBJECT_STORE,
             log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def read_set(out: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(sorted((out / name).glob("part-*.parquet")))


def assert_same_outputs(local: Path, distributed: Path) -> None:
    for name in SETS:
        # Same rows, columns, reasons and survivors first (a readable diff), then the files themselves.
        assert_frame_equal(read_set(local, name), read_set(distributed, name))
        local_files = sorted(p.name for p in (local / name).glob("*.parquet"))
        assert local_files == sorted(p.name for p in (distributed / name).glob("*.parquet"))
        for file in local_files:
            assert (local / name / file).read_bytes() == (distributed / name / file).read_bytes(), f"{name}/{file}"


def both_engines(inputs: list[str], tmp_path: Path, config: Config) -> tuple[dict, dict]:
    local = run(inputs, tmp_path / "local", config, quiet=True)
    distributed = engine.run_ray(inputs, tmp_path / "ray", config, quiet=True)
    assert_same_outputs(tmp_path / "local", tmp_path / "ray")
    return local, distributed


def test_the_shipped_sample_curates_identically_from_the_command_line(tmp_path, capsys):
    from pipeline.cli import main

    export = ["--export", "alpaca-jsonl"]
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "local"), *export]) == 0
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "ray"), "--engine", "ray", *export]) == 0
    assert_same_outputs(tmp_path / "local", tmp_path / "ray")
    assert (tmp_path / "ray" / "clean.jsonl").read_bytes() == (tmp_path / "local" / "clean.jsonl").read_bytes()
    local, distributed = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("local", "ray"))
    assert distributed["counts"] == local["counts"]
    assert distributed["dedup"]["rows_removed"] == local["dedup"]["rows_removed"]
    assert local["counts"]["rejected"] > 0 and local["counts"]["quarantined"] > 0


def test_a_generated_corpus_with_planted_duplicates_curates_identically(tmp_path, monkeypatch):
    # Small sample and bucket sizes so that the corpus-wide steps take their
    # multi-part paths: boilerplate words on an evenly spaced sample, rows
    # numbered across several buckets, several shards per set.
    monkeypatch.setattr(dedup, "BOILERPLATE_SAMPLE", 700)
    monkeypatch.setattr(engine, "ORDER_BUCKET", 500)
    records, _ = make_corpus(3000, seed=3)
    first = write_jsonl(records[:1800], tmp_path / "in" / "a.jsonl")
    second = tmp_path / "in" / "b.jsonl"
    broken = ["not json", json.dumps([1, 2]), json.dumps({"instruction": "", "output": "x"})]
    second.write_text("\n".join([*(json.dumps(r) for r in records[1800:]), *broken]) + "\n", encoding="utf-8")
    config = Config(output=OutputConfig(shard_rows=900))
    local, distributed = both_engines([str(first), str(second)], tmp_path, config)
    assert distributed["counts"] == local["counts"]
    # The report is the same too: facts merged from batches and cluster partitions
    # (rule examples, languages, token and length statistics, dedup examples).
    assert {**distributed, "timings_s": None} == {**local, "timings_s": None}
    removed = local["dedup"]["rows_removed"]
    assert removed == distributed["dedup"]["rows_removed"]
    assert all(removed[reason] > 0 for reason in ("exact_duplicate", "near_duplicate", "conflicting_output"))
    assert len(list((tmp_path / "ray" / "clean").glob("*.parquet"))) > 1
    assert local["counts"]["quarantined"] == 3


def test_dedup_off_and_empty_sets(tmp_path):
    """No dedup, nothing rejected or quarantined: the sets are still written as
    one empty shard each, like the local engine's."""
    corpus = write_jsonl([{"instruction": f"Name the number {n}.", "input": "", "output": f"It is {n}."} for n in range(30)],
                         tmp_path / "in.jsonl")
    config = Config.model_validate({"dedup": {"exact": False, "conflicting_output": False, "near": False}})
    local, distributed = both_engines([str(corpus)], tmp_path, config)
    assert distributed["counts"] == local["counts"]


@pytest.mark.parametrize("partitions", [1, 3])
def test_connected_components_by_label_propagation_match_union_find(partitions):
    import numpy as np

    rng = np.random.default_rng(partitions)
    chain = [(n, n + 1) for n in range(100, 140)]  # a long path: many propagation rounds
    random_edges = rng.integers(0, 300, size=(120, 2)).tolist()
    edges = pl.DataFrame([(a, b) for a, b in [*chain, *random_edges] if a != b], schema={"a": pl.Int64, "b": pl.Int64},
                         orient="row")
    blocks = [ray.put(engine._arrow(edges[:50])), ray.put(engine._arrow(edges[50:]))]
    roots = pl.concat([engine._frame(t) for t in ray.get(engine.connected_roots(blocks, partitions))])
    assert_frame_equal(roots.sort(engine.C.ORDER), engine.cluster_roots_of(edges))


def test_only_quarantined_and_single_rows(tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('not json\n{"instruction": 3, "output": "x"}\n', encoding="utf-8")
    single = write_jsonl([{"instruction": "Name a colour.", "input": "", "output": "Blue."}], tmp_path / "one.jsonl")
    for inputs in ([str(broken)], [str(broken), str(single)]):
        local, distributed = both_engines(inputs, tmp_path / str(len(inputs)), Config())
        assert distributed["counts"] == local["counts"]


def test_every_shape_and_compressed_file_curates_identically(tmp_path):
    import gzip

    from pipeline.errors import InputError
    from pipeline.stages.shapes import SourceShape

    gpteacher = [{"instruction": f"Write a function that returns {n}.", "input": "", "response": f"def f():\n    return {n}"}
                 for n in range(5)]
    chats = [{"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": f"Say {w}."},
                                {"from": "gpt", "value": f"{w.capitalize()}."}]} for w in ("hello", "goodbye", "thanks")]
    chats.append({"conversations": [{"from": "human", "value": "Hi."}, {"from": "gpt", "value": "Hello."},
                                    {"from": "human", "value": "Bye."}, {"from": "gpt", "value": "Bye."}]})
    write_jsonl(gpteacher, tmp_path / "a-gpteacher.jsonl")
    (tmp_path / "b-chat.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(c) + "\n" for c in chats).encode(), mtime=0))
    inputs = [str(tmp_path / "a-gpteacher.jsonl"), str(tmp_path / "b-chat.jsonl.gz")]
    local, distributed = both_engines(inputs, tmp_path / "out", Config())
    assert distributed["shapes"] == local["shapes"]
    assert [SourceShape(**s).shape for s in local["shapes"]] == ["gpteacher", "sharegpt"]
    assert local["counts"]["quarantined"] == 1 and local["counts"]["clean"] == 8
    write_jsonl([{"title": "A", "body": "B"}], tmp_path / "unknown.jsonl")
    with pytest.raises(InputError, match="unknown record shape; keys found: title, body"):
        engine.run_ray([str(tmp_path / "unknown.jsonl")], tmp_path / "never", Config(), quiet=True)
