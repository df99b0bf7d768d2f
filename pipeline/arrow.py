"""NumPy arrays to and from Arrow by way of Polars, without a copy.

pyarrow's own conversions (``pa.array`` of a NumPy array, ``Array.to_numpy``)
import pandas on first use, to check for pandas input: a third of a second of
CPU and tens of MB in every run, for nothing (``tests/test_cli.py`` checks that
a run never imports pandas).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa


def arrow_array(values: np.ndarray) -> pa.Array:
    return pl.Series(values).to_arrow()


def numpy_array(array: pa.Array) -> np.ndarray:
    return pl.Series(array).to_numpy()
