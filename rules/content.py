"""Rules about what a field contains: empty or placeholder answers, copies of
another field, prose cut off mid-sentence, repetition, missing code."""

from __future__ import annotations

import polars as pl

from rules.base import LEAD_IN as _LEAD_IN
from rules.base import Severity, boundary_free, on_selected, only_where, rule
from rules.params import RuleParams


def _blank(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.len_chars().fill_null(0) == 0


def comparable(column: str) -> pl.Expr:
    """Lowercase letters and digits only: case, spacing and punctuation do not make
    a field different from another."""
    return pl.col(column).str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")


# The characters that each put one character in a ``comparable`` key: letters and
# digits, and two that Unicode 16 added (U+A7D2, U+A7D4) which Rust's lowercasing
# knows but its regex tables do not, so they lowercase to a letter without being
# one. Every other character lowercases to none (checked over all of Unicode).
KEY_CHARACTER = r"[\p{L}\p{N}\x{A7D2}\x{A7D4}]"


def may_share_comparable(first: str, second: str) -> pl.Expr:
    """False only where the two ``comparable`` keys surely differ: both fields'
    first ``KEY_CHARACTER`` is ASCII and the two differ in lowercase. A key starts
    with that character lowercased, since no other character lowercases to a letter
    or digit and ASCII lowercases on its own (no context, unlike "Σ");
    ``tests/rules/test_comparable_prescreen.py`` checks both over all of Unicode.
    Finding one character is far cheaper than building two keys, and it settles
    nine rows in ten before any key is built."""
    first_char = [pl.col(column).str.extract(f"({KEY_CHARACTER})", 1) for column in (first, second)]
    both_ascii = (first_char[0].str.len_bytes() == 1) & (first_char[1].str.len_bytes() == 1)
    differ = first_char[0].str.to_lowercase() != first_char[1].str.to_lowercase()
    return ~(both_ascii & differ).fill_null(False)


def _words(column: str) -> pl.Expr:
    return pl.col(column).str.count_matches(r"\S+")


def _at_least_words(column: str, n: int) -> pl.Expr:
    """Cheap pre-filter for ``_words(column) >= n``: a literal count of spaces and
    newlines, with slack, so that no row with n words is missed."""
    separators = pl.col(column).str.count_matches(" ", literal=True) + pl.col(column).str.count_matches("\n", literal=True)
    return separators + 1 >= n


def _short(column: str, chars: int) -> pl.Expr:
    return pl.col(column).str.len_chars() <= chars


@rule(Severity.DROP)
def empty_output() -> pl.Expr:
    """Output is blank after stripping whitespace."""
    return _blank("output")


# Whole outputs that stand for "no answer", compared as ``comparable`` keys.
_PLACEHOLDER_KEYS = [
    "na", "nan", "none", "nil", "null", "empty", "blank", "tbd", "todo", "notapplicable",
    "nooutput", "nooutputs", "nooutputrequired", "nooutputneeded", "nooutputgiven", "nooutputprovided",
    "noanswer", "noresponse", "noinput", "output", "answer", "response", "notavailable",
]
# Bracketed stand-ins for something that is not there: "<No output, cannot design
# a graphical user interface>", "[screenshot of Github website]", "[Insert image]".
_PLACEHOLDER_BRACKETED = (
    r"^\s*[<\[(]\s*(?i:no output|insert|image|picture|photo|screenshot|video|audio|drawing|diagram|chart|graph|link|output)"
    r"[^<>\[\]()]*[>\])]\s*$"
)


@rule(Severity.DROP, highlight=r"^[\s\S]{1,80}$")
def placeholder_output() -> pl.Expr:
    """Output is a stand-in such as "N/A", "<No Output>", "None" or "-", not an answer.

    Dropped: training on it teaches the model to answer with the placeholder. An
    output of only punctuation ("-", "...") counts too; a blank one is
    ``empty_output``'s."""
    key = comparable("output")
    only_punctuation = (key == "") & ~_blank("output")
    placeholder = key.is_in(_PLACEHOLDER_KEYS) & ~_blank("output") | only_punctuation | pl.col("output").str.contains(
        _PLACEHOLDER_BRACKETED
    )
    return only_where(_short("output", 120), placeholder)


@rule(Severity.DROP)
def output_echoes_instruction() -> pl.Expr:
    """Output is the instruction again (ignoring case, spacing and punctuation).

    Dropped: the pair teaches copying, not answering."""
    key = comparable("output")
    similar_length = pl.col("output").str.len_bytes() <= 2 * pl.col("instruction").str.len_bytes() + 20
    candidate = similar_length & may_share_comparable("output", "instruction")
    return only_where(candidate, (key != "") & (key == comparable("instruction")))


@rule(Severity.FLAG)
def input_repeats_instruction() -> pl.Expr:
    """Input repeats the instruction, or text the instruction already contains.

    Only flagged: the record is redundant rather than wrong, and the answer may be
    fine. Containment needs 20 characters of input, so a short value that the
    instruction happens to mention ("Add 5 and 3" with input "5") is not a repeat."""
    input_key, instruction_key = comparable("input"), comparable("instruction")
    contained = (input_key.str.len_chars() >= 20) & instruction_key.str.contains(input_key, literal=True)
    has_input = pl.col("input").fill_null("") != ""
    # Both keys are built only where the input's key could equal or fit in the
    # instruction's: its length (one character per ``KEY_CHARACTER`` of the input)
    # is at least 1 and at most the instruction's length, and at least 20 unless
    # the keys may be equal. An article to summarise is longer than its task.
    input_key_length = pl.col("input").str.count_matches(KEY_CHARACTER)
    could_fit = (input_key_length >= 1) & (input_key_length <= pl.col("instruction").str.len_chars())
    candidate = has_input & could_fit & ((input_key_length >= 20) | may_share_comparable("input", "instruction"))
    return only_where(candidate, (input_key != "") & ((input_key == instruction_key) | contained))


# Endings that close a sentence or a block: punctuation, quotes, brackets, emoji.
_CLOSED_ENDING = r"[.!?…:;\"'”’)\]}>*`_~\-–—=|/\\%#\p{So}\p{Sk}]\s*$"
_LIST_OR_CODE_LINE = r"^\s*(?:[-*•+>]|\d+[.)]|[a-zA-Z][.)]\s|#|//|<|\|)"
_CODE_HINT = r"```|[{};]\s*$|^\s{4}|\bdef |\breturn\b|</"


_HASHTAG_ENDING = r"#\w+\s*$"
_FORMULA = r"\s=\s|[×÷√∑]"


def _words_per_line(column: str) -> pl.Expr:
    lines = pl.col(column).str.count_matches(r"(?m)^\s*\S")
    return _words(column) / pl.max_horizontal(lines, pl.lit(1))


# A letter's sign-off in its last lines ("Sincerely,\nJane Doe, Marketing Manager
# at Acme"): the last line is a signature, not a cut sentence.
_SIGN_OFF = (
    r"(?im)^\s*(?:sincerely|regards|best regards|kind regards|warm regards|best wishes|best|yours|yours truly|"
    r"yours sincerely|respectfully|thank you|thanks|cheers|warmly|love|with love|all the best)\b[^\n]{0,20}\n[^\n]*\s*\z"
)


@rule(Severity.FLAG, highlight=r"\S[^\n.!?]{0,60}$")
def truncated_output_v2(params: RuleParams) -> pl.Expr:
    """Prose output that stops mid-sentence (no closing punctuation on a long last line).

    Only flagged: some styles (slogans, titles) end without a full stop, so a reader
    should confirm. Not judged: short answers, lists, tables, code, formulas, posts
    ending in hashtags, verse (short lines: poems and lyrics rarely punctuate),
    worked maths whose last line states a result ("... = 36"), and letters that
    end with a signature. v2 of ``truncated_output``, which fired on those two."""
    output = pl.col("output").str.strip_chars_end()
    last_line = output.str.extract(r"([^\n]*)$", 1)
    open_ending = ~pl.col("output").str.tail(8).str.contains(_CLOSED_ENDING)
    long_enough = _at_least_words("output", params.truncated_min_words)
    cut_prose = (
        (_words("output") >= params.truncated_min_words)
        & ~output.str.contains(_CLOSED_ENDING)
        & ~output.str.contains(_HASHTAG_ENDING)
        & (last_line.str.count_matches(r"\S+") >= 8)
        & (_words_per_line("output") >= 15)
        & ~last_line.str.contains(_LIST_OR_CODE_LINE)
        & ~pl.col("output").str.contains(f"(?m){_CODE_HINT}|{_FORMULA}")
        & ~last_line.str.contains(r"=|[+*/^×÷]\s*\d")
        & ~pl.col("output").str.contains(_SIGN_OFF)
    )
    # Cheapest first: the ending (eight characters) settles four rows in five,
    # the spaces counted over the whole output only on the rest.
    return only_where(open_ending, only_where(long_enough, cut_prose))


_REPEATS_BY_DESIGN = r"(?i)\b(?:songs?|raps?|poems?|lyrics|chants?|jingles?|verses?|chorus|nursery rhymes?|truth table|table)\b"
_FNV_PRIME = 1099511628211  # mixes word hashes into an n-gram hash (wrapping u64 arithmetic)


def _repeated_share(items: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per row ``_r``: share of ``key`` occurrences that repeat an earlier one in
    the same row, and how many there are."""
    return items.group_by("_r").agg(
        (1 - pl.col(key).n_unique() / pl.len()).alias("share"), pl.len().alias("n")
    )


def repetitive_rows(frame: pl.DataFrame, params: RuleParams) -> pl.Series:
    """Gopher-style repetition over ``frame["output"]``: duplicated non-empty lines,
    or duplicated word n-grams, above their shares. Works on the exploded words
    of all rows at once (n-grams as hashes of shifted word hashes), because
    per-row list evaluation is ten times slower."""
    rows = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_r"), "output")
    n = params.repetition_ngram
    # Words as Gopher takes them: whitespace-separated (a split is much cheaper
    # than a regex), lowercased.
    spaced = pl.col("output").str.to_lowercase().str.replace_all("\n", " ", literal=True).str.replace_all("\t", " ", literal=True)
    words = rows.select("_r", spaced.str.split(" ").alias("w")).explode("w").filter(pl.col("w").fill_null("") != "")
    word_hash = pl.col("w").hash(seed=0)
    ngram = word_hash
    for offset in range(1, n):
        ngram = ngram * _FNV_PRIME + word_hash.shift(-offset)
    ngrams = words.with_columns(ngram.alias("g"), (pl.col("_r").shift(-(n - 1)) == pl.col("_r")).alias("whole")).filter("whole")
    by_ngram = _repeated_share(ngrams, "g").filter(pl.col("share") > params.repetition_ngram_share)
    lines = (
        rows.select("_r", pl.col("output").str.split("\n").alias("line"))
        .explode("line")
        .with_columns(pl.col("line").str.strip_chars())
        .filter(pl.col("line").fill_null("") != "")
    )
    by_line = _repeated_share(lines, "line").filter((pl.col("n") >= 4) & (pl.col("share") > params.repetition_line_share))
    word_counts = words.group_by("_r").agg(pl.len().alias("words"))
    long_enough = word_counts.filter(pl.col("words") >= params.repetition_min_words).get_column("_r")
    flagged = pl.concat([by_ngram.get_column("_r"), by_line.get_column("_r")]).unique()
    flagged = flagged.filter(flagged.is_in(long_enough.implode()))
    return rows.get_column("_r").is_in(flagged.implode())


@rule(Severity.OFF)
def repetition(params: RuleParams) -> pl.Expr:
    """Output repeats itself: too many duplicated lines or word n-grams (Gopher-style shares).

    A degenerate generation loop is what this looks for. Not judged: songs, raps
    and poems (refrains), code and markup (closing tags, table rows), which repeat
    by design. Retired (off unless the config turns it on): read on real data it
    was right 1 time in 10, firing on step-by-step working, templated lists and
    quoted sentences; instruction data has few generation loops to find."""
    candidate = (
        _at_least_words("output", params.repetition_min_words)
        & ~pl.col("instruction").str.contains(_REPEATS_BY_DESIGN)
        & ~pl.col("output").str.contains(f"(?m){_CODE_HINT}|</")
    )
    return on_selected(candidate, ["output"], lambda frame: repetitive_rows(frame, params))


_LANGUAGES = (
    r"python|java|javascript|typescript|c\+\+|c#|c|ruby|go|golang|rust|php|swift|kotlin|scala|perl|r|matlab|"
    r"sql|mysql|html|css|bash|shell|powershell|haskell|lua|julia|dart|vba|excel"
)
_MAKE = rf"(?i)^{_LEAD_IN}(?:write|create|generate|implement|construct|develop|code|compose|produce|build|make)\b"
_ASKS_FOR_CODE = (
    rf"{_MAKE}[^.?!\n]{{0,60}}?\b(?:program|function|(?:{_LANGUAGES}) script|script (?:to|that)|code|snippet|subroutine|"
    r"class|method|(?:sql|database|mysql|postgres|postgresql|sparql|graphql|mongodb) query|regex|regular expression|loop)\b"
    rf"|{_MAKE}[^.?!\n]{{0,60}}?\b(?:in|using|with) (?:{_LANGUAGES})\b"
)
# Requests that mention a program or script but want prose: a slogan for a
# program, a script for a scene, pseudocode, a description.
_WANTS_PROSE = (
    r"(?i)\b(?:slogan|tagline|name|title|term|description|pseudo-?code|explain|describe|story|poem|essay|dialogue|"
    r"conversation|scene|movie|film|play|interaction|advertisement|commercial|video|podcast|speech|drama|skit|"
    r"episode|trailer|radio|chatbot|customer|sales|phone call|report|code of conduct|dress code|zip code|postal code|morse code)\b"
)
_LOOKS_LIKE_CODE = (
    r"```|[{};]|==|!=|<=|>=|=>|->|:=|\+=|\w\s*=\s*\S|\w\(.*\)|</?[a-zA-Z][^>]*>|"
    r"\.\*|\\[dswbDSWB]|\[[^\]]*\][*+?{]|\^\(|"  # regular expressions
    r"^\s*[a-z_][\w.\-]*(?:\s+-{1,2}[\w\-]+)*\s*$|"  # one shell command: "pwd", "ls -la"
    r"(?m)^\s*(?:def|class|import|from|return|for|while|if|print|SELECT|INSERT|UPDATE|CREATE|#include|public|function|var|let|const|echo)\b"
)
# What v2 also reads as code: a shebang, a shell command line, boolean and
# comparison operators ("x > 0 && x < 10"), indentation-based markup (Pug).
_LOOKS_LIKE_CODE_TOO = (
    r"(?m)^\s*#!/|^\s*(?:ls|cd|mkdir|rmdir|find|grep|sed|awk|echo|cat|rm|cp|mv|chmod|chown|curl|wget|du|df|date|git|"
    r"docker|pip|npm|sudo|tar|ps|kill|touch|head|tail|sort|wc|export|source|apt|apt-get|brew|ssh|scp|python3?|node|"
    r"javac?|gcc|g\+\+|make|doctype)(?:\s|$)|&&|\|\||\b\w+\s*[<>]=?\s*\d"
)


@rule(Severity.DROP)
def code_missing_v2() -> pl.Expr:
    """The instruction asks for code (a program, function, script, query) and the output has none.

    Dropped: a prose answer to a coding request teaches the model to describe
    instead of doing. Requests to explain, fix or describe code do not count.
    v2 of ``code_missing``: shell scripts ("#!/bin/bash\nls -lt", "mkdir test"),
    boolean expressions and Pug are code too."""
    output = pl.col("output")
    asks = pl.col("instruction").str.contains(_ASKS_FOR_CODE) & ~pl.col("instruction").str.contains(boundary_free(_WANTS_PROSE))
    has_code = output.str.contains(_LOOKS_LIKE_CODE) | output.str.contains(_LOOKS_LIKE_CODE_TOO)
    return only_where(asks, ~has_code & ~_blank("output"))


# Slots of a prompt or mail-merge template left unfilled in an answer: "{input}",
# "{name}", "[insert product name here]", "<insert quote>". A letter's "[Your
# Name]" is a convention of letter writing, not an unfilled slot.
_SLOT_NAMES = (
    r"input|output|instruction|name|text|question|context|answer|query|topic|product|company|place|location|city|"
    r"date|time|number|item|person|title|subject|keyword|language|sentence|word|response"
)
_UNFILLED_SLOT = (
    rf"\{{\{{?\s*(?:{_SLOT_NAMES})\s*\}}\}}?"
    r"|(?i)\[\s*(?:insert|enter|fill in|put|add)\b[^\]\n]{0,60}\]|\[[^\]\n]{1,60}\bhere\s*\]"
    r"|(?i)<\s*(?:insert|enter|fill in)\b[^>\n]{0,60}>|\(\s*(?:insert|enter|fill in)\b[^)\n]{0,60}\)"
)
# Code, told apart without the braces and angle brackets a slot itself is made of.
_CODE_AROUND_SLOTS = _LOOKS_LIKE_CODE.replace("[{};]|", "").replace("</?[a-zA-Z][^>]*>|", "")
# Where braces and brackets are the answer's own syntax, or a template is asked for.
_SLOTS_EXPECTED = (
    r"(?i)\b(?:template|placeholders?|fill[- ]in|blanks?|mad ?libs?|form letter|format string|f-string|jinja|"
    r"mustache|handlebars|string interpolation)\b"
)


@rule(Severity.DROP, highlight=r"\{\{?\s*[a-z]+\s*\}\}?|\[[^\]\n]{1,60}\]|<[^>\n]{1,60}>|\([^)\n]{1,60}\)")
def unfilled_template_slot() -> pl.Expr:
    """The output still holds a template slot: "{input}", "{name}", "[insert X here]".

    Dropped: the answer was generated from a template that was never filled, and
    training on it teaches the model to emit slots. Not fired on code (an
    f-string's "{name}"), on requests for code, nor when the task asks for a
    template or placeholders."""
    output = pl.col("output")
    expected = (
        pl.col("instruction").str.contains(boundary_free(_SLOTS_EXPECTED))
        | pl.col("instruction").str.contains(_ASKS_FOR_CODE)
        | output.str.contains(_CODE_AROUND_SLOTS)
    )
    return only_where(output.str.contains(_UNFILLED_SLOT), ~expected)
