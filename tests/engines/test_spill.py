"""spill.Batches and spill.Rows: batches kept between passes, read back by row position."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipeline.engines import spill


def _batches(tmp_path, memory_bytes: int) -> tuple[spill.Batches, pl.DataFrame]:
    whole = pl.DataFrame({
        "instruction": [f"task {i} " + "words " * (i % 7) for i in range(250)],
        "output": [None if i % 11 == 0 else f"answer {i}" for i in range(250)],
        "_order": pl.Series(range(250), dtype=pl.Int64),
    })
    batches = spill.Batches(tmp_path / "spill", "test", memory_bytes=memory_bytes)
    for start in range(0, whole.height, 60):
        batches.append(whole.slice(start, 60))
    return batches, whole


@pytest.mark.parametrize("memory_bytes", [0, 1 << 30], ids=["on disk", "in memory"])
def test_rows_read_any_positions_in_the_order_asked(tmp_path, memory_bytes):
    batches, whole = _batches(tmp_path, memory_bytes)
    rows = batches.columns(["instruction", "output", "_order"])
    positions = np.array([249, 3, 3, 120, 0, 61, 59, 200], dtype=np.int64)  # across batches, a repeat
    read = rows[positions]
    assert read.schema == whole.schema
    assert read.equals(whole[positions])
    assert rows.slice(55, 10).equals(whole.slice(55, 10))
    assert rows.gather_every(17).equals(whole.gather_every(17))


def test_rows_copied_out_of_a_batch_keep_their_values_and_types(tmp_path):
    """``_own_copy`` (which frees a gathered row from its batch's string buffers;
    the memory it saves is measured by ``make bench``) changes no value or type."""
    batches, whole = _batches(tmp_path, 1 << 30)
    read = spill._own_copy(batches.batch(2)[np.array([0, 5])])
    batches.held[2] = None  # the batch itself let go of
    assert read.equals(whole[np.array([120, 125])])
    assert spill._own_copy(pl.DataFrame({"n": [1, 2]})).equals(pl.DataFrame({"n": [1, 2]}))
