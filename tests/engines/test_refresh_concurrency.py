"""Two refreshes on one state at once (issue 15, item 1).

Two real processes, started once, are released together through a barrier, round
after round, each with a batch of its own; a random delay of up to the length of a
refresh before one of them varies how they overlap. After every round the state
must be whole: CURRENT names a version whose files match its manifest, nothing is
left half-built, and every refresh that said "published" is in it. The one that
lost the race exits with the lock holder's name, never with a traceback.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.engines.refresh import State, check_version
from pipeline.publish.lock import exclusive
from tests.conftest import write_jsonl

ROUNDS = 8
PROCESSES = 2


def batch(directory: Path, round_: int, worker: int) -> Path:
    number = round_ * PROCESSES + worker
    return write_jsonl(directory / f"batch-{round_}-{worker}.jsonl", [{
        "instruction": f"Write the number {number} in words.", "input": "",
        "output": f"The number {number} is written as {'one ' * (number % 5 + 1)}in this made-up answer {number}.",
    }])


def worker(state: str, batches: list[str], delays: list[float], start, end, results) -> None:
    from pipeline.config import Config
    from pipeline.engines.refresh import refresh
    from pipeline.errors import InputError

    config = Config()
    for path, delay in zip(batches, delays):
        start.wait()
        time.sleep(delay)
        try:
            outcome = refresh([path], state, config, quiet=True)
            results.put(("published", os.getpid(), outcome.version.name))
        except InputError as error:
            results.put(("busy", os.getpid(), str(error)))
        except BaseException as error:  # what the test exists to catch
            results.put(("crashed", os.getpid(), repr(error)))
        end.wait()


def test_two_refreshes_at_once_never_corrupt_the_state(tmp_path):
    state = tmp_path / "state"
    context = multiprocessing.get_context("spawn")  # no fork after Polars started its threads
    start, end = context.Barrier(PROCESSES + 1), context.Barrier(PROCESSES + 1)
    results = context.Queue()
    chance = random.Random(15)
    workers = []
    for number in range(PROCESSES):
        batches = [str(batch(tmp_path, r, number)) for r in range(ROUNDS)]
        delays = [chance.uniform(0.0, 0.3) if number == r % PROCESSES else 0.0 for r in range(ROUNDS)]
        workers.append(context.Process(target=worker, args=(str(state), batches, delays, start, end, results)))
    for process in workers:
        process.start()
    published, busy = 0, 0
    try:
        for _ in range(ROUNDS):
            start.wait(timeout=120)
            end.wait(timeout=120)
            outcomes = [results.get(timeout=10) for _ in range(PROCESSES)]
            assert not [o for o in outcomes if o[0] == "crashed"], outcomes
            for kind, pid, said in outcomes:
                if kind == "busy":
                    busy += 1
                    assert "in use by curate refresh (pid" in said, said
                else:
                    published += 1
            current = State(state).current()
            assert current is not None and current.number == published
            assert check_version(current) == []
            assert not list((state / "versions").glob(".building-*"))
            assert sorted(int(p.name) for p in (state / "versions").iterdir()) == list(range(1, published + 1))
    finally:
        for process in workers:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert published >= ROUNDS  # at least one refresh of every round got through
    assert published + busy == ROUNDS * PROCESSES


def test_a_second_refresh_exits_2_naming_the_holder(capsys, tmp_path):
    state = tmp_path / "state"
    path = batch(tmp_path, 0, 0)
    with exclusive(state):
        code = main(["refresh", str(path), "--state", str(state)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"in use by curate refresh (pid {os.getpid()}," in err[0]
    assert not (state / "versions").exists()  # the refused refresh wrote nothing
    assert main(["refresh", str(path), "--state", str(state)]) == 0  # the lock went with its holder


def test_leftovers_are_removed_only_under_the_lock(capsys, tmp_path):
    """What a dead refresh left (a build never switched to) goes at the next refresh."""
    state = tmp_path / "state"
    assert main(["refresh", str(batch(tmp_path, 0, 0)), "--state", str(state)]) == 0
    left = state / "versions" / ".building-dead"
    (left / "clean").mkdir(parents=True)
    (state / "versions" / "2").mkdir()
    assert main(["refresh", str(batch(tmp_path, 1, 0)), "--state", str(state)]) == 0
    assert not left.exists() and (state / "CURRENT").read_text().strip() == "2"
    assert check_version(State(state).current()) == []


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path):
    """flock dies with its process: a SIGKILLed holder leaves no lock behind."""
    state = tmp_path / "state"
    context = multiprocessing.get_context("spawn")
    holder = context.Process(target=_hold_forever, args=(str(state),))
    holder.start()
    try:
        for _ in range(200):
            if (state / "LOCK").exists() and (state / "LOCK").read_text():
                break
            time.sleep(0.05)
        with pytest.raises(Exception, match="in use by"):
            with exclusive(state):
                pass
    finally:
        holder.kill()
        holder.join()
    with exclusive(state):
        pass


def _hold_forever(state: str) -> None:
    with exclusive(Path(state)):
        time.sleep(600)
