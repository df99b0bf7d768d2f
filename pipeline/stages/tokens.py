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
" of", "\\n\\n1."), so each distinct chunk is counted once (and each distinct
text: outputs and inputs repeat). The same argument makes the prompt count the
template's own tokens plus the instruction's and the input's, as long as both
begin and end with a non-space character (normalise strips them); the few rows
where that does not hold are tokenized whole.

Counting the distinct chunks goes one step further down. Most of ``encode``'s
time is its own pre-tokenizer (a slow regex engine), not BPE, and the distinct
chunks hold far fewer distinct pre-tokens than chunks (on real text 83,000 against
181,000, a third of the bytes). So an ASCII chunk is cut into its pre-tokens here
(``gpt2_pretokens``: the GPT-2 regex, its one look-ahead worked out by hand) and
each distinct pre-token goes to the BPE model alone, which is what ``encode``
does with it. Chunks with other characters, whose letter, digit and space classes
two regex engines might draw differently, and chunks holding an added token's
text (``encode`` cuts those out first) are encoded whole. Chunks and pre-tokens
counted in one batch are remembered for the next (``counted``), and while the
distinct chunks are counted (mostly Python, one core) Polars works out on the
other core which distinct chunk each of the millions of chunks is.
``tests/stages/test_tokens.py`` checks all of this against plain ``encode`` and,
on every pair of ASCII characters and random ASCII text, the pre-tokens against
the tokenizer's own pre-tokenizer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable

import numpy as np
import polars as pl
import pyarrow.compute as pc
from tokenizers import Tokenizer

from pipeline.arrow import arrow_array, numpy_array
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
    """Per-row token counts of ``fields``, each distinct text (over all ``fields``:
    outputs and inputs repeat) and each distinct chunk counted once.

    Texts and chunks are matched by a 64-bit hash (looking up integers is much
    cheaper than strings); a collision would only mix up two texts' or chunks' counts.
    """
    texts = pl.concat([frame.get_column(field).fill_null("") for field in fields])  # field by field
    hashes = texts.hash(seed=0)
    first = hashes.arg_unique()
    per_text = text_counts(tokenizer, texts.gather(first))
    counts = looked_up(hashes.gather(first).to_numpy(), per_text, hashes.to_numpy()).reshape(len(fields), frame.height)
    return pl.DataFrame({field: counts[index] for index, field in enumerate(fields)}, schema={f: pl.Int64 for f in fields})


def text_counts(tokenizer: Tokenizer, texts: pl.Series) -> np.ndarray:
    """Token counts of ``texts``: the sum of their chunks' counts.

    The chunks of all texts lie one after the other, so a text's sum is the
    difference of two running totals. Chunks are cut in two halves at once (the
    regex is most of the work and uses one core per query).
    """
    half = (len(texts) + 1) // 2
    parts = pl.collect_all(
        [pl.LazyFrame({"_text": texts.slice(start, half)}).select(pl.col("_text").str.extract_all(_CHUNK)) for start in (0, half)]
    )
    lists = pl.concat([part.to_series() for part in parts])
    chunks = lists.explode(empty_as_null=False, keep_nulls=False)
    hashes = chunks.hash(seed=0)
    first = hashes.arg_unique()
    distinct = hashes.gather(first)
    # Which distinct chunk each chunk is: a lookup of millions of chunks, which Arrow
    # runs on the other core while this one counts the distinct chunks (mostly Python).
    with ThreadPoolExecutor(max_workers=1) as pool:
        where = pool.submit(looked_up, distinct.to_numpy(), np.arange(len(distinct)), hashes.to_numpy())
        known = counted(tokenizer, pl.DataFrame({"_hash": distinct, "_text": chunks.gather(first)}), count_chunks)
        per_distinct = looked_up(known.get_column("_hash").to_numpy(), known.get_column("_n").to_numpy(), distinct.to_numpy())
        per_chunk = per_distinct[where.result()]
    running = np.concatenate([[0], np.cumsum(per_chunk)])
    lengths = lists.list.len().to_numpy()
    ends = np.cumsum(lengths)
    return running[ends] - running[ends - lengths]


# Chunks and pre-tokens already counted in this process, per tokenizer and counting
# function: (tokenizer, frame of _hash, _n). Batches of one corpus share most of
# their chunks (on real text, 80% of a second batch's) and pre-tokens, so each is
# tokenized once per run rather than once per batch.
_COUNTED: dict[tuple[int, Callable], tuple[Tokenizer, pl.DataFrame]] = {}
COUNTED_LIMIT = 4_000_000  # texts remembered (16 bytes each) per memory before starting afresh


def counted(tokenizer: Tokenizer, distinct: pl.DataFrame, count: Callable[[Tokenizer, pl.Series], np.ndarray]) -> pl.DataFrame:
    """``_hash`` and token count ``_n`` of every text of ``distinct`` (``_hash``,
    ``_text``; one row per hash), counting with ``count`` only those it has not
    counted before."""
    entry = _COUNTED.get((id(tokenizer), count))
    known = entry[1] if entry is not None and entry[0] is tokenizer else None  # the object is kept, so its id is its own
    new = distinct if known is None else distinct.join(known, on="_hash", how="anti")
    fresh = new.select("_hash", pl.Series("_n", count(tokenizer, new.get_column("_text")), dtype=pl.Int64))
    here = fresh if known is None else pl.concat([known.join(distinct.select("_hash"), on="_hash", how="semi"), fresh])
    remembered = here if known is None or known.height > COUNTED_LIMIT else pl.concat([known, fresh])
    _COUNTED[(id(tokenizer), count)] = (tokenizer, remembered)
    return here


# --- chunks, counted pre-token by pre-token ------------------------------------------

# GPT-2's pre-token pattern less its whitespace alternatives, which a chunk's
# non-space part (with at most one space before it) never reaches.
_WORD_PRETOKEN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+"


def count_chunks(tokenizer: Tokenizer, chunks: pl.Series) -> np.ndarray:
    """Token counts of ``chunks``, exactly as ``count_tokens`` gives them.

    ASCII chunks free of added tokens are cut into their pre-tokens here and each
    distinct pre-token goes to the BPE model alone: the tokenizer's own pre-tokenizer
    costs more than the BPE itself. The rest (other scripts, whose letter and digit
    classes two regex engines might draw differently, and added-token text) is
    encoded whole.
    """
    simple = chunks.str.contains(r"^[\x00-\x7f]*$")
    added = [token.content for token in tokenizer.get_added_tokens_decoder().values()]  # encode cuts these out first
    if added:
        simple &= ~chunks.str.contains_any(added)
    counts = np.zeros(len(chunks), dtype=np.int64)
    hard = (~simple).arg_true().to_numpy()
    counts[hard] = count_tokens(tokenizer, chunks.gather(hard).to_list())
    easy = simple.arg_true().to_numpy()
    counts[easy] = pretoken_sums(tokenizer, chunks.gather(easy))
    return counts


def gpt2_pretokens(chunks: pl.Series) -> pl.DataFrame:
    """The pre-tokens (``_piece``) of each chunk (``_chunk``: its position), as the
    GPT-2 regex cuts a chunk alone, for ASCII chunks (``\\s*\\S+``, or only whitespace).

    The regex's whitespace alternatives (``\\s+(?!\\S)|\\s+``) need a look-ahead, which
    polars' regex engine lacks, but in a chunk they act in one place: a whitespace
    run W before the non-space part S gives W less its last character, then that
    character alone unless it is a space, which instead starts S's first pre-token.
    A chunk of whitespace only is one pre-token. S (with that space) is cut by the
    rest of the regex, whose alternatives polars tries in the same order.
    """
    text = pl.col("_text")
    lead, last, word = text.str.extract(r"^(\s*)\s\S", 1), text.str.extract(r"^\s*(\s)\S", 1), text.str.extract(r"(\S+)$", 1)
    parts = pl.DataFrame({"_text": chunks}).with_row_index("_chunk").select(
        "_chunk", lead.alias("_lead"), last.alias("_last"), word.alias("_word"), text
    )
    return pl.concat(
        [
            parts.filter(pl.col("_lead") != "").select("_chunk", pl.col("_lead").alias("_piece")),
            parts.filter(pl.col("_last") != " ").select("_chunk", pl.col("_last").alias("_piece")),
            parts.filter(pl.col("_word").is_null()).select("_chunk", pl.col("_text").alias("_piece")),
            parts.filter(pl.col("_word").is_not_null()).select(
                "_chunk",
                pl.when(pl.col("_last") == " ").then(" " + pl.col("_word")).otherwise(pl.col("_word"))
                .str.extract_all(_WORD_PRETOKEN).alias("_piece"),
            ).explode("_piece"),
        ]
    )


def pretoken_sums(tokenizer: Tokenizer, chunks: pl.Series) -> np.ndarray:
    """Token counts of ASCII ``chunks`` free of added tokens: the BPE counts of their
    pre-tokens, each distinct pre-token (by its hash) put through the model once a run."""
    pieces = gpt2_pretokens(chunks)
    hashes = pieces.get_column("_piece").hash(seed=0)
    first = hashes.arg_unique()
    known = counted(tokenizer, pl.DataFrame({"_hash": hashes.gather(first), "_text": pieces.get_column("_piece").gather(first)}), bpe_counts)
    per_piece = looked_up(known.get_column("_hash").to_numpy(), known.get_column("_n").to_numpy(), hashes.to_numpy())
    return np.bincount(pieces.get_column("_chunk").to_numpy(), weights=per_piece, minlength=len(chunks)).astype(np.int64)


def bpe_counts(tokenizer: Tokenizer, pretokens: pl.Series) -> np.ndarray:
    """Token counts of ASCII pre-tokens: each byte-mapped and put through the BPE model
    alone, as ``encode`` does after its pre-tokenizer."""
    table, model = _byte_table(tokenizer), tokenizer.model
    return np.array([len(model.tokenize(piece.translate(table))) for piece in pretokens.to_list()], dtype=np.int64)


def _byte_table(tokenizer: Tokenizer) -> dict[int, str]:
    """ASCII character -> the character the byte-level pre-tokenizer maps it to (its
    bytes as BPE sees them), asked of the pre-tokenizer rather than written down."""
    return {code: tokenizer.pre_tokenizer.pre_tokenize_str(chr(code))[0][0] for code in range(128)}


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


# --- looking up counts by hash --------------------------------------------------------


def looked_up(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values[i]`` for every query equal to ``keys[i]`` (distinct 64-bit hashes; every
    query is one of them), in query order: Arrow's hash lookup (``index_in``) finds each
    query's key, about twice as cheap as a Polars join (0.12-0.17 s against 0.24-0.30 s
    CPU for 3.2M queries against 180,000 keys) and much cheaper than a binary search."""
    at = pc.index_in(arrow_array(queries), value_set=arrow_array(keys))
    if at.null_count:
        raise ValueError("a query is not among the keys")
    return np.asarray(values)[numpy_array(at)]
