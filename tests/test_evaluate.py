"""``make eval``: labels read back, fired rows scored against them, the shape
conversion keeping row indices, and the skip without reference data. The rows of
real data the issue names are checked in tests/test_rules_real_data.py."""

from __future__ import annotations


import polars as pl
import pytest

from pipeline import evaluate as E


def labels(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame([dict(zip(E.LABEL_FIELDS, row)) for row in rows],
                        schema={"dataset": pl.String, "row": pl.Int64, "rule": pl.String, "verdict": pl.String, "note": pl.String})


def hits(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"row": pl.Int64, "rule": pl.String, "severity": pl.String}, orient="row")


@pytest.mark.parametrize("name, base", [("refusal_v2", "refusal"), ("refusal", "refusal"), ("code_v2x", "code_v2x"),
                                        ("too_long", "too_long"), ("x_v12", "x")])
def test_a_versioned_rule_reads_the_labels_of_its_defect(name, base):
    assert E.base_rule(name) == base


def test_precision_counts_only_labelled_rows_and_labels_follow_versions():
    fired = hits((1, "refusal_v2", "drop"), (2, "refusal_v2", "drop"), (3, "refusal_v2", "drop"), (7, "too_long", "drop"))
    read = labels(("a", 1, "refusal", "right", ""), ("a", 2, "refusal", "wrong", ""), ("b", 3, "refusal", "right", ""),
                  ("a", 9, "refusal", "right", ""))  # row 9 did not fire; row 3 is another dataset's
    lines = {line.rule: line for line in E.score("a", fired, read)}
    assert (lines["refusal_v2"].fired, lines["refusal_v2"].read, lines["refusal_v2"].right) == (3, 2, 1)
    assert lines["refusal_v2"].precision == 0.5
    assert lines["too_long"].read == 0 and lines["too_long"].precision is None  # unread is not right


def test_misses_say_what_is_caught_now_and_what_is_newly_dropped():
    read = labels(("a", 1, "external_reference", "miss", ""), ("a", 2, "image_request", "miss", ""),
                  ("a", 3, "-", "ok", ""), ("a", 4, "-", "ok", ""))
    fired = hits((1, "external_reference_v2", "drop"), (2, "refusal_v2", "drop"), (4, "truncated_output_v2", "flag"))
    found = E.misses("a", fired, read)
    assert (found.read, found.missed, found.caught, found.new_drops) == (4, 2, 1, 0)
    found = E.misses("a", hits((3, "empty_output", "drop")), read)
    assert found.new_drops == 1


def test_summary_pools_datasets_per_rule():
    lines = [E.Line("a", "r", "drop", 10, 4, 4), E.Line("b", "r", "drop", 30, 6, 3), E.Line("a", "s", "flag", 5, 0, 0)]
    summary = E.summary(lines)
    assert summary == {"r": {"read": 10, "right": 7, "precision": 0.7,
                             "datasets": {"a": {"fired": 10, "read": 4, "right": 4}, "b": {"fired": 30, "read": 6, "right": 3}}}}


def test_label_files_are_checked(tmp_path):
    (tmp_path / "x.csv").write_text("dataset,row,rule,verdict,note\na,1,refusal,maybe,?\n")
    with pytest.raises(SystemExit, match="verdict"):
        E.read_labels(tmp_path)
    (tmp_path / "x.csv").write_text("dataset,row,rule,verdict,note\na,1,refusal,right,\"a note, with a comma\"\n")
    assert E.read_labels(tmp_path).row(0) == ("a", 1, "refusal", "right", "a note, with a comma")


def test_committed_labels_are_well_formed():
    read = E.read_labels()
    assert read.height > 0
    assert read.filter(pl.col("verdict").is_in(["right", "wrong"]) & (pl.col("rule") == "-")).height == 0
    # One verdict per row and rule among fired rows, and among the rows read for misses
    # (a row read as a miss is read again, as right or wrong, once a rule fires on it).
    for kinds in (["right", "wrong"], ["ok", "miss"]):
        part = read.filter(pl.col("verdict").is_in(kinds))
        assert part.unique(["dataset", "row", "rule"]).height == part.height


def test_without_reference_data_eval_skips_cleanly(tmp_path, capsys):
    assert E.main(["--data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out


def test_the_report_shows_each_rules_measured_precision():
    from pipeline.report.html import measured, rules_section
    from pipeline.report.markdown import rules as markdown_rules

    precision = {"read": 60, "right": 59, "precision": 0.9833, "datasets": ["alpaca_5000"]}
    entry = {"rule": "external_reference_v2", "severity": "drop", "description": "d", "count": 3, "share": 0.5,
             "examples": [], "highlight": None, "precision": precision}
    unmeasured = {**entry, "rule": "unfilled_template_slot", "precision": None}
    assert measured(precision) == "98% of 60 read" and measured(None) == "—"
    html = rules_section({"rules": [entry, unmeasured]})
    assert "precision by reading" in html and "98% of 60 read" in html and "—" in html
    markdown = "\n".join(markdown_rules({"rules": [entry]}))
    assert "| precision by reading |" in markdown and "98% of 60 read" in markdown


def test_measured_precision_is_read_from_the_committed_summary():
    from pipeline.dedup.dedup import REASONS
    from rules import RULES
    from rules.measured import _measured, measured_precision

    summary = _measured()
    assert summary, "rules/precision.json is written by make eval and committed"
    for name, entry in summary.items():
        assert name in {*RULES, *REASONS} and 0 <= entry["precision"] <= 1 and entry["right"] <= entry["read"]
        assert measured_precision(name)["read"] == entry["read"]
    assert measured_precision("no_such_rule") is None
