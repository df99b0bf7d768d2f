"""Benchmark contamination: the row contains an evaluation problem.

The match itself is found corpus-wide by ``pipeline/stages/decontaminate.py`` (one
hashed n-gram set for every benchmark, joined against the rows); the rule only reads
its column, so it can be switched to ``flag`` or ``off`` like any other rule.
"""

from __future__ import annotations

import polars as pl

from pipeline import columns as C
from rules.base import Severity, rule
from rules.params import RuleParams


def _decontaminating(params: RuleParams) -> bool:
    return params.decontaminating


@rule(Severity.DROP, when=_decontaminating)
def benchmark_overlap() -> pl.Expr:
    """The row contains a benchmark's text: it shares a normalised word n-gram with a row of a benchmark given with `--decontaminate`, or contains a short benchmark text whole.

    Dropped: training on a benchmark's problems inflates the scores measured on it.
    Not caught: paraphrases that share no n-gram. Must not catch common phrases
    ("Write a Python function that"): they are far shorter than 13 words, and short
    benchmark texts under ``short_min_words`` words are ignored. Runs only when
    benchmarks are given; rejected rows carry ``_benchmark`` and ``_benchmark_row``."""
    return pl.col(C.BENCHMARK).is_not_null()
