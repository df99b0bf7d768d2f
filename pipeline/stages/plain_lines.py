"""Plain JSON Lines records, parsed by Polars a batch at a time instead of by
``json.loads`` a line at a time.

Most lines of an Alpaca JSON Lines file are *plain*: one flat object holding
``instruction``, ``input`` and ``output``, each once, each a string or null. A
regular expression recognises such a line; the plain lines of a batch are then
parsed by ``pl.read_ndjson`` into three columns at once. Every other line (a
parse error, extra keys, a missing key, a number where text belongs ...) is
read by load's own per-line reader, as before, so its record, and its
quarantine reason, are the same as ever.

Why the pattern is as strict as it is: Polars parses some lines differently
from ``json.loads``, and the pattern keeps each of them out of the plain lines:

- a repeated key (Polars keeps the first value, Python the last): each key once;
- a number, boolean or object as a value (Polars turns it into text): only
  strings and null;
- a lone surrogate escape such as ``"\\ud800"`` (Polars gives NUL, Python the
  surrogate, which validation quarantines): no surrogate escapes at all;
- a key spelled with escapes, an extra key: only the three plain names;
- a control character, a BOM or other whitespace Python strips: none.

A plain line is valid JSON by its pattern (strings hold only valid escapes and
no control character), so Polars should never refuse one; should it all the
same, the whole batch is read line by line (``parse_plain`` returns None).
"""

from __future__ import annotations

import itertools

import polars as pl

from pipeline import columns as C

_SPACE = r"[ \t]*"  # JSON whitespace within a line (no "\r" but a final one)
_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'  # JSON's escapes only
_VALUE = rf"(?:{_STRING}|null)"
_SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F]"


def _object_of(keys: tuple[str, ...]) -> str:
    members = f"{_SPACE},{_SPACE}".join(f'"{key}"{_SPACE}:{_SPACE}{_VALUE}' for key in keys)
    return rf"\{{{_SPACE}{members}{_SPACE}\}}"


# The three keys in any order, each once.
PLAIN_LINE = (rf"^{_SPACE}(?:" + "|".join(_object_of(keys) for keys in itertools.permutations(C.FIELDS))
              + rf"){_SPACE}\r?$")
SCHEMA = {field: pl.String for field in C.FIELDS}


def plain_mask(lines: list[bytes]) -> list[bool]:
    """Which lines are plain (one that is not valid UTF-8 is not)."""
    try:
        text = pl.Series(lines, dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:  # rare: find the invalid lines and leave them out
        text = pl.Series([line if _is_utf8(line) else b"" for line in lines], dtype=pl.Binary).cast(pl.String)
    plain = text.str.contains(PLAIN_LINE) & ~text.str.contains(_SURROGATE_ESCAPE)
    return plain.to_list()


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_plain(lines: list[bytes]) -> pl.DataFrame | None:
    """The plain lines as rows of ``instruction``, ``input``, ``output`` (null where
    the line holds null), or None where Polars refuses one of them."""
    if not lines:
        return pl.DataFrame(schema=SCHEMA)
    try:
        frame = pl.read_ndjson(b"\n".join(lines), schema=SCHEMA)
    except pl.exceptions.PolarsError:
        return None
    return frame if frame.height == len(lines) else None
