"""Rules stage: every active rule adds one boolean column (True = problem).

Flag first, decide later: nothing is dropped here, so dedup can prefer the row
with the fewest problems and the report can count every rule, drop or flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from pipeline import columns as C
from pipeline.report.examples import clipped
from pipeline.report.model import FiredRule, RuleFacts
from rules import RULES
from rules.language import language_counts

if TYPE_CHECKING:
    from pipeline.flow import Context


def apply_rules(lf: pl.LazyFrame, context: Context) -> pl.LazyFrame:
    """Row-local once the corpus-wide length statistics are in ``context`` (the
    stage's ``needs`` in ``pipeline.flow``)."""
    config = context.config
    return lf.with_columns(
        RULES[name].expr(config.rules).alias(C.rule_column(name)) for name in config.active_rules()
    )


EXAMPLES_PER_RULE = 3


def rule_facts(frame: pl.DataFrame, context: Context) -> RuleFacts:
    """Per active rule, how often it fired and its first examples; rows per language."""
    config = context.config
    fired = {}
    for name in config.active_rules():
        rows = frame.filter(pl.col(C.rule_column(name)))
        examples = [clipped(row) for row in rows.head(EXAMPLES_PER_RULE).select(C.SOURCE, C.ROW, *C.FIELDS).to_dicts()]
        fired[name] = FiredRule(count=rows.height, examples=examples)
    return RuleFacts(fired=fired, languages=language_counts(frame, config.rules))
