"""names_list gives what concat_list + drop_nulls gives, on every mix of names and nulls."""

from __future__ import annotations

import itertools

import polars as pl

from pipeline.stages.name_lists import joined_names, names_list


def test_names_list_equals_concat_list_without_nulls():
    options = [None, "nfc_input", "whitespace_output", "near_duplicate"]
    rows = list(itertools.product(options, repeat=3))  # every mix, all-null rows among them
    frame = pl.DataFrame({name: [row[i] for row in rows] for i, name in enumerate("abc")}, schema={n: pl.String for n in "abc"})
    parts = [pl.col("a"), pl.col("b"), pl.col("c")]
    got = frame.select(names_list(parts).alias("names")).to_series()
    want = frame.select(pl.concat_list(parts).list.drop_nulls().alias("names")).to_series()
    assert got.dtype == pl.List(pl.String)
    assert got.to_list() == want.to_list()
    assert got.to_list()[0] == []  # all null: an empty list, not a null


def test_an_existing_list_joins_in_first():
    frame = pl.DataFrame({"old": [["invalid_utf8_input", "invalid_utf8_output"], [], None],
                          "new": ["nfc_input", None, "whitespace_input"]})
    got = frame.select(names_list([joined_names(pl.col("old")), pl.col("new")])).to_series().to_list()
    assert got == [["invalid_utf8_input", "invalid_utf8_output", "nfc_input"], [], ["whitespace_input"]]


def test_no_parts_gives_empty_lists():
    frame = pl.DataFrame({"x": [1, 2]})
    assert frame.with_columns(names_list([]).alias("names")).get_column("names").to_list() == [[], []]
