"""Per row, a list of names: the repairs normalise made, the rules that fired, the
reasons a row is rejected."""

from __future__ import annotations

import polars as pl

SEPARATOR = "\x1f"  # the ASCII unit separator: in no repair, rule or reason name

_EMPTY = pl.lit([], dtype=pl.List(pl.String))


def names_list(parts: list[pl.Expr]) -> pl.Expr:
    """The non-null values of ``parts`` (each a name, or null, per row), in order,
    as a List(String) column; [] where every part is null.

    What ``pl.concat_list(parts).list.drop_nulls()`` gives, five to ten times
    faster: ``concat_list`` builds its lists row by row (0.2 s for 14 parts on
    50,000 rows), while joining the names into one string and splitting it again
    are whole-column kernels. A name is never empty and never holds ``SEPARATOR``."""
    if not parts:
        return _EMPTY
    joined = pl.concat_str(parts, separator=SEPARATOR, ignore_nulls=True)
    return pl.when(joined.is_null() | (joined == "")).then(_EMPTY).otherwise(joined.str.split(SEPARATOR))


def joined_names(names: pl.Expr) -> pl.Expr:
    """A List(String) column as one part of ``names_list``: its names, null when it has none."""
    return pl.when(names.list.len() > 0).then(names.list.join(SEPARATOR))
