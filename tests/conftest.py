"""Shared fixtures: tiny literal inputs written to a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.real_data import SHARED_DATA, real_data_present

ROOT = Path(__file__).resolve().parents[1]  # the checkout
REFERENCE = SHARED_DATA
ALPACA_5000 = REFERENCE / "alpaca_5000.json"


def needs_reference(path: Path = ALPACA_5000):
    return pytest.mark.skipif(not path.exists(), reason=f"reference data not present: {path}")


def needs_real_data():
    """Skip unless every set ``pipeline.real_data.real_records`` reads is present."""
    return pytest.mark.skipif(not real_data_present(), reason=f"reference data not present: {SHARED_DATA}")


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def record():
    def make(instruction="Name three primary colours.", input="", output="Red, yellow and blue.", **extra):
        return {"instruction": instruction, "input": input, "output": output, **extra}

    return make
