"""Precision of each rule measured by reading real data (``make eval`` writes
``rules/precision.json``; see ``pipeline/evaluate.py``), for the report to show how
far to trust each rule. A rule with no labelled rows has no figure: unread is
not the same as right."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

PRECISION_FILE = Path(__file__).with_name("precision.json")


@lru_cache(maxsize=1)
def _measured() -> dict:
    try:
        return json.loads(PRECISION_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def measured_precision(rule: str) -> dict | None:
    """{"read", "right", "precision", "datasets"} for ``rule``, or None when no fired
    row of it has been read."""
    found = _measured().get(rule)
    if not found:
        return None
    return {"read": found["read"], "right": found["right"], "precision": found["precision"],
            "datasets": sorted(found.get("datasets", {}))}
