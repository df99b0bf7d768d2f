"""Thresholds and choices the rules read from the config's ``[rules]`` table."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

Share = Annotated[float, Field(gt=0, le=1)]


class RuleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    truncated_min_words: Annotated[int, Field(ge=1)] = 30
    """truncated_output: only outputs with at least this many words count as prose;
    short answers ("Paris", "Positive") legitimately end without a full stop."""

    repetition_min_words: Annotated[int, Field(ge=1)] = 40
    """repetition: outputs shorter than this are not judged (too few n-grams)."""

    repetition_line_share: Share = 0.3
    """repetition: share of non-empty lines that repeat an earlier line (Gopher: 0.3)."""

    repetition_ngram: Annotated[int, Field(ge=2, le=10)] = 5
    """repetition: word n-gram length for the duplicated n-gram share."""

    repetition_ngram_share: Share = 0.15
    """repetition: share of word n-gram occurrences that repeat an earlier one in the
    output (Gopher uses 0.15 for the characters in duplicated 5-grams). Templated
    lists ("1. X targeting: This type of targeting is based on ...") can reach it."""

    languages: Annotated[list[str], Field(min_length=1)] = ["en"]
    """non_english: allowed language codes (as langdetect names them)."""

    language_min_bytes: Annotated[int, Field(ge=1)] = 60
    """non_english: records (instruction + input + output) shorter than this many
    UTF-8 bytes are "unknown" and never fire: langdetect guesses wildly on a few
    words. Bytes rather than characters, because one CJK character (3 bytes)
    says about as much as a short word."""

    length_outlier_mads: Annotated[float, Field(gt=0)] = 4.0
    """length_outlier: a field is an outlier when log(tokens) is this many scaled
    median absolute deviations above the median of that field."""

    length_outlier_low: bool = False
    """length_outlier: also flag fields that are unusually short. Off by default:
    one-word outputs ("Positive") are normal for classification tasks."""

    arithmetic_tolerance: Annotated[float, Field(ge=0, lt=1)] = 0.02
    """arithmetic_mismatch: relative tolerance, so rounded conversions ("about 3.1
    miles") still agree."""

    _max_seq_len: int = PrivateAttr(default=1024)
    # length_outlier: per field (median, MAD) of log1p(tokens) measured over the
    # whole run beforehand (the Ray engine's aggregate pass); None: measured in-frame.
    _outlier_centres: dict | None = PrivateAttr(default=None)
    # benchmark_overlap: whether any benchmark was given (``[decontamination]``).
    _decontaminating: bool = PrivateAttr(default=False)

    @property
    def max_seq_len(self) -> int:
        """too_long: the training sequence length, taken from ``[tokens] max_seq_len``
        (one setting, read by the tokens stage and this rule alike)."""
        return self._max_seq_len

    def with_max_seq_len(self, max_seq_len: int) -> "RuleParams":
        copy = self.model_copy()
        copy._max_seq_len = max_seq_len
        return copy

    @property
    def decontaminating(self) -> bool:
        """benchmark_overlap runs only when benchmarks were given."""
        return self._decontaminating

    def with_decontamination(self, on: bool) -> "RuleParams":
        copy = self.model_copy()
        copy._decontaminating = on
        return copy

    @property
    def outlier_centres(self) -> dict | None:
        return self._outlier_centres

    def with_outlier_centres(self, centres: dict) -> "RuleParams":
        """A copy whose ``length_outlier`` uses these corpus-wide (median, MAD)
        per field instead of the frame it is evaluated on (see ``rules.length``)."""
        copy = self.model_copy()
        copy._outlier_centres = centres
        return copy

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not code or not code.replace("-", "").isalpha()]
        if bad:
            raise ValueError(f"not language codes: {bad}")
        unknown = [code for code in value if code not in _detectable_languages()]
        if unknown:  # would never match: langdetect answers only with its own codes
            raise ValueError(f"language(s) {unknown} cannot be detected; known: {', '.join(sorted(_detectable_languages()))}")
        return value


def _detectable_languages() -> frozenset[str]:
    """The codes langdetect can answer with (its profile files)."""
    import os

    from langdetect.detector_factory import PROFILES_DIRECTORY

    return frozenset(os.listdir(PROFILES_DIRECTORY))
