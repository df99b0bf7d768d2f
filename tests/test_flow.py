"""The one pipeline definition: every engine walks ``STAGES``, and a row-local
stage gives a row the same result in a batch as in the whole frame."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.config import Config
from pipeline.engines.local import run
from pipeline.flow import STAGES, Context, facts_of
from pipeline.report.model import RunFacts, merge
from pipeline.stages.load import expand_inputs, load_records
from pipeline.stages.validate import validate
from tests.conftest import ROOT

SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def sample_rows() -> pl.DataFrame:
    valid, _ = validate(load_records(expand_inputs([str(SAMPLE)]), say=lambda line: None))
    return valid.collect()


def test_row_local_stages_give_the_same_rows_batch_by_batch(sample_rows):
    """What lets an engine run them in batches: each row-local stage, its corpus
    facts summed from both halves, equals the stage on the whole frame."""
    context = Context(Config())
    frame = sample_rows
    middle = frame.height // 2
    for stage in STAGES:
        whole = stage.apply(frame, context)
        if not stage.corpus_wide:
            halves = [frame.head(middle), frame.tail(frame.height - middle)]
            parts = [stage.needs.part(half) for half in halves] if stage.needs else []
            settled = stage.settled(context, parts)
            batched = pl.concat([stage.run(half.lazy(), settled).collect() for half in halves])
            assert_frame_equal(batched, whole)
        frame = whole


def test_the_local_engine_times_every_stage_in_the_declared_order(tmp_path):
    report = run([str(SAMPLE)], tmp_path / "out", Config(), quiet=True)
    walked = [name for name in report["timings_s"] if name in {stage.name for stage in STAGES}]
    assert walked == [stage.name for stage in STAGES]


def test_the_stage_list_reads_in_the_documented_order():
    assert [stage.name for stage in STAGES] == ["normalise", "tokens", "decontaminate", "rules", "dedup", "decide"]
    assert [stage.name for stage in STAGES if stage.corpus_wide] == ["dedup"]


def test_facts_of_two_batches_merge_into_the_facts_of_the_whole(sample_rows):
    """The one merge function: row-local facts of two halves, merged in load order,
    are the facts of the whole frame (counts, first examples, value counts)."""
    context = Context(Config())
    frame = sample_rows
    for stage in STAGES:
        frame = stage.apply(frame, context)
    middle = frame.height // 3
    halves = [RunFacts(**facts_of(part, context, corpus_wide=False)) for part in (frame.head(middle), frame.tail(frame.height - middle))]
    whole = RunFacts(**facts_of(frame, context, corpus_wide=False))
    assert merge(*halves).model_dump() == whole.model_dump()
    assert whole.decide.rejected > 0 and any(rule.examples for rule in whole.rules.fired.values())
