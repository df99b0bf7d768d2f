"""Tokens: how many tokens each field, the rendered prompt and the whole training
sequence take, counted with the training tokenizer.

Adds the Int columns ``_tokens_instruction``, ``_tokens_input``, ``_tokens_output``,
``_tokens_prompt`` (the Alpaca prompt exactly as training encodes it,
``train.template.prompt_ids``: the rendered text plus any special tokens the
tokenizer adds, e.g. a BOS) and ``_tokens_total`` (prompt + response + EOS: the
length of the training sequence, ``train.data.encode_record``), which the length
rules and the report read. ``tests/test_agreement.py`` proves, row by row, that
``_tokens_total`` is the length training builds.

Why it is not simply ``encode_batch`` on every text: on a 2-core machine the
byte-level BPE tokenizer manages ~1.5 MB/s, about 12 s for 52,000 Alpaca rows.
Counting is exact and much cheaper because of how a byte-level tokenizer works:
its pre-tokenizer (the GPT-2 regex) never lets a pre-token run from a
non-space character into the whitespace after it, and BPE never merges across
pre-tokens. So a text cut into chunks matching ``\\s*\\S+`` has exactly the token
count of the sum of its chunks, and chunks repeat a lot across a corpus ("the",
" of", "\\n\\n1."), so each distinct chunk is tokenized once. The same argument
makes the prompt count the template's own tokens plus the instruction's and the
input's, as long as both begin and end with a non-space character (normalise
strips them); the few rows where that does not hold are tokenized whole.
``tests/stages/test_tokens.py`` checks all of this against plain ``encode``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from tokenizers import Tokenizer

from pipeline.report.model import TokenFacts, value_counts
from train.template import EOS_TOKENS, prompt_special_tokens, render_prompt
from train.tokenizer import load_tokenizer

if TYPE_CHECKING:
    from pipeline.flow import Context

FIELDS = ("instruction", "input", "output")
COLUMNS = {name: f"_tokens_{name}" for name in (*FIELDS, "prompt", "total")}

# A chunk boundary is always a pre-token boundary of the byte-level tokenizer
# (see the module docstring); trailing whitespace at the very end is its own chunk.
_CHUNK = r"\s*\S+|\s+$"


# --- counting ----------------------------------------------------------------------

def count_tokens(tokenizer: Tokenizer, texts: list[str]) -> list[int]:
    """Token counts of whole texts, without special tokens (the plain, slow way)."""
    return [len(encoding) for encoding in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]


def chunk_counts(frame: pl.DataFrame, tokenizer: Tokenizer, fields: tuple[str, ...]) -> pl.DataFrame:
    """Per-row token counts of ``fields``, tokenizing each distinct chunk once.

    Chunks are matched by a 64-bit hash (joins and grouping on integers are much
    cheaper than on strings); a collision would only mix up two chunks' counts.
    """
    width = len(fields)
    # One slot per (row, field): slot = row * width + field index.
    chunks = pl.concat(
        [
            frame.select(
                (pl.int_range(pl.len(), dtype=pl.UInt32) * width + index).alias("_slot"),
                pl.col(field).fill_null("").str.extract_all(_CHUNK).alias("_chunk"),
            )
            for index, field in enumerate(fields)
        ]
    ).explode("_chunk").drop_nulls("_chunk").with_columns(pl.col("_chunk").hash(seed=0).alias("_hash"))
    distinct = chunks.select("_hash", "_chunk").unique(subset="_hash")
    sums = chunks.select("_slot", "_hash").join(counted(tokenizer, distinct), on="_hash", how="left").group_by("_slot").agg(pl.col("_n").sum())
    counts = np.zeros(frame.height * width, dtype=np.int64)
    counts[sums.get_column("_slot").to_numpy()] = sums.get_column("_n").to_numpy()
    counts = counts.reshape(frame.height, width)
    return pl.DataFrame({field: counts[:, index] for index, field in enumerate(fields)}, schema={f: pl.Int64 for f in fields})


# Chunks already counted in this process, per tokenizer: (tokenizer, frame of _hash, _n).
# Batches of one corpus share most of their chunks (on real text, 80% of a second
# batch's), so each is tokenized once per run rather than once per batch.
_COUNTED: dict[int, tuple[Tokenizer, pl.DataFrame]] = {}
COUNTED_LIMIT = 4_000_000  # chunks remembered (16 bytes each) before starting afresh


def counted(tokenizer: Tokenizer, distinct: pl.DataFrame) -> pl.DataFrame:
    """``_hash`` and token count ``_n`` of every chunk of ``distinct`` (``_hash``,
    ``_chunk``; one row per hash), tokenizing only those not counted before."""
    entry = _COUNTED.get(id(tokenizer))
    known = entry[1] if entry is not None and entry[0] is tokenizer else None  # the object is kept, so its id is its own
    new = distinct if known is None else distinct.join(known, on="_hash", how="anti")
    fresh = new.select("_hash", pl.Series("_n", count_tokens(tokenizer, new.get_column("_chunk").to_list()), dtype=pl.Int64))
    here = fresh if known is None else pl.concat([known.join(distinct.select("_hash"), on="_hash", how="semi"), fresh])
    remembered = here if known is None or known.height > COUNTED_LIMIT else pl.concat([known, fresh])
    _COUNTED[id(tokenizer)] = (tokenizer, remembered)
    return here


def template_overheads(tokenizer: Tokenizer) -> tuple[int, int]:
    """Tokens the template adds around the fields: (with input, without input).

    Measured on a rendered prompt rather than written down, so the templates live
    only in ``train.template``.
    """
    instruction, input = "Instruction", "Input"
    n_instruction, n_input, n_with, n_without = count_tokens(
        tokenizer, [instruction, input, render_prompt(instruction, input), render_prompt(instruction)]
    )
    return n_with - n_instruction - n_input, n_without - n_instruction


def _additive(column: str) -> pl.Expr:
    """The field is empty, or begins and ends with a non-space character."""
    text = pl.col(column).fill_null("")
    return (text == "") | (text.str.contains(r"^\S") & text.str.contains(r"\S$"))


def prompt_counts(frame: pl.DataFrame, fields: pl.DataFrame, tokenizer: Tokenizer) -> pl.Series:
    with_input, without_input = template_overheads(tokenizer)
    has_input = frame.get_column("input").fill_null("") != ""
    additive = (
        pl.Series(fields.get_column("instruction") + fields.get_column("input"))
        + pl.select(pl.when(has_input).then(with_input).otherwise(without_input)).to_series()
    )
    exact = frame.select((_additive("instruction") & _additive("input") & (pl.col("instruction") != "")).alias("ok")).to_series()
    if exact.all():
        return additive.alias("prompt")
    odd = frame.filter(~exact)
    whole = count_tokens(tokenizer, [render_prompt(i or "", n or "") for i, n in odd.select("instruction", "input").iter_rows()])
    positions = exact.not_().arg_true()
    patched = additive.to_numpy().copy()
    patched[positions.to_numpy()] = whole
    return pl.Series("prompt", patched, dtype=pl.Int64)


def splits_like_gpt2(tokenizer: Tokenizer) -> bool:
    """Whether the chunk shortcut is exact for this tokenizer: no normalizer and a
    plain byte-level pre-tokenizer with the GPT-2 regex (SmolLM2, GPT-2, ...).
    Others (SentencePiece, digit-splitting regexes) are counted text by text."""
    pre = tokenizer.pre_tokenizer
    return (
        tokenizer.normalizer is None
        and type(pre).__name__ == "ByteLevel"
        and bool(pre.use_regex)
        and not pre.add_prefix_space
    )


def direct_counts(frame: pl.DataFrame, tokenizer: Tokenizer, fields: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        {field: count_tokens(tokenizer, frame.get_column(field).fill_null("").to_list()) for field in fields},
        schema={field: pl.Int64 for field in fields},
    )


def token_columns(frame: pl.DataFrame, tokenizer: Tokenizer) -> pl.DataFrame:
    if not splits_like_gpt2(tokenizer):
        fields = direct_counts(frame, tokenizer, FIELDS)
        prompts = [render_prompt(i or "", n or "") for i, n in frame.select("instruction", "input").iter_rows()]
        prompt = pl.Series("prompt", count_tokens(tokenizer, prompts), dtype=pl.Int64)
    else:
        fields = chunk_counts(frame, tokenizer, FIELDS)
        prompt = prompt_counts(frame, fields, tokenizer)
    # Counted so far without special tokens; training's prompt carries the tokenizer's own
    # (a BOS for Llama, none for SmolLM2) and its response ends with one EOS.
    prompt = prompt + prompt_special_tokens(tokenizer)
    return frame.with_columns(
        *(fields.get_column(f).alias(COLUMNS[f]) for f in FIELDS),
        prompt.alias(COLUMNS["prompt"]),
        (prompt + fields.get_column("output") + EOS_TOKENS).alias(COLUMNS["total"]),
    )


def count_stage(lf: pl.LazyFrame, context: Context) -> pl.LazyFrame:
    """The pipeline stage. Row-local (a row's counts do not depend on the other
    rows); collects, because distinct chunks are found over the whole batch."""
    tokenizer = load_tokenizer(context.config.tokens.tokenizer).backend
    return token_columns(lf.collect(), tokenizer).lazy()


def token_facts(frame: pl.DataFrame, context: Context) -> TokenFacts:
    """Rows per token count of each field, prompt and whole sequence: the report's
    percentiles, truncation shares and histograms, exactly, from a few thousand numbers."""
    return TokenFacts(counts={name: value_counts(frame.get_column(column)) for name, column in COLUMNS.items()})
