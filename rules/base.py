"""The rule mechanism: a rule is a decorated function returning a boolean Polars
expression (True = problem), and the function's name is the rule's id.

A rule whose meaning changes gets a new name (``_v2``) instead of being edited in
place, so reports from different runs stay comparable.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from enum import Enum
from typing import Callable

import polars as pl


class Severity(str, Enum):
    DROP = "drop"  # the row goes to rejected/ with the rule in _reasons
    FLAG = "flag"  # the row stays clean; the rule is listed in _flags
    OFF = "off"  # not evaluated (only ever set by configuration)


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    description: str
    build: Callable[..., pl.Expr]
    takes_params: bool
    highlight: str | None = None  # regex marking the offending span in report examples
    when: Callable[..., bool] | None = None  # given the rule parameters: does the rule run at all

    def applies(self, params) -> bool:
        """False for a rule that has nothing to judge under these parameters
        (benchmark_overlap without benchmarks): it is left out, not reported as 0."""
        return self.when is None or bool(self.when(params))

    def expr(self, params) -> pl.Expr:
        """The rule's expression; a null result (null field) counts as not firing."""
        built = self.build(params) if self.takes_params else self.build()
        return built.fill_null(False)


RULES: dict[str, Rule] = {}

# Polite or framing words before an imperative ("Please draw", "Kindly write",
# "Task: create"), for rules that read the instruction's first verb.
LEAD_IN = r"(?:\s*(?:please|kindly|now|task|can you|could you|would you|you need to|i need you to|i want you to)\b[\s,:]*)*"


def rule(severity: Severity, highlight: str | None = None,
         when: Callable[..., bool] | None = None) -> Callable[[Callable[..., pl.Expr]], Callable[..., pl.Expr]]:
    """Register a rule. The function may take one argument, the rule parameters
    (``rules.params.RuleParams``), when it needs thresholds from the config.

    ``highlight`` is an optional regex (in the common subset of Python, Rust and
    JavaScript syntax) that marks the offending span when the report shows examples.
    ``when`` (given the rule parameters) says whether the rule runs at all.
    """

    def register(build: Callable[..., pl.Expr]) -> Callable[..., pl.Expr]:
        name = build.__name__
        if name in RULES:
            raise ValueError(f"rule {name!r} is defined twice")
        description = inspect.cleandoc(build.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        if not description:
            raise ValueError(f"rule {name!r} needs a docstring: it is shown in the report")
        takes_params = len(inspect.signature(build).parameters) == 1
        RULES[name] = Rule(name, severity, description, build, takes_params, highlight, when)
        return build

    return register


def on_selected(selected: pl.Expr, columns: list[str], check: Callable[[pl.DataFrame], pl.Series]) -> pl.Expr:
    """``check(frame)`` on the rows ``selected`` picks (a frame of ``columns``,
    nulls kept); False elsewhere. ``check`` returns one boolean per row it gets.

    For costly work that matters on a few rows: ``pl.when(selected).then(...)``
    would still compute the costly branch on every row. The rows are filtered
    inside one batch function instead, and only they are checked.
    """

    def run(batch: pl.Series) -> pl.Series:
        frame = batch.struct.unnest()
        picked = frame.get_column("_selected").fill_null(False)
        answers = pl.Series([False] * frame.height, dtype=pl.Boolean)
        if picked.any():
            found = check(frame.filter(picked).select(columns)).fill_null(False).cast(pl.Boolean)
            answers = answers.scatter(picked.arg_true(), found)
        return answers

    packed = pl.struct(selected.alias("_selected"), *columns)
    return packed.map_batches(run, return_dtype=pl.Boolean, is_elementwise=True)


def only_where(selected: pl.Expr, check: pl.Expr) -> pl.Expr:
    """The expression ``check``, evaluated (vectorised) only on the rows
    ``selected`` picks; False elsewhere. See ``on_selected``."""
    columns = sorted(set(check.meta.root_names()))
    return on_selected(selected, columns, lambda frame: frame.select(check).to_series())


def python_check(prefilter: pl.Expr, columns: list[str], check: Callable[..., bool]) -> pl.Expr:
    """A rule part that needs Python, run row by row on the rows ``prefilter``
    selects: ``check`` gets the row's ``columns`` as arguments (nulls as "")."""

    def rows(frame: pl.DataFrame) -> pl.Series:
        answers = [bool(check(*row)) for row in frame.fill_null("").iter_rows()]
        return pl.Series(answers, dtype=pl.Boolean)

    return on_selected(prefilter, columns, rows)
