"""Length rules, read from the token columns the tokens stage adds
(``pipeline/stages/tokens.py``): ``too_long`` and ``length_outlier``.

Also the report's ``tokens`` section: percentiles, the share of rows training
would truncate at common sequence lengths, log-spaced histograms, and the
outlier cut-offs in tokens.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from rules.base import Severity, rule
from rules.params import RuleParams

TOKEN_FIELDS = ("instruction", "input", "output", "prompt", "total")
OUTLIER_FIELDS = ("instruction", "input", "output")
HISTOGRAM_FIELDS = ("instruction", "input", "output", "total")
TRUNCATION_LENGTHS = (256, 512, 1024, 2048)
HISTOGRAM_BINS = 24
_MAD_TO_SIGMA = 1.4826  # scales a median absolute deviation to a normal standard deviation


def token_column(field: str) -> str:
    return f"_tokens_{field}"


@rule(Severity.DROP)
def too_long(params: RuleParams) -> pl.Expr:
    """Prompt + response + EOS exceed the training ``max_seq_len``, so training would cut the response.

    Dropped: a truncated response teaches the model to stop mid-thought (and,
    without its EOS, never to stop). Raise ``[tokens] max_seq_len`` to keep them."""
    return pl.col(token_column("total")) > params.max_seq_len


def _log_length(field: str) -> pl.Expr:
    return pl.col(token_column(field)).cast(pl.Float64).log1p()


def _judged(field: str) -> pl.Expr:
    """An empty input is the normal case, not a short outlier: inputs are judged
    only where present."""
    return pl.col(token_column(field)) > 0 if field == "input" else pl.lit(True)


def _centre(field: str, params: RuleParams) -> tuple[pl.Expr, pl.Expr]:
    """(median, median absolute deviation) of log1p(tokens) of the judged rows:
    over the frame itself, or the corpus-wide values given in ``params``."""
    if params.outlier_centres is not None:
        median, mad = params.outlier_centres[field]
        return pl.lit(median, dtype=pl.Float64), pl.lit(mad, dtype=pl.Float64)
    values = _log_length(field).filter(_judged(field))
    median = values.median()
    return median, (values - median).abs().median()


def _robust_bounds(field: str, params: RuleParams) -> tuple[pl.Expr, pl.Expr]:
    """(low, high) cut-offs on log1p(tokens): median -/+ k scaled MADs."""
    median, mad = _centre(field, params)
    spread = mad * _MAD_TO_SIGMA
    # A field whose lengths barely vary has a MAD near 0; a floor keeps one token
    # more than usual from being an outlier.
    spread = pl.max_horizontal(spread, pl.lit(0.1))
    k = params.length_outlier_mads
    return median - k * spread, median + k * spread


def _field_outlier(field: str, params: RuleParams) -> pl.Expr:
    low, high = _robust_bounds(field, params)
    value = _log_length(field)
    outside = value > high
    if params.length_outlier_low:
        outside = outside | (value < low)
    return _judged(field) & outside


@rule(Severity.OFF)
def length_outlier(params: RuleParams) -> pl.Expr:
    """A field's token length is a robust outlier for that field (median absolute deviation on log length).

    Unusual length is a reason to look, not proof of a defect. Judged per field
    (instruction, input, output) over the whole run. Retired (off unless the
    config turns it on): read on real data it was right 0 times in 54; on Alpaca
    it meant "an instruction longer than about 34 tokens", on code sets "code in
    the prompt". The length statistics it reads stay in the report."""
    return pl.any_horizontal(_field_outlier(field, params) for field in OUTLIER_FIELDS)


def length_histogram(frame: pl.DataFrame) -> pl.DataFrame:
    """(field, tokens, rows) over the judged rows of ``frame``: the per-batch part
    of ``length_outlier``'s statistics. Token counts are integers with few
    distinct values, so histograms of batches add up to the corpus's."""
    parts = [
        frame.filter(_judged(field)).group_by(pl.col(token_column(field)).alias("tokens")).agg(pl.len().alias("rows"))
        .select(pl.lit(field).alias("field"), pl.col("tokens").cast(pl.Int64), pl.col("rows").cast(pl.Int64))
        for field in OUTLIER_FIELDS
    ]
    return pl.concat(parts)


def _weighted_median(values: pl.Series, counts: pl.Series) -> float | None:
    """The median of ``values`` repeated ``counts`` times, computed as Polars
    computes a column's median (the middle value, or the two middle values
    interpolated by Polars itself), so the result is the same float."""
    order = values.arg_sort()
    values, counts = values.gather(order), counts.gather(order)
    total = int(counts.sum() or 0)
    if total == 0:
        return None
    ends = counts.cum_sum().to_numpy()
    middle = sorted({(total - 1) // 2, total // 2})
    picked = [values[int(np.searchsorted(ends, position, side="right"))] for position in middle]
    return pl.Series(picked, dtype=pl.Float64).median()


def outlier_centres(histogram: pl.DataFrame) -> dict[str, tuple[float | None, float | None]]:
    """The global part of ``length_outlier``: per field, (median, MAD) of
    log1p(tokens) from the summed histograms of all batches, equal to what the
    rule computes over one whole frame."""
    centres = {}
    for field in OUTLIER_FIELDS:
        counts = histogram.filter(pl.col("field") == field).group_by("tokens").agg(pl.col("rows").sum())
        logs = counts.select(pl.col("tokens").cast(pl.Float64).log1p()).to_series()
        median = _weighted_median(logs, counts.get_column("rows"))
        if median is None:
            centres[field] = (None, None)
            continue
        deviations = (logs - median).abs()
        centres[field] = (median, _weighted_median(deviations, counts.get_column("rows")))
    return centres


# --- report ------------------------------------------------------------------------


def _summary(values: pl.Series) -> dict:
    if values.is_empty():
        return {"p50": 0, "p90": 0, "p99": 0, "max": 0, "mean": 0.0}
    return {
        "p50": int(values.quantile(0.5, "nearest")),
        "p90": int(values.quantile(0.9, "nearest")),
        "p99": int(values.quantile(0.99, "nearest")),
        "max": int(values.max()),
        "mean": round(float(values.mean()), 2),
    }


def _histogram(values: pl.Series) -> dict:
    """Counts over log-spaced bins from 1 token to the maximum (0 falls in the first bin)."""
    top = max(int(values.max() or 1), 2)
    edges = np.unique(np.round(np.logspace(0, math.log10(top + 1), HISTOGRAM_BINS + 1), 2))
    edges[0] = 0.0
    counts, _ = np.histogram(values.to_numpy(), bins=edges)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def outlier_thresholds(frame: pl.DataFrame, params: RuleParams) -> dict:
    """The length_outlier cut-offs per field, in tokens (low is null when short
    fields are not flagged)."""
    thresholds = {}
    for field in OUTLIER_FIELDS:
        low, high = _robust_bounds(field, params)
        bounds = frame.select(low.alias("low"), high.alias("high")).row(0, named=True)
        if bounds["high"] is None:
            thresholds[field] = {"low": None, "high": 0.0}
            continue
        thresholds[field] = {
            "low": round(math.expm1(bounds["low"]), 2) if params.length_outlier_low else None,
            "high": round(math.expm1(bounds["high"]), 2),
        }
    return thresholds


def token_report(frame: pl.DataFrame, params: RuleParams, tokenizer: str) -> dict:
    """``report["tokens"]``: the token columns summarised."""
    total = frame.get_column(token_column("total"))
    rows = max(frame.height, 1)
    return {
        "tokenizer": tokenizer,
        "max_seq_len": params.max_seq_len,
        "fields": {field: _summary(frame.get_column(token_column(field))) for field in TOKEN_FIELDS},
        "truncated_share": {str(n): round(int((total > n).sum()) / rows, 6) for n in TRUNCATION_LENGTHS},
        "histograms": {field: _histogram(frame.get_column(token_column(field))) for field in HISTOGRAM_FIELDS}
        if frame.height
        else {},
        "outlier_thresholds": outlier_thresholds(frame, params) if frame.height else {},
    }
