"""Dedup: exact duplicates, with the best row of each cluster surviving.

Runs after the rules so that the survivor is the best row (fewest rules fired,
then the most informative output), not merely the first one read. Ties go to the
row read first, so the result does not depend on anything but the input order.
"""

from __future__ import annotations

import polars as pl

from pipeline import columns as C
from pipeline.config import Config


def _comparable(column: str) -> pl.Expr:
    """Case and whitespace differences do not make a different record."""
    return pl.col(column).str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def quality_rank(config: Config) -> list[pl.Expr]:
    """Sort keys that put the best row of a cluster first."""
    rule_columns = [C.rule_column(name) for name in config.active_rules()]
    drop_columns = [C.rule_column(n) for n in config.active_rules() if config.severity_of(n).value == "drop"]
    drops = pl.sum_horizontal(drop_columns) if drop_columns else pl.lit(0)
    fired = pl.sum_horizontal(rule_columns) if rule_columns else pl.lit(0)
    informative = pl.col("output").str.len_chars().cast(pl.Int64)
    return [drops, fired, -informative, pl.col(C.ORDER)]


def mark_exact_duplicates(frame: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Add ``_cluster``, ``_duplicate_of`` and ``_dedup_reason`` for exact copies."""
    key = pl.struct([_comparable(c) for c in C.FIELDS]).hash(seed=0)
    ranked = frame.with_columns(_key=key).sort(quality_rank(config), maintain_order=True)
    survivor = pl.struct(pl.col(C.SOURCE).first(), pl.col(C.ROW).first()).over("_key")
    ranked = ranked.with_columns(
        pl.col(C.ORDER).first().over("_key").alias(C.CLUSTER),
        survivor.alias(C.DUPLICATE_OF),
        (pl.col(C.ORDER) != pl.col(C.ORDER).first().over("_key")).alias("_is_copy"),
        pl.len().over("_key").alias("_cluster_size"),
    )
    return (
        ranked.with_columns(
            pl.when(pl.col("_is_copy")).then(pl.lit("exact_duplicate")).alias(C.DEDUP_REASON),
            pl.when(pl.col("_cluster_size") > 1).then(pl.col(C.CLUSTER)).alias(C.CLUSTER),
            pl.when(pl.col("_is_copy")).then(pl.col(C.DUPLICATE_OF)).alias(C.DUPLICATE_OF),
        )
        .drop("_key", "_is_copy", "_cluster_size")
        .sort(C.ORDER)
    )


def dedup(lf: pl.LazyFrame, config: Config) -> pl.LazyFrame:
    """Mark duplicates; decide moves them to rejected/. Needs the whole column, so
    it collects."""
    frame = lf.collect()
    if config.dedup.exact:
        frame = mark_exact_duplicates(frame, config)
    else:
        frame = frame.with_columns(
            pl.lit(None, pl.String).alias(C.DEDUP_REASON),
            pl.lit(None, pl.Int64).alias(C.CLUSTER),
            pl.lit(None, pl.Struct({C.SOURCE: pl.String, C.ROW: pl.Int64})).alias(C.DUPLICATE_OF),
        )
    return frame.lazy()
