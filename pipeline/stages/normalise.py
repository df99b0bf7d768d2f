"""Normalise: repairs that make text comparable without changing its meaning.

Each repair is one named expression; a row lists the repairs that changed it in
``_repairs``, so a report can say how many rows each repair touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from pipeline import columns as C
from pipeline.report.model import NormaliseFacts, count_items, value_counts

if TYPE_CHECKING:
    from pipeline.flow import Context

# Control characters except newline and tab, plus the zero-width characters that
# survive copy-paste from web pages and break exact matching (zero-width space,
# word joiner, byte-order mark). Zero-width (non-)joiners stay: they are content in
# emoji sequences and in Persian or Indic text.
_INVISIBLE = r"[\p{Cc}&&[^\n\t]]|[\x{200B}\x{2060}\x{FEFF}]"

# Spellings of "no input" seen in Alpaca-style data, compared after lowercasing and
# removing brackets, punctuation and spaces: "<noinput>", "No Input", "< noinput >",
# "N/A", "None", "(no input required)", "[empty]" ...
# Only words: an input made of punctuation alone (Morse code ".- -...", a "/" to
# explain) has no key left after the removal, and it is content, not a spelling.
_EMPTY_INPUT_KEYS = [
    "noinput",
    "ninput",  # typos seen in the original Alpaca data
    "noput",
    "noinpt",
    "noimput",
    "noinputs",
    "noinputrequired",
    "noinputneeded",
    "noinputprovided",
    "noinputgiven",
    "na",
    "none",
    "nil",
    "null",
    "empty",
    "blank",
    "notapplicable",
]


def _nfc(text: pl.Series) -> pl.Series:
    """NFC, paid for only by the rows that hold non-ASCII text (ASCII is always NFC)."""
    needs = text.str.contains(r"[^\x00-\x7F]").fill_null(False)
    if not needs.any():
        return text
    return text.scatter(needs.arg_true(), text.filter(needs).str.normalize("NFC"))


def _without_invisible(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_INVISIBLE, "")


def _trimmed(column: str, text: pl.Expr) -> pl.Expr:
    # Output keeps its leading whitespace: the first line of a code answer may be
    # indented on purpose. Trailing whitespace never carries meaning.
    text = text.str.strip_chars_end()
    return text if column == "output" else text.str.strip_chars_start()


def is_empty_input_spelling(text: pl.Expr) -> pl.Expr:
    key = text.str.to_lowercase().str.replace_all(r"[\s<>\[\](){}.,:;_\-/\\\"'`*#]", "")
    return key.is_in(_EMPTY_INPUT_KEYS)


def normalise(lf: pl.LazyFrame, context: Context | None = None) -> pl.LazyFrame:
    """Apply each repair in turn, keeping each intermediate text as a temporary column
    so that every step is computed once and compared with the step before it.
    Row-local, and reads no setting (``context`` is the stage signature's)."""
    steps = {"nfc": lambda c: pl.col(c).map_batches(_nfc, return_dtype=pl.String),
             "invisible_chars": lambda c: _without_invisible(pl.col(f"_nfc_{c}")),
             "whitespace": lambda c: _trimmed(c, pl.col(f"_invisible_chars_{c}"))}
    previous = {c: c for c in C.FIELDS}
    repairs: list[pl.Expr] = []
    for step, build in steps.items():
        lf = lf.with_columns(build(c).alias(f"_{step}_{c}") for c in C.FIELDS)
        for c in C.FIELDS:
            repairs.append(pl.when(pl.col(f"_{step}_{c}") != pl.col(previous[c])).then(pl.lit(f"{step}_{c}")))
            previous[c] = f"_{step}_{c}"
    final = {c: pl.col(previous[c]) for c in C.FIELDS}
    empty_input = is_empty_input_spelling(final["input"]) & (final["input"] != "")
    repairs.append(pl.when(empty_input).then(pl.lit("empty_input_spelling")))
    final["input"] = pl.when(empty_input).then(pl.lit("")).otherwise(final["input"])
    temporary = [f"_{step}_{c}" for step in steps for c in C.FIELDS]
    if C.REPAIRS in lf.collect_schema():  # made while reading (invalid UTF-8): they come first
        repairs.insert(0, pl.col(C.REPAIRS).fill_null(pl.lit([], pl.List(pl.String))))
    return lf.with_columns(pl.concat_list(repairs).list.drop_nulls().alias(C.REPAIRS), **final).drop(temporary)


def normalise_facts(frame: pl.DataFrame, context: Context | None = None) -> NormaliseFacts:
    """Rows each repair changed, and the character lengths of the repaired fields
    (null counts as empty), for the report's repairs and lengths sections."""
    lengths = {field: frame.get_column(field).str.len_chars().fill_null(0) for field in C.FIELDS}
    total = frame.select(pl.sum_horizontal(pl.col(f).str.len_chars().fill_null(0) for f in C.FIELDS)).to_series()
    return NormaliseFacts(
        rows=frame.height,
        repairs=count_items(frame, C.REPAIRS),
        lengths={field: value_counts(values) for field, values in {**lengths, "total": total}.items()},
    )
