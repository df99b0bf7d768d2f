"""The JSON Lines fast path (``plain_lines``, ``load.LineBatch``, validate's batch
check) gives the same rows, quarantine and keys as reading every line with
``json.loads`` and checking every record with the pydantic model."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.stages import load
from pipeline.stages.fields import ExtraFieldTypes
from pipeline.stages.load import LineBatch, record_batches
from pipeline.stages.plain_lines import plain_mask
from pipeline.stages.shapes import BatchedSource
from pipeline.stages.validate import validate

PLAIN = [
    b'{"instruction": "Say hi.", "input": "", "output": "hi"}',
    b'{"output": "b", "input": "x", "instruction": "a"}',  # any order
    b'\t{"instruction" :"a" , "input":null ,"output" : "b"}  ',  # JSON spacing, a null input
    b'{"instruction": "a", "input": "", "output": "b"}\r',  # a Windows line end
    b'{"instruction": "a\\/b\\b\\f\\"\\u00e9", "input": "\\\\", "output": "b\\n\\t"}',  # escapes
    b'{"instruction": "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd", "input": "{", "output": "a,"}',  # UTF-8; brackets in text
    b'{"instruction": "   ", "input": "", "output": "b"}',  # plain, but blank: check quarantines it
    b'{"instruction": "a", "input": "", "output": null}',  # plain, output null: quarantined
    b'{"instruction": "\\u3000", "input": "", "output": "b"}',  # a blank of Unicode space
    b'{"instruction": "\\u4f60\\u597d", "input": "", "output": "b"}',  # no ASCII letter: checked one by one
]
NOT_PLAIN = [
    b'{"instruction": "a", "output": "b"} x',  # text after the object
    b'{"instruction": "a", "output": "b"}{"instruction": "c", "output": "d"}',
    b'{"instruction": "a", "input": "", "output": "b",}',
    b'{"instruction": "a", "input": "", "output": NaN}',
    b'{"instruction": "a", "input": "", "output": 5}',  # Polars would read "5"
    b'{"instruction": "a", "input": "", "output": true}',
    b'{"instruction": "a", "input": "", "output": {"x": "y"}}',
    b'{"instruction": "a", "input": "", "output": "b", "instruction": "c"}',  # Polars keeps the first value
    b'{"instruction": "a\\ud800", "input": "", "output": "b"}',  # Polars reads a lone surrogate as NUL
    b'{"instruction": "a\\ud83d\\ude00", "input": "", "output": "b"}',  # a valid pair: read by Python
    b'{"instruction": "a\\\\ud83d\\ude00", "input": "", "output": "b"}',
    b'{"instruction": "a\\q", "input": "", "output": "b"}',
    b'{"instruction": "a\\u12", "input": "", "output": "b"}',
    b'{"instruction": "a\tb", "input": "", "output": "b"}',  # a raw control character
    b"{'instruction': 'a', 'output': 'b'}",
    b'["a", "b"]', b'"abc"', b'null', b'{}',
    b'\xc2\xa0{"instruction": "a", "input": "", "output": "b"}',  # whitespace Python strips, JSON does not allow
    b'\xef\xbb\xbf{"instruction": "a", "input": "", "output": "b"}',  # a byte-order mark
    b'{"instruction": "a\xff", "input": "", "output": "b"}',  # invalid UTF-8: repaired, not plain
    b'{"instr\\u0075ction": "a", "input": "", "output": "b"}',  # a key spelled with an escape
    b'{"instruction": "a", "output": "b"}',  # no input key
    b'{"instruction": "a", "input": "", "output": "b", "_source": "x"}',
    b'{"instruction": "a", "input": "", "output": "b", "extra": "c"}',
    b'{"instruction": ' + b"[" * 5000 + b"]" * 5000 + b', "output": "b"}',
    b'{"instruction": "a", "input": "", "output": "b"}\r\r',
]
BLANK = [b"", b"   ", b"\xe3\x80\x80", b"\x1c"]  # blank to Python's str.strip: not records


def test_plain_lines_are_told_apart():
    assert plain_mask(PLAIN) == [True] * len(PLAIN)
    assert plain_mask(NOT_PLAIN) == [False] * len(NOT_PLAIN)


def _read(path, size: int, fast: bool, monkeypatch) -> tuple[list, dict, dict, set[str]]:
    with monkeypatch.context() as patched:
        if not fast:
            patched.setattr(load, "_is_plain_json_lines", lambda source: False)
        extras, conformer, read, batches, kinds = ExtraFieldTypes(), None, 0, [], set()
        for batch in record_batches([str(path)], size, say=lambda _: None):
            kinds.add(type(batch).__name__)
            conformer = conformer or BatchedSource(batch[0].source, None)
            batch = conformer.conform(batch)
            valid, quarantine = validate(batch, extras, first_order=read)
            read += len(batch)
            batches.append((valid.collect(), quarantine, list(conformer.seen)))
        return batches, conformer.finish().as_dict(), extras.to_json(), kinds


def _assert_same(fast: tuple, slow: tuple) -> None:
    assert fast[1:3] == slow[1:3]
    assert len(fast[0]) == len(slow[0])
    for (valid, quarantine, keys), (valid_slow, quarantine_slow, keys_slow) in zip(fast[0], slow[0]):
        assert keys == keys_slow
        assert valid.schema == valid_slow.schema  # the same columns in the same order
        assert_frame_equal(valid, valid_slow)
        assert_frame_equal(quarantine, quarantine_slow)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("size", [3, 40, 1000])
def test_hostile_lines_give_what_json_loads_and_pydantic_give(tmp_path, monkeypatch, seed, size):
    import random

    rng = random.Random(seed)
    odd = NOT_PLAIN + BLANK + PLAIN[1:]
    if seed < 2:  # extra fields send a batch back to the per-record check: the others leave them out
        odd = [line for line in odd if b"extra" not in line and b"_source" not in line]
    lines = [PLAIN[0] if rng.random() < 0.6 else rng.choice(odd) for _ in range(300)]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fast, slow = _read(path, size, True, monkeypatch), _read(path, size, False, monkeypatch)
    assert "LineBatch" in fast[3] and slow[3] == {"list"}  # the fast path ran; the reference did not
    _assert_same(fast, slow)


def test_first_valid_record_orders_the_columns(tmp_path, monkeypatch):
    lines = [b'{"instruction": " ", "input": "", "output": "b"}',  # quarantined: its order does not count
             b'{"output": "b", "instruction": "a"}',  # read by Python, input added last
             b'{"instruction": "a", "input": "", "output": "b"}']
    path = tmp_path / "ordered.jsonl"
    path.write_bytes(b"\n".join(lines))
    fast, slow = _read(path, 100, True, monkeypatch), _read(path, 100, False, monkeypatch)
    assert fast[0][0][0].columns[:3] == ["output", "instruction", "input"]
    _assert_same(fast, slow)


def test_a_batch_polars_refuses_is_read_line_by_line(monkeypatch):
    # No plain line is known that Polars refuses; should one pass the test, its
    # batch is read line by line, as records.
    lines = [PLAIN[0], b'{"instruction": "a", "input": "", "output": "b\\x"}']
    monkeypatch.setattr(load.plain_lines, "plain_mask", lambda lines: [True] * len(lines))
    assert load.plain_lines.parse_plain(lines) is None
    batch = load._line_batch("a.jsonl", [0, 3], lines)
    assert batch == list(load._json_line_records("a.jsonl", [(0, lines[0]), (3, lines[1])]))
    assert batch[1].parse_error.startswith("line is not valid JSON")


def test_line_batch_is_a_sequence_of_the_records(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\n".join([PLAIN[0], b"", NOT_PLAIN[4], PLAIN[1]]))
    batch = next(record_batches([str(path)], 10, say=lambda _: None))
    expected = list(load.read_source(str(path)))
    assert isinstance(batch, LineBatch)
    assert len(batch) == 3 and list(batch) == expected
    assert [batch[i] for i in (0, 1, 2, -1)] == [*expected, expected[-1]]
    assert batch.plain.height == 2 and pl.Series(batch.is_plain).to_list() == [True, False, True]
