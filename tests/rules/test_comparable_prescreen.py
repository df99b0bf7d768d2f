"""``may_share_comparable`` and ``input_repeats_instruction``'s length screen
never drop a row the rules would mark: the facts about lowercasing they rest on
hold over all of Unicode, and the rules answer as without the screens on literal
rows built to sit on their edges and on the real reference data when present."""

from __future__ import annotations

import polars as pl

from pipeline.real_data import real_frame
from rules.base import only_where
from rules.content import KEY_CHARACTER, comparable, may_share_comparable
from rules.params import RuleParams
from rules import RULES
from tests.conftest import needs_real_data

_ALPHANUMERIC = r"[\p{L}\p{N}]"


def _every_character() -> pl.Series:
    codes = [*range(0xD800), *range(0xE000, 0x110000)]  # surrogates are not characters
    return pl.Series("c", [chr(code) for code in codes], dtype=pl.String)


def test_a_key_character_lowercases_to_one_letter_or_digit_and_any_other_to_none():
    checked = pl.DataFrame(_every_character()).select(
        pl.col("c").str.contains(KEY_CHARACTER).alias("alphanumeric"),
        pl.col("c").str.to_lowercase().str.count_matches(_ALPHANUMERIC).alias("in_lowercase"),
    )
    wrong = checked.filter(pl.col("in_lowercase") != pl.col("alphanumeric").cast(pl.UInt32))
    assert wrong.height == 0, wrong.head()
    # The one character Rust lowercases by its context, final sigma, stays a letter.
    sigmas = pl.DataFrame({"t": ["ΟΔΟΣ", "ΟΔΟΣ ΚΑΙ", "ΟΔΟΣ.", "Σ"]}).select(comparable("t")).to_series().to_list()
    assert sigmas == ["οδος", "οδοςκαι", "οδος", "σ"]


def test_an_ascii_character_lowercases_on_its_own_next_to_any_character():
    around = pl.DataFrame({"c": _every_character()}).select(
        (pl.lit("A") + pl.col("c")).str.to_lowercase().str.head(1).alias("first"),
        (pl.col("c") + pl.lit("Z")).str.to_lowercase().str.tail(1).alias("last"),
    )
    assert (around["first"] == "a").all() and (around["last"] == "z").all()


def _without_screens(params: RuleParams) -> dict[str, pl.Expr]:
    """The two rules as they were before their screens."""
    similar_length = pl.col("output").str.len_bytes() <= 2 * pl.col("instruction").str.len_bytes() + 20
    output_key, input_key, instruction_key = comparable("output"), comparable("input"), comparable("instruction")
    contained = (input_key.str.len_chars() >= 20) & instruction_key.str.contains(input_key, literal=True)
    has_input = pl.col("input").fill_null("") != ""
    return {
        "output_echoes_instruction": only_where(similar_length, (output_key != "") & (output_key == instruction_key)),
        "input_repeats_instruction": only_where(
            has_input, (input_key != "") & ((input_key == instruction_key) | contained)
        ),
    }


LITERAL_ROWS = [
    ("Write a haiku about rain.", "", "write a haiku about rain"),
    ("Write a haiku about rain.", "", "Soft rain on the roof / ..."),
    ("Édite ce texte.", "", "édite ce texte"),
    ("ΟΔΟΣ ΚΑΙ", "ΟΔΟΣ-ΚΑΙ", "οδοσκαι"),
    ("İstanbul", "istanbul", "İSTANBUL"),
    ("...", "...", "..."),
    ("\ua7d2 b", "\ua7d2" * 25, "\ua7d2 B"),
    ("\ua7d2" * 30, "\ua7d2" * 20, "\ua7d3"),
    ("Summarise the text.", "Summarise the text.", "x"),
    ("Rewrite: The cat sat on the warm mat today.", "The cat sat on the warm mat today.", "x"),
    ("Rewrite: The cat sat on the warm mat today.", "the CAT sat, on the warm-mat today!", "x"),
    ("Short.", "A much longer input that cannot fit in the instruction's key.", "x"),
    ("Add 5 and 3.", "5", "8"),
    ("Edit this sentence: He go home.", "He go home.", "He goes home."),
    ("Say it.", None, None),
    (None, "x", "x"),
    ("", "", ""),
]


def _literal_frame() -> pl.DataFrame:
    instruction, input, output = zip(*LITERAL_ROWS)
    return pl.DataFrame({"instruction": instruction, "input": input, "output": output},
                        schema={"instruction": pl.String, "input": pl.String, "output": pl.String})


def _assert_rules_answer_as_without_screens(frame: pl.DataFrame) -> dict[str, int]:
    params = RuleParams()
    fired = {}
    for name, old in _without_screens(params).items():
        answers = frame.select(RULES[name].expr(params).alias("new"), old.alias("old"))
        assert answers["new"].to_list() == answers["old"].to_list(), name
        fired[name] = int(answers["new"].sum())
    return fired


def test_screens_drop_no_marked_row_on_literal_rows():
    frame = _literal_frame()
    assert frame.select(may_share_comparable("output", "instruction")).to_series().to_list()[:2] == [True, False]
    fired = _assert_rules_answer_as_without_screens(frame)
    assert fired["output_echoes_instruction"] >= 3 and fired["input_repeats_instruction"] >= 5


@needs_real_data()
def test_screens_drop_no_marked_row_on_the_real_data():
    fired = _assert_rules_answer_as_without_screens(real_frame())
    assert fired["input_repeats_instruction"] > 0
