"""report.md: the report's summary in Markdown, short enough for a pull request
or a CI log. Figures only, capped lists; the examples live in report.html."""

from __future__ import annotations

import html
import re

from pipeline.report.html import fmt_int, fmt_share, mapping_text, measured, share_of, short_source

TOP = 8  # longest list printed in any table


def code(text: str) -> str:
    """``text`` as a code span that nothing in it can end: a file may be named
    ``a`b<img src=x>.json`` (inside a code span, HTML is shown, not rendered)."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plain(text: str) -> str:
    """User-influenced text outside a code span: HTML shown, not rendered."""
    return html.escape(" ".join(text.splitlines()), quote=False)


def table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> list[str]:
    """A Markdown table; columns after the first ``text_columns`` are numbers, right-aligned."""
    align = ["---"] * text_columns + ["---:"] * (len(headers) - text_columns)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines + [""]


def capped(items: list[tuple[str, int]], limit: int = TOP) -> list[tuple[str, int]]:
    if len(items) <= limit:
        return items
    rest = items[limit - 1:]
    return items[: limit - 1] + [(f"{len(rest)} others", sum(n for _, n in rest))]


def flow(report: dict) -> list[str]:
    counts = report["counts"]
    rows_in = counts["rows_in"]
    rows = [["rows in", fmt_int(rows_in), "100%"]]
    for key in ("clean", "rejected"):
        rows.append([key, fmt_int(counts[key]), fmt_share(share_of(counts[key], rows_in))])
    for reason, n in capped(list(report.get("rejected_by_reason", {}).items())):
        rows.append([f"↳ {reason}", fmt_int(n), fmt_share(share_of(n, rows_in))])
    rows.append(["quarantined", fmt_int(counts["quarantined"]), fmt_share(share_of(counts["quarantined"], rows_in))])
    check = "✓ reconciled" if counts.get("reconciled") else "✗ NOT reconciled"
    return table(["rows", "count", "share"], rows) + [f"rows in = clean + rejected + quarantined: {check}", ""]


def rules(report: dict) -> list[str]:
    fired = [r for r in report.get("rules", []) if r.get("count")]
    if not fired:
        return []
    fired.sort(key=lambda r: (-r["count"], r["rule"]))
    rows = [[f"`{r['rule']}`", r.get("severity", ""), fmt_int(r["count"]), fmt_share(r.get("share", 0.0)),
             measured(r.get("precision"))] for r in fired[:TOP]]
    more = [f"… and {len(fired) - TOP} more rules that fired; see report.html", ""] if len(fired) > TOP else []
    headers = ["rule", "severity", "rows", "share", "precision by reading"]
    return ["### Rules that fired", ""] + table(headers, rows, text_columns=2) + more


def tokens(report: dict) -> list[str]:
    data = report.get("tokens")
    if not data:
        return []
    max_seq_len = data.get("max_seq_len")
    share = {str(k): v for k, v in data.get("truncated_share", {}).items()}.get(str(max_seq_len))
    total = data.get("fields", {}).get("total", {})
    line = f"Tokens (`{data.get('tokenizer', '?')}`): total p50 {fmt_int(total.get('p50', 0))}, " \
           f"p99 {fmt_int(total.get('p99', 0))}, max {fmt_int(total.get('max', 0))}"
    if share is not None:
        line += f"; max_seq_len {fmt_int(max_seq_len)} truncates {fmt_share(share)} of clean rows"
    return [line + ".", ""]


def languages(report: dict) -> list[str]:
    data = report.get("languages")
    if not data:
        return []
    total = sum(data.values())
    ordered = sorted(data.items(), key=lambda item: (-item[1], item[0]))[:5]
    return ["Languages: " + ", ".join(f"{lang} {fmt_share(share_of(n, total))}" for lang, n in ordered) + ".", ""]


def dedup(report: dict) -> list[str]:
    data = report.get("dedup")
    if not data:
        return []
    removed = data.get("rows_removed", {})
    parts = ", ".join(f"{reason} {fmt_int(n)}" for reason, n in removed.items())
    return [f"Duplicates: {fmt_int(data.get('clusters', 0))} clusters; removed {parts}.", ""]


def decontamination(report: dict) -> list[str]:
    data = report.get("decontamination")
    if not data:
        return []
    parts = ", ".join(f"{b['name']} {fmt_int(b['matched_rows'])}" for b in data["benchmarks"])
    return [f"Benchmark overlap (rows matched): {parts}.", ""]


def quarantine(report: dict) -> list[str]:
    data = report.get("quarantine") or {}
    if not data.get("count"):
        return []
    rows = [[plain(error), fmt_int(n)] for error, n in capped(list(data.get("by_error", {}).items()))]
    return ["### Quarantine", ""] + table(["error", "rows"], rows)


def shapes(report: dict) -> list[str]:
    found = report.get("shapes") or []
    if not found:
        return []
    rows = [[f"`{short_source(str(s['source']))}`", s["shape"], f"`{mapping_text(s)}`", fmt_int(s.get("records", 0))]
            for s in found[:TOP]]
    return ["### Input shapes", ""] + table(["source", "shape", "field = input key", "records"], rows, text_columns=3)


def refresh(report: dict) -> list[str]:
    data = report.get("refresh")
    if not data:
        return []
    return [f"Refresh: version {data.get('version')} (previous {data.get('previous_version')}): "
            f"{fmt_int(data.get('rows_added', 0))} rows added, "
            f"{fmt_int(data.get('duplicates_of_previous', 0))} duplicates of the previous version, "
            f"{fmt_int(data.get('rows_seen_before', 0))} rows seen before.", ""]


def footer(report: dict) -> list[str]:
    total = report.get("timings_s", {}).get("total")
    versions = report.get("versions", {})
    said = f"{total:,.1f} s; " if total is not None else ""
    return [f"<sub>{said}curate {versions.get('curate', '?')}, polars {versions.get('polars', '?')}. "
            "Examples, charts and the config: report.html.</sub>", ""]


def render_markdown(report: dict) -> str:
    sources = ", ".join(code(short_source(str(p))) for p in report.get("inputs", [])[:5])
    lines = [f"## Data-quality report: {sources}", ""]
    for part in (flow, rules, tokens, languages, dedup, decontamination, quarantine, shapes, refresh, footer):
        lines += part(report)
    return "\n".join(lines).rstrip() + "\n"
