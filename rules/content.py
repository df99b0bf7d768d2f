"""Rules about what a field contains."""

from __future__ import annotations

import polars as pl

from rules.base import Severity, rule


def _blank(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.len_chars().fill_null(0) == 0


@rule(Severity.DROP)
def empty_output() -> pl.Expr:
    """Output is blank after stripping whitespace."""
    return _blank("output")
