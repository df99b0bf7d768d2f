"""Checks on a record's values that Parquet and Polars need, so that one hostile
record is quarantined with its reason instead of crashing the run.

What people get wrong:

- **Extra fields keep their type.** The first record that gives an extra field a
  value fixes the field's type; a later record with another type (a string where
  earlier records held an object) is quarantined, naming both types, instead of
  every value being rewritten as text. Whole numbers and fractions mix (a JSON
  number is a number: the column is a float); an object may lack keys that other
  records have (they read back as null). A refresh starts from the types of the
  published rows, so a published value never changes type.
- **Values Parquet cannot hold** are quarantined: a field name that is empty or
  holds NUL (Arrow renames or refuses it), a lone surrogate (``"\\ud800"``
  is valid JSON but not Unicode), nesting deeper than ``MAX_DEPTH``, an integer
  outside 64 bits, an object with no keys (an empty struct cannot be written).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

MAX_DEPTH = 32  # deeper values cost minutes in Polars and crash its Parquet writer
INT64 = (-(2**63), 2**63 - 1)

# A type signature: "null", "bool", "int", "float", "str", ("list", sig) or
# ("struct", ((key, sig), ...)) with keys sorted. Plain tuples, so they can be
# stored as JSON in a refresh manifest and compared with ==.
Signature = Any

_SCALARS = {bool: "bool", int: "int", float: "float", str: "str"}


class Conflict(Exception):
    """Two values of one field, or two elements of one list, have different types."""


def encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (a lone surrogate cannot)."""
    if text.isascii():  # the common case, and much cheaper than encoding
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=4096)  # records repeat their keys; a key is hashable by being one
def _good_name(key) -> bool:
    # NUL ends a C string: Arrow and Ray cannot carry such a column name.
    # An empty name becomes "column_N" on the way through Arrow.
    return isinstance(key, str) and key != "" and "\x00" not in key and encodable(key)


def value_problem(record: dict) -> str | None:
    """Why a parsed record cannot be stored, or None. Walks the value without
    recursion, so any depth that JSON parsing allowed is safe to check."""
    for key, item in record.items():  # the common flat record of strings, without the walk
        if type(item) is not str or not (item.isascii() or encodable(item)) or not _good_name(key):
            break
    else:
        return None
    stack: list[tuple[Any, int, str]] = [(record, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            return f"{_short(where)}: nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, str):
            if not encodable(value):
                return f"{where or 'record'}: lone surrogate (not valid Unicode)"
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not INT64[0] <= value <= INT64[1]:
                return f"{where}: integer {_short(str(value))} is outside the 64-bit range"
        elif isinstance(value, dict):
            if not value and depth > 0:
                return f"{where}: empty object (Parquet cannot store an object without keys)"
            for key, item in value.items():
                if not _good_name(key):
                    return f"{where or 'record'}: field name {_short(repr(key))} is empty or holds a NUL or a lone surrogate"
                stack.append((item, depth + 1, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(value))
        else:  # datasets can hand over bytes, dates ...: left to Polars as before
            continue
    return None


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def signature(value: Any) -> Signature:
    """The type of a JSON value; raises Conflict for a list whose elements disagree."""
    if value is None:
        return "null"
    kind = _SCALARS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, list):
        element: Signature = "null"
        for item in value:
            element = unify(element, signature(item))
        return ("list", element)
    if isinstance(value, dict):
        return ("struct", tuple(sorted((key, signature(item)) for key, item in value.items())))
    return type(value).__name__  # anything else must simply be the same type every time


def unify(a: Signature, b: Signature, widen: bool = True) -> Signature:
    """The one type that holds values of both types, or Conflict. ``widen=False``
    (published types) allows only what leaves earlier values as they are: filling
    a null, adding keys to an object."""
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    if {a, b} == {"int", "float"} and widen:
        return "float"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "list":
        return ("list", unify(a[1], b[1], widen))
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "struct":
        keys = dict(a[1])
        for key, sig in b[1]:
            keys[key] = unify(keys[key], sig, widen) if key in keys else sig
        return ("struct", tuple(sorted(keys.items())))
    raise Conflict(f"{describe(b)} here but {describe(a)} in earlier records")


def describe(sig: Signature) -> str:
    if isinstance(sig, tuple):
        return "a list" if sig[0] == "list" else "an object"
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean"}.get(sig, sig)


class ExtraFieldTypes:
    """The type of every extra field so far, shared by all batches of one run (or
    of one refresh, starting from the published types)."""

    def __init__(self, published: dict[str, Signature] | None = None) -> None:
        self.types: dict[str, Signature] = {}
        self.published = dict(published or {})

    def admit(self, extras: dict[str, Any]) -> str | None:
        """Record the types of one record's extra fields, or say why it conflicts
        (then nothing is recorded)."""
        updated = {}
        for name, value in extras.items():
            try:
                sig = signature(value)
                if name in self.published:
                    sig = unify(self.published[name], sig, widen=False)
                updated[name] = unify(self.types.get(name, "null"), sig)
            except Conflict as conflict:
                return f"extra field {name!r} is {conflict}"
        self.types.update(updated)
        return None

    def to_json(self) -> dict:
        """Published and new types together: what the next refresh starts from."""
        merged = dict(self.published)
        for name, sig in self.types.items():
            merged[name] = unify(merged.get(name, "null"), sig)
        return {name: _jsonable(sig) for name, sig in merged.items()}

    @classmethod
    def from_json(cls, data: dict | None) -> "ExtraFieldTypes":
        return cls({name: _from_jsonable(sig) for name, sig in (data or {}).items()})


def _jsonable(sig: Signature):
    if isinstance(sig, tuple) and sig[0] == "list":
        return {"list": _jsonable(sig[1])}
    if isinstance(sig, tuple):
        return {"struct": {key: _jsonable(item) for key, item in sig[1]}}
    return sig


def _from_jsonable(data) -> Signature:
    if isinstance(data, dict) and "list" in data:
        return ("list", _from_jsonable(data["list"]))
    if isinstance(data, dict):
        return ("struct", tuple(sorted((key, _from_jsonable(item)) for key, item in data["struct"].items())))
    return data
