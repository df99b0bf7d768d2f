"""How much of a row the report keeps as an example: every text clipped to the same
length, so a report stays small however long the records are."""

from __future__ import annotations

EXAMPLE_CHARS = 300


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= EXAMPLE_CHARS:
        return text
    return text[:EXAMPLE_CHARS] + "…"


def clipped(row: dict) -> dict:
    """The row with every string value clipped; other values as they are."""
    return {key: clip(value) if isinstance(value, str) else value for key, value in row.items()}
