"""Each normalisation, the repair it records, and text it must leave alone."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.stages.normalise import normalise


def normalised(instruction="Say hi.", input="", output="hi") -> dict:
    frame = pl.DataFrame({"instruction": [instruction], "input": [input], "output": [output]})
    return normalise(frame.lazy()).collect().row(0, named=True)


@pytest.mark.parametrize(
    "field, raw, expected, repair",
    [
        ("instruction", "Cafe\u0301 names", "Café names", "nfc_instruction"),
        ("output", "Line one\u200b and\u2060 two\ufeff", "Line one and two", "invisible_chars_output"),
        ("output", "bell\x07 and escape\x1b[0m", "bell and escape[0m", "invisible_chars_output"),
        ("output", "Windows\r\nline", "Windows\nline", "invisible_chars_output"),
        ("instruction", "  Say hi.  \n", "Say hi.", "whitespace_instruction"),
        ("output", "answer   \n\n", "answer", "whitespace_output"),
        ("input", "\tindented input ", "indented input", "whitespace_input"),
    ],
)
def test_repairs(field, raw, expected, repair):
    row = normalised(**{field: raw})
    assert row[field] == expected
    assert repair in row["_repairs"]


@pytest.mark.parametrize(
    "field, text",
    [
        ("output", "def f():\n\treturn 1"),  # tabs and newlines are content
        ("output", "    indented first line of code"),  # leading space of output kept
        ("instruction", "Café"),  # already NFC
        ("output", "👩‍💻 works"),  # the joiner inside an emoji sequence is content
        ("input", "می‌خواهم"),  # so is a Persian zero-width non-joiner
    ],
)
def test_text_left_alone(field, text):
    row = normalised(**{field: text})
    assert row[field] == text
    assert row["_repairs"] == []


@pytest.mark.parametrize(
    "spelling",
    ["<noinput>", "No input", "<No Input>", "noinput", "N/A", "None", "< noinput >", "No input.", "[noinput]",
     "(No input)", "No input required.", "\\<noinput\\>", '"<noinput>"', "<ninput>", "n/a", "Noinput", "{\\noinput}",
     "<noput>"],
)
def test_empty_input_spellings_become_empty(spelling):
    row = normalised(input=spelling)
    assert row["input"] == ""
    assert "empty_input_spelling" in row["_repairs"]


@pytest.mark.parametrize(
    "real_input",
    ["No", "Input: 2", "none of the above", "- Desert\n- Elephant", "-6.2", "NASA",
     ".... . .-.. .-.. ---",  # Morse code: punctuation only, and the task is to decode it
     "/", "...", "-", "[]", "<>"],
)
def test_real_inputs_are_not_mistaken_for_empty(real_input):
    assert normalised(input=real_input)["input"] == real_input


def test_already_clean_frame_is_unchanged():
    frame = pl.DataFrame({"instruction": ["Say hi."], "input": ["Bob"], "output": ["Hi Bob!"]})
    result = normalise(frame.lazy()).collect()
    assert_frame_equal(result.drop("_repairs"), frame)
    assert result["_repairs"].to_list() == [[]]


@pytest.mark.parametrize(
    "texts",
    [
        # some change, some do not
        ["plain ASCII", None, "Café", "Cafe\u0301", "e\u0301\u0323", "한국어", "\u1100\u1161"],
        ["Café", "日本語", "👩\u200d💻", None],  # every non-ASCII text already NFC: nothing for Polars to do
        ["\u0378e\u0301", "x\U00050000", "ok \u00e9"],  # characters Python's Unicode does not know go to Polars
    ],
)
def test_nfc_quick_check_agrees_with_polars(texts):
    # _nfc normalises only what Python's quick check does not clear: the same
    # texts as Polars normalising every row.
    from pipeline.stages.normalise import _nfc

    series = pl.Series(texts, dtype=pl.String)
    assert_frame_equal(_nfc(series).to_frame(), series.str.normalize("NFC").to_frame())


def test_characters_python_does_not_know_are_not_cleared():
    from pipeline.stages.normalise import _unknown_to_python

    known = pl.Series(["abc", "Café", "日本", "\U000F0001"])  # the last: private use, treated as unknown
    assert known.str.contains(_unknown_to_python()).to_list() == [False, False, False, True]
    assert pl.Series(["\u0378", "\U0002FFFF", "\U00050000"]).str.contains(_unknown_to_python()).all()


@pytest.mark.parametrize("around", [("", "a"), ("n", "ne"), ("bla", "k"), ("blan", ""), ("noinpu", ""), ("n", "a")])
def test_empty_input_pattern_agrees_with_lowercasing_for_every_character(around):
    # The pattern stands for "lowercase, remove punctuation and spaces, look the key
    # up": every character of Unicode, in place of a letter of a key and beside one.
    from pipeline.stages.normalise import _EMPTY_INPUT_KEYS, _NOT_IN_KEYS, is_empty_input_spelling

    before, after = around
    texts = pl.Series([before + chr(c) + after for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    reference = texts.str.to_lowercase().str.replace_all(_NOT_IN_KEYS, "").is_in(_EMPTY_INPUT_KEYS)
    assert reference.any()
    assert_frame_equal(texts.to_frame().select(is_empty_input_spelling(pl.col("")).alias("x")),
                       reference.alias("x").to_frame())


def test_empty_input_spellings_agree_with_lowercasing_every_text():
    from pipeline.stages.normalise import _EMPTY_INPUT_KEYS, _NOT_IN_KEYS, is_empty_input_spelling

    texts = pl.Series("t", ["<noinput>", "N / A", "blan\u212a", "No input required.", "none of these", "Ⅻ", "7",
                            "", None, "<no input> 1", "ＮＯＮＥ", "(empty)", ".- -...", "noinpu\u017ft",
                            "  N o I n P u T  "], dtype=pl.String)
    every = texts.str.to_lowercase().str.replace_all(_NOT_IN_KEYS, "").is_in(_EMPTY_INPUT_KEYS)
    found = texts.to_frame().select(is_empty_input_spelling(pl.col("t")))
    assert_frame_equal(found, every.to_frame())
    assert found["t"].sum() == 6  # some fire, some do not
