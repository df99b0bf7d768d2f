"""The run's report data (``report.json``): counts, rules, timings, config, versions.

Everything a reader of the report needs is computed here, once, from the decided
frame; renderers (HTML, Markdown) only format this dictionary.
"""

from __future__ import annotations

import platform
from importlib import metadata

import math

import polars as pl

from pipeline import columns as C
from pipeline.config import Config
from pipeline.dedup import dedup_report
from pipeline.examples import clip, clipped
from pipeline.stages.decontaminate import decontamination_report
from rules import RULES
from rules.language import language_counts
from rules.length import token_report

EXAMPLES_PER_RULE = 3


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("curate", "polars", "pydantic", "datasketch", "tokenizers", "langdetect"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def example_rows(frame: pl.DataFrame, limit: int = EXAMPLES_PER_RULE) -> list[dict]:
    rows = frame.head(limit).select(C.SOURCE, C.ROW, *C.FIELDS).to_dicts()
    return [clipped(row) for row in rows]


def rule_section(frame: pl.DataFrame, config: Config) -> list[dict]:
    """One entry per active rule: severity, how often it fired, a few examples."""
    section = []
    for name in config.active_rules():
        fired = frame.filter(pl.col(C.rule_column(name)))
        section.append(
            {
                "rule": name,
                "severity": config.severity_of(name).value,
                "description": RULES[name].description,
                "highlight": RULES[name].highlight,
                "count": fired.height,
                "share": round(fired.height / frame.height, 6) if frame.height else 0.0,
                "examples": example_rows(fired),
            }
        )
    return section


def count_reasons(rows: pl.DataFrame, column: str) -> dict[str, int]:
    if rows.is_empty():
        return {}
    counted = rows.select(pl.col(column).explode().drop_nulls().value_counts(sort=True)).unnest(column)
    return {name: int(n) for name, n in sorted(counted.iter_rows(), key=lambda item: (-item[1], item[0]))}


def repairs_section(frame: pl.DataFrame) -> dict[str, int]:
    return count_reasons(frame, C.REPAIRS)


def error_kind(error: pl.Expr) -> pl.Expr:
    """The error without its particulars, for counting: "output: Field required",
    "line is not valid JSON", "record is not a JSON object"."""
    first = error.str.split("; ").list.first()
    general = first.str.replace(r"\s*\(.*", "").str.split(": ").list.first()
    is_field = first.str.contains(r"^(instruction|input|output): ")
    return pl.when(is_field).then(first).otherwise(general)


def quarantine_section(quarantine: pl.DataFrame, limit: int = 10) -> dict:
    kinds = quarantine.select(error_kind(pl.col(C.ERROR)).alias("kind"))["kind"].value_counts()
    return {
        "count": quarantine.height,
        "by_error": {str(k): int(n) for k, n in sorted(kinds.iter_rows(), key=lambda item: (-item[1], item[0]))},
        "examples": [{**row, C.RAW: clip(row[C.RAW])} for row in quarantine.head(limit).to_dicts()],
    }


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


def lengths_section(frame: pl.DataFrame) -> dict:
    """Character lengths per field over every row that passed validation,
    aggregated to percentiles and a histogram so the report stays small."""
    fields = {}
    histograms = {}
    for field in (*C.FIELDS, "total"):
        if field == "total":
            lengths = frame.select(pl.sum_horizontal(pl.col(f).str.len_chars().fill_null(0) for f in C.FIELDS)).to_series()
        else:
            lengths = frame.get_column(field).str.len_chars().fill_null(0)
        fields[field] = length_stats(lengths)
        histograms[field] = histogram(lengths)
    return {"unit": "characters", "rows": frame.height, "fields": fields, "histograms": histograms}


def build_report(frame: pl.DataFrame, clean: pl.DataFrame, rejected: pl.DataFrame, quarantine: pl.DataFrame,
                 config: Config, timings: dict[str, float], inputs: list[str]) -> dict:
    counts = {
        "rows_in": frame.height + quarantine.height,
        "clean": clean.height,
        "rejected": rejected.height,
        "quarantined": quarantine.height,
    }
    counts["reconciled"] = counts["rows_in"] == counts["clean"] + counts["rejected"] + counts["quarantined"]
    return {
        "inputs": inputs,
        "counts": counts,
        "rejected_by_reason": count_reasons(rejected, C.REASONS),
        "flagged_by_rule": count_reasons(frame, C.FLAGS),
        "rules": rule_section(frame, config),
        "repairs": repairs_section(frame),
        "tokens": token_report(frame, config.rules, config.tokens.tokenizer),
        "languages": language_counts(frame, config.rules),
        "quarantine": quarantine_section(quarantine),
        "lengths": lengths_section(frame),
        "dedup": dedup_report(frame, config),
        **({"decontamination": decontamination_report(frame, config)} if config.decontamination.benchmarks else {}),
        "timings_s": {name: round(seconds, 4) for name, seconds in timings.items()},
        "config": config.model_dump(mode="json"),
        "versions": versions(),
    }
