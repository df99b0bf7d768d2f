"""The shipped profile, the rule parameters' checks, and the pieces of rules that
are plain Python (the arithmetic evaluator, language detection)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.config import Config, TokenConfig, load_config
from pipeline.errors import InputError
from rules import RULES, RuleParams, Severity
from rules.arithmetic import aggregate_answer, conversion_answer, evaluate, expression_answer
from rules.language import detect_language

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "config" / "default.toml"


def test_default_profile_equals_the_built_in_defaults():
    assert load_config(DEFAULT_TOML) == Config()


def test_default_profile_spells_out_every_rule_and_token_setting():
    data = tomllib.loads(DEFAULT_TOML.read_text(encoding="utf-8"))
    assert set(data["rules"]) == set(RuleParams.model_fields)
    assert set(data["tokens"]) == set(TokenConfig.model_fields)


def test_too_long_reads_max_seq_len_from_the_tokens_section():
    config = Config.model_validate({"tokens": {"max_seq_len": 256}})
    assert config.rules.max_seq_len == 256
    assert Config().rules.max_seq_len == 1024  # the default instance is not shared and changed


@pytest.mark.parametrize(
    "section, values",
    [
        ("rules", {"repetition_line_share": 1.5}),
        ("rules", {"repetition_ngram": 1}),
        ("rules", {"languages": []}),
        ("rules", {"languages": ["en", "e n"]}),
        ("rules", {"length_outlier_mads": 0}),
        ("rules", {"arithmetic_tolerance": -0.1}),
        ("rules", {"no_such_threshold": 1}),
        ("tokens", {"max_seq_len": 0}),
        ("tokens", {"tokenizer": ""}),
    ],
)
def test_bad_values_are_rejected(section, values):
    with pytest.raises(ValidationError):
        Config.model_validate({section: values})


def test_bad_config_file_names_the_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[rules]\nrepetition_line_share = 2\n")
    with pytest.raises(InputError, match="repetition_line_share"):
        load_config(path)


def test_severities_can_be_overridden_per_rule():
    config = Config.model_validate({"severity": {"truncated_output_v2": "drop", "refusal_v2": "off", "repetition": "flag"}})
    assert config.severity_of("truncated_output_v2") is Severity.DROP
    assert "refusal_v2" not in config.active_rules()
    assert "repetition" in config.active_rules()  # a retired rule can be turned back on
    assert "repetition" not in Config().active_rules() and "length_outlier" not in Config().active_rules()


def test_every_rule_documents_itself():
    for rule in RULES.values():
        assert rule.description and rule.severity in (Severity.DROP, Severity.FLAG, Severity.OFF)
        if rule.severity is Severity.OFF:  # retired: the docstring says why
            assert "Retired" in rule.build.__doc__


@pytest.mark.parametrize(
    "expression, value",
    [
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("10 - 4 * 2", 2),
        ("8 + 4 / 2", 10),
        ("2 ^ 3 ^ 2", 512),  # right-associative
        ("-3 + 5", 2),
        ("4 + 5(6 - 3)", 19),  # implicit multiplication
        ("2 ** 10", 1024),
        ("7 / 2", 3.5),
    ],
)
def test_evaluator(expression, value):
    assert evaluate(expression) == pytest.approx(value)


@pytest.mark.parametrize("expression", ["__import__('os')", "2 +", "(1 + 2", "1 / 0", "3 4", "", "9 ^ 999"])
def test_evaluator_refuses_what_is_not_arithmetic(expression):
    with pytest.raises(ValueError):
        evaluate(expression)


@pytest.mark.parametrize(
    "task, value",
    [
        ("What is 16 divided by 4?", 4),
        ("Calculate 10 times 3.", 30),
        ("Subtract 3 from 10.", 7),
        ("What is 15% of 200?", 30),
        ("Add 2 and 3, then tell me 5 + 5.", None),  # two expressions: ambiguous, left alone
        ("Write 3-4 sentences about dogs.", None),  # a range, not a subtraction
    ],
)
def test_expression_answer(task, value):
    assert expression_answer(task) == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize(
    "task, value",
    [
        ("Calculate the average of 2, 4, 6, 9", 5.25),
        ("Find the sum of 1, 5, 10 and 15", 31),
        ("Calculate the median: 4, 15, 22, 32, 43, 54", 27),
        ("Calculate the mean, median and mode of 1, 2, 2", None),  # several answers asked
        ("The average of 2, 4 is good", None),  # no request to compute
    ],
)
def test_aggregate_answer(task, value):
    assert aggregate_answer(task) == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize(
    "task, value",
    [
        ("Convert 4 km into miles.", 2.4855),
        ("Convert 45 minutes to seconds.", 2700),
        ("Convert 32 C to Fahrenheit", 89.6),
        ("Convert the temperature from Celsius to Kelvin.\n25", 298.15),
        ("Convert 5 kg to miles.", None),  # different dimensions
    ],
)
def test_conversion_answer(task, value):
    answer = conversion_answer(task)
    assert answer == (pytest.approx(value, rel=1e-3) if value is not None else None)


def test_language_detection_is_seeded_and_repeatable():
    text = "Der schnelle braune Fuchs springt über den faulen Hund und läuft dann nach Hause."
    detect_language.cache_clear()
    first = detect_language(text)
    detect_language.cache_clear()
    assert first == detect_language(text) == "de"


def test_readme_lists_every_rule_with_its_default_severity():
    from pathlib import Path

    from rules import RULES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, registered in RULES.items():
        assert f"| `{name}` | {registered.severity.value} |" in readme, name
