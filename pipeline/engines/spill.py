"""Batches of rows that outlive one pass of the local engine, in memory while they
are small and on disk (Parquet) once they are not.

The local engine streams the corpus through its stages a batch at a time; between
two passes it keeps every batch here. Up to ``memory_bytes`` of batches stay in
memory (a small run never touches the disk); past that, every further batch is
written to a Parquet file and read back when the next pass reaches it, so the
engine's memory stays bounded whatever the corpus size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import polars as pl

MEMORY_BYTES = 128 << 20  # batches held in memory per pass before they go to disk


class Batches:
    """Frames in load order; row ``i`` of the whole is row ``i - offset`` of its batch."""

    def __init__(self, directory: Path, name: str, memory_bytes: int | None = None) -> None:
        self.directory, self.name = directory, name
        self.memory_bytes = MEMORY_BYTES if memory_bytes is None else memory_bytes
        self.held: list[pl.DataFrame | Path | None] = []  # None: drained
        self.heights: list[int] = []
        self.schemas: list[pl.Schema] = []
        self.in_memory = 0

    def append(self, frame: pl.DataFrame) -> None:
        size = frame.estimated_size()
        if self.in_memory + size <= self.memory_bytes:
            self.held.append(frame)
            self.in_memory += size
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{self.name}-{len(self.held):05d}.parquet"
            # Read back once or twice within the run: fast codec, no statistics.
            frame.write_parquet(path, compression="lz4", statistics=False)
            self.held.append(path)
        self.heights.append(frame.height)
        self.schemas.append(frame.schema)

    def __len__(self) -> int:
        return len(self.held)

    @property
    def height(self) -> int:
        return sum(self.heights)

    def batch(self, number: int, columns: list[str] | None = None) -> pl.DataFrame:
        held = self.held[number]
        if isinstance(held, Path):
            return pl.read_parquet(held, columns=columns)
        return held if columns is None else held.select(columns)

    def drain(self) -> Iterator[pl.DataFrame]:
        """Every batch, each let go of once the next is asked for: the last pass over
        them (their heights and schemas stay known)."""
        for number in range(len(self.held)):
            frame = self.batch(number)
            held, self.held[number] = self.held[number], None
            if isinstance(held, Path):
                held.unlink(missing_ok=True)
            del held
            yield frame

    def empty(self) -> pl.DataFrame:
        """No rows, with every column any batch has (in order of first appearance),
        each of the type the batches' types widen to: what a whole-frame run has."""
        return pl.concat([pl.DataFrame(schema=schema) for schema in self.schemas] or [pl.DataFrame()],
                         how="diagonal_relaxed")

    def columns(self, names: list[str]) -> "Rows":
        return Rows(self, names)


def _own_copy(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its strings copied. Rows gathered from a batch share the
    batch's string buffers (Polars string views), so a few rows kept from each
    batch would keep every batch's texts in memory; a copy through Arrow keeps only
    their own bytes."""
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not texts:
        return frame
    return frame.with_columns(pl.from_arrow(frame.select(texts).to_arrow()).get_columns())


class Rows:
    """Some columns of ``Batches``, read by row position as a DataFrame would be
    (``height``, ``slice``, ``gather_every``, ``rows[positions]``): what dedup reads
    of the texts, without all of them in memory at once."""

    def __init__(self, batches: Batches, names: list[str]) -> None:
        self.batches, self.names = batches, names
        self.starts = np.r_[0, np.cumsum(batches.heights)].astype(np.int64)
        self._cached: tuple[int, pl.DataFrame] | None = None

    @property
    def height(self) -> int:
        return int(self.starts[-1])

    def select(self, names) -> "Rows":
        return Rows(self.batches, list(names))

    def _batch(self, number: int) -> pl.DataFrame:
        if self._cached is None or self._cached[0] != number:
            self._cached = (number, self.batches.batch(number, self.names))
        return self._cached[1]

    def __getitem__(self, positions: np.ndarray) -> pl.DataFrame:
        """The rows at ``positions`` (any order, repeats allowed), in that order."""
        positions = np.asarray(positions, dtype=np.int64)
        wanted, back = np.unique(positions, return_inverse=True)
        owner = np.searchsorted(self.starts, wanted, side="right") - 1
        parts = []
        for number in np.unique(owner).tolist():
            local = wanted[owner == number] - self.starts[number]
            parts.append(_own_copy(self._batch(number)[local]))
        if not parts:
            return self._batch(0).clear() if len(self.batches) else pl.DataFrame(schema={n: pl.String for n in self.names})
        found = pl.concat(parts, how="diagonal_relaxed")
        return found[back] if len(wanted) != len(positions) or not np.array_equal(wanted, positions) else found

    def slice(self, start: int, length: int) -> pl.DataFrame:
        return self[np.arange(start, min(start + length, self.height), dtype=np.int64)]

    def gather_every(self, step: int) -> pl.DataFrame:
        return self[np.arange(0, self.height, step, dtype=np.int64)]
