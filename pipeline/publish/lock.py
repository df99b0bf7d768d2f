"""One writer at a time on a refresh state: an OS file lock on ``STATE/LOCK``.

The lock is ``flock`` on an open file, so the kernel releases it when the holder
exits, however it exits (SIGKILL included): a crashed refresh never leaves a lock
behind that someone must delete by hand. The file holds the holder's pid and start
time, only to name it in the error a second refresh exits with.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.errors import InputError

LOCK_NAME = "LOCK"


def _holder(descriptor: int) -> str:
    """Who holds the lock. A holder that has just taken it may not have written
    its name yet (only ever on a state's first refresh): wait for it a little."""
    for _ in range(50):
        text = os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip()
        if text:
            return text
        time.sleep(0.01)
    return "another process"


@contextmanager
def exclusive(root: Path, command: str = "refresh") -> Iterator[None]:
    """Hold the lock of ``root`` (created if need be) for the block; a second
    holder gets an InputError naming the first."""
    path = root / LOCK_NAME
    try:
        root.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise InputError(f"cannot lock state {root}: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"state {root} is in use by {_holder(descriptor)}; run again when it has finished") from None
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        holder = f"curate {command} (pid {os.getpid()}, started {started})\n".encode()
        os.pwrite(descriptor, holder, 0)  # write, then cut: the file is never seen empty
        os.ftruncate(descriptor, len(holder))
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
