"""What a person sees at the end of a run: a short table, and the report files."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import InputError
from pipeline.report.html import fmt_share, render_html
from pipeline.report.markdown import render_markdown


LABEL_WIDTH = 44


def _line(label: str, count: int | float, rows_in: int | None = None, indent: int = 0) -> str:
    label = (" " * indent + label)[:LABEL_WIDTH]
    number = f"{count:>9.2f}" if isinstance(count, float) else f"{count:>9,}"
    share = f"  {fmt_share(count / rows_in):>6}" if rows_in else ""
    return f"{label:<{LABEL_WIDTH}}{number}{share}"


def summary_lines(report: dict) -> list[str]:
    counts = report["counts"]
    rows_in = counts["rows_in"] or 1
    lines = [_line("rows in", counts["rows_in"]), _line("clean", counts["clean"], rows_in)]
    lines.append(_line("rejected", counts["rejected"], rows_in))
    lines += [_line(reason, n, indent=2) for reason, n in report["rejected_by_reason"].items()]
    lines.append(_line("quarantined", counts["quarantined"], rows_in))
    lines += [_line(error, n, indent=2) for error, n in report["quarantine"]["by_error"].items()]
    if report["flagged_by_rule"]:
        lines.append("flagged (kept in clean)")
        lines += [_line(rule, n, indent=2) for rule, n in report["flagged_by_rule"].items()]
    if "total" in report["timings_s"]:
        lines.append(_line("seconds", float(report["timings_s"]["total"])))
    return lines


def print_summary(report: dict, out: str | Path) -> None:
    print("\n".join(summary_lines(report)))
    print(f"output: {out}  (report: {Path(out) / 'report.html'})")


def refresh_lines(report: dict) -> list[str]:
    """What a refresh changed against the previous version."""
    data = report["refresh"]
    previous = data["previous_version"]
    lines = [f"version {data['version']} (previous: {previous if previous is not None else 'none'})"]
    if data.get("config_changed"):
        lines.append(f"config changed: re-curated all {data.get('rows_recurated', 0):,} rows seen so far")
    lines.append(_line("rows seen before (not processed again)", data["rows_seen_before"]))
    lines.append(_line("rows added to clean", data["rows_added"]))
    if data.get("rows_removed"):
        lines.append(_line("rows removed from clean", data["rows_removed"]))
    lines.append(_line("duplicates of earlier batches", data["duplicates_of_previous"]))
    lines.append(_line("clean rows in this version", data["clean_total"]))
    return lines


def print_refresh_summary(report: dict, version: str | Path) -> None:
    print("\n".join(summary_lines(report)))
    print("\n".join(refresh_lines(report)))
    print(f"output: {version}  (report: {Path(version) / 'report.html'})")


def write_report_pages(directory: Path, report: dict) -> list[Path]:
    """report.html and report.md, rendered from the report dictionary."""
    html_path, md_path = directory / "report.html", directory / "report.md"
    html_path.write_text(render_html(report), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return [html_path, md_path]


def rebuild_report(directory: str | Path) -> Path:
    """Re-render report.html and report.md of a finished run from its report.json;
    returns the path of report.html. The pages are a pure function of report.json,
    so rebuilding with the same code gives the bytes the manifest recorded."""
    directory = Path(directory)
    path = directory / "report.json"
    if not path.exists():
        raise InputError(f"{directory} is not a finished run: {path} not found")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    if not isinstance(report, dict) or not isinstance(report.get("counts"), dict):
        raise InputError(f"{path} is not a curate report (no counts)")
    return write_report_pages(directory, report)[0]
