"""Typed facts: what each stage found, in a form that adds up across batches.

A stage's facts are read from the columns it added, on a batch of rows (a whole
frame is one batch). Facts of batches, or of Ray partitions, combine with one
function, ``merge``; the report (``pipeline.report.build``) only formats the
merged facts and never goes back to the rows.

How fields combine is decided by their type, so a new fact needs no new merge
code: numbers add, dictionaries merge key by key, lists concatenate; a list
annotated with ``Keep`` is then cut back by that rule (the first N examples in
load order, or the best candidates). Batches must be merged in load order for
"first N" to mean the first rows read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Callable

import polars as pl
from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Keep:
    """After merging, keep only ``rule(list)`` of a list field."""

    rule: Callable[[list], list]


def first(n: int) -> Keep:
    return Keep(lambda items: items[:n])


ValueCounts = dict[int, int]  # value (a length in characters or tokens) -> rows


class Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NormaliseFacts(Facts):
    rows: int = 0  # valid rows seen
    repairs: dict[str, int] = Field(default_factory=dict)  # repair -> rows it changed
    lengths: dict[str, ValueCounts] = Field(default_factory=dict)  # field (and "total") -> character lengths


class TokenFacts(Facts):
    counts: dict[str, ValueCounts] = Field(default_factory=dict)  # field -> token counts


class FiredRule(Facts):
    count: int = 0
    examples: Annotated[list[dict], first(3)] = Field(default_factory=list)


class RuleFacts(Facts):
    fired: dict[str, FiredRule] = Field(default_factory=dict)  # every active rule, fired or not
    languages: dict[str, int] = Field(default_factory=dict)


class ExampleCluster(Facts):
    cluster: int
    reason: str
    removed_rows: int  # rows the survivor replaced (all of them, not only those shown)
    example: dict  # survivor and (some) removed rows, each removed row with its similarity


EXAMPLE_CLUSTERS = 10


def best_candidates(candidates: list[ExampleCluster]) -> list[ExampleCluster]:
    """Per reason, the ``EXAMPLE_CLUSTERS`` largest clusters (smallest id first on
    ties): every cluster the report could show, whatever the other partitions hold."""
    kept = []
    for reason in sorted({c.reason for c in candidates}):
        mine = sorted((c for c in candidates if c.reason == reason), key=lambda c: (-c.removed_rows, c.cluster))
        kept += mine[:EXAMPLE_CLUSTERS]
    return kept


class DedupFacts(Facts):
    clusters: int = 0
    rows_removed: dict[str, int] = Field(default_factory=dict)
    cluster_sizes: dict[int, int] = Field(default_factory=dict)  # rows in a cluster -> clusters
    candidates: Annotated[list[ExampleCluster], Keep(best_candidates)] = Field(default_factory=list)


class DecideFacts(Facts):
    clean: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    flagged_by_rule: dict[str, int] = Field(default_factory=dict)


class QuarantineFacts(Facts):
    count: int = 0
    by_error: dict[str, int] = Field(default_factory=dict)
    examples: Annotated[list[dict], first(10)] = Field(default_factory=list)


class BenchmarkFacts(Facts):
    matched_rows: int = 0
    benchmark_rows: dict[int, int] = Field(default_factory=dict)  # benchmark row -> rows of ours that match it
    examples: Annotated[list[dict], first(5)] = Field(default_factory=list)


class DecontaminationFacts(Facts):
    benchmarks: dict[str, BenchmarkFacts] = Field(default_factory=dict)  # benchmark name -> its matches


class RunFacts(Facts):
    """Everything the report shows about the rows: one field per stage that hands facts."""

    quarantine: QuarantineFacts = Field(default_factory=QuarantineFacts)
    normalise: NormaliseFacts = Field(default_factory=NormaliseFacts)
    tokens: TokenFacts = Field(default_factory=TokenFacts)
    decontaminate: DecontaminationFacts = Field(default_factory=DecontaminationFacts)
    rules: RuleFacts = Field(default_factory=RuleFacts)
    dedup: DedupFacts = Field(default_factory=DedupFacts)
    decide: DecideFacts = Field(default_factory=DecideFacts)


def merge(a: Any, b: Any) -> Any:
    """``a`` and ``b`` (facts of two batches, ``a`` read first) as one."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, BaseModel):
        merged = {}
        for name, field in type(a).model_fields.items():
            value = merge(getattr(a, name), getattr(b, name))
            for keep in (m for m in field.metadata if isinstance(m, Keep)):
                value = keep.rule(value)
            merged[name] = value
        return type(a).model_construct(**merged)
    if isinstance(a, dict):
        return {key: merge(a.get(key), b.get(key)) for key in a | b}
    if isinstance(a, list):
        return a + b
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return a + b
    if a == b:
        return a
    raise ValueError(f"cannot merge {a!r} with {b!r}")


def merge_all(parts: list) -> Any:
    merged = None
    for part in parts:
        merged = merge(merged, part)
    return merged


# ---------------------------------------------------------------- helpers for stages


def count_items(frame: pl.DataFrame, column: str) -> dict[str, int]:
    """How many rows hold each value of the list column ``column``."""
    if frame.is_empty():
        return {}
    counted = frame.select(pl.col(column).explode().drop_nulls().value_counts()).unnest(column)
    return {str(name): int(n) for name, n in counted.iter_rows()}


def value_counts(values: pl.Series) -> ValueCounts:
    """Rows per value of an integer Series."""
    counted = values.value_counts()
    return {int(value): int(n) for value, n in counted.iter_rows()}
