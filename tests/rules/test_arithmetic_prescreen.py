"""The vectorised prescreen of ``arithmetic_mismatch_v2`` settles only rows the
Python checks answer False for, and the Rust spellings it relies on match where
their Python (or ``\\b``) originals do: on every character of ``ALIKE_RANGES``, on
literal rows built to break them, and on the real reference data when present."""

from __future__ import annotations

import re

import polars as pl

import rules.arithmetic as A
from pipeline.real_data import real_data_present, real_frame
from rules.base import ALIKE_RANGES, any_word, any_word_start, ascii_boundaries, regex_alike
from tests.conftest import needs_real_data

# The pre-filter as it was written before the prescreen, with \b: the rows the
# Python check used to see.
OLD_PREFILTER = (
    r"\d[\s\d.,()]*(?:[-+*/^×÷x]|\*\*)\s*[\d(]|(?i)\b(?:plus|minus|times|multipl\w*|divided|add\w*|subtract\w*|"
    r"divid\w*|squared|cubed|power|average|mean|sum|total|median|convert|celsius|fahrenheit|kelvin)\b"
)
OLD_ASKS = (
    r"(?i)\b(?:calculate|compute|evaluate|solve|what is|what's|find|result|multiply|add|subtract|divide|answer|"
    r"do the following|how much|equals?|convert|average|mean|sum|total|median)\b"
)
# Every Python pattern the prescreen spells for Rust, and where it reads it.
SPELLED = {
    "code output": A._CODE_OUTPUT.pattern,
    "not simple": A._NOT_SIMPLE.pattern,
    "other arithmetic": A._OTHER_ARITHMETIC.pattern,
    "conversion": A._CONVERSION.pattern,
    "asks for aggregate": A._ASKS_FOR_AGGREGATE.pattern,
}

# Rows built to sit on the edges: characters the engines read differently
# (superscripts, combining marks, the long s, the Kelvin sign, \x1c), words glued
# to digits, "$" joining words, a typographic minus, code, annotations, nulls.
LITERAL_ROWS = [
    ("What is 12 x 12?", "", "12 x 12 = 124"),
    ("What is 12 x 12?", None, "144"),
    ("Calculate 2² + 3.", "", "7"),
    ("Calculate 5 + 3 ſum.", "", "9"),
    ("Convert 5 \u212am to miles.", "", "3"),
    ("Calculate 4 + 5\u0301.", "", "10"),
    ("Add 2 and 3.\x1c", "", "6"),
    ("Compute 10 − 4.", "", "10 − 4 = 7"),
    ("Solve", "", "x = −3 and 2 + 2 = −5"),
    ("Find the average of 2, 4 and 9.", "", "The average is 6."),
    ("Find the average of $2, $4 and $9 for the a$b c$d e$f g$h i$j k$l m$n o$p q$r s$t u$v w$x y$z.", "", "5"),
    ("Compute 3x4.", "", "13"),
    ("Compute 3 times 4 plus the sum of 2 and 2.", "", "17"),
    ("Convert 100 km to miles.", "", "100 km is 70 miles."),
    ("Convert from Celsius to Fahrenheit.", "25", "80"),
    ("Write a function that adds 2 + 2.", "", "def add(): return 2 + 2 = 5"),
    ("How many apples?", "", "<<3*4=13>>13 apples"),
    ("How many apples?", "", "3 * 4 = 12 and (2 * (3 + 4)) = 15"),
    ("Explain why 2 + 2 = 5 is wrong.", "", "2 + 2 = 5 is wrong; 2 + 2 = 4"),
    ("What is 7 * 8?", "", "56"),
    ("What's 7*8 équals?", "", "57"),
    ("Multiply 87 and 183.", "", "15781"),
    ("Calculate 8 * (25 + 7)", "", "216"),
    ("In base 2, what is 1 + 1?", "", "1 + 1 = 10"),
    (None, "", "1 + 1 = 3"),
]


def _literal_frame() -> pl.DataFrame:
    instruction, input, output = zip(*LITERAL_ROWS)
    return pl.DataFrame({"instruction": instruction, "input": input, "output": output},
                        schema={"instruction": pl.String, "input": pl.String, "output": pl.String})


REAL_DATA_PRESENT = real_data_present()


def _real_tasks() -> list[str]:
    """Every real record's task (instruction and input), none without the real data."""
    return [f"{instruction}\n{input}" for instruction, input, _ in real_frame().rows()] if REAL_DATA_PRESENT else []


def _alike_chars() -> list[str]:
    return [chr(code) for low, high in ALIKE_RANGES for code in range(low, high + 1)]


def test_alike_characters_are_read_the_same_by_both_engines():
    """On ALIKE_RANGES: \\w, \\d, \\s and "." agree, every word character is ASCII,
    and (?i) folds no other character onto an ASCII letter, in Python and in Rust."""
    chars = _alike_chars()
    series = pl.Series(chars)
    for pattern in (r"\w", r"\d", r"\s", r"."):
        rust = series.str.contains(f"^{pattern}$").to_list()
        python = [re.fullmatch(pattern, c) is not None for c in chars]
        assert rust == python, pattern
    assert all(c.isascii() for c, word in zip(chars, series.str.contains(r"^\w$").to_list()) if word)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        rust = series.str.contains(f"^(?i){letter}$").to_list()
        python = [re.fullmatch(f"(?i){letter}", c) is not None for c in chars]
        assert rust == python == [c.lower() == letter for c in chars], letter


def test_regex_alike_marks_the_rows_made_of_those_characters():
    frame = _literal_frame()
    alike = frame.select(regex_alike(pl.col("instruction"), pl.col("input"), pl.col("output"))).to_series().to_list()
    allowed = set(_alike_chars())
    expected = [all(c in allowed for c in (i or "") + (n or "") + (o or "")) for i, n, o in LITERAL_ROWS]
    assert alike == expected
    assert not all(alike) and any(alike)


def _assert_spellings_match(frame: pl.DataFrame) -> None:
    task = pl.concat_str(pl.col("instruction").fill_null(""), pl.col("input").fill_null(""), separator="\n")
    texts = frame.select(task.alias("task"), pl.col("output").fill_null(""),
                         regex_alike(pl.col("instruction"), pl.col("input"), pl.col("output")).alias("alike"))
    alike = texts.filter("alike")
    for name, pattern in SPELLED.items():
        for column in ("task", "output"):
            rust = alike.select(pl.col(column).str.contains(ascii_boundaries(pattern))).to_series().to_list()
            python = [re.search(pattern, text) is not None for text in alike.get_column(column)]
            assert rust == python, (name, column)
    for old, new in ((OLD_PREFILTER, A._PREFILTER), (OLD_ASKS, A._ASKS)):  # Rust against Rust, every row
        assert texts.select((pl.col("task").str.contains(old) == pl.col("task").str.contains(new)).all()).item()


def test_rust_spellings_match_their_originals_on_literal_rows():
    _assert_spellings_match(_literal_frame())
    words = pl.Series(["é plus 2", "xplus 2", "plus_", "²plus", "2plus", "multiplying", "premultiply", "PLUS", "ſum", "sum\u0301"])
    assert (words.str.contains(r"(?i)\b(?:plus|sum)\b") == words.str.contains(any_word("plus|sum"))).all()
    assert (words.str.contains(r"(?i)\b(?:multipl)\w*\b") == words.str.contains(any_word_start("multipl"))).all()


def _old_prefilter() -> pl.Expr:
    task = pl.concat_str(pl.col("instruction"), pl.col("input").fill_null(""), separator="\n")
    old = pl.col("output").str.contains(r"\d") & (
        (task.str.contains(r"\d") & task.str.contains(OLD_PREFILTER) & task.str.contains(OLD_ASKS))
        | pl.col("output").str.contains(A._STATES_EQUATION)
    )
    return old.fill_null(False).alias("_old")


def _old_verdicts(frame: pl.DataFrame) -> list[bool]:
    """The rule as it was: every check on the old pre-filter's rows, False elsewhere."""
    rows = frame.with_columns(_old_prefilter()).fill_null("").iter_rows()
    return [old and A.mismatch(instruction, input, output, 0.02) for instruction, input, output, old in rows]


# The task's readings, as ``mark_checks`` names them, and the function of each.
READING_ANSWERS = {"_conversion": A.conversion_answer, "_aggregate": A.aggregate_answer, "_expression": A.expression_answer}


def _assert_settles_only_false_rows(frame: pl.DataFrame) -> int:
    """Every row the old pre-filter let through: where the prescreen skips a check,
    Python's check answers False, and where it closes one of the task's readings,
    that reading answers None; no row outside it is marked. Returns how many old
    rows the prescreen settled."""
    assert set(READING_ANSWERS) == set(A.READINGS)
    marked = A.mark_checks(frame.lazy()).with_columns(_old_prefilter()).collect()
    assert marked.filter(~pl.col("_old") & pl.any_horizontal(A.CHECKS)).is_empty()
    settled = 0
    for row in marked.filter("_old").fill_null("").iter_rows(named=True):
        instruction, input, output, unscreened = row["instruction"], row["input"], row["output"], row["_unscreened"]
        task_text = f"{instruction}\n{input}"
        if not (row["_final_answer"] or unscreened):
            assert not A.wrong_final_answer(task_text, output, 0.02), (instruction, output)
        if not (row["_equation"] or unscreened):
            assert not A.wrong_equation(task_text, output), (instruction, output)
        for reading, answer in READING_ANSWERS.items():
            if not (row[reading] or unscreened) and not A._NOT_SIMPLE.search(task_text) and not A._CODE_OUTPUT.search(output):
                assert answer(task_text) is None, (reading, instruction)
        settled += not (row["_final_answer"] or row["_equation"] or unscreened)
    return settled


def test_prescreen_settles_only_rows_python_answers_false_on_literal_rows():
    assert _assert_settles_only_false_rows(_literal_frame()) > 0


def test_rule_gives_the_unscreened_verdicts_on_literal_rows():
    frame = _literal_frame()
    fired = frame.select(A.arithmetic_mismatch_v2(A.RuleParams())).to_series().to_list()
    assert fired == _old_verdicts(frame) and any(fired)


@needs_real_data()
def test_prescreen_on_the_real_data():
    frame = real_frame()
    _assert_spellings_match(frame)
    assert _assert_settles_only_false_rows(frame) > 1000
    # Rows left to the final-answer check with a reading closed: Python skips that reading.
    marked = A.mark_checks(frame.lazy()).filter("_final_answer").collect()
    assert not marked.select(pl.all_horizontal(A.READINGS)).to_series().all()
    fired = frame.select(A.arithmetic_mismatch_v2(A.RuleParams())).to_series().to_list()
    assert fired == _old_verdicts(frame) and any(fired)


# --- the Python checks' own shortcuts -------------------------------------------------

TASKS = [
    "What is 5 times 3?", "What is 5 TIMES 3?", "Compute 3x4.", "Compute 3 X 4.", "Compute 3×4.", "What is 12 divided by 4?",
    "Add 2 and 3.", "ADD 2 AND 3.", "the sum of 2 and 3", "Subtract 4 from 9.", "Divide 8 by 2.", "What is 5 squared?",
    "2 cubed", "2 to the power of 3", "2 raised to 3", "Multiply 87 and 183.", "the product of 4 and 5", "20% of $50",
    "5 plus 3 minus 2", "What is 5 + 3?", "ſquared 5", "5 \u212a 3", "Compute 1,000 + 2,000.",
]


def _symbols_substituting_all(task: str) -> str:
    """operator_symbols as it was: every substitution of _WORDS tried."""
    for pattern, replacement in A._WORDS:
        task = re.sub(pattern, replacement, task)
    return task


def test_each_substitution_needs_one_of_its_words():
    real = _real_tasks()
    for pattern, words in zip((p for p, _ in A._WORDS), A._WORDS_NEEDED):
        for task in TASKS + real:
            if task.isascii() and re.search(pattern, task):
                assert any(word in task.lower() for word in words), (pattern, task)


def test_operator_symbols_are_unchanged_by_skipping_substitutions():
    real = _real_tasks()
    for task in TASKS + real:
        assert A.operator_symbols(task) == _symbols_substituting_all(task), task
    assert any(A.operator_symbols(task) != task for task in TASKS)


LINES = [
    "2 + 2 = 5", "This is not right: 2 + 2 = 5", "NOT TRUE: 3 * 3 = 10", "Note: 2 + 2 = 4", "another: 1 + 1 = 2",
    "2 + 2 ≠ 5", "x != 3 and 1 + 1 = 2", "a == b, c <= d, e >= f, g = 4", "===", "=", "1 = 1 =", "Mistake-free: 4 = 4",
    "İnstead 2 + 2 = 4", "ınstead 2 + 2 = 4", "doesn\u2019t 1 = 1",
]


def _real_equation_lines() -> list[str]:
    """Every line with an "=" of the real outputs (after ``_plain``), none without the real data."""
    if not REAL_DATA_PRESENT:
        return []
    return [line for output in real_frame().get_column("output").fill_null("") for line in A._plain(output).split("\n") if "=" in line]


def test_equals_signs_are_where_the_regex_finds_them():
    lines = LINES + _real_equation_lines()
    for line in lines:
        assert A._equals_signs(line) == [m.start() for m in re.finditer(r"(?<![=<>!])=(?!=)", line)], line
    assert A._equals_signs("a == b, c <= d, g = 4") == [18] and A._equals_signs("===") == []


def test_a_line_may_deny_wherever_the_denial_pattern_matches():
    lines = LINES + _real_equation_lines()
    for line in lines:
        if A._DENIED.search(line):
            assert A._may_deny(line), line
    assert not A._may_deny("2 + 2 = 5") and A._may_deny("Note: 2 + 2 = 4") and not A._DENIED.search("Note: 2 + 2 = 4")
    assert A._DENIED.search("This is not right: 2 + 2 = 5") and A._may_deny("ınstead 2 + 2 = 4")
