"""What a person sees at the end of a run: a short table, and the report files."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import InputError


def summary_lines(report: dict) -> list[str]:
    counts = report["counts"]
    rows_in = counts["rows_in"] or 1
    lines = [
        f"{'rows in':<28}{counts['rows_in']:>9}",
        f"{'clean':<28}{counts['clean']:>9}  {counts['clean'] / rows_in:6.1%}",
        f"{'rejected':<28}{counts['rejected']:>9}  {counts['rejected'] / rows_in:6.1%}",
    ]
    for reason, n in report["rejected_by_reason"].items():
        lines.append(f"  {reason:<26}{n:>9}")
    lines.append(f"{'quarantined':<28}{counts['quarantined']:>9}  {counts['quarantined'] / rows_in:6.1%}")
    for error, n in report["quarantine"]["by_error"].items():
        lines.append(f"  {error[:26]:<26}{n:>9}")
    if report["flagged_by_rule"]:
        lines.append(f"{'flagged (kept in clean)':<28}")
        for rule, n in report["flagged_by_rule"].items():
            lines.append(f"  {rule:<26}{n:>9}")
    total = report["timings_s"].get("total")
    if total is not None:
        lines.append(f"{'seconds':<28}{total:>9.2f}")
    return lines


def print_summary(report: dict, out: str | Path) -> None:
    print("\n".join(summary_lines(report)))
    print(f"output: {out}  (report: {Path(out) / 'report.json'})")


def rebuild_report(directory: str | Path) -> Path:
    """Re-render the report files of a finished run from its report.json."""
    directory = Path(directory)
    path = directory / "report.json"
    if not path.exists():
        raise InputError(f"{directory} is not a finished run: {path} not found")
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    return path
