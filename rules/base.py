"""The rule mechanism: a rule is a decorated function returning a boolean Polars
expression (True = problem), and the function's name is the rule's id.

A rule whose meaning changes gets a new name (``_v2``) instead of being edited in
place, so reports from different runs stay comparable.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from enum import Enum
from typing import Callable

import polars as pl


class Severity(str, Enum):
    DROP = "drop"  # the row goes to rejected/ with the rule in _reasons
    FLAG = "flag"  # the row stays clean; the rule is listed in _flags
    OFF = "off"  # not evaluated (only ever set by configuration)


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    description: str
    build: Callable[..., pl.Expr]
    takes_params: bool
    highlight: str | None = None  # regex marking the offending span in report examples
    when: Callable[..., bool] | None = None  # given the rule parameters: does the rule run at all

    def applies(self, params) -> bool:
        """False for a rule that has nothing to judge under these parameters
        (benchmark_overlap without benchmarks): it is left out, not reported as 0."""
        return self.when is None or bool(self.when(params))

    def expr(self, params) -> pl.Expr:
        """The rule's expression; a null result (null field) counts as not firing."""
        built = self.build(params) if self.takes_params else self.build()
        return built.fill_null(False)


RULES: dict[str, Rule] = {}

# Polite or framing words before an imperative ("Please draw", "Kindly write",
# "Task: create"), for rules that read the instruction's first verb.
LEAD_IN = r"(?:\s*(?:please|kindly|now|task|can you|could you|would you|you need to|i need you to|i want you to)\b[\s,:]*)*"


def rule(severity: Severity, highlight: str | None = None,
         when: Callable[..., bool] | None = None) -> Callable[[Callable[..., pl.Expr]], Callable[..., pl.Expr]]:
    """Register a rule. The function may take one argument, the rule parameters
    (``rules.params.RuleParams``), when it needs thresholds from the config.

    ``highlight`` is an optional regex (in the common subset of Python, Rust and
    JavaScript syntax) that marks the offending span when the report shows examples.
    ``when`` (given the rule parameters) says whether the rule runs at all.
    """

    def register(build: Callable[..., pl.Expr]) -> Callable[..., pl.Expr]:
        name = build.__name__
        if name in RULES:
            raise ValueError(f"rule {name!r} is defined twice")
        description = inspect.cleandoc(build.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        if not description:
            raise ValueError(f"rule {name!r} needs a docstring: it is shown in the report")
        takes_params = len(inspect.signature(build).parameters) == 1
        RULES[name] = Rule(name, severity, description, build, takes_params, highlight, when)
        return build

    return register


def on_selected(selected: pl.Expr, columns: list[str | pl.Expr], check: Callable[[pl.DataFrame], pl.Series]) -> pl.Expr:
    """``check(frame)`` on the rows ``selected`` picks (a frame of ``columns``,
    nulls kept; an expression among them is a column by its output name); False
    elsewhere. ``check`` returns one boolean per row it gets.

    For costly work that matters on a few rows: ``pl.when(selected).then(...)``
    would still compute the costly branch on every row. The rows are filtered
    inside one batch function instead, and only they are checked.
    """

    names = [column if isinstance(column, str) else column.meta.output_name() for column in columns]

    def run(batch: pl.Series) -> pl.Series:
        frame = batch.struct.unnest()
        picked = frame.get_column("_selected").fill_null(False)
        answers = pl.Series([False] * frame.height, dtype=pl.Boolean)
        if picked.any():
            found = check(frame.filter(picked).select(names)).fill_null(False).cast(pl.Boolean)
            answers = answers.scatter(picked.arg_true(), found)
        return answers

    packed = pl.struct(selected.alias("_selected"), *columns)
    return packed.map_batches(run, return_dtype=pl.Boolean, is_elementwise=True)


def only_where(selected: pl.Expr, check: pl.Expr) -> pl.Expr:
    """The expression ``check``, evaluated (vectorised) only on the rows
    ``selected`` picks; False elsewhere. See ``on_selected``."""
    columns = sorted(set(check.meta.root_names()))
    return on_selected(selected, columns, lambda frame: frame.select(check).to_series())


# --- Python regexes in Rust -------------------------------------------------------
# Python's ``re`` and Polars' Rust regex engine disagree on some characters: what
# \w, \d and \s match (superscript digits, combining marks, \x1c-\x1f, newer
# Unicode), and what (?i) folds ("ſ" and the Kelvin sign are "s" and "k"). On text
# made only of the characters below, both engines read every class the same way
# and every word character is ASCII, so a Python pattern and its Rust spelling
# with ASCII word boundaries (``ascii_boundaries``) find a match in the same texts;
# that boundary also keeps Rust on its fast path. ``tests/rules/test_arithmetic_prescreen.py``
# checks every character of these ranges in both engines.
ALIKE_RANGES = (
    (0x00, 0x1B), (0x20, 0x7F),  # ASCII but the four separators Python counts as \s
    (0xA0, 0xA9), (0xAB, 0xB1), (0xB4, 0xB4), (0xB6, 0xB8), (0xBB, 0xBB), (0xBF, 0xBF), (0xD7, 0xD7), (0xF7, 0xF7),
    (0x2000, 0x200B), (0x200E, 0x203E), (0x2041, 0x2053), (0x2055, 0x206F),  # general punctuation
    (0x20A0, 0x20CF), (0x218A, 0x23FF), (0x2500, 0x2775), (0x2794, 0x27BF), (0x2B00, 0x2BFF),  # currency, symbols
    (0x3000, 0x3004), (0x3008, 0x3020), (0x1F000, 0x1F0FF), (0x1F18A, 0x1FAFF),  # CJK punctuation, emoji
)
_NOT_ALIKE = "[^" + "".join(f"\\x{{{low:x}}}-\\x{{{high:x}}}" for low, high in ALIKE_RANGES) + "]"


def regex_alike(*texts: pl.Expr) -> pl.Expr:
    """True where every text holds only ``ALIKE_RANGES`` characters (null counts
    as empty): there Python's ``re`` and Rust agree (see ``ascii_boundaries``)."""
    found = [text.fill_null("").str.contains(_NOT_ALIKE) for text in texts]
    return ~pl.any_horizontal(found)


def ascii_boundaries(pattern: str) -> str:
    """A Python pattern (no lookaround, no ``$``, no ``\\b`` inside brackets) for
    Polars: on ``regex_alike`` text it matches in the same texts as in Python."""
    return pattern.replace(r"\b", r"(?-u:\b)")


def any_word(words: str) -> str:
    r"""``(?i)\b(?:words)\b`` for Polars (each word beginning and ending with a word
    character), spelled without ``\b``: Rust's Unicode word boundary leaves its
    fast engine on non-ASCII text (ten times slower on real text), while a
    non-word character or the text's edge on either side matches in the same texts."""
    return rf"(?:^|\W)(?i:{words})(?:\W|$)"


def any_word_start(stems: str) -> str:
    r"""``(?i)\b(?:stems)\w*\b`` for Polars, spelled without ``\b`` (see ``any_word``):
    a word beginning with one of ``stems``."""
    return rf"(?:^|\W)(?i:{stems})"


def boundary_free(pattern: str) -> str:
    r"""``(?i)\bX\b`` spelled as ``any_word(X)``: the same texts match, without Rust's
    slow Unicode word boundary. ``X`` must hold no other ``\b`` and no top-level
    ``|``, and every text it matches must begin and end with a word character
    (the caller's promise: "cat|dog", "as an? ai, i cannot"; not "c\+\+").
    Any other shape raises ValueError rather than being rewritten wrongly."""
    prefix, suffix = r"(?i)\b", r"\b"
    inner = pattern[len(prefix):-len(suffix)] if pattern.startswith(prefix) and pattern.endswith(suffix) else None
    if inner is None or r"\b" in inner or _top_level_alternation(inner):
        raise ValueError(f"not of the form (?i)\\bX\\b: {pattern}")
    return any_word(inner)


def _top_level_alternation(pattern: str) -> bool:
    """Whether ``pattern`` has a ``|`` outside every group and bracket (or brackets
    that do not balance, which is read as having one)."""
    depth, in_class, escaped = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return True
        elif char == "|" and depth == 0:
            return True
    return depth != 0 or in_class


def python_check(prefilter: pl.Expr, columns: list[str | pl.Expr], check: Callable[..., bool]) -> pl.Expr:
    """A rule part that needs Python, run row by row on the rows ``prefilter``
    selects: ``check`` gets the row's ``columns`` as arguments (nulls as "")."""

    def rows(frame: pl.DataFrame) -> pl.Series:
        answers = [bool(check(*row)) for row in frame.fill_null("").iter_rows()]
        return pl.Series(answers, dtype=pl.Boolean)

    return on_selected(prefilter, columns, rows)
