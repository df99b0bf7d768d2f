"""report.html: one self-contained page rendered from report.json's dictionary.

Everything is inline: the styles, the charts (SVG drawn here in Python) and the
data. A Content-Security-Policy forbids the page to load anything at all, so it
opens offline and a stray external reference shows up as a console error in the
browser test rather than as a silent fetch.

The page size is bounded by construction: every list is capped (examples,
languages, clusters) and every chart is an aggregate, so a report of a
million-row run is as small as one of a thousand rows.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from functools import lru_cache
from html import escape
from pathlib import PurePath

FIELDS = ("instruction", "input", "output")
MAX_RULE_EXAMPLES = 3
MAX_QUARANTINE_EXAMPLES = 10
MAX_DEDUP_EXAMPLES = 6
MAX_REMOVED_PER_CLUSTER = 2
MAX_LANGUAGES = 15
MAX_MATCHES = 20
SNIPPET_CHARS = 240
CONTEXT_BEFORE = 60
DIFF_CHARS = 400  # a near-duplicate is compared word by word over its first characters only

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

SECTIONS = [
    ("flow", "Where the rows went"),
    ("rules", "Rules"),
    ("repairs", "Repairs"),
    ("lengths", "Lengths and tokens"),
    ("languages", "Languages"),
    ("dedup", "Duplicates"),
    ("decontamination", "Benchmark contamination"),
    ("quarantine", "Quarantine"),
    ("shapes", "Input shapes and field mappings"),
    ("refresh", "Refresh"),
    ("run", "Timings, config, versions"),
]

CSS = """
:root{--fg:#1d2330;--muted:#5d6678;--line:#e2e5eb;--bg:#fff;--soft:#f5f6f8;
--clean:#2f9e66;--reject:#d1495b;--reject2:#ee9aa4;--quar:#e0a100;--neutral:#5470c6;--flag:#7b61c4}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
header.top{padding:28px 24px 8px;max-width:1040px;margin:0 auto}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:0 0 12px;padding-top:8px}
h3{font-size:15px;margin:18px 0 6px}
nav.toc{position:sticky;top:0;z-index:5;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line);
box-shadow:0 1px 3px rgba(0,0,0,.04)}
nav.toc ol{list-style:none;margin:0 auto;padding:8px 24px;max-width:1040px;display:flex;flex-wrap:wrap;gap:4px 18px}
nav.toc a{color:var(--muted);text-decoration:none;font-size:13.5px;white-space:nowrap}
nav.toc a:hover{color:var(--fg);text-decoration:underline}
main{max-width:1040px;margin:0 auto;padding:0 24px 64px}
section{padding:22px 0 18px;border-bottom:1px solid var(--line);scroll-margin-top:48px}
.muted,.note{color:var(--muted)}
.note{font-style:italic}
.sub{color:var(--muted);font-size:13px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:14px}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.wide{width:100%}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0 4px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px}
.kpi .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}
.kpi .l{color:var(--muted);font-size:13px}
.kpi.clean .v{color:var(--clean)}.kpi.rejected .v{color:var(--reject)}.kpi.quarantined .v{color:#a87800}
.ok{color:var(--clean);font-weight:600}.bad{color:var(--reject);font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
text-transform:uppercase;letter-spacing:.03em}
.badge.drop{background:#fbe3e6;color:#a61b2f}.badge.flag{background:#ece6fa;color:#5a3fa8}
.badge.off{background:var(--soft);color:var(--muted)}
.rule-name{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:600;font-size:13.5px}
.desc{color:var(--muted);font-size:13px;max-width:320px}
.ex{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;white-space:pre-wrap;
word-break:break-word;background:var(--soft);border-radius:6px;padding:6px 8px;margin:0 0 6px;max-width:520px}
.ex .loc{color:var(--muted)}
.ex .field{color:var(--neutral);font-weight:600}
.ex .empty{color:var(--muted);font-style:italic}
mark{background:#ffe066;color:inherit;border-radius:2px;padding:0 1px}
.ctl{color:#a61b2f;background:#fbe3e6;border-radius:2px}
tr.zero td{color:var(--muted)}
tr.chosen td{font-weight:650;background:#fff5f5}
.cell-bar{display:inline-block;height:10px;background:var(--neutral);border-radius:2px;vertical-align:middle;opacity:.75}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:8px 28px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin:6px 0 16px;align-items:start}
.pair .card.removed{margin-bottom:8px}
.side{display:flex;flex-wrap:wrap;gap:0 40px;align-items:flex-start}
.legend{display:flex;gap:18px;font-size:13px;color:var(--muted);margin:2px 0 10px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 10px}
.card.survivor{border-left:4px solid var(--clean)}.card.removed{border-left:4px solid var(--reject)}
.card .ex{max-width:none;background:none;padding:0}
pre.config{background:var(--soft);border-radius:8px;padding:10px 12px;font-size:12.5px;overflow:auto;max-height:480px}
svg{display:block;max-width:100%;height:auto}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--fg)}
svg .axis{fill:var(--muted);font-size:11px}
.headline{font-size:16px;margin:4px 0 10px}
footer{max-width:1040px;margin:0 auto;padding:16px 24px;color:var(--muted);font-size:13px}
"""


# ---------------------------------------------------------------- formatting

def fmt_int(value) -> str:
    return f"{int(value):,}"


def fmt_share(share: float) -> str:
    """One decimal, but never rounded to a misleading 0% or 100%."""
    if 0 < share < 0.001:
        return "<0.1%"
    if 0.999 < share < 1:
        return ">99.9%"
    return f"{share:.1%}"


def fmt_number(value) -> str:
    if isinstance(value, bool) or value is None:
        return escape(str(value))
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
        return fmt_int(value)
    return f"{value:,.2f}"


def share_of(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def num_cell(value, text: str | None = None, key: str | None = None) -> str:
    """A right-aligned number; ``data-value`` keeps the raw figure for tests and tools."""
    attr = f' data-key="{escape(key)}"' if key else ""
    shown = fmt_number(value) if text is None else text
    return f'<td class="num" data-value="{escape(str(value))}"{attr}>{shown}</td>'


def short_source(source: str | None) -> str:
    return PurePath(source).name if source else "?"


def location(row: dict) -> str:
    source = row.get("_source")
    return (
        f'<span class="loc" title="{escape(str(source))}">'
        f"{escape(short_source(source))}:{escape(str(row.get('_row', '?')))}</span>"
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200d\u2060\ufeff]")


def visible(text: str) -> str:
    """HTML-escaped text with invisible characters shown as ``\\xNN`` marks:
    stray control characters are a defect the reader must be able to see."""
    out, last = [], 0
    for match in _CONTROL.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(f'<span class="ctl">\\x{ord(match.group()):02x}</span>')
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


@lru_cache(maxsize=256)
def compiled(pattern: str | None) -> re.Pattern | None:
    """The rule's highlight regex in Python's dialect; one that does not compile
    simply gives no highlight rather than a broken report."""
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except (re.error, TypeError):
        return None


def match_spans(text: str, pattern: re.Pattern | None) -> list[tuple[int, int]]:
    if pattern is None or not text:
        return []
    spans = []
    for match in pattern.finditer(text):
        if match.end() > match.start():
            spans.append(match.span())
        if len(spans) >= MAX_MATCHES:
            break
    return spans


def marked(text: str, spans: list[tuple[int, int]], limit: int = SNIPPET_CHARS, anchor: bool = True) -> str:
    """A window of ``text`` (around the first match when ``anchor``), matches wrapped in <mark>."""
    start = max(0, spans[0][0] - CONTEXT_BEFORE) if spans and anchor else 0
    end = min(len(text), start + limit)
    out = ["…" if start else ""]
    cursor = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, cursor), min(span_end, end)
        if span_start >= span_end:
            continue
        out.append(visible(text[cursor:span_start]))
        out.append(f"<mark>{visible(text[span_start:span_end])}</mark>")
        cursor = span_end
    out.append(visible(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


def field_line(name: str, text: str | None, spans: list[tuple[int, int]], limit: int, anchor: bool = True) -> str:
    if not text:
        body = '<span class="empty">(empty)</span>'
    elif not text.strip():  # whitespace only: show which, the rule may be about it
        body = f'<span class="empty">(blank)</span> {visible(repr(text))}'
    else:
        body = marked(text, spans, limit, anchor)
    return f'<span class="field">{name}</span>: {body}'


def example_html(row: dict, pattern: re.Pattern | None, limit: int = 120) -> str:
    """One example: the fields where the rule's pattern matches, highlighted;
    all three fields when it has no pattern or matches nowhere (an empty output
    is shown as such, which is the point of the example)."""
    spans = {field: match_spans(row.get(field) or "", pattern) for field in FIELDS}
    shown = [field for field in FIELDS if spans[field]] or list(FIELDS)
    lines = [field_line(field, row.get(field), spans[field], limit) for field in shown]
    return f'<div class="ex">{location(row)}\n' + "\n".join(lines) + "</div>"


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def not_computed(what: str) -> str:
    return note(f"{what}: not computed in this run.")


# ---------------------------------------------------------------- charts

def bar_chart(items: list[tuple[str, int, str]], scale: int, label_width: int = 210, width: int = 760) -> str:
    """Horizontal bars, one per (label, value, colour); values relative to ``scale``."""
    row_height, bar_height = 26, 16
    height = row_height * len(items) + 6
    plot = width - label_width - 110
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">']
    for i, (label, value, colour) in enumerate(items):
        y = 4 + i * row_height
        bar = plot * share_of(value, scale)
        if value and bar < 1:
            bar = 1
        parts.append(f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{bar:.1f}" height="{bar_height}" rx="2" fill="{colour}"/>')
        parts.append(
            f'<text x="{label_width + bar + 6:.1f}" y="{y + 13}">{fmt_int(value)}'
            f'<tspan class="axis"> {fmt_share(share_of(value, scale))}</tspan></text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar(parts_: list[tuple[str, int, str]], width: int = 760) -> str:
    """One 100% bar split into clean / rejected / quarantined."""
    total = sum(value for _, value, _ in parts_)
    svg = [f'<svg viewBox="0 0 {width} 34" width="{width}" height="34" role="img">']
    x = 0.0
    for label, value, colour in parts_:
        w = width * share_of(value, total)
        if w <= 0:
            continue
        svg.append(f'<rect x="{x:.1f}" y="2" width="{w:.1f}" height="26" fill="{colour}"><title>{escape(label)}: '
                   f"{fmt_int(value)}</title></rect>")
        if w > 90:
            svg.append(f'<text x="{x + 8:.1f}" y="20" style="fill:#fff;font-weight:600">{escape(label)} '
                       f"{fmt_share(share_of(value, total))}</text>")
        x += w
    svg.append("</svg>")
    legend = "".join(f'<span><i style="background:{colour}"></i>{escape(label)} {fmt_int(value)} '
                     f"({fmt_share(share_of(value, total))})</span>" for label, value, colour in parts_)
    return "".join(svg) + f'<div class="legend">{legend}</div>'


def threshold_x(value: float, edges: list[float], x0: float, bin_width: float) -> float | None:
    """Where ``value`` falls on a chart whose bins are equally wide but log-spaced:
    interpolate in log space inside its bin (linearly in the first bin from 0)."""
    if value is None or not edges:
        return None
    if value < edges[0]:
        return x0  # below the first bin shown: pin to the left edge
    for i in range(len(edges) - 1):
        low, high = edges[i], edges[i + 1]
        if low <= value <= high:
            if low > 0 and high > low:
                frac = (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
            else:
                frac = share_of(value - low, high - low)
            return x0 + bin_width * (i + frac)
    return x0 + bin_width * (len(edges) - 1)  # past the last bin: pin to the right edge


def edge_label(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:,.0f}k"
    return fmt_int(round(value))


NICE_TICKS = [m * 10 ** k for k in range(0, 7) for m in (1, 3)]


def trimmed(edges: list[float], counts: list[int]) -> tuple[list[float], list[int]]:
    """Drop the empty bins at both ends: a log axis from 0 to 4,096 mostly shows
    nothing, and the reader wants the populated range."""
    filled = [i for i, count in enumerate(counts) if count]
    if not filled:
        return edges, counts
    first, last = filled[0], filled[-1]
    return edges[first:last + 2], counts[first:last + 1]


def histogram_svg(hist: dict, thresholds: list[tuple[float, str, str]] = (), unit: str = "", width: int = 480,
                  label_rows: int = 1) -> str:
    """Bars of a log-binned histogram (equal-width bins), ticks at 1, 3, 10, 30 …,
    and labelled vertical threshold lines."""
    edges, counts = hist.get("edges") or [], hist.get("counts") or []
    if not counts or len(edges) != len(counts) + 1:
        return note("no histogram")
    edges, counts, empty = list(edges), list(counts), None
    if edges[0] == 0 and edges[1] <= 1 and len(counts) > 1:
        # Empty fields get a line of text, not a bar: 60% of Alpaca inputs are
        # empty, and one such bar would flatten every other bar to nothing.
        empty, edges, counts = counts[0], edges[1:], counts[1:]
    caption = ""
    if empty:
        rows = empty + sum(counts)
        caption = (f'<div class="sub" data-key="empty" data-value="{empty}">empty: {fmt_int(empty)} rows '
                   f"({fmt_share(share_of(empty, rows))}), not drawn</div>")
    if not any(counts):
        return caption or note("no rows")
    edges, counts = trimmed(edges, counts)
    height, left, right, bottom = 200, 48, 14, 34
    top = 18 + 13 * max(len(thresholds), label_rows)  # one label row per threshold, above the bars
    height += top - 31
    plot_w, plot_h = width - left - right, height - top - bottom
    bin_w = plot_w / len(counts)
    peak = max(counts) or 1
    svg = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">']
    svg.append(f'<text class="axis" x="{left - 6}" y="{top + 4}" text-anchor="end">{fmt_int(peak)}</text>')
    svg.append(f'<text class="axis" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>')
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        if count and h < 1:
            h = 1
        span = "empty" if edges[i] == 0 and edges[i + 1] <= 1 else f"{edge_label(edges[i])}–{edge_label(edges[i + 1])}"
        svg.append(
            f'<rect x="{left + i * bin_w + 0.5:.1f}" y="{top + plot_h - h:.1f}" width="{max(bin_w - 1, 0.5):.1f}" '
            f'height="{h:.1f}" fill="#5470c6" opacity=".8"><title>{span} {escape(unit)}: {fmt_int(count)} rows</title></rect>'
        )
    svg.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#aab"/>')
    ticks = [(0.0, "0")] if edges[0] == 0 else []
    ticks += [(float(v), edge_label(v)) for v in NICE_TICKS if edges[0] < v < edges[-1]]
    last_x = -100.0
    for value, label in ticks:
        x = threshold_x(value, edges, left, bin_w)
        if x - last_x < 28:  # too close to the previous tick to read
            continue
        last_x = x
        svg.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" stroke="#aab"/>')
        svg.append(f'<text class="axis" x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{label}</text>')
    svg.append(f'<text class="axis" x="{left + plot_w}" y="{height - 2}" text-anchor="end">{escape(unit)} (log scale)</text>')
    for n, (value, label, colour) in enumerate(thresholds):
        x = threshold_x(value, edges, left, bin_w)
        if x is None:
            continue
        beyond = " →" if value > edges[-1] else " ←" if value < edges[0] else ""
        anchor = "end" if x > left + plot_w * 0.6 else "start"
        dx = -4 if anchor == "end" else 4
        svg.append(f'<line x1="{x:.1f}" y1="{18 + 13 * n - 10}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{colour}" '
                   f'stroke-width="2" stroke-dasharray="5 3"/>')
        svg.append(f'<text x="{x + dx:.1f}" y="{18 + 13 * n}" text-anchor="{anchor}" '
                   f'style="fill:{colour};font-weight:600">{escape(label)}{beyond}</text>')
    svg.append("</svg>")
    return "".join(svg) + caption


# ---------------------------------------------------------------- sections

def section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}" data-section="{key}"><h2>{escape(title)}</h2>\n{body}\n</section>'


def kpis(counts: dict) -> str:
    rows_in = counts.get("rows_in", 0)
    boxes = [f'<div class="kpi"><div class="v" data-key="rows_in">{fmt_int(rows_in)}</div><div class="l">rows in</div></div>']
    for key in ("clean", "rejected", "quarantined"):
        value = counts.get(key, 0)
        boxes.append(
            f'<div class="kpi {key}"><div class="v" data-key="{key}">{fmt_int(value)}</div>'
            f'<div class="l">{key} · {fmt_share(share_of(value, rows_in))}</div></div>'
        )
    return f'<div class="kpis">{"".join(boxes)}</div>'


def flow_section(report: dict) -> str:
    counts = report["counts"]
    rows_in = counts["rows_in"]
    reasons = report.get("rejected_by_reason", {})
    chart_items = [("rows in", rows_in, "#5470c6"), ("clean", counts["clean"], "#2f9e66"),
                   ("rejected", counts["rejected"], "#d1495b")]
    chart_items += [(f"↳ {reason}", n, "#ee9aa4") for reason, n in reasons.items()]
    chart_items.append(("quarantined", counts["quarantined"], "#e0a100"))
    rows = [f'<tr><td>rows in</td>{num_cell(rows_in, key="rows_in")}{num_cell(1.0, "100.0%")}</tr>']
    for key in ("clean", "rejected"):
        rows.append(f"<tr><td>{key}</td>{num_cell(counts[key], key=key)}"
                    f"{num_cell(share_of(counts[key], rows_in), fmt_share(share_of(counts[key], rows_in)))}</tr>")
    for reason, n in reasons.items():
        rows.append(f'<tr data-reason="{escape(reason)}"><td>&nbsp;&nbsp;↳ {escape(reason)}</td>{num_cell(n)}'
                    f"{num_cell(share_of(n, rows_in), fmt_share(share_of(n, rows_in)))}</tr>")
    rows.append(f'<tr><td>quarantined</td>{num_cell(counts["quarantined"], key="quarantined")}'
                f'{num_cell(share_of(counts["quarantined"], rows_in), fmt_share(share_of(counts["quarantined"], rows_in)))}</tr>')
    reconciled = counts.get("reconciled")
    check = ('<p class="ok" data-key="reconciled">✓ rows in = clean + rejected + quarantined</p>' if reconciled
             else '<p class="bad" data-key="reconciled">✗ rows in ≠ clean + rejected + quarantined</p>')
    multi = note("A rejected row can have several reasons, so the reasons may add up to more than the rejected rows.") \
        if sum(reasons.values()) > counts["rejected"] else ""
    stacked = stacked_bar([("clean", counts["clean"], "#2f9e66"), ("rejected", counts["rejected"], "#d1495b"),
                           ("quarantined", counts["quarantined"], "#e0a100")])
    return (
        stacked + bar_chart(chart_items, rows_in or 1)
        + '<table class="flow"><thead><tr><th>rows</th><th class="num">count</th><th class="num">share of rows in</th>'
        + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + check + multi
    )


def measured(precision: dict | None) -> str:
    """A rule's precision by reading, as "97% of 60 read", or "—" where unmeasured."""
    if not precision:
        return "—"
    return f"{precision['precision']:.0%} of {precision['read']} read"


def rules_section(report: dict) -> str:
    rules = sorted(report.get("rules", []), key=lambda r: (-r.get("count", 0), r.get("rule", "")))
    if not rules:
        return note("No rules were active in this run.")
    rows = []
    for entry in rules:
        pattern = compiled(entry.get("highlight"))
        examples = entry.get("examples", [])[:MAX_RULE_EXAMPLES]
        shown = "".join(example_html(row, pattern) for row in examples) or '<span class="muted">—</span>'
        severity = escape(entry.get("severity", ""))
        zero = ' class="zero"' if not entry.get("count") else ""
        rows.append(
            f'<tr{zero} data-rule="{escape(entry["rule"])}"><td><div class="rule-name">{escape(entry["rule"])}</div>'
            f'<div class="desc">{escape(entry.get("description", ""))}</div></td>'
            f'<td><span class="badge {severity}">{severity}</span></td>'
            f'{num_cell(entry.get("count", 0), key="count")}'
            f'{num_cell(entry.get("share", 0.0), fmt_share(entry.get("share", 0.0)))}'
            f'<td class="num">{escape(measured(entry.get("precision")))}</td><td>{shown}</td></tr>'
        )
    flagged = report.get("flagged_by_rule", {})
    flag_note = note(f"{fmt_int(sum(flagged.values()))} flags on rows kept in clean/.") if flagged else ""
    return (
        '<p class="sub">Share is of the rows that passed validation. <b>drop</b> rules send the row to rejected/, '
        "<b>flag</b> rules keep it in clean/ and record the flag. Highlighted: the span the rule objects to.</p>"
        '<table class="wide rules"><thead><tr><th>rule</th><th>severity</th><th class="num">rows</th>'
        '<th class="num">share</th><th class="num" title="right / fired rows read, on real data (make eval)">'
        'precision by reading</th><th>examples</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
        + flag_note
    )


def simple_table(headers: list[str], rows: list[tuple[str, int]], total: int | None = None, cls: str = "") -> str:
    """label | count (| share) rows, with a small inline bar when ``total`` is given."""
    head = f"<th>{escape(headers[0])}</th><th class=\"num\">{escape(headers[1])}</th>"
    if total:
        head += '<th class="num">share</th><th></th>'
    body = []
    largest = max((n for _, n in rows), default=0)
    for label, n in rows:
        cells = f"<td>{escape(str(label))}</td>{num_cell(n)}"
        if total:
            share = share_of(n, total)
            cells += (f'{num_cell(round(share, 6), fmt_share(share))}'
                      f'<td><span class="cell-bar" style="width:{160 * share_of(n, largest):.0f}px"></span></td>')
        body.append(f'<tr data-label="{escape(str(label))}">{cells}</tr>')
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def repairs_section(report: dict) -> str:
    repairs = report.get("repairs")
    if repairs is None:
        return not_computed("Repairs")
    if not repairs:
        return note("Normalise changed no rows.")
    rows_in = report["counts"]["rows_in"] - report["counts"]["quarantined"]
    return ('<p class="sub">Rows that normalise changed without changing their meaning; the repaired text is what '
            "the rules, dedup and clean/ see.</p>" + simple_table(["repair", "rows"], list(repairs.items()), rows_in))


def stats_table(fields: dict, unit: str) -> str:
    keys = ("p50", "p90", "p99", "max", "mean")
    head = "".join(f'<th class="num">{k}</th>' for k in keys)
    body = []
    for field, stats in fields.items():
        cells = "".join(num_cell(stats.get(k, 0), key=k) for k in keys)
        body.append(f'<tr data-field="{escape(field)}"><td>{escape(field)}</td>{cells}</tr>')
    return (f'<table class="stats"><thead><tr><th>{escape(unit)}</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def tokens_part(tokens: dict | None) -> str:
    if not tokens:
        return "<h3>Tokens</h3>" + not_computed("Token counts")
    max_seq_len = tokens.get("max_seq_len")
    # str keys whether the dict comes from the run or from report.json, so that
    # a rebuilt page is byte-identical to the one the run wrote
    truncated = {str(length): share for length, share in tokens.get("truncated_share", {}).items()}
    headline = ""
    if max_seq_len is not None and str(max_seq_len) in truncated:
        share = truncated[str(max_seq_len)]
        headline = (f'<p class="headline" data-key="truncated_at_max_seq_len" data-value="{share}">At '
                    f"<b>max_seq_len = {fmt_int(max_seq_len)}</b>, training would truncate "
                    f"<b>{fmt_share(share)}</b> of the clean rows.</p>")
    trunc_rows = "".join(
        f'<tr{" class=chosen" if str(max_seq_len) == length else ""}><td class="num">{fmt_int(int(length))}</td>'
        f"{num_cell(share, fmt_share(share))}</tr>"
        for length, share in sorted(truncated.items(), key=lambda item: int(item[0]))
    )
    trunc_table = ('<table class="truncation"><thead><tr><th class="num">max_seq_len</th>'
                   f'<th class="num">rows truncated</th></tr></thead><tbody>{trunc_rows}</tbody></table>') if truncated else ""
    outliers = tokens.get("outlier_thresholds", {})
    charts = []
    label_rows = max((len(outliers.get(f) or {}) for f in tokens.get("histograms", {})), default=0) + 1
    for field, hist in tokens.get("histograms", {}).items():
        lines = []
        bounds = outliers.get(field) or {}
        if bounds.get("low") is not None:
            lines.append((bounds["low"], f"outlier < {fmt_int(round(bounds['low']))}", "#e0a100"))
        if bounds.get("high") is not None:
            lines.append((bounds["high"], f"outlier > {fmt_int(round(bounds['high']))}", "#e0a100"))
        if field == "total" and max_seq_len is not None:
            lines.append((max_seq_len, f"max_seq_len {fmt_int(max_seq_len)}", "#d1495b"))
        charts.append(f'<div class="chart" data-field="{escape(field)}"><h3>{escape(field)} · tokens</h3>'
                      f"{histogram_svg(hist, lines, 'tokens', label_rows=label_rows)}</div>")
    return (
        f'<h3>Tokens</h3><p class="sub">Tokenizer <code>{escape(str(tokens.get("tokenizer", "?")))}</code>; '
        "total = the whole training sequence (prompt template + output).</p>"
        + headline + f'<div class="side">{stats_table(tokens.get("fields", {}), "tokens")}{trunc_table}</div>'
        + f'<div class="grid">{"".join(charts)}</div>'
    )


def lengths_part(lengths: dict | None) -> str:
    if not lengths:
        return "<h3>Characters</h3>" + not_computed("Character lengths")
    charts = "".join(
        f'<div class="chart" data-field="{escape(field)}"><h3>{escape(field)} · characters</h3>'
        f"{histogram_svg(hist, (), 'characters')}</div>"
        for field, hist in lengths.get("histograms", {}).items()
    )
    return (f'<h3>Characters</h3><p class="sub">Over the {fmt_int(lengths.get("rows", 0))} rows that passed validation '
            "(clean and rejected).</p>" + stats_table(lengths.get("fields", {}), "characters")
            + f'<div class="grid">{charts}</div>')


def lengths_section(report: dict) -> str:
    return tokens_part(report.get("tokens")) + lengths_part(report.get("lengths"))


def languages_section(report: dict) -> str:
    languages = report.get("languages")
    if languages is None:
        return not_computed("Language detection")
    if not languages:
        return note("No rows to detect a language in.")
    ordered = sorted(languages.items(), key=lambda item: (-item[1], item[0]))
    total = sum(languages.values())
    shown = ordered[:MAX_LANGUAGES]
    rest = ordered[MAX_LANGUAGES:]
    if rest:
        shown.append((f"{len(rest)} other languages", sum(n for _, n in rest)))
    return simple_table(["language", "rows"], shown, total, "languages")


_WORDS = re.compile(r"\S+")


def differing_spans(text: str, reference: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` that ``reference`` does not have
    at that place (a word-level diff), to show what a near-duplicate changed."""
    words = [(m.group(), m.span()) for m in _WORDS.finditer(text[:DIFF_CHARS])]
    theirs = _WORDS.findall(reference[:DIFF_CHARS])
    matcher = difflib.SequenceMatcher(a=theirs, b=[w for w, _ in words], autojunk=False)
    spans = []
    for op, _, _, start, end in matcher.get_opcodes():
        if op in ("replace", "insert") and end > start:
            spans.append((words[start][1][0], words[end - 1][1][1]))
    return spans


def dedup_card(row: dict, css: str, title: str, survivor: dict | None = None) -> str:
    similarity = row.get("similarity")
    extra = f' · similarity {similarity:.2f}' if isinstance(similarity, (int, float)) else ""
    lines = "\n".join(
        field_line(field, row.get(field),
                   differing_spans(row.get(field) or "", survivor.get(field) or "") if survivor else [], 160, anchor=False)
        for field in FIELDS
    )
    return (f'<div class="card {css}"><div class="sub"><b>{escape(title)}</b>{escape(extra)}</div>'
            f'<div class="ex">{location(row)}\n{lines}</div></div>')


def one_of_each(examples: list[dict], limit: int, kind) -> list[dict]:
    """Up to ``limit`` examples, taking the kinds in turn, so that a rare kind
    (conflicting outputs, a rare error) is shown even when another is far more common."""
    by_reason: dict[str, list[dict]] = {}
    for example in examples:
        by_reason.setdefault(kind(example), []).append(example)
    picked, round_ = [], 0
    while len(picked) < limit and any(round_ < len(group) for group in by_reason.values()):
        picked += [group[round_] for group in by_reason.values() if round_ < len(group)][: limit - len(picked)]
        round_ += 1
    return picked


def dedup_section(report: dict) -> str:
    dedup = report.get("dedup")
    if dedup is None:
        removed = report.get("rejected_by_reason", {}).get("exact_duplicate")
        found = (f" Exact duplicates rejected: {fmt_int(removed)} (see Where the rows went)." if removed else "")
        return not_computed("Duplicate clusters") + (note(found.strip()) if found else "")
    removed = dedup.get("rows_removed", {})
    parts = [f'<p class="headline"><b data-key="clusters" data-value="{dedup.get("clusters", 0)}">'
             f'{fmt_int(dedup.get("clusters", 0))}</b> duplicate clusters; '
             f'<b>{fmt_int(sum(removed.values()))}</b> rows removed. The best row of each cluster survives.</p>']
    tables = simple_table(["removed as", "rows"], list(removed.items()), cls="dedup-removed")
    sizes = dedup.get("cluster_sizes", {})
    if sizes:
        ordered = sorted(sizes.items(), key=lambda item: int(item[0]))
        tables += simple_table(["cluster size", "clusters"], ordered, cls="cluster-sizes")
    parts.append(f'<div class="side">{tables}</div>')
    if dedup.get("examples"):
        parts.append('<p class="sub">Each cluster: the survivor on the left, what was removed on the right; '
                     "highlighted: the words that differ from the survivor.</p>")
    for example in one_of_each(dedup.get("examples", []), MAX_DEDUP_EXAMPLES, lambda e: str(e.get("reason"))):
        removed_rows = example.get("removed", [])
        survivor = example.get("survivor", {})
        cards = "".join(dedup_card(row, "removed", "removed", survivor) for row in removed_rows[:MAX_REMOVED_PER_CLUSTER])
        more = len(removed_rows) - MAX_REMOVED_PER_CLUSTER
        if more > 0:
            cards += f'<p class="sub">… and {fmt_int(more)} more</p>'
        parts.append(
            f'<h3 class="cluster">cluster {escape(str(example.get("cluster", "?")))} · '
            f'{escape(str(example.get("reason", "")))}</h3><div class="pair">'
            f'{dedup_card(survivor, "survivor", "survivor")}<div>{cards}</div></div>'
        )
    if dedup.get("config"):
        parts.append(f'<p class="sub">Dedup settings: <code>{escape(json.dumps(dedup["config"], sort_keys=True))}</code></p>')
    return "".join(parts)


def decontamination_section(report: dict) -> str:
    """Each benchmark with its matched rows; examples with the shared words marked
    on both sides (the offsets come from the report, computed by the stage)."""
    data = report.get("decontamination")
    if data is None:
        return note("No benchmark was given (--decontaminate FILE): contamination was not checked.")
    rows = [(f"{b['name']} ({fmt_int(b['benchmark_rows'])} rows)", b["matched_rows"]) for b in data["benchmarks"]]
    parts = [f'<p class="headline">Rows sharing at least {fmt_share(data["min_overlap"])} of a benchmark text\'s '
             f'{data["ngram"]}-word n-grams, or a short benchmark text whole, are rejected as benchmark_overlap.</p>',
             simple_table(["benchmark", "rows matched"], rows, cls="decontamination")]
    for benchmark in data["benchmarks"]:
        for example in benchmark["examples"]:
            span = [tuple(example["span"])] if example.get("span") else []
            theirs = [tuple(example["benchmark_span"])] if example.get("benchmark_span") else []
            parts.append(
                f'<div class="ex">{location(example)} · {escape(example["field"])}\n'
                f'{field_line("row", example["text"], span, SNIPPET_CHARS)}\n'
                f'{field_line(escape(benchmark["name"]) + " row " + str(example["benchmark_row"]), example["benchmark_text"], theirs, SNIPPET_CHARS)}</div>'
            )
    return "".join(parts)


def quarantine_section(report: dict) -> str:
    quarantine = report.get("quarantine")
    if quarantine is None:
        return not_computed("Quarantine")
    count = quarantine.get("count", 0)
    if not count:
        return '<p data-key="quarantined" data-value="0">No rows were quarantined: every record parsed with the right types.</p>'
    parts = [f'<p class="headline"><b data-key="quarantined" data-value="{count}">{fmt_int(count)}</b> rows could not be '
             "read as instruction records; they are kept in quarantine/ with their raw text.</p>",
             simple_table(["error", "rows"], list(quarantine.get("by_error", {}).items()), count, "errors")]
    error_kind = lambda row: str(row.get("_error", "")).split(":")[0]  # noqa: E731  (as by_error counts them)
    for row in one_of_each(quarantine.get("examples", []), MAX_QUARANTINE_EXAMPLES, error_kind):
        raw = row.get("_raw") or ""
        parts.append(f'<div class="ex">{location(row)} <span class="bad">{visible(str(row.get("_error", "")))}</span>\n'
                     f"{marked(raw, [], SNIPPET_CHARS)}</div>")
    return "".join(parts)


def mapping_text(shape: dict) -> str:
    """``instruction, input, output=response``; a conversation shape names its turns key."""
    if shape.get("turns"):
        return f"{shape['turns']}: one user and one assistant turn -> instruction, output (system -> system)"
    return ", ".join(f if key == f else f"{f}={key}" for f, key in shape.get("mapping", {}).items())


def shapes_section(report: dict) -> str:
    shapes = report.get("shapes")
    if not shapes:
        return note("No shapes recorded: an empty input, or a report written before shapes were detected.")
    rows = "".join(
        f"<tr><td><code>{escape(short_source(str(shape['source'])))}</code></td><td>{escape(shape['shape'])}</td>"
        f"<td><code>{escape(mapping_text(shape))}</code></td>{num_cell(shape.get('records', 0))}"
        f"{num_cell(shape.get('multi_turn', 0))}</tr>"
        for shape in shapes
    )
    given = report.get("config", {}).get("fields") or {}
    how = ("named with --map / [fields]: " + ", ".join(f"{f}={k}" for f, k in given.items() if k)
           if any(given.values()) else "detected from each source's keys")
    return (f'<p class="headline">How each source was read as instruction records ({escape(how)}).</p>'
            '<table class="shapes"><thead><tr><th>source</th><th>shape</th><th>field = input key</th>'
            f'<th class="num">records</th><th class="num">multi-turn (quarantined)</th></tr></thead><tbody>{rows}</tbody></table>')


def refresh_section(report: dict) -> str:
    refresh = report.get("refresh")
    if refresh is None:
        return note("A one-off run, not a refresh: there is no previous version to compare with.")
    previous = refresh.get("previous_version")
    rows = [("rows added to clean", refresh.get("rows_added", 0)),
            ("duplicates of the previous version", refresh.get("duplicates_of_previous", 0)),
            ("rows seen before (skipped)", refresh.get("rows_seen_before", 0))]
    rows += [(f"rejected: {reason}", n) for reason, n in refresh.get("rejected_by_reason", {}).items()]
    against = f"version {fmt_int(previous)}" if previous is not None else "nothing (first version)"
    return (f'<p class="headline">Version <b>{fmt_int(refresh.get("version", 0))}</b>, compared with {against}.</p>'
            + simple_table(["change", "rows"], rows, cls="refresh"))


def run_section(report: dict) -> str:
    timings = report.get("timings_s", {})
    stages = [(name, seconds) for name, seconds in timings.items() if name != "total"]
    total = timings.get("total") or sum(s for _, s in stages) or 1
    timing_rows = "".join(
        f'<tr><td>{escape(name)}</td>{num_cell(seconds, f"{seconds:,.3f} s")}'
        f'<td><span class="cell-bar" style="width:{200 * share_of(seconds, total):.0f}px"></span></td></tr>'
        for name, seconds in stages
    )
    if "total" in timings:
        total_text = f"<b>{timings['total']:,.3f} s</b>"
        timing_rows += f'<tr><td><b>total</b></td>{num_cell(timings["total"], total_text)}<td></td></tr>'
    versions = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in report.get("versions", {}).items())
    inputs = "".join(f"<li><code>{escape(str(path))}</code></li>" for path in report.get("inputs", []))
    config = escape(json.dumps(report.get("config", {}), indent=2, sort_keys=True, ensure_ascii=False))
    unwritten = "" if "total" in timings else (
        '<p class="sub">The write stage and the total are not here: this page is written during the write.</p>')
    return (
        f"<h3>Inputs</h3><ul>{inputs}</ul>"
        f'<div class="side"><div><h3>Stage timings</h3><table class="timings"><thead><tr><th>stage</th>'
        f'<th class="num">seconds</th><th></th></tr></thead><tbody>{timing_rows}</tbody></table>{unwritten}</div>'
        f'<div><h3>Versions</h3><table class="versions"><tbody>{versions}</tbody></table></div></div>'
        f'<h3>Config</h3><details open><summary class="sub">the configuration this run used</summary>'
        f'<pre class="config">{config}</pre></details>'
    )


RENDERERS = {
    "flow": flow_section,
    "rules": rules_section,
    "repairs": repairs_section,
    "lengths": lengths_section,
    "languages": languages_section,
    "dedup": dedup_section,
    "decontamination": decontamination_section,
    "quarantine": quarantine_section,
    "shapes": shapes_section,
    "refresh": refresh_section,
    "run": run_section,
}


# Sections whose data other stages add; the stage's key may be missing or, in a
# report.json written by another version, shaped differently.
OPTIONAL = {"lengths", "languages", "dedup", "decontamination", "shapes", "refresh"}


def section_body(key: str, report: dict) -> str:
    """A section's HTML. An optional section whose data this renderer cannot read
    says so in the page (the browser test looks for it) instead of failing the
    whole run at its last step."""
    if key not in OPTIONAL:
        return RENDERERS[key](report)
    try:
        return RENDERERS[key](report)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        return f'<p class="bad render-error">This section could not be rendered: {escape(repr(error))}</p>'


def render_html(report: dict) -> str:
    """The whole page. Deterministic: the same report gives the same bytes."""
    counts = report["counts"]
    toc = "".join(f'<li><a href="#{key}">{escape(title)}</a></li>' for key, title in SECTIONS)
    body = "\n".join(section(key, title, section_body(key, report)) for key, title in SECTIONS)
    sources = ", ".join(short_source(str(path)) for path in report.get("inputs", [])[:5])
    if len(report.get("inputs", [])) > 5:
        sources += f" and {len(report['inputs']) - 5} more"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>Data-quality report · {escape(sources)}</title><style>{CSS}</style></head>\n<body>"
        f'<header class="top"><h1>Data-quality report</h1><div class="sub">{escape(sources)}</div>{kpis(counts)}</header>'
        f'<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>\n'
        f"<main>{body}</main>"
        '<footer>Written by <code>curate</code> from report.json; rebuild with <code>curate report DIR</code>.</footer>'
        "</body></html>\n"
    )
