"""The real data others wrote, in ``../shared/data`` beside the checkout (see its
README): the Alpaca sample and the dev sets of other shapes, read as Alpaca
records. The benchmark builds its real-text corpus from them, and tests that
prove a shortcut against real rows read them; both skip when they are absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipeline import columns as C

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# (file under the shared data folder, {our field: its key}) for every real set used.
REAL_SOURCES = (
    ("alpaca_5000.json", {"instruction": "instruction", "input": "input", "output": "output"}),
    ("dev/code_alpaca_2k.json", {"instruction": "instruction", "input": "input", "output": "output"}),
    ("dev/gpteacher_codegen.json", {"instruction": "instruction", "input": "input", "output": "response"}),
    ("dev/gsm8k_test.jsonl", {"instruction": "question", "output": "answer"}),
    ("dev/t0_wiki_hop_generate_object.jsonl", {"instruction": "prompt", "output": "completion"}),
    ("dev/t0_multi_news_summary.jsonl", {"instruction": "prompt", "output": "completion"}),
)


def real_data_present(data: Path = SHARED_DATA) -> bool:
    return all((data / name).exists() for name, _ in REAL_SOURCES)


def real_records(data: Path = SHARED_DATA) -> list[dict]:
    """The real sets in ``data`` (the Alpaca sample and every dev/ set) as Alpaca
    records, in file order. GSM8K's test set is among them on purpose: a real corpus
    can hold benchmark problems, and the decontamination section must find them."""
    records = []
    for name, keys in REAL_SOURCES:
        text = (data / name).read_text(encoding="utf-8")
        rows = json.loads(text) if name.endswith(".json") else [json.loads(line) for line in text.splitlines() if line.strip()]
        records += [{field: str(row.get(keys[field]) or "") if field in keys else "" for field in C.FIELDS} for row in rows]
    return records


def real_frame(data: Path = SHARED_DATA) -> pl.DataFrame:
    """``real_records`` as a frame of the three fields."""
    return pl.DataFrame(real_records(data), schema={field: pl.String for field in C.FIELDS})
