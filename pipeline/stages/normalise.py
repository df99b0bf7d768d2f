"""Normalise: repairs that make text comparable without changing its meaning.

Each repair is one named expression; a row lists the repairs that changed it in
``_repairs``, so a report can say how many rows each repair touched.
"""

from __future__ import annotations

import sys
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl

from pipeline import columns as C
from pipeline.report.model import NormaliseFacts, count_items, value_counts
from pipeline.stages.name_lists import joined_names, names_list

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
    """NFC, paid for only by the rows it changes.

    ASCII is always NFC. Polars' ``str.normalize`` costs ~50 ns a byte even on text
    that is already NFC (it has no quick check), and long non-ASCII texts are
    common; Python's quick check (``unicodedata.is_normalized``) clears most of
    them at a fraction of that. It answers by Python's Unicode version, which may
    be older than Polars': a text it clears that holds a character Python does not
    know still goes to Polars. For the rest the answers agree by Unicode's
    normalization stability policy (a text of assigned characters that is NFC
    stays NFC in every later version).
    """
    non_ascii = (text.str.len_bytes() != text.str.len_chars()).fill_null(False)
    if not non_ascii.any():
        return text
    candidates = text.filter(non_ascii)
    cleared = pl.Series([unicodedata.is_normalized("NFC", value) for value in candidates.to_list()], dtype=pl.Boolean)
    cleared &= ~candidates.str.contains(_unknown_to_python())
    if cleared.all():
        return text
    positions = non_ascii.arg_true().filter(~cleared)
    return text.scatter(positions, text.gather(positions).str.normalize("NFC"))


@lru_cache(maxsize=1)
def _unknown_to_python() -> str:
    """A regex class holding every code point unassigned in Python's Unicode
    database (and some assigned ones: the class may be wider, never narrower).
    Only planes 0 to 3 and 14 are looked up (a tenth of a second, once); the others
    (unassigned as a whole, or private use) are in the class whole."""
    looked_up = [*range(0x40000), *range(0xE0000, 0xE1000)]
    ranges: list[list[int]] = []
    for cp, category in zip(looked_up, map(unicodedata.category, map(chr, looked_up))):
        if category != "Cn":
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    ranges += [[0x40000, 0xDFFFF], [0xE1000, sys.maxunicode]]
    return "[" + "".join(f"\\x{{{first:X}}}-\\x{{{last:X}}}" for first, last in ranges) + "]"


def _without_invisible(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_INVISIBLE, "")


def _trimmed(column: str, text: pl.Expr) -> pl.Expr:
    # Output keeps its leading whitespace: the first line of a code answer may be
    # indented on purpose. Trailing whitespace never carries meaning.
    text = text.str.strip_chars_end()
    return text if column == "output" else text.str.strip_chars_start()


_NOT_IN_KEYS = r"[\s<>\[\](){}.,:;_\-/\\\"'`*#]"  # removed before comparing with the keys


def _spelling_of(key: str) -> str:
    """A pattern for the texts whose key (lowercased, ``_NOT_IN_KEYS`` removed) is
    ``key``: its letters in either case (the Kelvin sign lowercases to "k"; no
    other character lowercases to an ASCII letter alone), anything removed around them."""
    letters = [f"[{c}{c.upper()}{chr(0x212A) if c == 'k' else ''}]" for c in key]
    return f"{_NOT_IN_KEYS}*".join(letters)


# One pass of one pattern instead of lowercasing and rewriting every input.
_SPELLING = rf"^{_NOT_IN_KEYS}*(?:" + "|".join(_spelling_of(key) for key in _EMPTY_INPUT_KEYS) + rf"){_NOT_IN_KEYS}*$"


def is_empty_input_spelling(text: pl.Expr) -> pl.Expr:
    return text.str.contains(_SPELLING)


def _changed(step: str, before: pl.Expr, after: pl.Expr) -> pl.Expr:
    # Removing characters changes a text exactly when it shortens it: comparing
    # lengths is cheaper than comparing texts. NFC may change a text and keep its length.
    if step == "nfc":
        return after != before
    return after.str.len_bytes() != before.str.len_bytes()


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
            changed = _changed(step, pl.col(previous[c]), pl.col(f"_{step}_{c}"))
            repairs.append(pl.when(changed).then(pl.lit(f"{step}_{c}")))
            previous[c] = f"_{step}_{c}"
    final = {c: pl.col(previous[c]) for c in C.FIELDS}
    empty_input = is_empty_input_spelling(final["input"]) & (final["input"] != "")
    repairs.append(pl.when(empty_input).then(pl.lit("empty_input_spelling")))
    final["input"] = pl.when(empty_input).then(pl.lit("")).otherwise(final["input"])
    temporary = [f"_{step}_{c}" for step in steps for c in C.FIELDS]
    if C.REPAIRS in lf.collect_schema():  # made while reading (invalid UTF-8): they come first
        repairs.insert(0, joined_names(pl.col(C.REPAIRS)))
    return lf.with_columns(names_list(repairs).alias(C.REPAIRS), **final).drop(temporary)


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
