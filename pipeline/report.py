"""The run's report data (``report.json``): counts, rules, timings, config, versions.

Everything a reader of the report needs is computed here, once, from the decided
frame; renderers (HTML, Markdown) only format this dictionary.
"""

from __future__ import annotations

import platform
from importlib import metadata

import polars as pl

from pipeline import columns as C
from pipeline.config import Config
from pipeline.dedup import dedup_report
from rules import RULES

EXAMPLES_PER_RULE = 3
EXAMPLE_CHARS = 300


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("curate", "polars", "pydantic", "datasketch", "tokenizers", "langdetect"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= EXAMPLE_CHARS:
        return text
    return text[:EXAMPLE_CHARS] + "…"


def example_rows(frame: pl.DataFrame, limit: int = EXAMPLES_PER_RULE) -> list[dict]:
    rows = frame.head(limit).select(C.SOURCE, C.ROW, *C.FIELDS).to_dicts()
    return [{key: _clip(value) if isinstance(value, str) else value for key, value in row.items()} for row in rows]


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


def quarantine_section(quarantine: pl.DataFrame, limit: int = 10) -> dict:
    errors = quarantine.get_column(C.ERROR).str.split(":").list.first() if quarantine.height else pl.Series([], dtype=pl.String)
    by_field = errors.value_counts(sort=True).iter_rows() if quarantine.height else []
    return {
        "count": quarantine.height,
        "by_error": {str(name): int(n) for name, n in by_field},
        "examples": [
            {**row, C.RAW: _clip(row[C.RAW])} for row in quarantine.head(limit).to_dicts()
        ],
    }


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
        "quarantine": quarantine_section(quarantine),
        "dedup": dedup_report(frame, config),
        "timings_s": {name: round(seconds, 4) for name, seconds in timings.items()},
        "config": config.model_dump(mode="json"),
        "versions": versions(),
    }
