"""The run's report (``report.json``), formatted from the stages' merged facts.

Nothing here reads a row: every number comes from ``RunFacts`` (see
``pipeline.report.model``), which the stages produced while they ran. Renderers
(HTML, Markdown, the terminal summary) read the report's JSON form.
"""

from __future__ import annotations

import math
import platform
from importlib import metadata

import numpy as np
import polars as pl
from pydantic import BaseModel

from pipeline import columns as C
from pipeline.config import Config
from pipeline.dedup.dedup import CONFLICTING, EXACT, NEAR, REASONS, band_shape
from pipeline.report.model import EXAMPLE_CLUSTERS, DedupFacts, FiredRule, NormaliseFacts, RunFacts, ValueCounts
from rules import RULES
from pipeline.stages.decontaminate import decontamination_section
from rules.measured import measured_precision
from rules.length import TOKEN_FIELDS, token_column, token_report


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("curate", "polars", "pydantic", "datasketch", "tokenizers", "langdetect"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def most_first(counts: dict[str, int]) -> dict[str, int]:
    """Largest count first, ties by name: the order every count table is shown in."""
    return {name: n for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))}


def expanded(counts: ValueCounts) -> pl.Series:
    """The values of a value count, each repeated by its rows, in ascending order:
    order-free statistics (quantiles, mean, histograms) equal those of the rows."""
    values = np.array(sorted(counts), dtype=np.int64)
    return pl.Series(np.repeat(values, [counts[v] for v in values]) if len(values) else values, dtype=pl.Int64)


def rule_section(fired: dict[str, FiredRule], rows: int, config: Config) -> list[dict]:
    """One entry per active rule: severity, how often it fired, a few examples, and
    its precision measured by reading real data (``make eval``), where measured."""
    section = []
    for name in config.active_rules():
        facts = fired.get(name, FiredRule())
        section.append(
            {
                "rule": name,
                "severity": config.severity_of(name).value,
                "description": RULES[name].description,
                "highlight": RULES[name].highlight,
                "count": facts.count,
                "share": round(facts.count / rows, 6) if rows else 0.0,
                "examples": facts.examples,
                "precision": measured_precision(name),
            }
        )
    return section


def log_edges(largest: int) -> list[float]:
    """Bin edges 0, 1, then powers of sqrt(2) up past ``largest``.

    Fixed edges that do not depend on the data keep reports comparable across
    runs; the first bin [0, 1) holds the empty fields, which a log scale cannot.
    """
    edges = [0.0, 1.0]
    steps = math.ceil(2 * math.log2(largest + 1)) + 1 if largest > 0 else 1
    edges += [round(2 ** (k / 2), 2) for k in range(1, steps + 1)]
    return edges


def histogram(lengths: pl.Series) -> dict:
    """Counts per log-spaced bin: [edge_i, edge_i+1) with the last bin closed."""
    largest = int(lengths.max() or 0)
    edges = log_edges(largest)
    index = pl.Series(edges[1:-1]).search_sorted(lengths, side="right")
    counted = dict(index.value_counts().iter_rows())
    bins = [int(counted.get(i, 0)) for i in range(len(edges) - 1)]
    return {"edges": edges, "counts": bins}


def length_stats(lengths: pl.Series) -> dict:
    if lengths.is_empty():
        return {"p50": 0, "p90": 0, "p99": 0, "max": 0, "mean": 0.0}
    quantile = lambda q: int(lengths.quantile(q, interpolation="lower"))  # noqa: E731
    return {"p50": quantile(0.5), "p90": quantile(0.9), "p99": quantile(0.99),
            "max": int(lengths.max()), "mean": round(float(lengths.mean()), 2)}


def lengths_section(facts: NormaliseFacts) -> dict:
    """Character lengths per field over every row that passed validation,
    aggregated to percentiles and a histogram so the report stays small."""
    fields, histograms = {}, {}
    for field in (*C.FIELDS, "total"):
        lengths = expanded(facts.lengths.get(field, {}))
        fields[field] = length_stats(lengths)
        histograms[field] = histogram(lengths)
    return {"unit": "characters", "rows": facts.rows, "fields": fields, "histograms": histograms}


def tokens_section(counts: dict[str, ValueCounts], config: Config) -> dict:
    """``rules.length.token_report`` over the token counts: each of its figures
    reads one column at a time, so columns rebuilt from the value counts give
    the figures of the rows themselves."""
    frame = pl.DataFrame({token_column(field): expanded(counts.get(field, {})) for field in TOKEN_FIELDS})
    return token_report(frame, config.rules, config.tokens.tokenizer)


def example_clusters(facts: DedupFacts) -> list[dict]:
    """Up to ``EXAMPLE_CLUSTERS`` examples, taking the reasons in turn so that every
    kind of duplicate is shown, the largest clusters first."""
    queues = {reason: sorted((c for c in facts.candidates if c.reason == reason),
                             key=lambda c: (-c.removed_rows, c.cluster)) for reason in REASONS}
    chosen: list[dict] = []
    while len(chosen) < EXAMPLE_CLUSTERS and any(queues.values()):
        for reason in (NEAR, CONFLICTING, EXACT):
            if queues[reason] and len(chosen) < EXAMPLE_CLUSTERS:
                chosen.append(queues[reason].pop(0).example)
    return chosen


def dedup_section(facts: DedupFacts, config: Config) -> dict:
    """Clusters, rows removed per reason, cluster sizes, the settings used (with
    the derived bands and rows) and example clusters."""
    bands, rows = band_shape(config.dedup)
    return {
        "clusters": facts.clusters,
        "rows_removed": {**{reason: 0 for reason in REASONS}, **facts.rows_removed},
        "cluster_sizes": {str(size): count for size, count in sorted(facts.cluster_sizes.items())},
        "config": {**config.dedup.model_dump(mode="json"), "bands": bands, "rows": rows},
        "examples": example_clusters(facts),
    }


class Report(BaseModel):
    """``report.json``. Sections are plain data: they are already formatted."""

    inputs: list[str]
    shapes: list[dict]  # each source's detected shape and field mapping
    counts: dict[str, int | bool]
    rejected_by_reason: dict[str, int]
    flagged_by_rule: dict[str, int]
    rules: list[dict]
    repairs: dict[str, int]
    tokens: dict
    languages: dict[str, int]
    quarantine: dict
    lengths: dict
    dedup: dict
    decontamination: dict | None = None  # only with benchmarks (--decontaminate)
    timings_s: dict[str, float]
    config: dict
    versions: dict[str, str]
    refresh: dict | None = None  # refresh only

    def as_json(self) -> dict:
        data = self.model_dump(mode="json")
        for optional in ("refresh", "decontamination"):
            if data[optional] is None:
                del data[optional]
        return data


def build_report(facts: RunFacts, config: Config, timings: dict[str, float], inputs: list[str],
                 shapes: list[dict]) -> Report:
    decided = facts.decide
    counts = {
        "rows_in": decided.clean + decided.rejected + facts.quarantine.count,
        "clean": decided.clean,
        "rejected": decided.rejected,
        "quarantined": facts.quarantine.count,
    }
    counts["reconciled"] = counts["rows_in"] == counts["clean"] + counts["rejected"] + counts["quarantined"]
    return Report(
        inputs=inputs,
        shapes=shapes,
        counts=counts,
        rejected_by_reason=most_first(decided.rejected_by_reason),
        flagged_by_rule=most_first(decided.flagged_by_rule),
        rules=rule_section(facts.rules.fired, decided.clean + decided.rejected, config),
        repairs=most_first(facts.normalise.repairs),
        tokens=tokens_section(facts.tokens.counts, config),
        languages=most_first(facts.rules.languages),
        quarantine={"count": facts.quarantine.count, "by_error": most_first(facts.quarantine.by_error),
                    "examples": facts.quarantine.examples},
        lengths=lengths_section(facts.normalise),
        dedup=dedup_section(facts.dedup, config),
        decontamination=decontamination_section(facts.decontaminate, config),
        timings_s={name: round(seconds, 4) for name, seconds in timings.items()},
        config=config.model_dump(mode="json"),
        versions=versions(),
    )
