"""Shapes: which key of an input record fills which Alpaca field.

Instruction datasets come in a handful of common shapes. Each source file gets one
shape, detected from the keys its records use (or given with ``--map`` / the
config's ``[fields]`` table), and its records are rewritten into Alpaca records
(``instruction``, ``input``, ``output``; extra keys pass through) before validation.

What people get wrong:

- **The shape is per source file, not per record.** One record of a GPTeacher file
  that lacks ``response`` is quarantined like an Alpaca record lacking ``output``;
  it does not make the file unknown. A file whose keys match no shape stops the
  run (exit 2) and names its keys: guessing would silently put the wrong text in
  ``output``.
- **Alpaca wins.** A file with ``instruction`` and ``output`` is Alpaca even when
  it also holds ``response`` or ``messages``; its records are passed on untouched
  (not even copied), so Alpaca inputs give byte-identical outputs.
- **Conversations are not cut.** A single-turn conversation (an optional system
  message, one user turn, one assistant turn) becomes one record, its system text
  in an extra column ``system``. A longer one is not an Alpaca record: it goes to
  quarantine as "multi-turn conversation (N turns)" with its raw text, N counting
  the user and assistant turns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from pipeline.errors import InputError
from pipeline.stages.load import LineBatch, RawRecord, file_format

MAPPABLE = ("instruction", "input", "output", "system")
SYSTEM = "system"


@dataclass(frozen=True)
class Shape:
    name: str
    identified_by: frozenset[str]  # every one of these keys present: this shape
    mapping: dict[str, str]  # field -> key; fields not named keep their own key
    turns: str | None = None  # conversation shapes: the key holding the turns


def _shape(name: str, keys: set[str], mapping: dict[str, str] | None = None, turns: str | None = None) -> Shape:
    return Shape(name, frozenset(keys), mapping or {}, turns)


# In order of preference: the first shape whose keys a file holds is its shape.
SHAPES = (
    _shape("alpaca", {"instruction", "output"}),
    _shape("dolly", {"instruction", "context", "response"}, {"input": "context", "output": "response"}),
    _shape("gpteacher", {"instruction", "response"}, {"output": "response"}),
    _shape("prompt_completion", {"prompt", "completion"}, {"instruction": "prompt", "output": "completion"}),
    _shape("question_answer", {"question", "answer"}, {"instruction": "question", "output": "answer"}),
    _shape("sharegpt", {"conversations"}, turns="conversations"),
    _shape("messages", {"messages"}, turns="messages"),
)
ALPACA = SHAPES[0]
MAPPED = "mapped"  # the shape's name when --map / [fields] named the fields

# Speaker names of ShareGPT ("from") and chat ("role") turns.
ROLES = {
    "system": SYSTEM, "developer": SYSTEM,
    "user": "user", "human": "user",
    "assistant": "assistant", "gpt": "assistant", "chatgpt": "assistant", "model": "assistant", "bot": "assistant",
}


# ---------------------------------------------------------------- --map


def parse_map(text: str) -> dict[str, str]:
    """``output=response,input=context`` -> {"output": "response", "input": "context"}."""
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        to, sep, key = (s.strip() for s in part.partition("="))
        if not sep or not to or not key:
            raise InputError(f"--map {text}: expected FIELD=KEY pairs separated by commas, e.g. output=response,input=context")
        if to not in MAPPABLE:
            raise InputError(f"--map {text}: {to!r} is not a field; fields are {', '.join(MAPPABLE)}")
        if to in mapping and mapping[to] != key:
            raise InputError(f"--map {text}: {to} is mapped twice")
        mapping[to] = key
    return mapping


# ---------------------------------------------------------------- detection


@dataclass
class SourceShape:
    """What one source was read as: its shape and the mapping used (field -> key)."""

    source: str
    shape: str
    mapping: dict[str, str]
    records: int = 0
    multi_turn: int = 0
    turns: str | None = None

    def describe(self) -> str:
        """One line for the console: ``shape gpteacher (instruction, input, output=response)``."""
        if self.turns:
            text = f"{self.turns}: single turns -> instruction, output, system"
            if self.multi_turn:
                text += f"; {self.multi_turn:,} multi-turn to quarantine"
        else:
            text = ", ".join(f if key == f else f"{f}={key}" for f, key in self.mapping.items())
        return f"shape {self.shape} ({text})"

    def as_dict(self) -> dict:
        return {"source": self.source, "shape": self.shape, "mapping": self.mapping, "turns": self.turns,
                "records": self.records, "multi_turn": self.multi_turn}


def keys_of(records: Iterable[RawRecord]) -> list[str]:
    """Every key the source's JSON-object records use, in order of first appearance."""
    if isinstance(records, LineBatch):
        return records.keys()  # without reading every line
    seen: dict[str, None] = {}
    for record in records:
        value = record.value
        if isinstance(value, dict) and not seen.keys() >= value.keys():
            seen.update(dict.fromkeys(value))
    return list(seen)


def detect(source: str, keys: list[str]) -> Shape:
    """The first shape whose identifying keys the source holds.

    A source with no JSON objects at all (an empty or unparseable file) is Alpaca, so
    its records reach validation and quarantine as before. One that holds some Alpaca
    keys but no complete shape is Alpaca too: its records are quarantined by field
    ("output: Field required"), which says more than refusing the file would.
    """
    present = set(keys)
    for shape in SHAPES:
        if shape.identified_by <= present:
            return shape
    if not present or present & {"instruction", "output"}:
        return ALPACA
    raise InputError(f"{source}: unknown record shape; keys found: {_listed(keys)}; "
                     f"name the fields, e.g. --map {_example_map(keys)}")


def _listed(keys: list[str], limit: int = 12) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", … ({len(keys) - limit} more)" if len(keys) > limit else "")


def _example_map(keys: list[str]) -> str:
    first, second = (keys + ["KEY", "KEY"])[:2]
    return f"instruction={first},output={second if second != first else 'KEY'}"


# ---------------------------------------------------------------- rewriting records


def conform(records: list[RawRecord], fields: dict[str, str] | None = None,
            say: Callable[[str], None] = print) -> tuple[list[RawRecord], list[SourceShape]]:
    """Alpaca records from every source's shape, and what each source was read as.

    ``records`` come source by source (as ``load_records`` returns them); ``fields``
    (``--map``, ``[fields]``) replaces detection for every source when given.
    """
    out: list[RawRecord] = []
    found: list[SourceShape] = []
    for source, part in _by_source(records):
        conformed, shape = conform_source(source, part, fields)
        say(f"  {source}: {shape.describe()}")
        out.extend(conformed)
        found.append(shape)
    return out, found


def _by_source(records: list[RawRecord]) -> Iterable[tuple[str, list[RawRecord]]]:
    start = 0
    for end in range(1, len(records) + 1):
        if end == len(records) or records[end].source != records[start].source:
            yield records[start].source, records[start:end]
            start = end


def conform_source(source: str, records: list[RawRecord], fields: dict[str, str] | None = None,
                   keys: list[str] | None = None) -> tuple[list[RawRecord], SourceShape]:
    """One source's records as Alpaca records (or quarantine-bound ones), and its
    shape. ``keys``: the whole source's keys when ``records`` is one batch of it."""
    keys = keys_of(records) if keys is None else keys
    if fields:
        missing = sorted({key for key in fields.values() if key not in keys})
        if missing and keys:
            given = ",".join(f"{f}={k}" for f, k in fields.items())
            raise InputError(f"{source}: the field mapping {given} (--map / [fields]) names key(s) {', '.join(missing)} "
                             f"that no record has; "
                             f"keys found: {_listed(keys)}")
        shape = Shape(MAPPED, frozenset(), dict(fields))
    else:
        shape = detect(source, keys)
    if shape.turns:
        return _from_conversations(source, records, shape)
    mapping = {f: shape.mapping.get(f, f) for f in ("instruction", "input", "output")}
    mapping.update({f: k for f, k in shape.mapping.items() if f not in mapping})
    # The facts name only the keys the source has (no "input" for question/answer).
    used = {f: k for f, k in mapping.items() if k in keys or not keys}
    facts = SourceShape(source, shape.name, used, records=len(records))
    renames = {f: k for f, k in mapping.items() if f != k}
    if not renames:
        return records, facts  # Alpaca: untouched, so outputs stay byte-identical
    blank_is_empty = file_format(Path(source))[0] == ".csv"
    moved = frozenset(renames.values()) | frozenset(renames)  # keys replaced by the renamed ones
    return [_renamed(record, renames, moved, blank_is_empty) for record in records], facts


class ShapeChanged(Exception):
    """A streamed source's later batches hold keys that change the shape its first
    batch gave, or may: the source must be conformed with all its keys known
    (``keys``; None when they are still to be read)."""

    def __init__(self, source: str, keys: list[str] | None) -> None:
        super().__init__(source)
        self.source, self.keys = source, keys


class BatchedSource:
    """``conform_source`` for a source read a batch at a time, with the same result.

    The shape is detected on the keys seen so far when the first batch comes, or
    on ``known_keys`` (every key of the source, found by an earlier read). At the
    end every key of the source is known: when they give another shape or
    mapping than the first batch did, ``finish`` raises ``ShapeChanged``.
    """

    def __init__(self, source: str, fields: dict[str, str] | None, known_keys: list[str] | None = None) -> None:
        self.source, self.fields = source, fields
        self.seen: dict[str, None] = {}
        self.keys = known_keys
        self.facts: SourceShape | None = None

    def conform(self, records: list[RawRecord]) -> list[RawRecord]:
        self.seen.update(dict.fromkeys(keys_of(records)))
        if self.keys is None:
            self.keys = list(self.seen)
            if self.fields and not set(self.fields.values()) <= set(self.keys):
                # A missing key is an error only if no record of the source has it.
                raise ShapeChanged(self.source, None)
        conformed, facts = conform_source(self.source, records, self.fields, self.keys)
        if self.facts is None:
            self.facts = facts
        else:
            self.facts.records += facts.records
            self.facts.multi_turn += facts.multi_turn
        return conformed

    def finish(self) -> SourceShape:
        if self.facts is None:  # an empty source
            return conform_source(self.source, [], self.fields, self.keys)[1]
        if list(self.seen) != self.keys:
            _, whole = conform_source(self.source, [], self.fields, list(self.seen))
            if (whole.shape, whole.mapping, whole.turns) != (self.facts.shape, self.facts.mapping, self.facts.turns):
                raise ShapeChanged(self.source, list(self.seen))
        return self.facts


def _raw(record: RawRecord) -> str:
    """The record's text as read: quarantine must show the input, not our rewrite."""
    return record.raw or json.dumps(record.value, ensure_ascii=False, default=str)


def _rewritten(record: RawRecord, row: dict[str, Any]) -> RawRecord:
    # The original value rides along so that validation can quarantine the record
    # with its text as read; it is only serialised if that happens.
    return RawRecord(record.source, record.row, row, record.raw, original=record.value)


def _renamed(record: RawRecord, renames: dict[str, str], moved: frozenset[str], blank_is_empty: bool) -> RawRecord:
    value = record.value
    if not isinstance(value, dict):
        return record
    row = {field: value[key] for field, key in renames.items() if key in value}
    if blank_is_empty:
        # CSV cannot tell an empty cell from a missing one; load fills the Alpaca
        # columns with "", and the mapped columns get the same treatment here.
        row = {f: "" if v is None and f != SYSTEM else v for f, v in row.items()}
    for key, item in value.items():
        if key not in moved:
            row[key] = item
    return _rewritten(record, row)


def _from_conversations(source: str, records: list[RawRecord], shape: Shape) -> tuple[list[RawRecord], SourceShape]:
    facts = SourceShape(source, shape.name, {}, records=len(records), turns=shape.turns)
    out = []
    for record in records:
        if not isinstance(record.value, dict) or record.parse_error is not None:
            out.append(record)  # validation quarantines it as for any shape
            continue
        row, error = single_turn(record.value, shape.turns)
        if error is None:
            out.append(_rewritten(record, row))
            continue
        facts.multi_turn += error.startswith("multi-turn")
        out.append(RawRecord(record.source, record.row, None, _raw(record), error))
    return out, facts


@dataclass
class _Turns:
    system: list[str] = field(default_factory=list)
    spoken: list[tuple[str, str]] = field(default_factory=list)  # (role, text) of user and assistant turns
    late_system: bool = False  # a system message after the first user or assistant turn


def single_turn(value: dict[str, Any], key: str) -> tuple[dict[str, Any] | None, str | None]:
    """The Alpaca record of a single-turn conversation, or why it is not one."""
    turns, error = _read_turns(value.get(key), key)
    if error is not None:
        return None, error
    if len(turns.spoken) > 2:
        return None, f"multi-turn conversation ({len(turns.spoken)} turns)"
    if turns.late_system:
        return None, f"{key}: a system message after the conversation started"
    roles = [role for role, _ in turns.spoken]
    if roles != ["user", "assistant"]:
        found = ", ".join(roles) or "none"
        return None, f"{key}: expected one user turn then one assistant turn (found: {found})"
    row: dict[str, Any] = {"instruction": turns.spoken[0][1], "input": "", "output": turns.spoken[1][1]}
    if turns.system:
        row[SYSTEM] = "\n\n".join(turns.system)
    row.update((k, v) for k, v in value.items() if k != key and k not in row)
    return row, None


def _read_turns(turns: Any, key: str) -> tuple[_Turns, str | None]:
    read = _Turns()
    if not isinstance(turns, list):
        return read, f"{key}: expected a list of turns (found {type(turns).__name__})"
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict):
            return read, f"{key}[{index}]: expected an object with a role and a text (found {type(turn).__name__})"
        speaker = turn.get("from", turn.get("role"))
        text = turn.get("value", turn.get("content"))
        role = ROLES.get(speaker.lower()) if isinstance(speaker, str) else None
        if role is None:
            return read, f"{key}[{index}]: unknown speaker {speaker!r}"
        if not isinstance(text, str):
            return read, f"{key}[{index}]: the text must be a string (found {type(text).__name__})"
        if role == SYSTEM:
            read.late_system |= bool(read.spoken)
            read.system.append(text)
        else:
            read.spoken.append((role, text))
    return read, None


def shapes_section(shapes: list[SourceShape]) -> list[dict]:
    """The report's ``shapes``: one entry per source."""
    return [shape.as_dict() for shape in shapes]
