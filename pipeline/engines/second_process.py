"""A second process for the stages that say ``second_process`` (rules): half of
each large batch is judged there while this process judges the other half.

Much of the rules' work is Python that holds the interpreter (the arithmetic
and language checks): threads cannot put it on a second core, a second process
can. A row-local stage gives each row the same result in any batch
(``pipeline.flow``), so a batch cut in two, each half through the same stages,
and put back together is the batch the stages would have made: the outputs are
the same bytes.

The halves travel as uncompressed Arrow files in the run's spill folder (a few
hundredths of a second for 25,000 rows of real text), the stage names and their
contexts through a socket. The process is started once per run, only for
inputs large enough to pay for it (``worth_a_second_process``: starting one
costs about a second of imports, which overlap the first pass), and stopped as
soon as the passes that use it are done, so its memory is never held at the
same time as dedup's. It runs in its own session: the terminal's Ctrl-C
reaches the run alone, which stops it. Should it stop on its own (killed for
memory, say), this process judges the rest alone; nothing is lost.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

import polars as pl

MIN_ROWS = 10_000  # a smaller batch is judged here alone: the round trip would cost more than it saves
MIN_INPUT_BYTES = 8 << 20  # inputs smaller than this are judged in this process alone


def worth_a_second_process(sources: list[str]) -> bool:
    """Whether a run over ``sources`` should start a second process: two cores or
    more, and inputs large enough to give batches of ``MIN_ROWS`` rows."""
    if (os.cpu_count() or 1) < 2:
        return False
    return sum(_size(source) for source in sources) >= MIN_INPUT_BYTES


def _size(source: str) -> int:
    try:
        return os.path.getsize(source)
    except OSError:
        return 0


class SecondProcess:
    """The other process and its connection; ``send`` hands it rows."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests = 0
        ours, theirs = socket.socketpair()
        # A fresh interpreter running this module alone (not multiprocessing's
        # spawn, which would run the caller's main script again), in its own
        # session so that the terminal's Ctrl-C reaches this process only, which
        # then stops it; its messages would only repeat this process's.
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno())], pass_fds=[theirs.fileno()],
            start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs.close()
        self.connection = Connection(ours.detach())

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, frame: pl.DataFrame, stages: list[str], contexts: dict) -> "Pending":
        """Start judging ``frame`` with ``stages`` (names in ``pipeline.flow.STAGES``,
        their contexts by name) there; ``Pending.result`` gives the rows back."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.requests += 1
        given, judged = self.folder / f"second-{self.requests}-in.arrow", self.folder / f"second-{self.requests}-out.arrow"
        frame.write_ipc(given, compression="uncompressed")
        try:
            self.connection.send((str(given), str(judged), stages, contexts))
        except OSError:
            pass  # it has stopped: ``Pending.result`` says so
        return Pending(self, given, judged)

    def close(self) -> None:
        """Stop the process (at once: whatever it was doing is no longer wanted)."""
        if self.alive:
            self.process.terminate()
        self.process.wait()
        self.connection.close()


class SecondProcessStopped(RuntimeError):
    """The second process ended without answering."""


class Pending:
    """A frame the second process is judging."""

    def __init__(self, second: SecondProcess, given: Path, judged: Path) -> None:
        self.second, self.given, self.judged = second, given, judged

    def result(self) -> tuple[pl.DataFrame, dict[str, float]]:
        """(the judged rows, seconds per stage there). Raises the stage's own error
        when one failed there, ``SecondProcessStopped`` when the process is gone."""
        try:
            answer = self.second.connection.recv()
        except (EOFError, OSError) as gone:
            raise SecondProcessStopped(f"the second process stopped (exit code {self.second.process.poll()})") from gone
        finally:
            self.given.unlink(missing_ok=True)
        if isinstance(answer, BaseException):
            raise answer
        try:
            return pl.read_ipc(self.judged), answer
        finally:
            self.judged.unlink(missing_ok=True)


def serve(connection: Connection) -> None:
    """The second process: judge each frame sent until the connection closes."""
    from pipeline.flow import STAGES

    by_name = {stage.name: stage for stage in STAGES}
    while True:
        try:
            given, judged, stages, contexts = connection.recv()
        except EOFError:
            return
        try:
            frame, seconds = pl.read_ipc(given), {}
            for name in stages:
                started = time.perf_counter()
                frame = by_name[name].run(frame.lazy(), contexts[name]).collect()
                seconds[name] = time.perf_counter() - started
            frame.write_ipc(judged, compression="uncompressed")
            connection.send(seconds)
        except Exception as error:  # handed to the run, which reports it as it would its own
            connection.send(_sendable(error))


def _sendable(error: Exception) -> Exception:
    """``error`` if it survives pickling, else a RuntimeError with its traceback."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError("".join(traceback.format_exception(error)))


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
