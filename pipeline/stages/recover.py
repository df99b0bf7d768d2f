"""Reading damaged files record by record, so that one bad record is one
quarantine row and the file's other records still count.

Used by load only where the fast reader gave up: a JSON array holding one record
nested too deeply to parse, a CSV file with a ragged row or an unterminated quote.
Text in UTF-16 (a byte-order mark, or the zero bytes of ASCII text) is read as
such instead of failing as JSON.
"""

from __future__ import annotations

import csv
import json
from typing import Any, Iterator

INVALID_UTF8 = "invalid_utf8"  # the repair named in _repairs when bytes became U+FFFD
TOO_DEEP = "nested too deeply to parse"


def as_utf8(data: bytes) -> bytes:
    """UTF-16 text re-encoded as UTF-8; anything else unchanged."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace").encode("utf-8")
    head = data[:64]
    if len(head) >= 4 and head[1::2].count(0) == len(head[1::2]) and head[0::2].count(0) == 0:
        return data.decode("utf-16-le", errors="replace").encode("utf-8")
    if len(head) >= 4 and head[0::2].count(0) == len(head[0::2]) and head[1::2].count(0) == 0:
        return data.decode("utf-16-be", errors="replace").encode("utf-8")
    return data


def decode(data: bytes) -> tuple[str, bool]:
    """The text, and whether invalid UTF-8 bytes had to become U+FFFD."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _end_of_value(text: str, start: int) -> int:
    """Where the JSON value starting at ``start`` ends, by counting brackets
    outside strings (for a value too deep for the parser to read)."""
    depth, position, in_string = 0, start, False
    while position < len(text):
        char = text[position]
        if in_string:
            if char == "\\":
                position += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return position + 1
        elif depth == 0 and char in ",":
            return position
        position += 1
    return position


def json_array_items(text: str) -> Iterator[tuple[Any, str, str | None]]:
    """(value, raw text, error) for each element of a top-level JSON array, so that
    an element too deep to parse is skipped alone. Raises ValueError where the
    text stops being an array (the caller then quarantines the file as a whole)."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise ValueError("not a JSON array")
    position = _skip_space(text, position + 1)
    if text.startswith("]", position):
        return
    while True:
        start = position
        try:
            value, position = decoder.raw_decode(text, position)
            yield value, "", None
        except RecursionError:
            position = _end_of_value(text, start)
            yield None, text[start:position], TOO_DEEP
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif text.startswith("]", position):
            return
        else:
            raise ValueError(f"expected , or ] at character {position}")


def csv_records(text: str) -> Iterator[tuple[dict | None, str, str | None]]:
    """(row, raw text, error) per record of a CSV file that Polars refused: a row
    with more or fewer cells than the header, or a quote never closed (that line
    alone; reading goes on at the next line)."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return
    header = next(csv.reader(lines[:1]))
    start = 1
    while start < len(lines):
        reader = csv.reader(lines[start:], strict=True)
        consumed = 0
        try:
            for cells in reader:
                raw = "".join(lines[start + consumed:start + reader.line_num])
                consumed = reader.line_num
                if not cells:
                    continue  # a blank line is not a record
                if len(cells) != len(header):
                    yield None, raw.rstrip("\r\n"), f"CSV row has {len(cells)} cells; the header has {len(header)}"
                else:
                    yield {name: (cell if cell != "" else None) for name, cell in zip(header, cells)}, "", None
            return
        except csv.Error as error:
            bad = start + consumed
            yield None, lines[bad].rstrip("\r\n"), f"CSV record is malformed: {error}"
            start = bad + 1
