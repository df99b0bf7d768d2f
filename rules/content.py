"""Rules about what a field contains: empty or placeholder answers, copies of
another field, prose cut off mid-sentence, repetition, missing code."""

from __future__ import annotations

import polars as pl

from rules.base import Severity, rule
from rules.params import RuleParams


def _blank(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.len_chars().fill_null(0) == 0


def comparable(column: str) -> pl.Expr:
    """Lowercase letters and digits only: case, spacing and punctuation do not make
    a field different from another."""
    return pl.col(column).str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")


def _words(column: str) -> pl.Expr:
    return pl.col(column).str.count_matches(r"\S+")


@rule(Severity.DROP)
def empty_output() -> pl.Expr:
    """Output is blank after stripping whitespace."""
    return _blank("output")


# Whole outputs that stand for "no answer", compared as ``comparable`` keys.
_PLACEHOLDER_KEYS = [
    "na", "nan", "none", "nil", "null", "empty", "blank", "tbd", "todo", "notapplicable",
    "nooutput", "nooutputs", "nooutputrequired", "nooutputneeded", "nooutputgiven", "nooutputprovided",
    "noanswer", "noresponse", "noinput", "output", "answer", "response", "notavailable", "unknown",
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
    return key.is_in(_PLACEHOLDER_KEYS) & ~_blank("output") | only_punctuation | pl.col("output").str.contains(
        _PLACEHOLDER_BRACKETED
    )


@rule(Severity.DROP)
def output_echoes_instruction() -> pl.Expr:
    """Output is the instruction again (ignoring case, spacing and punctuation).

    Dropped: the pair teaches copying, not answering."""
    key = comparable("output")
    return (key != "") & (key == comparable("instruction"))


@rule(Severity.FLAG)
def input_repeats_instruction() -> pl.Expr:
    """Input repeats the instruction, or text the instruction already contains.

    Only flagged: the record is redundant rather than wrong, and the answer may be
    fine. Containment needs 20 characters of input, so a short value that the
    instruction happens to mention ("Add 5 and 3" with input "5") is not a repeat."""
    input_key, instruction_key = comparable("input"), comparable("instruction")
    contained = (input_key.str.len_chars() >= 20) & instruction_key.str.contains(input_key, literal=True)
    return (input_key != "") & ((input_key == instruction_key) | contained)


# Endings that close a sentence or a block: punctuation, quotes, brackets, emoji.
_CLOSED_ENDING = r"[.!?…:;\"'”’)\]}>*`_~\-–—=|/\\%#\p{So}\p{Sk}]\s*$"
_LIST_OR_CODE_LINE = r"^\s*(?:[-*•+>]|\d+[.)]|[a-zA-Z][.)]\s|#|//|<|\|)"
_CODE_HINT = r"```|[{};]\s*$|^\s{4}|\bdef |\breturn\b|</"


_HASHTAG_ENDING = r"#\w+\s*$"
_FORMULA = r"\s=\s|[×÷√∑]"


def _words_per_line(column: str) -> pl.Expr:
    lines = pl.col(column).str.count_matches(r"(?m)^\s*\S")
    return _words(column) / pl.max_horizontal(lines, pl.lit(1))


@rule(Severity.FLAG, highlight=r"\S[^\n.!?]{0,60}$")
def truncated_output(params: RuleParams) -> pl.Expr:
    """Prose output that stops mid-sentence (no closing punctuation on a long last line).

    Only flagged: some styles (slogans, titles) end without a full stop, so a reader
    should confirm. Not judged: short answers, lists, tables, code, formulas, posts
    ending in hashtags, and verse (short lines: poems and lyrics rarely punctuate)."""
    output = pl.col("output").str.strip_chars_end()
    last_line = output.str.extract(r"([^\n]*)$", 1)
    return (
        (_words("output") >= params.truncated_min_words)
        & ~output.str.contains(_CLOSED_ENDING)
        & ~output.str.contains(_HASHTAG_ENDING)
        & (last_line.str.count_matches(r"\S+") >= 8)
        & (_words_per_line("output") >= 15)
        & ~last_line.str.contains(_LIST_OR_CODE_LINE)
        & ~pl.col("output").str.contains(f"(?m){_CODE_HINT}|{_FORMULA}")
    )


_REPEATS_BY_DESIGN = r"(?i)\b(?:songs?|raps?|poems?|lyrics|chants?|jingles?|verses?|chorus|nursery rhymes?|truth table|table)\b"


def _duplicated_share(items: pl.Expr) -> pl.Expr:
    """Share of a list's elements that occur more than once in it."""
    return items.list.eval(pl.element().is_duplicated().mean()).list.first().fill_null(0.0)


@rule(Severity.FLAG)
def repetition(params: RuleParams) -> pl.Expr:
    """Output repeats itself: too many duplicated lines or word n-grams (Gopher-style shares).

    A degenerate generation loop is what this looks for. Not judged: songs, raps
    and poems (refrains), code and markup (closing tags, table rows), which repeat
    by design. Only flagged: templated lists can still trip it."""
    lines = pl.col("output").str.split("\n").list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
    words = pl.col("output").str.to_lowercase().str.extract_all(r"[\p{L}\p{N}']+")
    n = params.repetition_ngram
    ngrams = words.list.eval(
        pl.concat_str([pl.element().shift(-i) for i in range(n)], separator=" ").drop_nulls()
    )
    long_enough = words.list.len() >= params.repetition_min_words
    by_design = pl.col("instruction").str.contains(_REPEATS_BY_DESIGN) | pl.col("output").str.contains(f"(?m){_CODE_HINT}|</")
    repeated_lines = (lines.list.len() >= 4) & (_duplicated_share(lines) > params.repetition_line_share)
    return long_enough & ~by_design & (repeated_lines | (_duplicated_share(ngrams) > params.repetition_ngram_share))


_LANGUAGES = (
    r"python|java|javascript|typescript|c\+\+|c#|c|ruby|go|golang|rust|php|swift|kotlin|scala|perl|r|matlab|"
    r"sql|mysql|html|css|bash|shell|powershell|haskell|lua|julia|dart|vba|excel"
)
_MAKE = r"(?i)^(?:please\s+)?(?:write|create|generate|implement|construct|develop|code|compose|produce|build|make)\b"
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
    r"(?m)^\s*(?:def|class|import|from|return|for|while|if|print|SELECT|INSERT|UPDATE|CREATE|#include|public|function|var|let|const|echo)\b"
)


@rule(Severity.DROP)
def code_missing() -> pl.Expr:
    """The instruction asks for code (a program, function, script, query) and the output has none.

    Dropped: a prose answer to a coding request teaches the model to describe
    instead of doing. Requests to explain, fix or describe code do not count."""
    output = pl.col("output")
    asks = pl.col("instruction").str.contains(_ASKS_FOR_CODE) & ~pl.col("instruction").str.contains(_WANTS_PROSE)
    return asks & ~output.str.contains(_LOOKS_LIKE_CODE) & ~_blank("output")
