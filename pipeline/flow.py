"""The pipeline, declared once: the stages every engine walks, in order.

    sources -> load -> validate -> [ normalise -> tokens -> decontaminate -> rules -> dedup -> decide ] -> write -> report

Load and validate turn sources into rows (and quarantine); the stages in
``STAGES`` judge the rows; publishing writes them. The local engine, refresh and
the Ray engine all walk ``STAGES``; none of them lists or orders stages itself.
A new stage is one more entry here.

A stage is **row-local** unless it says ``corpus_wide=True``: a row-local stage
gives each row the same result whether it sees the whole corpus or one batch of
it, so engines may run it batch by batch. A row-local stage can still depend on
numbers about the whole corpus (``needs``): a ``CorpusFact`` says what each batch
contributes and how the summed parts settle the stage's context, and engines
compute it before running the stage. A corpus-wide stage (dedup) needs every row
at once; the Ray engine runs its distributed form (``pipeline.engines.ray``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Protocol

import polars as pl

from pipeline.config import Config
from pipeline.dedup.dedup import dedup, dedup_facts
from pipeline.report.model import Facts
from pipeline.stages.decide import decide, decision_facts
from pipeline.stages.decontaminate import decontamination_facts, mark_benchmark_overlap
from pipeline.stages.normalise import normalise, normalise_facts
from pipeline.stages.rules import apply_rules, rule_facts
from pipeline.stages.tokens import count_stage, token_facts
from rules.length import length_histogram, outlier_centres


class PublishedRows(Protocol):
    """Rows an earlier version already published (refresh): dedup compares new rows
    with them and never takes them back."""

    def near(self, keys: pl.DataFrame, bands: pl.Series | None) -> pl.DataFrame:
        """Texts and lineage of the published rows that may duplicate rows with these
        ``content``/``prompt`` hashes (``keys``) and LSH band keys (``bands``)."""
        ...


@dataclass(frozen=True)
class Context:
    """What a stage reads besides its rows."""

    config: Config
    published: PublishedRows | None = None  # refresh only


@dataclass(frozen=True)
class CorpusFact:
    """A number about the whole corpus that a row-local stage needs first.

    ``part`` is one batch's contribution (a small frame); the parts of all batches,
    concatenated, ``settle`` the context the stage then runs with. A whole frame is
    one batch, so every engine gets the same floats.
    """

    name: str
    part: Callable[[pl.DataFrame], pl.DataFrame]
    settle: Callable[[Context, pl.DataFrame], Context]


@dataclass(frozen=True)
class Stage:
    """``run`` adds columns to the rows; ``facts`` reads what it found from those
    columns (they are kept to the end), for the report. A corpus-wide stage's facts
    need whole groups of rows (dedup: whole clusters)."""

    name: str
    run: Callable[[pl.LazyFrame, Context], pl.LazyFrame]
    facts: Callable[[pl.DataFrame, Context], Facts]
    needs: CorpusFact | None = None
    corpus_wide: bool = False

    def settled(self, context: Context, parts: list[pl.DataFrame]) -> Context:
        """The context this stage runs with, given every batch's part of ``needs``."""
        if self.needs is None:
            return context
        return self.needs.settle(context, pl.concat(parts, how="vertical_relaxed"))

    def apply(self, frame: pl.DataFrame, context: Context) -> pl.DataFrame:
        """The stage on a whole frame: its needs measured on that frame, then the stage."""
        parts = [self.needs.part(frame)] if self.needs is not None else []
        return self.run(frame.lazy(), self.settled(context, parts)).collect()


def _with_outlier_centres(context: Context, histogram: pl.DataFrame) -> Context:
    config = context.config
    rules = config.rules.with_outlier_centres(outlier_centres(histogram))
    return replace(context, config=config.model_copy(update={"rules": rules}))


# length_outlier compares each row with the median and MAD of the whole run's
# token lengths: summed per-batch histograms give them exactly.
LENGTH_STATISTICS = CorpusFact("length statistics", length_histogram, _with_outlier_centres)

STAGES: tuple[Stage, ...] = (
    Stage("normalise", normalise, normalise_facts),
    Stage("tokens", count_stage, token_facts),  # before rules: too_long and length_outlier read the counts
    Stage("decontaminate", mark_benchmark_overlap, decontamination_facts),  # before rules: benchmark_overlap reads its columns
    Stage("rules", apply_rules, rule_facts, needs=LENGTH_STATISTICS),
    Stage("dedup", dedup, dedup_facts, corpus_wide=True),  # after rules: the best row of a cluster survives
    Stage("decide", decide, decision_facts),
)


def facts_of(frame: pl.DataFrame, context: Context, corpus_wide: bool) -> dict[str, Facts]:
    """The facts of the row-local stages (or of the corpus-wide ones) on rows that
    went through every stage, by stage name (the fields of ``RunFacts``)."""
    return {stage.name: stage.facts(frame, context) for stage in STAGES if stage.corpus_wide == corpus_wide}


def stages_before(name: str) -> tuple[Stage, ...]:
    """The stages that run before the stage called ``name`` (tests prepare its input with them)."""
    names = [stage.name for stage in STAGES]
    return STAGES[: names.index(name)]
