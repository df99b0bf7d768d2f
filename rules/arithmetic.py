"""``arithmetic_mismatch_v2``: a stated equation or a simple calculation whose answer is wrong.

Alpaca's commonest factual defect is arithmetic ("87 * 183" answered 15781). The
rule checks two things with the small evaluator below (never ``eval``):

- every equation the output states in plain arithmetic ("3/4*60 = 45", GSM8K's
  "<<48/2=24>>"), whatever the task;
- the final answer, only where the task is a bare calculation -- an arithmetic
  expression with few words around it, the average/sum/median of a list of
  numbers, a unit conversion: it fires when the output states numbers and none
  of them is the computed answer. A word problem's numbers ("3/4 times as many",
  "Districts 1 - 3") are not one expression.

Anything it does not understand is left alone: a missed check costs nothing, a
false alarm drops a good row. Only rows a vectorised pre-filter selects (digits
plus a calculation word, or a stated equation) reach Python.
"""

from __future__ import annotations

import math
import re
import statistics
from functools import lru_cache

import polars as pl

from rules.base import Severity, any_word, any_word_start, ascii_boundaries, only_where, regex_alike, rule
from rules.params import RuleParams

# --- the evaluator: + - * / ^ and parentheses over numbers ------------------------


class _Unparsable(ValueError):
    pass


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(\*\*|[-+*/^()]))")


def _tokens(text: str) -> list[str | float]:
    tokens: list[str | float] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise _Unparsable(text)
        number, operator = match.groups()
        if number is not None:
            if tokens and (isinstance(tokens[-1], float) or tokens[-1] == ")"):
                raise _Unparsable(text)  # two numbers in a row: not one expression
            tokens.append(float(number))
        else:
            if operator == "(" and tokens and (isinstance(tokens[-1], float) or tokens[-1] == ")"):
                tokens.append("*")  # implicit multiplication: 5(6-3)
            tokens.append("^" if operator == "**" else operator)
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent: sum := product (("+"|"-") product)*; product := power
    (("*"|"/") power)*; power := unary ("^" power)?; unary := "-" unary | atom."""

    def __init__(self, tokens: list[str | float]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> str | float | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str | float | None:
        token = self.peek()
        self.at += 1
        return token

    def parse(self) -> float:
        value = self.sum()
        if self.peek() is not None:
            raise _Unparsable("trailing tokens")
        return value

    def sum(self) -> float:
        value = self.product()
        while self.peek() in ("+", "-"):
            value = value + self.product() if self.take() == "+" else value - self.product()
        return value

    def product(self) -> float:
        value = self.power()
        while self.peek() in ("*", "/"):
            if self.take() == "*":
                value *= self.power()
            else:
                divisor = self.power()
                if divisor == 0:
                    raise _Unparsable("division by zero")
                value /= divisor
        return value

    def power(self) -> float:
        base = self.unary()
        if self.peek() == "^":
            self.take()
            exponent = self.power()
            if abs(exponent) > 64 or abs(base) > 1e6:
                raise _Unparsable("too large")
            return float(base**exponent)
        return base

    def unary(self) -> float:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        token = self.take()
        if isinstance(token, float):
            return token
        if token == "(":
            value = self.sum()
            if self.take() != ")":
                raise _Unparsable("unbalanced")
            return value
        raise _Unparsable(f"unexpected {token!r}")


MAX_TOKENS = 200  # no task a rule should check by hand has a longer expression


def evaluate(expression: str) -> float:
    """The value of an arithmetic expression; raises ValueError if it is not one."""
    tokens = _tokens(expression)
    if not tokens:
        raise _Unparsable("empty")
    if len(tokens) > MAX_TOKENS:  # the parser recurses per bracket and per ^: bound it
        raise _Unparsable("too long")
    value = _Parser(tokens).parse()
    if isinstance(value, complex) or math.isnan(value) or math.isinf(value):
        raise _Unparsable("not a real number")
    return value


# --- reading the task -------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORDS = [  # operator words -> symbols, applied in order
    (r"(?i)\bmultiplied by\b|\btimes\b|(?<=\d)\s*[x×]\s*(?=[\d(])|×", " * "),
    (r"(?i)\bdivided by\b|÷", " / "),
    (r"(?i)\bplus\b", " + "),
    (r"(?i)\bminus\b", " - "),
    (r"(?i)\bto the power of\b|\braised to\b", " ^ "),
    (r"(?i)\bsquared\b", " ^ 2"),
    (r"(?i)\bcubed\b", " ^ 3"),
    (rf"(?i)\b(?:multiply|multiplying|the product of)\s+({_NUMBER})\s+(?:and|by|with)\s+({_NUMBER})", r" \1 * \2 "),
    (rf"(?i)\b(?:add|adding|the sum of)\s+({_NUMBER})\s+(?:and|to|plus)\s+({_NUMBER})", r" \1 + \2 "),
    (rf"(?i)\bsubtract\s+({_NUMBER})\s+from\s+({_NUMBER})", r" \2 - \1 "),
    (rf"(?i)\bdivide\s+({_NUMBER})\s+by\s+({_NUMBER})", r" \1 / \2 "),
    (rf"({_NUMBER})\s*%\s*of\s+\$?({_NUMBER})", r" \1 / 100 * \2 "),
]
# For each of _WORDS, text one of which any match of it contains (lowercase).
_WORDS_NEEDED = [
    ("multiplied by", "times", "x", "×"), ("divided by", "÷"), ("plus",), ("minus",), ("to the power of", "raised to"),
    ("squared",), ("cubed",), ("multiply", "the product of"), ("add", "the sum of"), ("subtract",), ("divide",), ("%",),
]
_EXPRESSION = re.compile(r"[-(\s]*\d[\d.,]*(?:\s*(?:\*\*|[-+*/^])\s*[-(\s]*\d[\d.,]*\)*|\s*\([^()]*\))+\)*")
_NOT_SIMPLE = re.compile(
    r"(?i)=|\b(?:program|code|function|script|python|java|table|matrix|matrices|binary|hex|equation of|[a-wyz]\d|\d[a-wyz]\b|"
    r"sequence|series|round(?:ed)?|approximate|estimate|probability|interest|formula|algorithm|explain|why|how to|"
    r"quiz|question|example|prime|factor|digits?|date|format|percentage|fraction|decimal|ratio)\b|\d+/\d+/\d+"
)
_CODE_OUTPUT = re.compile(r"\bdef\b|\breturn\b|[{};]|\w\(.*\)")


def _normalise_number(text: str) -> float:
    return float(text.replace(",", ""))


# After a calculation, words that still belong to it ("What is 5 + 3 equal to?");
# any other word is a unit or a noun ("$150 plus 50 cents", "4 entrees"), and the
# numbers are quantities in a sentence, not one expression.
_AFTER_EXPRESSION = re.compile(r"(?i)\s*(?:$|[?.!,;:=)]|(?:is|equals?|equal to|and|then|give|output|answer|result)\b)")
# Before it, a capitalised word that is not a request names something ("Districts
# 1 - 3", "Chapter 4 + Appendix").
_BEFORE_EXPRESSION = re.compile(r"\b([A-Z][a-z]+)\W*$")
_REQUEST_WORDS = {"Calculate", "Compute", "Evaluate", "Solve", "What", "Find", "Multiply", "Add", "Subtract", "Divide",
                  "Simplify", "Determine", "Equation", "Expression", "Answer", "Result", "Input", "Problem", "Is"}
BARE_TASK_WORDS = 12  # a task with more words around its expression is a word problem


def _bare(task: str, span: str, start: int, end: int) -> bool:
    """The expression at task[start:end] is the whole task: few other words, no
    other numbers than its own, no unit or name around it."""
    rest = task[:start] + " " + task[end:]
    own = set(re.findall(r"\d+(?:\.\d+)?", span))
    if not set(re.findall(r"\d+(?:\.\d+)?", rest)) <= own:
        return False
    if len(re.findall(r"[A-Za-z]+", rest)) > BARE_TASK_WORDS:
        return False
    before = _BEFORE_EXPRESSION.search(task[:start])
    if before and before.group(1) not in _REQUEST_WORDS:
        return False
    return bool(_AFTER_EXPRESSION.match(task[end:]))


def operator_symbols(task: str) -> str:
    """``task`` with the operator words of ``_WORDS`` replaced, in order. An ASCII
    task is lowercased as (?i) reads it, and a substitution only removes letters:
    one whose words the task lacks cannot match, and is skipped (each is a scan)."""
    lowered = task.lower() if task.isascii() else None
    for (pattern, replacement), words in zip(_WORDS, _WORDS_NEEDED):
        if lowered is None or any(word in lowered for word in words):
            task = re.sub(pattern, replacement, task)
    return task


def expression_answer(task: str) -> float | None:
    """The value of the one arithmetic expression in ``task``, if it has exactly
    one and it is the whole task (a bare expression, not a word problem)."""
    task = re.sub(r"(?<=\d),(?=\d{3}\b)", "", operator_symbols(task))  # thousands separators
    candidates = []
    for match in _EXPRESSION.finditer(task):
        span = match.group().strip().rstrip(".,")
        operators = re.findall(r"\*\*|[+*/^]| - |\)\s*-|-\s*\(", span)
        if operators:  # "1-10" and "3-4 sentences" are ranges, not subtractions
            start = match.start() + match.group().index(span[0])
            candidates.append((span, start, start + len(span)))
    if len(candidates) != 1:
        return None
    span, start, end = candidates[0]
    if not _bare(task, span, start, end):
        return None
    try:
        return evaluate(span.replace(",", ""))
    except (ValueError, OverflowError):
        return None


_LIST = re.compile(r"(?:-?\d+(?:\.\d+)?\s*(?:,\s*(?:and\s+)?|\band\s+))+-?\d+(?:\.\d+)?")
_ASKS_FOR_AGGREGATE = re.compile(r"(?i)\b(?:calculate|compute|find|what is|what's|determine|output|give)\b")
_AGGREGATES = {
    "average": statistics.fmean,
    "mean": statistics.fmean,
    "sum": math.fsum,
    "total": math.fsum,
    "median": statistics.median,
}


AGGREGATE_TASK_WORDS = 25


def aggregate_answer(task: str) -> float | None:
    """average / mean / sum / total / median of the one list of numbers in ``task``."""
    if not _ASKS_FOR_AGGREGATE.search(task):
        return None
    asked = {word for word in _AGGREGATES if re.search(rf"(?i)\b{word}\b", task)}
    if len({_AGGREGATES[word] for word in asked}) != 1 or re.search(r"(?i)\b(?:mode|range|weighted|standard)\b", task):
        return None
    cleaned = re.sub(r"(?<=\d),(?=\d{3}\b)|\$", "", task)
    found = list(_LIST.finditer(cleaned))
    if len(found) != 1:
        return None
    lists = [found[0].group()]
    before, after = cleaned[: found[0].start()], cleaned[found[0].end() :]
    if re.search(r"(?i)\b(?:between|from|range)\s*$", before) or re.match(r"\s*(?:to|-)\s*\d", after):
        return None  # "the numbers between 0 and 10" is a range, not the list (0, 10)
    if re.search(r"\d\s*[A-Za-z]", re.sub(r"(?i)\d\s*and\b", "", lists[0] + after[:12])):
        return None  # "$10 and 4 entrees": quantities of things, not a list of numbers
    if len(re.findall(r"[A-Za-z]+", before + " " + after)) > AGGREGATE_TASK_WORDS:
        return None
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", lists[0])]
    if len(numbers) < 2:
        return None
    return _AGGREGATES[asked.pop()](numbers)


# Conversions: unit -> (dimension, factor to the base unit); temperature apart.
_UNITS = {
    r"km|kilometers?|kilometres?": ("length", 1000.0),
    r"m|meters?|metres?": ("length", 1.0),
    r"cm|centimeters?|centimetres?": ("length", 0.01),
    r"mm|millimeters?|millimetres?": ("length", 0.001),
    r"mi|miles?": ("length", 1609.344),
    r"ft|feet|foot": ("length", 0.3048),
    r"in|inch|inches": ("length", 0.0254),
    r"yd|yards?": ("length", 0.9144),
    r"kg|kilograms?|kilos?": ("mass", 1.0),
    r"g|grams?": ("mass", 0.001),
    r"lbs?|pounds?": ("mass", 0.45359237),
    r"oz|ounces?": ("mass", 0.028349523125),
    r"l|liters?|litres?": ("volume", 1.0),
    r"ml|milliliters?|millilitres?": ("volume", 0.001),
    r"gal|gallons?": ("volume", 3.785411784),
    r"s|secs?|seconds?": ("time", 1.0),
    r"min|mins|minutes?": ("time", 60.0),
    r"h|hrs?|hours?": ("time", 3600.0),
    r"days?": ("time", 86400.0),
    r"weeks?": ("time", 604800.0),
}
_TEMPERATURES = {r"°?\s*c|celsius|centigrade": "C", r"°?\s*f|fahrenheit": "F", r"k|kelvin": "K"}


def _unit(text: str) -> tuple[str, float] | str | None:
    text = text.strip().lower().rstrip(".")
    for pattern, unit in _TEMPERATURES.items():
        if re.fullmatch(pattern, text):
            return unit
    for pattern, unit in _UNITS.items():
        if re.fullmatch(pattern, text):
            return unit
    return None


def _to_kelvin(value: float, unit: str) -> float:
    return {"C": value + 273.15, "F": (value - 32) * 5 / 9 + 273.15, "K": value}[unit]


def _from_kelvin(value: float, unit: str) -> float:
    return {"C": value - 273.15, "F": (value - 273.15) * 9 / 5 + 32, "K": value}[unit]


_TEMPERATURE_TASK = re.compile(r"(?i)celsius|fahrenheit|kelvin|°")
_UNIT_WORD = r"°?\s*[a-zA-Z]+"
_CONVERSION = re.compile(
    rf"(?i)(-?(?:{_NUMBER}))\s*({_UNIT_WORD})\s+(?:in|to|into)\s+({_UNIT_WORD})\b"
    rf"|\b(?:from|given)\s+({_UNIT_WORD}?)(?:\s+temperature)?\s+(?:in|to|into)\s+({_UNIT_WORD})\b"
)


def conversion_answer(task: str) -> float | None:
    """"Convert 4 km into miles", or "Convert from Celsius to Fahrenheit" with the
    value alone in the input."""
    if not re.search(r"(?i)\bconvert|\bhow many\b|\bin\b", task):
        return None
    matches = list(_CONVERSION.finditer(task))
    if len(matches) != 1:
        return None
    number, source, target, source_only, target_only = matches[0].groups()
    if number is None:
        values = re.findall(rf"(?<![\w.])-?(?:{_NUMBER})(?![\w.])", task)
        if len(values) != 1:
            return None
        number, source, target = values[0], source_only, target_only
    value = _normalise_number(number)
    source_unit, target_unit = _unit(source), _unit(target)
    if source_unit is None or target_unit is None:
        return None
    if isinstance(source_unit, str) and isinstance(target_unit, str):
        return _from_kelvin(_to_kelvin(value, source_unit), target_unit)
    if isinstance(source_unit, tuple) and isinstance(target_unit, tuple) and source_unit[0] == target_unit[0]:
        return value * source_unit[1] / target_unit[1]
    return None


# --- checking the output ----------------------------------------------------------


def _stated_numbers(output: str) -> list[str]:
    return re.findall(rf"-?(?:{_NUMBER})", output)


def _agrees(stated: str, expected: float, tolerance: float) -> bool:
    """Equal up to the precision the output wrote ("5.4" covers 5.35 to 5.45), or
    within the relative tolerance for conversions."""
    value = _normalise_number(stated)
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    rounding = 0.5 * 10**-decimals if decimals else 0.0
    return abs(value - expected) <= max(rounding, tolerance * abs(expected)) + 1e-9


# --- equations the output states ------------------------------------------------
# Worked solutions carry their own checkable arithmetic: "3/4*60 = 45", and GSM8K's
# "<<48/2=24>>" annotations. Only a chain of numbers and operators directly left of
# "=" is read, so "8 units/floor * 15 floors = 120" (words inside) and "x + 3 = 7"
# (a variable) are left alone.

_ANNOTATION = re.compile(r"<<([^<>=]+)=([^<>=]+)>>")
_TAIL_OF_MORE = re.compile(r"(?:[x×*/+\-–^]|\b(?:times|of|by|per|plus|minus|over))\s*$")
_CHAIN_CHARS = set("0123456789.$ ()+-*/^")
_RESULT = re.compile(r"\s*\$?\s*(-?(?:\d+(?:\.\d+)?|\.\d+))(\s*%)?")
# After the stated result: a word for a magnitude ("10^6 = 1 million"), a fraction
# or another operator (the result is itself an expression), a time or ratio.
_RESULT_CONTINUES = re.compile(r"\s*(?:[-+*/^(:=]|\d|(?i:thousand|million|billion|trillion|hundred|dozen|k|m|bn)\b)")
_DENIED = re.compile(r"(?i)\b(?:not|incorrect|wrong|false|error|mistake|isn't|doesn't|does not|instead)\b|≠|!=")
# Text one of which every match of _DENIED contains, on ASCII text lowercased
# (where (?i) folds nothing else onto these letters, and "≠" cannot be).
_DENIED_NEEDS = ("not", "incorrect", "wrong", "false", "error", "mistake", "isn't", "doesn't", "does not", "instead", "!=")
# Tasks where "=" does not mean arithmetic on decimal numbers.
_OTHER_ARITHMETIC = re.compile(
    r"(?i)\b(?:binary|hex\w*|octal|base[- ]?\d+|modul\w*|mod|bitwise|boolean|clock|xor|roman numerals?|"
    r"python|java\w*|code|program\w*|function|sql|regex|riddle|puzzle|trick|joke|orwell|1984|wrong|error|mistake|incorrect)\b"
)


def _plain(text: str) -> str:
    """Operators spelled as symbols: thousands commas dropped, "x" and "×" between
    numbers as "*", "÷" as "/", a typographic minus as "-"."""
    if "," in text:  # the substitutions scan the whole text: only where they can match
        text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    if "x" in text or "×" in text:
        text = re.sub(r"(?<=[\d)])\s*[x×]\s*(?=[\d.(])", " * ", text)
    return text.replace("÷", "/").replace("−", "-")


def _left_chain(text: str) -> str | None:
    """The arithmetic directly left of the end of ``text``: the longest run of
    numbers, operators and brackets, starting at a space or the line's start."""
    start = len(text)
    while start > 0 and text[start - 1] in _CHAIN_CHARS:
        start -= 1
    while start < len(text) and text[start] == " ":
        start += 1
    chain = text[start:].strip()
    if start > 0 and not text[start - 1].isspace() and text[start - 1] not in "([:=":
        return None  # glued to a word or a number: "a2+3", "10:30 + 2"
    if _TAIL_OF_MORE.search(text[:start]):
        return None  # "15 pages x 1/3 =", "120 – 80 - 15 =": the chain is the end of a longer one
    if not chain or chain[0] in "+-*/^)" or not re.search(r"\d\s*(?:[-+*/^]|\*\*)\s*[\d(.$]", chain):
        return None  # no operator between numbers, or a leading operator ("a - 3 + 5")
    return chain.replace("$", "")


def _equals_signs(line: str) -> list[int]:
    """Where ``line`` has an "=" that is not part of "==", "<=", ">=" or "!="
    (what ``(?<![=<>!])=(?!=)`` finds, without a regex scan of the line)."""
    found = []
    at = line.find("=")
    while at != -1:
        if (at == 0 or line[at - 1] not in "=<>!") and line[at + 1 : at + 2] != "=":
            found.append(at)
        at = line.find("=", at + 1)
    return found


def _may_deny(line: str) -> bool:
    """False where ``_DENIED`` cannot match: an ASCII line without its words. The
    search is the costly part of reading a line; this look settles most lines."""
    if not line.isascii():
        return True
    lowered = line.lower()
    return any(word in lowered for word in _DENIED_NEEDS)


def stated_equations(output: str) -> list[tuple[str, str, bool]]:
    """(left expression, stated result, result is a percentage) for every equation
    the output states in plain arithmetic."""
    found = [(left, right.strip(), False) for left, right in _ANNOTATION.findall(output)]
    # An annotation is the working of the text around it: "364 / 4 = <<3/4*364=273>>273"
    # does not say that 364 / 4 is 273.
    text = _plain(_ANNOTATION.sub(" <working> ", output))
    for line in text.split("\n"):
        if "=" not in line:
            continue  # no equation on it (and the search below is the costly part)
        if _may_deny(line) and _DENIED.search(line):
            continue  # "2 + 2 = 5 is wrong" states an error to point it out
        for equals in _equals_signs(line):
            result = _RESULT.match(line, equals + 1)
            if not result or _RESULT_CONTINUES.match(line, result.end()):
                continue
            left = _left_chain(line[:equals])
            if left is not None:
                found.append((left, result.group(1), bool(result.group(2))))
    return found


def _states_right(stated: str, expected: float, percentage: bool = False) -> bool:
    """``stated`` agrees with ``expected`` as written: rounded or cut to its own
    decimals, a whole number for a non-whole result (people, items), or within
    0.5% (rounded constants in the working)."""
    try:
        value = float(stated.replace(",", ""))
    except ValueError:
        return True
    candidates = [expected, expected * 100] if percentage else [expected]
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    for target in candidates:
        scale = 10**decimals
        if abs(value - target) <= 0.5 / scale + 1e-9 or abs(value - math.trunc(target * scale) / scale) <= 1e-9:
            return True
        if decimals == 0 and value in (math.floor(target), math.ceil(target)):
            return True
        if abs(value - target) <= 0.005 * abs(target):
            return True
    return False


@lru_cache(maxsize=16384)
def _false_equations(output: str) -> tuple[str, ...]:
    """The left sides of the equations ``output`` states with a wrong result, in
    order. It depends on the output alone: copies of a record that differ in their
    task share it."""
    false = []
    for left, stated, percentage in stated_equations(output):
        expected = _value(left)
        if expected is not None and not _states_right(stated, expected, percentage):
            false.append(left)
    return tuple(false)


@lru_cache(maxsize=65536)
def _value(expression: str) -> float | None:
    """``evaluate(expression)``, None where it is not arithmetic. Worked solutions
    repeat their steps: on real text one equation in five is new."""
    try:
        return evaluate(expression)
    except (ValueError, OverflowError):
        return None


def wrong_equation(task: str, output: str, screened: bool = False) -> bool:
    """An equation the output states is false ("12 × 12 = 124", "<<48/2=23>>").
    ``screened``: the prescreen has shown the task and output to be plain arithmetic
    (the test of both below), so it is not repeated."""
    false = _false_equations(output)
    if not false:
        return False  # most outputs state their equations rightly
    # Asked only now: on a long task these searches cost more than reading the
    # output's equations (a millisecond against a tenth of one), and they rarely matter.
    if not screened and (_OTHER_ARITHMETIC.search(task) or _CODE_OUTPUT.search(output)):
        return False
    plain_task = re.sub(r"\s+", "", _plain(task))
    # An equation the task itself states is quoted to be judged, not asserted.
    return any(re.sub(r"\s+", "", left) + "=" not in plain_task for left in false)


# Which of a task's readings (conversion, aggregate, expression) can give an
# answer: all of them, unless the prescreen has shown some cannot.
Readings = tuple[bool, bool, bool]
EVERY_READING: Readings = (True, True, True)


@lru_cache(maxsize=16384)
def _task_answer(task: str, tolerance: float, readings: Readings = EVERY_READING) -> tuple[float, float] | None:
    """(answer, allowed relative error) of a bare calculation, or None. It depends
    on the task alone: copies of a record that differ in their output share it.
    A reading ``readings`` rules out is skipped: it would answer None (the
    prescreen's word counts make that cheap to know; the reading is not, on a
    long text that mentions "5 km to")."""
    conversion_open, aggregate_open, expression_open = readings
    conversion = conversion_answer(task) if conversion_open else None
    if conversion is not None:
        # Factors between units are rounded in practice ("1 mile = 1.6 km"); a
        # temperature has no such excuse, and an offset scale has no relative error.
        return conversion, 0.0 if _TEMPERATURE_TASK.search(task) else tolerance
    expected = aggregate_answer(task) if aggregate_open else None
    if expected is None and expression_open:
        expected = expression_answer(task)
    return None if expected is None else (expected, 0.0)


def wrong_final_answer(task: str, output: str, tolerance: float, screened: bool = False,
                       readings: Readings = EVERY_READING) -> bool:
    """The task is a bare calculation (an expression, the average of a list, a unit
    conversion) and no number the output states is its answer. ``screened``: the
    prescreen has shown the first test below to be False, and which of the
    task's ``readings`` can answer."""
    if not screened and (_NOT_SIMPLE.search(task) or _CODE_OUTPUT.search(output)):
        return False
    answer = _task_answer(task, tolerance, readings)
    if answer is None:
        return False
    expected, allowed = answer
    stated = _stated_numbers(output)
    if not stated:
        return False  # "eight", or a refusal: other rules' business
    return not any(_agrees(number, expected, allowed) for number in stated)


@lru_cache(maxsize=65536)
def mismatch(instruction: str, input: str, output: str, tolerance: float) -> bool:
    """The rule's verdict on one row, every check run."""
    task = f"{instruction}\n{input}"
    return wrong_final_answer(task, output, tolerance) or wrong_equation(task, output)


@lru_cache(maxsize=65536)
def screened_mismatch(instruction: str, input: str, output: str, tolerance: float,
                      readings: Readings, equation: bool) -> bool:
    """``mismatch`` on a row the prescreen has read (``mark_checks``): only the
    checks that can answer True (the final answer where one of the task's
    ``readings`` is open), without their first tests, which it has done."""
    task = f"{instruction}\n{input}"
    return (any(readings) and wrong_final_answer(task, output, tolerance, screened=True, readings=readings)) or (
        equation and wrong_equation(task, output, screened=True)
    )


# Rust-only patterns, spelled with ``any_word`` rather than ``\b``: the same rows, faster.
_PREFILTER = (
    r"\d[\s\d.,()]*(?:[-+*/^×÷x]|\*\*)\s*[\d(]|" + any_word_start("multipl|add|subtract|divid") + "|"
    + any_word("plus|minus|times|divided|squared|cubed|power|average|mean|sum|total|median|convert|celsius|fahrenheit|kelvin")
)
_ASKS = any_word(
    "calculate|compute|evaluate|solve|what is|what's|find|result|multiply|add|subtract|divide|answer|"
    "do the following|how much|equals?|convert|average|mean|sum|total|median"
)
_STATES_EQUATION = r"\d\s*\)?\s*=\s*\$?\s*-?\.?\d|<<"


def _task() -> pl.Expr:
    """``mismatch``'s task: instruction and input on two lines (nulls as "")."""
    return pl.concat_str(pl.col("instruction").fill_null(""), pl.col("input").fill_null(""), separator="\n")


def _prefilter() -> pl.Expr:
    """The rows worth a look: digits in the output, and a task asking for a
    calculation or an output stating an equation."""
    task, output = pl.concat_str(pl.col("instruction"), pl.col("input").fill_null(""), separator="\n"), pl.col("output")
    asks = task.str.contains(r"\d") & task.str.contains(_PREFILTER) & task.str.contains(_ASKS)
    return output.str.contains(r"\d") & (asks | output.str.contains(_STATES_EQUATION))


# --- the prescreen: rows ``mismatch`` answers False for before any arithmetic ------
# Each condition below is one ``mismatch`` needs to answer True, read from its code:
# false on a row, that row's answer is False. Written for Rust with ``ascii_boundaries``,
# so they hold on ``regex_alike`` rows only; other rows go to Python as before.
# tests/rules/test_arithmetic_prescreen.py runs both ways on real and literal rows.

# Words ``_WORDS`` turns into operators: an expression's task has at most
# BARE_TASK_WORDS other words (counted as ``_bare`` counts them, [A-Za-z]+ runs).
_OPERATOR_WORDS = (
    "multiplied|by|times|x|divided|plus|minus|to|the|power|of|raised|squared|cubed|multiply|multiplying|product|"
    "and|with|add|adding|sum|subtract|from|divide"
)


def _letter_runs(text: pl.Expr, words: str | None = None) -> pl.Expr:
    """How many [A-Za-z]+ runs ``text`` has (only those spelling one of ``words``,
    any case, when given). Digits and "_" are blanked first so that, on
    ``regex_alike`` text, a word boundary is the edge of a run of letters."""
    if words is None:
        return text.str.count_matches(r"[A-Za-z]+").cast(pl.Int64)
    return text.str.replace_all(r"[0-9_]", " ").str.count_matches(rf"(?i)(?-u:\b)(?:{words})(?-u:\b)").cast(pl.Int64)


def _open_readings(task: pl.Expr, selected: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Necessary for ``wrong_final_answer``, one per reading of the task
    (``_task_answer``'s conversion, aggregate, expression) on the ``selected``
    rows (looked at, and simple): the reading's first requirements. The word
    counts, the costly part, only on those rows (False elsewhere)."""
    spell = ascii_boundaries
    conversion = task.str.contains(spell(r"(?i)\bconvert|\bhow many\b|\bin\b")) & task.str.contains(spell(_CONVERSION.pattern))
    # aggregate_answer counts the words around the list with "$" removed (a removed
    # "$" can join two words); the list's own words are "and"s.
    no_dollars = task.str.replace_all("$", "", literal=True)
    aggregate = (
        task.str.contains(spell(_ASKS_FOR_AGGREGATE.pattern))
        & task.str.contains(spell(r"(?i)\b(?:average|mean|sum|total|median)\b"))
        & (_letter_runs(no_dollars) - _letter_runs(no_dollars, "and") <= AGGREGATE_TASK_WORDS)
    )
    # A bare expression holds no letters, and the words _WORDS replaces are among _OPERATOR_WORDS.
    expression = _letter_runs(task) - _letter_runs(task, _OPERATOR_WORDS) <= BARE_TASK_WORDS
    return selected & conversion, only_where(selected, aggregate), only_where(selected, expression)


def _may_state_wrong_equation(task: pl.Expr, output: pl.Expr) -> pl.Expr:
    """Necessary for ``wrong_equation``: a task of decimal arithmetic, and an output
    with an annotation or an "=" followed by a number as ``_RESULT`` reads one
    (after ``_plain``, which spells "−" as "-")."""
    return ~task.str.contains(ascii_boundaries(_OTHER_ARITHMETIC.pattern)) & output.str.contains(r"<<|=\s*\$?\s*[-−]?\.?\d")


READINGS = ("_conversion", "_aggregate", "_expression")
CHECKS = ("_final_answer", "_equation", "_unscreened")


def mark_checks(rows: pl.LazyFrame, prefiltered: bool = False) -> pl.LazyFrame:
    """``rows`` (the three fields) with, per row, which of ``mismatch``'s checks
    can answer True (``_final_answer``, ``_equation``), and whether the row needs
    the whole of ``mismatch`` unscreened (``_unscreened``: characters the engines
    read differently). All False: the row is settled False. Every row marked is
    among the pre-filter's rows, as before. For the final answer, which of the
    task's readings are open (``READINGS``). ``prefiltered``: every row of
    ``rows`` is known to pass the pre-filter.

    Built in steps, each reading the columns of the one before, so that every
    part (the task, the pre-filter, what rows are looked at) is computed once
    however many flags use it."""
    alike = regex_alike(pl.col("instruction"), pl.col("input"), pl.col("output"))
    output = pl.col("output").fill_null("")
    task, prefilter, looked_at, selected = pl.col("_task"), pl.col("_prefilter"), pl.col("_looked_at"), pl.col("_selected")
    return (
        rows.with_columns(
            _task().alias("_task"), (pl.lit(True) if prefiltered else _prefilter().fill_null(False)).alias("_prefilter"), alike.alias("_alike")
        )
        .with_columns((pl.col("_alike") & prefilter & ~output.str.contains(ascii_boundaries(_CODE_OUTPUT.pattern))).alias("_looked_at"))
        .with_columns((looked_at & ~task.str.contains(ascii_boundaries(_NOT_SIMPLE.pattern))).alias("_selected"))
        .with_columns(
            *(reading.alias(name) for reading, name in zip(_open_readings(task, selected), READINGS)),
            (looked_at & _may_state_wrong_equation(task, output)).alias("_equation"),
            (~pl.col("_alike") & prefilter).alias("_unscreened"),
        )
        .with_columns(pl.any_horizontal(READINGS).alias("_final_answer"))
        .drop("_task", "_prefilter", "_alike", "_looked_at", "_selected")
    )


def rows_to_check(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` (its fields and ``_at``, the row's index) that
    ``mark_checks`` marks, with its flags. The pre-filter goes first, on every
    row, and settles four rows in five (its first condition, a digit in the
    output, goes before the rest: it settles half); the prescreen reads only
    the rows it passes."""
    fields = frame.select("instruction", "input", "output").with_row_index("_at")
    passed = fields.filter(pl.col("output").str.contains(r"\d")).filter(_prefilter().fill_null(False))
    return mark_checks(passed.lazy(), prefiltered=True).filter(pl.any_horizontal(CHECKS)).collect()


def verdicts(frame: pl.DataFrame, tolerance: float) -> pl.Series:
    """The rule on a batch of fields: ``mismatch`` on the rows the prescreen
    cannot read, only the checks it left open on the rows it marked, False on
    every other row."""
    marked = rows_to_check(frame)
    answers = [
        mismatch(instruction, input, output, tolerance) if whole
        else screened_mismatch(instruction, input, output, tolerance, tuple(readings), equals)
        for instruction, input, output, equals, whole, *readings in marked.select(
            "instruction", "input", "output", "_equation", "_unscreened", *READINGS
        ).fill_null("").iter_rows()
    ]
    found = pl.Series([False] * frame.height, dtype=pl.Boolean)
    return found.scatter(marked.get_column("_at"), pl.Series(answers, dtype=pl.Boolean)) if answers else found


@rule(Severity.DROP, highlight=r"-?\d[\d,]*(\.\d+)?")
def arithmetic_mismatch_v2(params: RuleParams) -> pl.Expr:
    """A stated equation in the output is false ("3/4*60 = 40", "<<48/2=23>>"), or a bare calculation (expression, list average, unit conversion) is answered wrongly.

    Dropped: a wrong sum teaches wrong sums, and the check is narrow enough to be
    trusted (anything it cannot parse exactly is left alone; rounding as written
    and a relative tolerance for conversions are allowed). A word problem's
    final answer is not judged -- a fraction or a range in its question is not
    the task's one expression ("3/4 times as many", "Districts 1 - 3", "$150 plus
    50 cents") -- but the equations its worked solution states are. v2 of
    ``arithmetic_mismatch``, which judged word problems by the numbers in them."""
    tolerance = params.arithmetic_tolerance
    fields = pl.struct("instruction", "input", "output")
    return fields.map_batches(lambda batch: verdicts(batch.struct.unnest(), tolerance), return_dtype=pl.Boolean, is_elementwise=True)
