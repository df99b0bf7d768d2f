"""The per-batch / global splits the Ray engine relies on, checked without Ray:
statistics and pairs computed part by part equal those computed over the whole."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipeline.dedup import minhash
from rules.length import OUTLIER_FIELDS, _centre, length_histogram, outlier_centres
from rules.params import RuleParams


def _token_frame(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        f"_tokens_{field}": rng.integers(0 if field == "input" else 1, 600, rows) for field in OUTLIER_FIELDS
    })


@pytest.mark.parametrize("rows, parts", [(1, 1), (2, 2), (7, 3), (1000, 4), (1001, 2)])
def test_summed_histograms_give_the_whole_frames_median_and_mad(rows, parts):
    frame = _token_frame(rows, seed=rows)
    whole = {field: frame.select(m.alias("m"), d.alias("d")).row(0) for field in OUTLIER_FIELDS
             for m, d in [_centre(field, RuleParams())]}
    pieces = [frame[i::parts] for i in range(parts)]
    assert outlier_centres(pl.concat([length_histogram(p) for p in pieces])) == whole


def test_no_judged_inputs_give_no_centre():
    frame = pl.DataFrame({"_tokens_instruction": [3, 4], "_tokens_input": [0, 0], "_tokens_output": [5, 9]})
    assert outlier_centres(length_histogram(frame))["input"] == (None, None)


def test_length_outlier_with_given_centres_equals_in_frame():
    from rules import RULES

    long_outputs = pl.when(pl.int_range(pl.len()) < 3).then(90_000).otherwise(pl.col("_tokens_output"))
    frame = _token_frame(500, seed=1).with_columns(long_outputs.alias("_tokens_output"))
    params = RuleParams()
    given = params.with_outlier_centres(outlier_centres(length_histogram(frame)))
    in_frame = frame.select(RULES["length_outlier"].expr(params)).to_series()
    assert in_frame.any()
    assert frame.select(RULES["length_outlier"].expr(given)).to_series().equals(in_frame)


def test_buckets_split_across_partitions_give_the_same_candidate_pairs():
    rng = np.random.default_rng(0)
    signature = rng.integers(0, 4, size=(400, 8), dtype=np.uint32)  # few values: many and some large buckets
    bands, rows = 4, 2
    whole = minhash.candidate_pairs(signature, bands, rows)
    keys = minhash.band_keys(signature, bands, rows).ravel()
    owner = np.repeat(np.arange(len(signature)), bands)
    parts = []
    for part in range(3):
        mine = keys % np.uint64(3) == np.uint64(part)
        parts.append(minhash.bucket_pairs(keys[mine], owner[mine]))
    split = pl.concat(parts).unique().sort("a", "b")
    assert split.height > 0
    assert split.equals(whole.sort("a", "b"))


def test_a_ray_address_without_the_ray_engine_is_a_usage_error(tmp_path, capsys):
    from pipeline.cli import main

    sample = tmp_path / "in.jsonl"
    sample.write_text('{"instruction": "Say hi.", "output": "Hi."}\n', encoding="utf-8")
    assert main(["run", str(sample), "--out", str(tmp_path / "out"), "--ray-address", "auto"]) == 2
    assert capsys.readouterr().err.strip() == "curate: error: --ray-address needs --engine ray"
