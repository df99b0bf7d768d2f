"""Normalise: repairs that make text comparable without changing its meaning.

Each repair is one named expression; a row lists the repairs that changed it in
``_repairs``, so a report can say how many rows each repair touched.
"""

from __future__ import annotations

import polars as pl

from pipeline import columns as C

# Control characters except newline and tab, plus the zero-width characters that
# survive copy-paste from web pages and break exact matching (zero-width space,
# word joiner, byte-order mark). Zero-width (non-)joiners stay: they are content in
# emoji sequences and in Persian or Indic text.
_INVISIBLE = r"[\p{Cc}&&[^\n\t]]|[\x{200B}\x{2060}\x{FEFF}]"

# Spellings of "no input" seen in Alpaca-style data, compared after lowercasing and
# removing brackets, punctuation and spaces: "<noinput>", "No Input", "< noinput >",
# "N/A", "None", "(no input required)", "[empty]" ...
_EMPTY_INPUT_KEYS = [
    "noinput",
    "ninput",  # a typo seen in the original Alpaca data
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
    "",
]


def _nfc(column: str) -> pl.Expr:
    return pl.col(column).str.normalize("NFC")


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


def normalise(lf: pl.LazyFrame) -> pl.LazyFrame:
    repairs: list[pl.Expr] = []
    steps: dict[str, pl.Expr] = {}
    for column in C.FIELDS:
        original = pl.col(column)
        nfc = _nfc(column)
        visible = _without_invisible(nfc)
        trimmed = _trimmed(column, visible)
        steps[column] = trimmed
        repairs += [
            pl.when(nfc != original).then(pl.lit(f"nfc_{column}")),
            pl.when(visible != nfc).then(pl.lit(f"invisible_chars_{column}")),
            pl.when(trimmed != visible).then(pl.lit(f"whitespace_{column}")),
        ]
    empty_input = is_empty_input_spelling(steps["input"]) & (steps["input"] != "")
    repairs.append(pl.when(empty_input).then(pl.lit("empty_input_spelling")))
    steps["input"] = pl.when(empty_input).then(pl.lit("")).otherwise(steps["input"])
    return lf.with_columns(
        pl.concat_list(repairs).list.drop_nulls().alias(C.REPAIRS),
    ).with_columns(**steps)
