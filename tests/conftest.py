"""Shared fixtures: tiny literal inputs written to a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # the checkout
REFERENCE = ROOT.parent / "shared" / "data"
ALPACA_5000 = REFERENCE / "alpaca_5000.json"


def needs_reference(path: Path = ALPACA_5000):
    return pytest.mark.skipif(not path.exists(), reason=f"reference data not present: {path}")


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def record():
    def make(instruction="Name three primary colours.", input="", output="Red, yellow and blue.", **extra):
        return {"instruction": instruction, "input": input, "output": output, **extra}

    return make
