"""report.html and report.md: rendered from report.json's dictionary, self-contained,
small, and honest about what a run did not compute."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from html.parser import HTMLParser

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.config import Config
from pipeline.report.build import histogram, lengths_section, log_edges
from pipeline.stages.normalise import normalise_facts
from pipeline.report.html import SECTIONS, differing_spans, fmt_share, histogram_svg, render_html, threshold_x
from pipeline.report.markdown import render_markdown
from pipeline.engines.local import run
from pipeline.report.summary import rebuild_report
from tests.conftest import ALPACA_5000, needs_reference
from tests.report.reports import full_report, lineage, minimal_report, tiny_run

MB = 1024 * 1024


class Page(HTMLParser):
    """Collects sections, tags with their attributes, and the text of <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)

    def sections(self) -> list[str]:
        return [attrs["id"] for tag, attrs in self.tags if tag == "section"]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "poster", "data", "xlink:href", "background",
                  "manifest", "ping", "longdesc", "codebase", "cite", "lowsrc", "dynsrc", "content-location"}
FETCHING_TAGS = {"script", "iframe", "frame", "object", "embed", "base", "applet", "audio", "video", "source", "track"}


def outside_references(html: str) -> list[str]:
    """Everything in the page that would make a browser reach outside the file:
    URL attributes other than #fragments and data: URIs, url()/@import in CSS,
    tags that load content, and a meta refresh."""
    page = parse(html)
    found = []
    for tag, attrs in page.tags:
        if tag in FETCHING_TAGS:
            found.append(f"<{tag}>")
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            found.append("meta refresh")
        for name, value in attrs.items():
            value = (value or "").strip()
            if name in URL_ATTRIBUTES and not (value.startswith("#") or value.lower().startswith("data:")):
                found.append(f"{tag} {name}={value!r}")
            if name == "style":
                found += css_references(value)
    for css in page.styles:
        found += css_references(css)
    return found


def css_references(css: str) -> list[str]:
    found = [f"@import {m}" for m in re.findall(r"@import\s+[^;]+", css, re.I)]
    for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", css, re.I):
        if not target.strip().lower().startswith("data:"):
            found.append(f"url({target})")
    return found


def section_of(html: str, key: str) -> str:
    start = html.index(f'<section id="{key}"')
    return html[start:html.index("</section>", start)]


# ---------------------------------------------------------------- structure


def test_every_section_is_present_in_order_with_a_toc_link():
    page = parse(render_html(full_report()))
    assert page.sections() == [key for key, _ in SECTIONS]
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert links == [f"#{key}" for key, _ in SECTIONS]


@pytest.mark.parametrize("key, phrase", [
    ("tokens", "Token counts: not computed in this run."),
    ("languages", "Language detection: not computed in this run."),
    ("dedup", "Duplicate clusters: not computed in this run."),
    ("lengths", "Character lengths: not computed in this run."),
    ("refresh", "not a refresh"),
    ("shapes", "No shapes recorded"),
])
def test_an_absent_optional_section_says_so(key, phrase):
    assert phrase in render_html(minimal_report())
    assert phrase not in render_html(full_report())


def test_optional_sections_render_their_figures():
    html = render_html(full_report())
    assert "training would truncate <b>1.2%</b>" in html  # truncated_share at max_seq_len 512
    assert "max_seq_len 512" in html and "outlier &gt; 900" in html  # threshold lines on the histograms
    assert 'data-label="en"' in html and "7 other languages" in html  # top 15 of 22 languages, the rest summed
    assert "similarity 0.86" in html and "card survivor" in html
    assert "Version <b>3</b>, compared with version 2" in html
    shapes = section_of(html, "shapes")
    assert "<code>instruction, input, output=response</code>" in shapes and "detected from each source" in shapes
    assert 'data-value="4"' in shapes  # the multi-turn conversations quarantined


def test_numbers_have_thousands_separators_and_raw_values():
    html = render_html(full_report(rows_in=1_234_567))
    assert '<td class="num" data-value="1234567" data-key="rows_in">1,234,567</td>' in html


# ---------------------------------------------------------------- examples


def test_the_offending_span_is_highlighted_and_everything_is_escaped():
    html = render_html(full_report())
    assert "<mark>https://example.com/page0</mark>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_a_pattern_python_cannot_compile_gives_no_highlight_not_a_crash():
    report = full_report()
    report["rules"][0]["highlight"] = r"\p{Cc}("  # Rust syntax, and unbalanced
    rules = section_of(render_html(report), "rules")
    assert "<mark>" not in rules and "example.com/page0" in rules


def test_control_characters_are_made_visible():
    report = full_report()
    report["rules"][0]["examples"] = [lineage(0, output="bell\x07 here")]
    report["rules"][0]["highlight"] = None
    assert 'bell<span class="ctl">\\x07</span> here' in render_html(report)


# ---------------------------------------------------------------- self-contained


def test_the_page_references_nothing_outside_itself(tmp_path, record):
    for html in (render_html(full_report()), (tiny_run(tmp_path, record) / "report.html").read_text()):
        assert outside_references(html) == []


@pytest.mark.parametrize("tampering", [
    '<img src="https://example.com/x.png">',
    '<link rel="stylesheet" href="style.css">',
    '<script src="app.js"></script>',
    '<div style="background: url(http://example.com/b.png)"></div>',
    "<style>@import 'https://fonts.example.com/f.css';</style>",
    "<style>body{background:url('x.png')}</style>",
    '<a href="https://example.com">out</a>',
    '<meta http-equiv="refresh" content="0; url=https://example.com">',
])
def test_the_checker_finds_an_outside_reference(tampering):
    html = render_html(full_report()).replace("<main>", "<main>" + tampering)
    assert outside_references(html)


# ---------------------------------------------------------------- size


def test_the_page_does_not_grow_with_the_run():
    small = render_html(full_report(rows_in=1_000))
    large = render_html(full_report(rows_in=1_000_000, examples=500, languages=400, clusters=5_000))
    assert len(large.encode()) < 1.5 * MB
    assert abs(len(large) - len(small)) < 0.1 * len(small)  # only digits of the counts differ much


@needs_reference()
@pytest.mark.slow
def test_the_report_of_5000_rows_is_small(tmp_path):
    run([str(ALPACA_5000)], tmp_path / "out", Config(), quiet=True)
    assert (tmp_path / "out" / "report.html").stat().st_size < 1.5 * MB
    assert (tmp_path / "out" / "report.md").stat().st_size < 8 * 1024


# ---------------------------------------------------------------- writing and rebuilding


def test_a_run_writes_both_pages_and_lists_them_in_the_manifest(tmp_path, record):
    out = tiny_run(tmp_path, record)
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    for name in ("report.html", "report.md"):
        assert listed[name] == hashlib.sha256((out / name).read_bytes()).hexdigest()


def test_rebuilding_gives_the_same_bytes_and_prints_the_path(tmp_path, record, capsys):
    out = tiny_run(tmp_path, record)
    written = (out / "report.html").read_bytes(), (out / "report.md").read_bytes()
    (out / "report.html").unlink()
    (out / "report.md").write_text("stale")
    assert main(["report", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "report.html")
    assert ((out / "report.html").read_bytes(), (out / "report.md").read_bytes()) == written


def test_rebuild_follows_an_edited_report_json(tmp_path, record):
    out = tiny_run(tmp_path, record)
    report = json.loads((out / "report.json").read_text())
    report["languages"] = {"en": 4, "de": 1}
    (out / "report.json").write_text(json.dumps(report))
    assert 'data-label="de"' in rebuild_report(out).read_text()


@pytest.mark.parametrize("content", [None, "not json", "[1, 2]"])
def test_report_of_a_directory_without_a_readable_report_exits_2(tmp_path, capsys, content):
    if content is not None:
        (tmp_path / "report.json").write_text(content)
    assert main(["report", str(tmp_path)]) == 2
    assert "report.json" in capsys.readouterr().err


def test_rendering_is_deterministic():
    assert render_html(full_report()) == render_html(copy.deepcopy(full_report()))


# ---------------------------------------------------------------- markdown


def test_markdown_is_short_and_carries_the_counts():
    text = render_markdown(full_report(rows_in=1_000_000, examples=500, languages=400, clusters=5_000))
    assert len(text.splitlines()) < 60 and len(text) < 4_000
    assert "| rows in | 1,000,000 | 100% |" in text
    assert "| ↳ mentions_url | 50,000 | 5.0% |" in text
    assert "max_seq_len 512 truncates 1.2% of clean rows" in text
    assert "| `alpaca.jsonl` | gpteacher | `instruction, input, output=response` | 999,990 |" in text
    assert "<script>" not in text


def test_markdown_of_a_minimal_report_leaves_out_what_was_not_computed():
    text = render_markdown(minimal_report())
    assert "Tokens" not in text and "Languages" not in text and "Duplicates" not in text and "shapes" not in text


# ---------------------------------------------------------------- figures


@pytest.mark.parametrize("share, shown", [
    (0.0, "0.0%"), (0.0004, "<0.1%"), (0.0123, "1.2%"), (0.9996, ">99.9%"), (1.0, "100.0%"),
])
def test_shares_are_never_rounded_to_a_misleading_0_or_100(share, shown):
    assert fmt_share(share) == shown


@pytest.mark.parametrize("value, x", [
    (1.0, 0.0),  # first edge
    (2.0, 5.0),  # halfway between 1 and 4 on a log scale
    (16.0, 20.0),  # an edge
    (0.5, 0.0),  # below the chart: pinned left
    (10_000.0, 30.0),  # beyond it: pinned right
])
def test_thresholds_are_placed_on_the_log_axis(value, x):
    assert threshold_x(value, [1.0, 4.0, 16.0, 64.0], 0.0, 10.0) == pytest.approx(x)


def test_length_histograms_count_every_row_once():
    frame = pl.DataFrame({"instruction": ["a", "abcd", "x" * 1000], "input": ["", "", None], "output": ["ok", "", "yes"]})
    repaired = frame.with_columns(pl.lit([], pl.List(pl.String)).alias("_repairs"))  # as normalise leaves it
    section = lengths_section(normalise_facts(repaired))
    for field, hist in section["histograms"].items():
        assert sum(hist["counts"]) == 3 and len(hist["edges"]) == len(hist["counts"]) + 1
    assert section["histograms"]["input"]["counts"][0] == 3  # all empty (null counts as empty)
    assert section["fields"]["instruction"]["max"] == 1000 and section["fields"]["total"]["max"] == 1003


@pytest.mark.parametrize("largest", [0, 1, 7, 1000, 123_456])
def test_the_last_edge_is_past_the_longest_field(largest):
    edges = log_edges(largest)
    assert edges[-1] > largest and edges == sorted(edges)
    counts = histogram(pl.Series([0, largest]))["counts"]
    assert sum(counts) == 2


def test_report_json_carries_each_rules_highlight(tmp_path, record):
    report = json.loads((tiny_run(tmp_path, record) / "report.json").read_text())
    assert all("highlight" in entry for entry in report["rules"])


def test_rare_kinds_of_duplicate_and_error_are_shown_beside_common_ones():
    report = full_report(clusters=30)
    report["dedup"]["examples"][-1]["reason"] = "conflicting_output"
    report["quarantine"]["examples"][-1] = {"_source": "x.jsonl", "_row": 7, "_raw": "{", "_error": "json: truncated"}
    html = render_html(report)
    assert "· conflicting_output</h3>" in html
    assert "json: truncated" in html


@pytest.mark.parametrize("text, survivor, differing", [
    ("Paris is the capital.", "Paris is the capital.", []),
    ("Paris is the capital of France.", "Paris is the capital.", ["capital of France."]),
    ("Rome is the capital.", "Paris is the capital.", ["Rome"]),
    ("", "anything", []),
])
def test_a_removed_duplicate_marks_the_words_that_differ(text, survivor, differing):
    assert [text[a:b] for a, b in differing_spans(text, survivor)] == differing


def test_empty_fields_are_counted_in_words_not_drawn_as_a_bar():
    html = histogram_svg({"edges": [0.0, 1.0, 2.0, 4.0], "counts": [60, 30, 10]}, unit="characters")
    assert 'data-value="60">empty: 60 rows (60.0%), not drawn' in html
    assert html.count("<rect") == 2
    assert "empty: 5 rows (100.0%)" in histogram_svg({"edges": [0.0, 1.0, 2.0], "counts": [5, 0]})


@pytest.mark.parametrize("key, broken", [
    ("languages", ["en", "de"]),
    ("dedup", {"clusters": 1, "rows_removed": 5}),
    ("lengths", {"histograms": {"input": {"edges": None, "counts": 3}}}),
    ("shapes", [{"source": "x.jsonl"}]),
])
def test_an_optional_section_in_an_unexpected_shape_is_reported_in_the_page(key, broken):
    report = full_report()
    report[key] = broken
    body = section_of(render_html(report), key)
    assert "render-error" in body and "could not be rendered" in body
    assert "render-error" not in render_html(full_report())


def test_a_report_renders_the_same_before_and_after_its_json_round_trip():
    """The run renders from its dict, `curate report` from report.json: integer
    keys (token lengths, cluster sizes) become strings on the way."""
    report = full_report()
    report["tokens"]["truncated_share"] = {256: 0.04, 512: 0.0123}
    report["dedup"]["cluster_sizes"] = {2: 7, 5: 1}
    round_tripped = json.loads(json.dumps(report))
    assert render_html(report) == render_html(round_tripped)
    assert render_markdown(report) == render_markdown(round_tripped)


@pytest.mark.parametrize("output, shown", [
    ("", '<span class="empty">(empty)</span>'),
    (None, '<span class="empty">(empty)</span>'),
    ("  \n", "<span class=\"empty\">(blank)</span> &#x27;  \\n&#x27;"),
])
def test_an_empty_or_blank_field_is_shown_as_such(output, shown):
    report = full_report()
    report["rules"][0]["examples"] = [lineage(0, output=output)]
    assert f'<span class="field">output</span>: {shown}' in render_html(report)
