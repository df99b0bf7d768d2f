"""Fuzz: a few thousand generated hostile records through `curate run` (issue 15).

Random JSON values in every position, lone surrogates (escaped, and as raw
CESU-8 bytes), deep nesting, huge and odd numbers, control characters, odd field
names and types, broken lines. Whatever comes in, the run exits 0 without a
traceback and every line is accounted for: rows in = clean + rejected +
quarantined, and the shards hold exactly those rows. Seeded: a failure repeats.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
RECORDS = 3000
SEED = 15

ODD_NAMES = ["", " ", "_", "__", "_id", "_source", "_row", "_rule_x", "_tokens_total", "a.b", "a b", "\u0000",
             "\t", "ключ", "🙂", "Instruction", "instruction ", "x" * 300, "null", "0", "id", "meta", "tags", "\ud800"]
TEXT_PIECES = ["Explain photosynthesis.", "What is 2+2?", "Calculate (3+4)*5", "Bonjour le monde", "日本語のテキスト",
               "\u0000\u0001\u001f", "\u200b\u2060\ufeff", "\u202e reversed", "\r\n\t", "<script>alert(1)</script>",
               "\ud800", "\udfff", "\ud83d", "a" * 5000, "  ", "", "N/A", "As an AI language model, I cannot",
               "```python\nprint(1)\n```", "1^1^1^1^1^1", "(" * 50 + "1" + ")" * 50]


def text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(1, 3)))


def number(rng: random.Random):
    return rng.choice([0, -1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, rng.randint(-10**6, 10**6),
                       1e308, -0.0, 5e-324, rng.random(), float("nan"), float("inf")])


def value(rng: random.Random, depth: int = 0):
    kind = rng.choice(["text", "number", "bool", "null", "list", "object", "deep"] if depth < 4 else
                      ["text", "number", "bool", "null"])
    if kind == "text":
        return text(rng)
    if kind == "number":
        return number(rng)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "object":
        return {rng.choice(ODD_NAMES): value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    nested = rng.choice([10, 40, 200])
    return json.loads("[" * nested + "1" + "]" * nested)


def record(rng: random.Random):
    """Mostly objects that are nearly Alpaca records, some anything at all."""
    if rng.random() < 0.1:
        return value(rng)
    row = {"instruction": text(rng) if rng.random() < 0.8 else value(rng),
           "output": text(rng) if rng.random() < 0.8 else value(rng)}
    if rng.random() < 0.6:
        row["input"] = text(rng) if rng.random() < 0.7 else value(rng)
    for _ in range(rng.choice([0, 0, 1, 2, 4])):
        row[rng.choice(ODD_NAMES)] = value(rng)
    return row


def line(rng: random.Random) -> bytes:
    """One JSONL line (never blank, never holding a newline byte)."""
    roll = rng.random()
    if roll < 0.03:
        return bytes(rng.choice([b for b in range(256) if b != 10]) for _ in range(rng.randint(1, 40))) + b"x"
    if roll < 0.06:
        return json.dumps(record(rng))[: rng.randint(1, 30)].encode("utf-8", "surrogatepass") + b"{"
    dumped = json.dumps(record(rng), ensure_ascii=rng.random() < 0.5)
    return dumped.encode("utf-8", "surrogatepass")  # a raw surrogate becomes bytes that are not UTF-8


def test_hostile_records_never_crash_the_run_and_all_are_counted(tmp_path):
    rng = random.Random(SEED)
    lines = [line(rng) for _ in range(RECORDS)]
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(path), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]
    assert counts["rows_in"] == RECORDS
    assert counts["clean"] + counts["rejected"] + counts["quarantined"] == RECORDS
    for part in ("clean", "rejected", "quarantine"):
        rows = sum(pl.read_parquet(p).height for p in (out / part).glob("*.parquet"))
        assert rows == counts["quarantined" if part == "quarantine" else part]
    assert counts["clean"] > 0 and counts["quarantined"] > 0  # the generator reaches both ends
