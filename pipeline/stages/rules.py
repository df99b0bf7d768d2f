"""Rules stage: every active rule adds one boolean column (True = problem).

Flag first, decide later: nothing is dropped here, so dedup can prefer the row
with the fewest problems and the report can count every rule, drop or flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from pipeline import columns as C
from rules import RULES

if TYPE_CHECKING:
    from pipeline.flow import Context


def apply_rules(lf: pl.LazyFrame, context: Context) -> pl.LazyFrame:
    """Row-local once the corpus-wide length statistics are in ``context`` (the
    stage's ``needs`` in ``pipeline.flow``)."""
    config = context.config
    return lf.with_columns(
        RULES[name].expr(config.rules).alias(C.rule_column(name)) for name in config.active_rules()
    )
