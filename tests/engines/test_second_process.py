"""The second process that judges half of each large batch of the rules pass."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import Config
from pipeline.engines import local as run_module
from pipeline.engines import second_process
from pipeline.engines.local import StageTimer, judged_batch, run
from pipeline.engines.second_process import SecondProcess, SecondProcessStopped
from pipeline.flow import STAGES, Context, stages_before
from pipeline.publish.write import sha256_of

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
RULES = next(stage for stage in STAGES if stage.name == "rules")


@pytest.fixture(scope="module")
def rules_input() -> tuple[pl.DataFrame, Context]:
    """The shipped sample's rows as the rules stage gets them, and its context."""
    from pipeline.engines.local import read_sources
    from pipeline.stages.load import expand_inputs

    frame, _, _ = read_sources(expand_inputs([str(SAMPLE)], exclude=[]), StageTimer(quiet=True))
    context = Context(Config())
    for stage in stages_before("rules"):
        frame = stage.apply(frame, context)
    return frame, RULES.settled(context, [RULES.needs.part(frame)])


@pytest.fixture
def second(tmp_path):
    started = SecondProcess(tmp_path / "spill")
    yield started
    started.close()


def test_the_second_process_judges_rows_as_this_one_does(rules_input, second):
    frame, context = rules_input
    judged, seconds = second.send(frame, ["rules"], {"rules": context}).result()
    assert judged.equals(RULES.run(frame.lazy(), context).collect())
    assert set(seconds) == {"rules"}
    assert not list((second.folder).iterdir()), "the halves' files are removed once read"


def test_an_error_there_is_raised_here(rules_input, second):
    frame, context = rules_input
    with pytest.raises(KeyError, match="no such stage"):
        second.send(frame, ["no such stage"], {"no such stage": context}).result()
    judged, _ = second.send(frame.head(3), ["rules"], {"rules": context}).result()  # it goes on serving
    assert judged.height == 3


def test_it_runs_in_its_own_session_so_ctrl_c_reaches_the_run_alone(second):
    assert os.getsid(second.process.pid) != os.getsid(0)
    second.close()
    assert not second.alive


def test_a_batch_is_split_in_two_and_put_back_in_order(rules_input, second, monkeypatch):
    frame, context = rules_input
    monkeypatch.setattr(run_module, "MIN_ROWS", 10)
    sent = []
    monkeypatch.setattr(second, "send", _recording(second.send, sent))
    timer = StageTimer(quiet=True)
    judged = judged_batch(frame, (RULES,), {"rules": context}, timer, second)
    assert sent == [frame.height - frame.height // 2]
    assert judged.equals(RULES.run(frame.lazy(), context).collect())
    assert timer.seconds["rules"] > 0


def test_small_batches_and_other_stages_stay_in_this_process(rules_input, second, monkeypatch):
    frame, context = rules_input
    sent = []
    monkeypatch.setattr(second, "send", _recording(second.send, sent))
    judged_batch(frame, (RULES,), {"rules": context}, StageTimer(quiet=True), second)  # under MIN_ROWS
    monkeypatch.setattr(run_module, "MIN_ROWS", 10)
    normalise = STAGES[0]
    assert not normalise.second_process
    judged_batch(frame, (normalise,), {"normalise": context}, StageTimer(quiet=True), second)
    assert sent == []


def test_when_the_second_process_stops_this_one_judges_the_rest(rules_input, second, monkeypatch):
    frame, context = rules_input
    monkeypatch.setattr(run_module, "MIN_ROWS", 10)
    monkeypatch.setattr(second, "send", _killing_first(second))
    timer, said = StageTimer(quiet=True), []
    monkeypatch.setattr(timer, "say", said.append)
    judged = judged_batch(frame, (RULES,), {"rules": context}, timer, second)
    assert judged.equals(RULES.run(frame.lazy(), context).collect())
    assert any("the second process stopped" in line for line in said), said
    with pytest.raises(SecondProcessStopped):
        second.send.__wrapped__(frame.head(1), ["rules"], {"rules": context}).result()


def test_a_run_with_a_second_process_writes_the_same_bytes(tmp_path, monkeypatch):
    """The shipped sample in batches of 150 rows, each cut in two for the rules:
    the shards and the report of a run in one process."""
    monkeypatch.setattr(run_module, "BATCH_ROWS", 150)
    alone = run([str(SAMPLE)], tmp_path / "alone", Config(), quiet=True)
    monkeypatch.setattr(run_module, "MIN_ROWS", 100)
    monkeypatch.setattr(second_process, "MIN_INPUT_BYTES", 0)
    sent = []
    monkeypatch.setattr(SecondProcess, "send", _recording(SecondProcess.send, sent, method=True))
    split = run([str(SAMPLE)], tmp_path / "split", Config(), quiet=True)
    assert len(sent) >= 2, "every batch of the rules pass was shared"
    for name in ("clean", "rejected", "quarantine"):
        shards = sorted((tmp_path / "alone" / name).glob("*.parquet"))
        assert [sha256_of(shard) for shard in shards] == [sha256_of(tmp_path / "split" / name / s.name) for s in shards]
    assert {**alone, "timings_s": None} == {**split, "timings_s": None}
    assert json.loads((tmp_path / "split" / "report.json").read_text())["counts"]["reconciled"]
    assert not list((tmp_path / "split").rglob(".spill*"))


def _recording(send, heights: list, method: bool = False):
    """``send`` that records the height of each frame it is given."""
    if method:
        def recorded(self, frame, *args):
            heights.append(frame.height)
            return send(self, frame, *args)
    else:
        def recorded(frame, *args):
            heights.append(frame.height)
            return send(frame, *args)
    return recorded


def _killing_first(second: SecondProcess):
    """``second.send`` that kills the process just before handing it the rows."""
    send = second.send

    def killing(frame, *args):
        second.process.kill()
        second.process.wait()
        return send(frame, *args)

    killing.__wrapped__ = send
    return killing
