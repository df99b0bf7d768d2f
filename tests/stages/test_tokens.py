"""Token counts: the chunk shortcut must equal plain encoding, exactly, for the
fields, the rendered prompt and the total; the tokenizer loads offline and is
cached; the report summarises the counts in the agreed shape."""

from __future__ import annotations

import json
import random

import numpy as np
import polars as pl
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from pipeline.stages import tokens as T
from pipeline.config import Config
from pipeline.errors import InputError
from train import tokenizer as TK
from train.template import render_prompt
from rules import RuleParams
from rules.language import language_counts
from rules.length import token_report
from tests.conftest import ALPACA_5000, needs_reference


@pytest.fixture(scope="session")
def tokenizer(tmp_path_factory) -> Tokenizer:
    """The default tokenizer converted from the GGUF into an empty cache (cold)."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        loaded = TK.load_tokenizer("smollm2")
        cached = list((cache / "curate").glob("*.tokenizer/tokenizer.json"))
        assert len(cached) == 1, "the converted tokenizer is kept for later runs"
        TK._from_gguf_cached.cache_clear()
        again = TK.load_tokenizer("smollm2")  # now from the cache
    sample = "Hello, world! Don't   stop.\n\n  def f(x):\n\treturn x"
    assert again.backend.encode(sample).ids == loaded.backend.encode(sample).ids
    assert again.eos_token == loaded.eos_token == "<|im_end|>"
    return loaded.backend


TEXTS = [
    "",
    " ",
    "Hello world",
    "  two leading spaces",
    "trailing spaces   ",
    "a\n\nb",
    "line one\n   indented line\n\tTabbed",
    "don't it's we'll they're I'd O'Neil 'quoted'",
    "x   y\t\tz\n\n\n  w",
    "naïve café 東京タワー Ünïcödé",
    "emoji 😀👍🏽 and symbols ™ © → ≥",
    "<|im_end|> special <|im_start|>",
    "numbers 1234567 3.14159 -42 1,000,000",
    "def f(x):\n    return x ** 2  # square\n",
    "“curly quotes” — dashes – and…ellipsis",
]


def frame_of(instructions, inputs, outputs) -> pl.DataFrame:
    return pl.DataFrame({"instruction": instructions, "input": inputs, "output": outputs}, schema={f: pl.String for f in T.FIELDS})


def expected_counts(tokenizer, frame: pl.DataFrame) -> pl.DataFrame:
    rows = frame.select(T.FIELDS).fill_null("").rows()
    direct = {f: T.count_tokens(tokenizer, [r[i] for r in rows]) for i, f in enumerate(T.FIELDS)}
    direct["prompt"] = T.count_tokens(tokenizer, [render_prompt(i, n) for i, n, _ in rows])
    direct["total"] = [p + o + 1 for p, o in zip(direct["prompt"], direct["output"])]
    return pl.DataFrame({T.COLUMNS[k]: v for k, v in direct.items()}, schema={T.COLUMNS[k]: pl.Int64 for k in direct})


def counted(tokenizer, frame: pl.DataFrame) -> pl.DataFrame:
    return T.token_columns(frame, tokenizer).select(T.COLUMNS.values())


def test_chunk_counts_equal_plain_encoding_on_awkward_text(tokenizer):
    frame = frame_of(TEXTS, list(reversed(TEXTS)), TEXTS[3:] + TEXTS[:3])
    assert T.splits_like_gpt2(tokenizer)
    assert counted(tokenizer, frame).equals(expected_counts(tokenizer, frame))


def test_chunks_counted_in_an_earlier_batch_are_not_tokenized_again(tokenizer, monkeypatch):
    """Batches share chunks: a later batch tokenizes only chunks it brings, and gets
    the same counts as counted alone -- also once the remembered chunks are dropped."""
    first, second = frame_of(TEXTS, TEXTS, TEXTS), frame_of(TEXTS[::-1], TEXTS[:1] * len(TEXTS), ["brand new words here"] * len(TEXTS))
    tokenized = []
    real = T.count_chunks
    monkeypatch.setattr(T, "count_chunks", lambda tok, chunks: tokenized.extend(chunks.to_list()) or real(tok, chunks))
    T.chunk_counts(first, tokenizer, T.FIELDS)
    tokenized.clear()
    T.chunk_counts(second, tokenizer, T.FIELDS)
    assert sorted(tokenized) == sorted(["brand", " new", " words", " here"])
    assert counted(tokenizer, second).equals(expected_counts(tokenizer, second))
    monkeypatch.setattr(T, "COUNTED_LIMIT", 0)  # remembered chunks dropped after every batch
    for frame in (first, second, first):
        assert counted(tokenizer, frame).equals(expected_counts(tokenizer, frame))


def test_pretokens_counted_in_an_earlier_batch_are_not_put_through_bpe_again(tokenizer, monkeypatch):
    """New chunks of a later batch made of pre-tokens counted before: only the new
    pre-token goes to the BPE model, and the counts are those of plain encoding."""
    first, second = frame_of(["x dog. cat"], [""], ["x"]), frame_of(["x dog! cat."], [""], ["x"])
    monkeypatch.setattr(T, "_COUNTED", {})  # nothing counted by the tests before
    through_bpe = []
    real = T.bpe_counts
    monkeypatch.setattr(T, "bpe_counts", lambda tok, pieces: through_bpe.extend(pieces.to_list()) or real(tok, pieces))
    assert counted(tokenizer, first).equals(expected_counts(tokenizer, first))
    assert sorted(through_bpe) == sorted(["x", " dog", ".", " cat"])
    through_bpe.clear()
    assert counted(tokenizer, second).equals(expected_counts(tokenizer, second))
    assert through_bpe == ["!"]


def ascii_texts() -> list[str]:
    """Every pair of ASCII characters, alone and after a space, two spaces, a newline, a
    letter and an apostrophe, and random mixes weighted to the regex's special cases
    (contractions, whitespace runs before a word)."""
    characters = [chr(code) for code in range(128)]
    pairs = [a + b for a in characters for b in characters]
    texts = pairs + [lead + pair for lead in (" ", "  ", "\n", "x", "'") for pair in pairs[::7]]
    pieces = characters + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", " ", "  ", "\n", "\t", "a", "7", "."] * 4
    rng = random.Random(0)
    return texts + ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 25))) for _ in range(3000)]


def test_chunk_pretokens_are_the_pre_tokenizers_own_on_ascii_text(tokenizer):
    """Each chunk's pre-tokens, cut by polars, are those the tokenizer's pre-tokenizer
    makes of the whole text (byte-mapped alike): a chunk boundary is a pre-token
    boundary, and within a chunk the cuts fall where the GPT-2 regex puts them."""
    texts = ascii_texts()
    chunks = pl.Series(texts).str.extract_all(T._CHUNK)
    owner = np.repeat(np.arange(len(texts)), chunks.list.len().to_numpy())
    pieces = T.gpt2_pretokens(chunks.explode(empty_as_null=False, keep_nulls=False))
    table = T._byte_table(tokenizer)
    cut: list[list[str]] = [[] for _ in texts]
    for chunk, piece in pieces.iter_rows():
        cut[owner[chunk]].append(piece.translate(table))
    for text, ours in zip(texts, cut):
        assert sorted(ours) == sorted(p for p, _ in tokenizer.pre_tokenizer.pre_tokenize_str(text)), repr(text)


def test_only_ascii_chunks_free_of_added_tokens_are_cut_into_pretokens(tokenizer, monkeypatch):
    chunks = pl.Series(["plain", " it's", "  spaced", "\n\tx.", "\n\n", " naïve", " <|im_end|>x", " 東京"])
    whole = []
    real = T.count_tokens
    monkeypatch.setattr(T, "count_tokens", lambda tok, texts: whole.extend(texts) or real(tok, texts))
    assert T.count_chunks(tokenizer, chunks).tolist() == real(tokenizer, chunks.to_list())
    assert sorted(whole) == sorted([" naïve", " <|im_end|>x", " 東京"])


def test_looked_up_finds_every_querys_value():
    rng = np.random.default_rng(0)
    edge = np.array([0, 1, 2**64 - 1], dtype=np.uint64)
    keys = np.unique(np.concatenate([edge, rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64)]))
    keys = np.concatenate([keys, np.arange(4096, 8192, dtype=np.uint64) << np.uint64(40)])  # badly mixed: low bits all 0
    values = rng.integers(0, 1000, len(keys))
    queries = keys[rng.integers(0, len(keys), 100_000)]
    expected = dict(zip(keys.tolist(), values.tolist()))
    assert T.looked_up(keys, values, queries).tolist() == [expected[q] for q in queries.tolist()]
    assert T.looked_up(keys[:0], values[:0], queries[:0]).size == 0
    with pytest.raises(ValueError, match="not among the keys"):
        T.looked_up(keys[1:], values[1:], keys[:1])


@pytest.mark.parametrize(
    "instruction, input",
    [
        ("Name three colours.", ""),
        ("Summarise the text.", "The text."),
        ("Instruction ending in a newline\n", "input"),  # not additive: counted whole
        ("Fine.", "  input with leading spaces"),  # not additive: counted whole
        ("'s starts with a contraction", "'ll too"),
        ("Ends with space ", ""),
    ],
)
def test_prompt_is_counted_as_training_renders_it(tokenizer, instruction, input):
    frame = frame_of([instruction], [input], ["An answer."])
    assert counted(tokenizer, frame).equals(expected_counts(tokenizer, frame))


def test_total_is_prompt_plus_response_plus_eos(tokenizer):
    frame = T.token_columns(frame_of(["Say hi."], [""], ["Hi!"]), tokenizer)
    row = frame.row(0, named=True)
    assert row["_tokens_total"] == row["_tokens_prompt"] + row["_tokens_output"] + 1
    assert row["_tokens_prompt"] > row["_tokens_instruction"]  # the template is counted


def test_stage_keeps_rows_and_order_and_handles_empty_frames(tokenizer):
    frame = frame_of(["b", "a", "c"], ["", "x", ""], ["1", "2", "3"]).with_columns(pl.Series("_row", [0, 1, 2]))
    out = T.token_columns(frame, tokenizer)
    assert out.get_column("_row").to_list() == [0, 1, 2]
    assert all(out.schema[c] == pl.Int64 for c in T.COLUMNS.values())
    empty = T.token_columns(frame.clear(), tokenizer)
    assert empty.height == 0 and set(T.COLUMNS.values()) <= set(empty.columns)


@pytest.mark.slow
@needs_reference()
def test_chunk_counts_equal_plain_encoding_on_the_reference_data(tokenizer):
    records = json.loads(ALPACA_5000.read_text(encoding="utf-8"))
    from pipeline.stages.normalise import normalise

    raw = frame_of(*[[r.get(f) or "" for r in records] for f in T.FIELDS])
    for frame in (raw, normalise(raw.lazy()).collect().select(T.FIELDS)):  # before and after normalise
        assert counted(tokenizer, frame).equals(expected_counts(tokenizer, frame))


def test_tokenizer_from_a_file_or_a_directory(tokenizer, tmp_path):
    (tmp_path / "model").mkdir()
    tokenizer.save(str(tmp_path / "model" / "tokenizer.json"))
    from_dir = TK.load_tokenizer(str(tmp_path / "model"))
    from_file = TK.load_tokenizer(str(tmp_path / "model" / "tokenizer.json"))
    ids = tokenizer.encode("Hello there").ids
    assert from_dir.backend.encode("Hello there").ids == from_file.backend.encode("Hello there").ids == ids


def test_missing_tokenizer_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="tokenizer not found"):
        TK.load_tokenizer(str(tmp_path / "nowhere"))


def test_other_tokenizers_are_counted_text_by_text(tmp_path):
    """A word-level tokenizer is not byte-level BPE: the shortcut is not used, and
    counts are still exact."""
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "###": 3}
    word_level = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    assert not T.splits_like_gpt2(word_level)
    frame = frame_of(["hello world", "Name it"], ["", "world"], ["hello hello", ""])
    assert counted(word_level, frame).equals(expected_counts(word_level, frame))


def test_token_report_has_the_agreed_shape(tokenizer):
    frame = T.token_columns(frame_of(["Say hi.", "Write an essay."] * 5, [""] * 10, ["Hi!", "word " * 300] * 5), tokenizer)
    params = Config.model_validate({"tokens": {"max_seq_len": 256}}).rules
    report = token_report(frame, params, "smollm2")
    assert report["tokenizer"] == "smollm2" and report["max_seq_len"] == 256
    assert set(report["fields"]) == {"instruction", "input", "output", "prompt", "total"}
    for summary in report["fields"].values():
        assert set(summary) == {"p50", "p90", "p99", "max", "mean"}
        assert all(isinstance(summary[k], int) for k in ("p50", "p90", "p99", "max")) and isinstance(summary["mean"], float)
    assert report["truncated_share"] == {"256": 0.5, "512": 0.0, "1024": 0.0, "2048": 0.0}
    assert set(report["histograms"]) == {"instruction", "input", "output", "total"}
    for histogram in report["histograms"].values():
        assert len(histogram["edges"]) == len(histogram["counts"]) + 1
        assert sum(histogram["counts"]) == frame.height
    thresholds = report["outlier_thresholds"]
    assert set(thresholds) == {"instruction", "input", "output"}
    assert thresholds["output"]["low"] is None and thresholds["output"]["high"] > 0


def test_token_report_of_no_rows(tokenizer):
    frame = T.token_columns(frame_of([], [], []), tokenizer)
    report = token_report(frame, RuleParams(), "smollm2")
    assert report["fields"]["total"]["max"] == 0 and report["truncated_share"]["1024"] == 0.0


def test_language_counts_prescreened_rows_as_english():
    frame = frame_of(
        ["Describe the weather.", "Beschreiben Sie das Wetter in Berlin heute.", "Hi", "Grüß"],
        ["", "", "", ""],
        ["It is sunny and warm today in the city.", "Heute ist es in Berlin sonnig und warm, aber am Abend regnet es.", "Yo", "Tschüß"],
    )
    # "Hi / Yo" passes the pre-screen (English); "Grüß / Tschüß" does not, and is
    # too short to detect.
    assert language_counts(frame, RuleParams()) == {"en": 2, "de": 1, "unknown": 1}
