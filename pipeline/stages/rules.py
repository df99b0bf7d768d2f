"""Rules stage: every active rule adds one boolean column (True = problem).

Flag first, decide later: nothing is dropped here, so dedup can prefer the row
with the fewest problems and the report can count every rule, drop or flag.
"""

from __future__ import annotations

import polars as pl

from pipeline import columns as C
from pipeline.config import Config
from rules import RULES


def apply_rules(lf: pl.LazyFrame, config: Config) -> pl.LazyFrame:
    return lf.with_columns(
        RULES[name].expr(config.rules).alias(C.rule_column(name)) for name in config.active_rules()
    )
