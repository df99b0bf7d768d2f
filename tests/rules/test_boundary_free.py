"""Patterns the rules spell with ``boundary_free`` (no ``\\b``, for speed) match in
exactly the texts their ``\\b`` originals match: on literal texts built to sit on
word edges, and on every field of the real reference data when it is present."""

from __future__ import annotations

import polars as pl
import pytest

import rules.content as content
import rules.reference as reference
from pipeline.real_data import real_frame
from rules.base import boundary_free
from tests.conftest import needs_real_data

SPELLED = {
    "_URL_IS_DATA": reference._URL_IS_DATA,
    "_URL_IS_OBJECT": reference._URL_IS_OBJECT,
    "_READS_CONTENT": reference._READS_CONTENT,
    "_REWRITE": reference._REWRITE,
    "_AS_AN_AI_REFUSING": reference._AS_AN_AI_REFUSING,
    "_WANTS_PROSE": content._WANTS_PROSE,
    "_SLOTS_EXPECTED": content._SLOTS_EXPECTED,
}

EDGES = [
    "json", "JSON.", "xjson", "json2", "2json", "_json", "json_", "éjson", "jsoné", "json\u0301", "ｊson", "(json)",
    "parse\nit", "the html code", "htmlx", "node.js", "nodejs", "param", "parameters", "crawling", "http get", "http gets",
    "As an AI language model, I cannot", "as an ai, i can't help", "As an AI language model, I cannotx", "xas an ai, i cannot",
    "As an AI language model, I cannot_", "zip code", "zip codes", "rewrite", "re-write it", "negation", "Negate",
    "fill-in the blank", "fill in", "f-string", "mad libs", "story", "summarize", "summarise this", "ſummarize",
    "", "\n", " code ", "代码 code 代码", "codeé", "éécode", "co\u0301de",
]


def _matches(texts: pl.Series, pattern: str) -> pl.Series:
    return texts.str.contains(pattern)


@pytest.mark.parametrize("name", sorted(SPELLED))
def test_boundary_free_spelling_matches_the_original_on_word_edges(name):
    texts = pl.Series(EDGES + [f"{a} {b}" for a in EDGES[:12] for b in EDGES[:12]])
    pattern = SPELLED[name]
    assert (_matches(texts, pattern) == _matches(texts, boundary_free(pattern))).all()


@needs_real_data()
def test_boundary_free_spellings_match_the_originals_on_the_real_data():
    frame = real_frame()
    texts = pl.concat([frame.get_column(field) for field in ("instruction", "input", "output")] + [pl.Series(EDGES)])
    for name, pattern in SPELLED.items():
        original, spelled = _matches(texts, pattern), _matches(texts, boundary_free(pattern))
        assert (original == spelled).all(), name
        assert original.any(), name  # the comparison saw matches, not only misses


def test_boundary_free_refuses_other_shapes():
    for pattern in (r"(?i)\b(?:a)\b|\b(?:b)\b", r"(?i)\ba|b\b", r"(?i)\bsummari[sz]e\b[^.]{0,30}\bthe\b", r"\b(?:a)\b",
                    r"(?i)\b(?:a))(\b"):
        with pytest.raises(ValueError):
            boundary_free(pattern)
