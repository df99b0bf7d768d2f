"""Decide: collapse the rule columns into ``_reasons`` (drop) and ``_flags`` (flag).

A row with any reason goes to rejected/; the rule columns themselves are kept
until the report has counted them, then dropped at write time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from pipeline import columns as C
from pipeline.report.model import DecideFacts, count_items
from pipeline.stages.name_lists import names_list
from rules import Severity

if TYPE_CHECKING:
    from pipeline.flow import Context


def _fired(names: list[str]) -> list[pl.Expr]:
    """Per rule, its name where it fired, else null (``names_list`` parts)."""
    return [pl.when(pl.col(C.rule_column(n))).then(pl.lit(n)) for n in names]


def decide(lf: pl.LazyFrame, context: Context) -> pl.LazyFrame:
    config = context.config
    active = config.active_rules()
    drop = [n for n in active if config.severity_of(n) is Severity.DROP]
    flag = [n for n in active if config.severity_of(n) is Severity.FLAG]
    return lf.with_columns(
        names_list([*_fired(drop), pl.col(C.DEDUP_REASON)]).alias(C.REASONS),
        names_list(_fired(flag)).alias(C.FLAGS),
    )


def split(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(clean, rejected), both in load order."""
    is_rejected = pl.col(C.REASONS).list.len() > 0
    return frame.filter(~is_rejected), frame.filter(is_rejected)


def decision_facts(frame: pl.DataFrame, context: Context) -> DecideFacts:
    clean, rejected = split(frame)
    return DecideFacts(clean=clean.height, rejected=rejected.height,
                       rejected_by_reason=count_items(rejected, C.REASONS), flagged_by_rule=count_items(frame, C.FLAGS))
