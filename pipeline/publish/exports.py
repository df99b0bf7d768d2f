"""Exports: the clean set in the formats trainers read (``--export``, repeatable).

| format | file | one record |
| --- | --- | --- |
| ``alpaca-json`` | ``clean.json`` | ``{"instruction", "input", "output"}`` in one JSON array |
| ``alpaca-jsonl`` | ``clean.jsonl`` | the same, one per line |
| ``messages-jsonl`` | ``clean.messages.jsonl`` | ``{"messages": [{"role": "system"?}, {"role": "user"}, {"role": "assistant"}]}`` |
| ``sharegpt-jsonl`` | ``clean.sharegpt.jsonl`` | ``{"conversations": [{"from": "system"?}, {"from": "human"}, {"from": "gpt"}]}`` |
| ``hf-dataset`` | ``clean_dataset/`` | a ``datasets.save_to_disk`` directory of the input's own columns |

The chat formats put the input after the instruction in the user turn exactly as
the prompt template joins them (``train.template.user_message``), and start with
a system turn only for rows whose ``system`` column (from a conversation input, or
``--map system=KEY``) holds text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

from pipeline import columns as C
from train.template import user_message
from pipeline.publish.write import user_columns

SYSTEM = "system"


def _rows(clean: pl.DataFrame) -> Iterable[dict]:
    wanted = [*C.FIELDS, SYSTEM] if SYSTEM in clean.columns else list(C.FIELDS)
    return clean.select(wanted).iter_rows(named=True)


def _write_lines(path: Path, records: Iterable[dict]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _chat(row: dict, speaker: Callable[[str, str], dict]) -> list[dict]:
    """System (when the row has one), user, assistant: each as ``speaker`` writes a turn."""
    turns = [speaker(SYSTEM, row[SYSTEM])] if row.get(SYSTEM) else []
    return turns + [speaker("user", user_message(row["instruction"], row["input"])), speaker("assistant", row["output"])]


def messages_record(row: dict) -> dict:
    return {"messages": _chat(row, lambda role, text: {"role": role, "content": text})}


SHAREGPT_SPEAKERS = {SYSTEM: "system", "user": "human", "assistant": "gpt"}


def sharegpt_record(row: dict) -> dict:
    speaker = lambda role, text: {"from": SHAREGPT_SPEAKERS[role], "value": text}  # noqa: E731
    return {"conversations": _chat(row, speaker)}


def export_alpaca_json(clean: pl.DataFrame, directory: Path) -> list[Path]:
    path = directory / "clean.json"
    records = clean.select(C.FIELDS).to_dicts()
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [path]


def export_alpaca_jsonl(clean: pl.DataFrame, directory: Path) -> list[Path]:
    path = directory / "clean.jsonl"
    clean.select(C.FIELDS).write_ndjson(path)
    return [path]


def export_messages(clean: pl.DataFrame, directory: Path) -> list[Path]:
    return [_write_lines(directory / "clean.messages.jsonl", map(messages_record, _rows(clean)))]


def export_sharegpt(clean: pl.DataFrame, directory: Path) -> list[Path]:
    return [_write_lines(directory / "clean.sharegpt.jsonl", map(sharegpt_record, _rows(clean)))]


def export_hf_dataset(clean: pl.DataFrame, directory: Path) -> list[Path]:
    """The input's own columns (instruction, input, output, extras such as ``system``);
    the lineage stays in the shards. Its fingerprint is a hash of the data, so the
    same clean set gives the same bytes."""
    import datasets


    datasets.disable_progress_bars()
    target = directory / "clean_dataset"
    # An empty set still gets its (empty) shard: without one load_from_disk fails.
    shards = {"num_shards": 1} if clean.is_empty() else {}
    datasets.Dataset(clean.select(user_columns(clean)).to_arrow()).save_to_disk(str(target), **shards)
    return sorted(p for p in target.rglob("*") if p.is_file())


EXPORTERS: dict[str, Callable[[pl.DataFrame, Path], list[Path]]] = {
    "alpaca-json": export_alpaca_json,
    "alpaca-jsonl": export_alpaca_jsonl,
    "messages-jsonl": export_messages,
    "sharegpt-jsonl": export_sharegpt,
    "hf-dataset": export_hf_dataset,
}
EXPORT_FORMATS = tuple(EXPORTERS)


def as_formats(export: str | Iterable[str] | None) -> list[str]:
    """``--export`` as a list of formats in the order given, each once."""
    if export is None:
        return []
    return list(dict.fromkeys([export] if isinstance(export, str) else export))


def write_exports(clean: pl.DataFrame, directory: Path, export: str | Iterable[str] | None) -> dict[str, list[Path]]:
    """Write each requested export of the clean rows into ``directory``: format -> its files."""
    return {fmt: EXPORTERS[fmt](clean, directory) for fmt in as_formats(export)}


def exports_section(directory: Path, written: dict[str, list[Path]]) -> dict[str, list[str]]:
    """The manifest's ``exports``: format -> its files, relative to the run directory."""
    return {fmt: [p.relative_to(directory).as_posix() for p in paths] for fmt, paths in written.items()}
