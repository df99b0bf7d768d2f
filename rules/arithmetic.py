"""``arithmetic_mismatch``: a simple calculation whose stated answer is wrong.

Alpaca's commonest factual defect is arithmetic ("87 * 183" answered 15781). The
rule recognises three narrow task shapes -- an arithmetic expression, the
average/sum/median of a list of numbers, and a unit conversion -- computes the
answer with the small evaluator below (never ``eval``), and fires when the
output states numbers and none of them is the computed answer. Anything it does
not understand is left alone: a missed check costs nothing, a false alarm drops
a good row.

Only rows a vectorised pre-filter selects (digits plus a calculation word) reach
Python.
"""

from __future__ import annotations

import math
import re
import statistics
from functools import lru_cache

import polars as pl

from rules.base import Severity, python_check, rule
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
_EXPRESSION = re.compile(r"[-(\s]*\d[\d.,]*(?:\s*(?:\*\*|[-+*/^])\s*[-(\s]*\d[\d.,]*\)*|\s*\([^()]*\))+\)*")
_ASKS_TO_COMPUTE = re.compile(
    r"(?i)\b(?:calculate|compute|evaluate|solve|what is|what's|find|result|multiply|add|subtract|divide|answer|"
    r"do the following|how much|equals?|convert|average|mean|sum|total|median)\b"
)
_NOT_SIMPLE = re.compile(
    r"(?i)=|\b(?:program|code|function|script|python|java|table|matrix|matrices|binary|hex|equation of|[a-wyz]\d|\d[a-wyz]\b|"
    r"sequence|series|round(?:ed)?|approximate|estimate|probability|interest|formula|algorithm|explain|why|how to|"
    r"quiz|question|example|prime|factor|digits?|date|format|percentage|fraction|decimal|ratio)\b|\d+/\d+/\d+"
)
_CODE_OUTPUT = re.compile(r"\bdef\b|\breturn\b|[{};]|\w\(.*\)")


def _normalise_number(text: str) -> float:
    return float(text.replace(",", ""))


def expression_answer(task: str) -> float | None:
    """The value of the one arithmetic expression in ``task``, if it has exactly one."""
    for pattern, replacement in _WORDS:
        task = re.sub(pattern, replacement, task)
    task = re.sub(r"(?<=\d),(?=\d{3}\b)", "", task)  # thousands separators
    candidates = []
    for match in _EXPRESSION.finditer(task):
        span = match.group().strip().rstrip(".,")
        operators = re.findall(r"\*\*|[+*/^]| - |\)\s*-|-\s*\(", span)
        if operators:  # "1-10" and "3-4 sentences" are ranges, not subtractions
            candidates.append(span)
    if len(candidates) != 1:
        return None
    try:
        return evaluate(candidates[0].replace(",", ""))
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


def aggregate_answer(task: str) -> float | None:
    """average / mean / sum / total / median of the one list of numbers in ``task``."""
    if not _ASKS_FOR_AGGREGATE.search(task):
        return None
    asked = {word for word in _AGGREGATES if re.search(rf"(?i)\b{word}\b", task)}
    if len({_AGGREGATES[word] for word in asked}) != 1 or re.search(r"(?i)\b(?:mode|range|weighted|standard)\b", task):
        return None
    lists = _LIST.findall(re.sub(r"(?<=\d),(?=\d{3}\b)|\$", "", task))
    if len(lists) != 1:
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


@lru_cache(maxsize=65536)
def mismatch(instruction: str, input: str, output: str, tolerance: float) -> bool:
    task = f"{instruction}\n{input}"
    if _NOT_SIMPLE.search(task) or _CODE_OUTPUT.search(output):
        return False
    conversion = conversion_answer(task)
    if conversion is not None:
        # Factors between units are rounded in practice ("1 mile = 1.6 km"); a
        # temperature has no such excuse, and an offset scale has no relative error.
        expected, allowed = conversion, 0.0 if _TEMPERATURE_TASK.search(task) else tolerance
    else:
        expected = aggregate_answer(task)
        if expected is None:
            expected = expression_answer(task)
        allowed = 0.0
        if expected is None:
            return False
    stated = _stated_numbers(output)
    if not stated:
        return False  # "eight", or a refusal: other rules' business
    return not any(_agrees(number, expected, allowed) for number in stated)


_PREFILTER = (
    r"\d[\s\d.,()]*(?:[-+*/^×÷x]|\*\*)\s*[\d(]|(?i)\b(?:plus|minus|times|multipl\w*|divided|add\w*|subtract\w*|"
    r"divid\w*|squared|cubed|power|average|mean|sum|total|median|convert|celsius|fahrenheit|kelvin)\b"
)


@rule(Severity.DROP, highlight=r"-?\d[\d,]*(\.\d+)?")
def arithmetic_mismatch(params: RuleParams) -> pl.Expr:
    """A simple arithmetic, list-average or unit-conversion task whose stated answer differs from the computed one.

    Dropped: a wrong sum teaches wrong sums, and the check is narrow enough to be
    trusted (anything it cannot parse exactly is left alone; rounding as written
    and a relative tolerance for conversions are allowed)."""
    task = pl.concat_str(pl.col("instruction"), pl.col("input").fill_null(""), separator="\n")
    candidate = (
        task.str.contains(r"\d")
        & task.str.contains(_PREFILTER)
        & task.str.contains(_ASKS_TO_COMPUTE.pattern)
        & pl.col("output").str.contains(r"\d")
    )
    tolerance = params.arithmetic_tolerance
    return python_check(
        candidate,
        ["instruction", "input", "output"],
        lambda instruction, input, output: mismatch(instruction, input, output, tolerance),
    )
