"""Decontaminate: mark rows that contain a benchmark's problems (rule ``benchmark_overlap``).

A model tuned on the problems it is later scored on reports inflated scores, so rows
sharing text with an evaluation set (GSM8K, HumanEval, AlpacaEval …) are marked here
and dropped by the rule. The method is the GPT-3 / Llama 2 / NeMo Curator one: word
n-grams (13 by default) of normalised text, lowercased, punctuation stripped,
whitespace collapsed, so recasing, re-spacing and punctuation edits do not hide a
copy, while a paraphrase sharing no n-gram is kept.

How it stays close to the cost of one scan of the text:

- every n-gram is a 64-bit hash: word hashes combined polynomially (wrapping
  multiply-add) over a window of n words. The same Polars expressions hash the
  benchmarks and the rows, so both sides agree by construction;
- the benchmarks are hashed once into one table (hash -> benchmark, benchmark row)
  and cached on disk, keyed by each file's sha256 and the settings, so a run with
  the same benchmark files only reads a small Parquet file;
- the rows' n-grams are built with vectorised expressions (explode, shift, filter)
  and joined against that table; no Python runs per row.

Benchmark texts shorter than ``ngram`` words have no n-gram: they match when the
whole normalised text appears, word-aligned, inside a field (Aho-Corasick through
``str.contains_any``), if they have at least ``short_min_words`` words. Fewer
words (HumanEval's ``entry_point`` "add", AlpacaEval's ``dataset`` label) would
match common words, not problems.

Flag first, decide later: this stage only adds the match columns (which benchmark,
which benchmark row, where in which field); ``rules/benchmark.py`` turns them into
the drop rule.
"""

from __future__ import annotations

import gzip
import re
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipeline import columns as C
from pipeline.config import Config, DecontaminationConfig
from pipeline.errors import InputError
from pipeline.stages.load import read_source
from train.tokenizer import cache_dir as curate_cache  # the one cache folder the tokenizer uses too
from pipeline.report.examples import EXAMPLE_CHARS
from pipeline.report.model import BenchmarkFacts, DecontaminationFacts

if TYPE_CHECKING:
    from pipeline.flow import Context

# Bump when the normalisation or the hashing changes: cached benchmark tables of an
# older scheme must not be joined against rows hashed the new way.
SCHEME = 3
# Polars' string hash is stable only within one Polars version, so the cache key
# carries the version too.
WORD_SEED = 0x5EED
MULTIPLIER = 0x100000001B3  # the 64-bit FNV prime; any large odd number would do
# Every run of characters that are not letters or digits becomes one space. A run
# that is already one space is left alone: it is most of the runs (the gap between
# two words), and not matching it makes the replacement twice as fast. Greedy and
# leftmost-first, the first branch takes a whole run of two or more.
_SEPARATOR = r"[^\p{L}\p{N}]{2,}|[^\p{L}\p{N} ]"
_APOSTROPHE = r"['\u2019]"  # removed, not a separator: "Janet’s" and "Janets" are one word

EXAMPLES_PER_BENCHMARK = 5


# ---------------------------------------------------------------- normalised text and n-grams


def normalised(text: pl.Expr) -> pl.Expr:
    """Lowercased words separated by one space: apostrophes are dropped ("don't" is
    "dont"), and every other run of characters that are not letters or digits
    (punctuation, whitespace, underscores) is one separator, so "x=2", "x = 2" and
    "X  =2" are all "x 2"."""
    return text.str.to_lowercase().str.replace_all(_APOSTROPHE, "").str.replace_all(_SEPARATOR, " ").str.strip_chars()


def ngram_hashes(texts: pl.LazyFrame, keys: list[str], text: str, ngram: int, normalise: bool = True) -> pl.LazyFrame:
    """One row per word n-gram of ``text``: ``keys``, ``_pos`` (index of its first
    word) and ``_hash`` (u64). Texts of fewer than ``ngram`` words give none.

    The n-gram hash is computed on the exploded word column with plain shifts; the
    windows that run past the end of their text (into the next row) are filtered
    out afterwards by position, which is far cheaper than shifting inside lists.
    ``normalise=False``: ``text`` is already ``normalised`` (the regex is most of the cost)."""
    words = (normalised(pl.col(text)) if normalise else pl.col(text)).str.split(" ")
    exploded = (
        texts.select(*keys, words.alias("_w"))
        .with_columns(pl.col("_w").list.len().alias("_n"), pl.int_ranges(0, pl.col("_w").list.len()).alias("_pos"))
        .explode("_w", "_pos")
        .with_columns(pl.col("_w").hash(WORD_SEED).alias("_h"))
    )
    window = pl.col("_h")
    for k in range(1, ngram):
        window = window * MULTIPLIER + pl.col("_h").shift(-k)  # u64 arithmetic wraps
    return exploded.select(*keys, "_pos", "_n", window.alias("_hash")).filter(pl.col("_pos") + ngram <= pl.col("_n")).drop("_n")


# ---------------------------------------------------------------- reading a benchmark


def _strings(value) -> list[str]:
    """Every string inside a record, nested lists and objects included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


def benchmark_texts(path: Path) -> pl.DataFrame:
    """(``text_id``, ``row``, ``text``) for every string field of every benchmark row. A
    record that does not parse is an error: a benchmark read in part gives false safety."""
    rows, texts = [], []
    try:
        for record in read_source(str(path)):  # any format and compression the loaders read
            if record.parse_error is not None:
                raise InputError(f"benchmark {path} row {record.row}: {record.parse_error.splitlines()[0]}")
            for text in _strings(record.value):
                rows.append(record.row)
                texts.append(text)
    except (OSError, EOFError, gzip.BadGzipFile, pl.exceptions.PolarsError) as error:
        raise InputError(f"cannot read benchmark {path}: {error}") from None
    frame = pl.DataFrame({"row": rows, "text": texts}, schema={"row": pl.Int64, "text": pl.String})
    return frame.with_row_index("text_id")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Benchmark:
    name: str
    path: str
    sha256: str
    rows: int
    texts: pl.DataFrame  # text_id, row, text: every string field (for report examples)
    ngrams: pl.DataFrame  # _hash, text_id, row, _total (distinct n-grams of that text)
    shorts: pl.DataFrame  # phrase (normalised, padded with spaces), text_id, row, _words


# A short text that spans several lines or starts indented is code or a list: its
# lines are idioms (C++'s hello world, Euclid's loop) that many programs contain, not
# a problem statement. Read on the real data: every short-text match of such a text
# was a coincidence (see labels/decontamination/matches.csv).
_one_line_of_prose = ~pl.col("text").str.strip_chars().str.contains("\n") & ~pl.col("text").str.contains(r"^[ \t]")


def _tables(texts: pl.DataFrame, settings: DecontaminationConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The benchmark's n-gram table (one row per distinct n-gram of each text) and its
    short-text table (texts under ``ngram`` words, with at least ``short_min_words``)."""
    ngrams = (
        ngram_hashes(texts.lazy(), ["text_id", "row"], "text", settings.ngram)
        .select("_hash", "text_id", "row")
        .unique()
        .with_columns(pl.len().over("text_id").cast(pl.UInt32).alias("_total"))
        .sort("_hash", "text_id")
        .collect()
    )
    words = normalised(pl.col("text"))
    count = (words.str.count_matches(" ") + 1).cast(pl.UInt32)
    shorts = (
        texts.lazy()
        .filter((words != "") & (count < settings.ngram) & (count >= settings.short_min_words) & _one_line_of_prose)
        .select((pl.lit(" ") + words + pl.lit(" ")).alias("phrase"), "text_id", "row", count.alias("_words"))
        .unique("phrase", keep="first", maintain_order=True)  # one text per phrase: the first one read
        .sort("phrase")
        .collect()
    )
    return ngrams, shorts


NGRAM_COLUMNS = ["_hash", "text_id", "row", "_total"]
SHORT_COLUMNS = ["phrase", "text_id", "row", "_words"]


def cache_dir() -> Path:
    return curate_cache() / "decontamination"


def _cached_tables(path: Path, sha: str, texts: pl.DataFrame, settings: DecontaminationConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The benchmark's n-gram and short-phrase tables, hashed once and kept on disk
    under the file's sha256 and everything that changes the hashes."""
    key = f"{sha}.n{settings.ngram}.s{settings.short_min_words}.v{SCHEME}.polars{pl.__version__}"
    ngram_file, short_file = cache_dir() / f"{key}.ngrams.parquet", cache_dir() / f"{key}.shorts.parquet"
    if ngram_file.exists() and short_file.exists():
        try:
            ngrams, shorts = pl.read_parquet(ngram_file), pl.read_parquet(short_file)
            if ngrams.columns == NGRAM_COLUMNS and shorts.columns == SHORT_COLUMNS:
                return ngrams, shorts
        except (OSError, pl.exceptions.PolarsError):
            pass  # a damaged cache entry is rebuilt below
    ngrams, shorts = _tables(texts, settings)
    try:
        ngram_file.parent.mkdir(parents=True, exist_ok=True)
        for frame, target in ((ngrams, ngram_file), (shorts, short_file)):
            scratch = target.with_suffix(f".{os.getpid()}.tmp")
            frame.write_parquet(scratch)
            os.replace(scratch, target)  # atomic: concurrent runs never read half a file
    except OSError:
        pass  # no writable cache: the run still works, it only hashes again next time
    return ngrams, shorts


def read_benchmark(path: str, name: str, settings: DecontaminationConfig) -> Benchmark:
    file = Path(path)
    if not file.is_file():
        raise InputError(f"benchmark file not found: {path}")
    try:
        sha = sha256_file(file)
    except OSError as error:
        raise InputError(f"cannot read benchmark {path}: {error}") from None
    texts = benchmark_texts(file)
    ngrams, shorts = _cached_tables(file, sha, texts, settings)
    rows = texts.get_column("row").n_unique()
    return Benchmark(name, path, sha, rows, texts, ngrams, shorts)


def benchmarks_for(settings: DecontaminationConfig) -> tuple[Benchmark, ...]:
    """The configured benchmarks, read once per process: the stage and the report's
    examples use the same set. A file changed on disk since is read again."""
    stamps = tuple((path, _stamp(path)) for path in settings.benchmarks)
    return _benchmarks(settings.model_dump_json(), stamps)


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=4)
def _benchmarks(settings_json: str, stamps: tuple) -> tuple[Benchmark, ...]:
    settings = DecontaminationConfig.model_validate_json(settings_json)
    return tuple(read_benchmark(path, settings.name_of(path), settings) for path in settings.benchmarks)


# ---------------------------------------------------------------- the stage


MATCH_SCHEMA = {
    C.BENCHMARK: pl.String,
    C.BENCHMARK_ROW: pl.Int64,
    C.BENCHMARK_FIELD: pl.String,
    C.BENCHMARK_SPAN: pl.List(pl.Int64),
}


_MATCH_COLUMNS = {C.ORDER: pl.UInt32, "_field": pl.String, "_bench": pl.UInt32, "_bench_row": pl.Int64,
                  "_share": pl.Float64, "_start": pl.Int64, "_end": pl.Int64}


def _ngram_matches(rows: pl.LazyFrame, table: pl.LazyFrame, settings: DecontaminationConfig) -> pl.LazyFrame:
    """``rows``: fields already ``normalised``. Per (row, field, benchmark text): the share of the text's n-grams the field
    holds, and the word span they cover in the field. A share rather than a count: a
    copied problem brings (nearly) all of its n-grams, a famous quote or a coding
    idiom shared with a long reference answer only a few of them."""
    found = []
    for field in C.FIELDS:
        grams = ngram_hashes(rows, [C.ORDER], field, settings.ngram, normalise=False).join(table, on="_hash", how="inner")
        found.append(grams.with_columns(pl.lit(field).alias("_field")))
    return (
        pl.concat(found)
        .group_by(C.ORDER, "_field", "_bench", "text_id")
        .agg(
            pl.col("_bench_row").first(),
            (pl.col("_hash").n_unique() / pl.col("_total").first()).alias("_share"),
            pl.col("_pos").min().cast(pl.Int64).alias("_start"),
            (pl.col("_pos").max().cast(pl.Int64) + settings.ngram).alias("_end"),
        )
        .filter(pl.col("_share") >= settings.min_overlap)
        .select(*_MATCH_COLUMNS)
        .cast(_MATCH_COLUMNS)
    )


def _short_matches(rows: pl.LazyFrame, shorts: pl.DataFrame) -> pl.LazyFrame:
    """``rows``: fields already ``normalised``. Short benchmark texts found whole,
    word-aligned, inside a field: "why the sky is
    blue" in "Explain why the sky is blue using five adjectives". Their share is 1:
    the whole benchmark text is there."""
    if shorts.is_empty():
        return pl.LazyFrame(schema=_MATCH_COLUMNS)
    phrases = shorts.get_column("phrase").unique().sort().to_list()
    found = []
    for field in C.FIELDS:
        padded = pl.lit(" ") + pl.col(field) + pl.lit(" ")
        hits = (
            rows.select(C.ORDER, padded.alias("_text"))
            .filter(pl.col("_text").str.contains_any(phrases))
            .with_columns(pl.col("_text").str.extract_many(phrases, overlapping=True).alias("phrase"))
            .explode("phrase")
            .join(shorts.lazy(), on="phrase", how="inner")
            .with_columns(
                pl.lit(field).alias("_field"),
                pl.lit(1.0).alias("_share"),
                # word index of the phrase: the spaces before it in the padded text
                pl.col("_text").str.slice(0, pl.col("_text").str.find(pl.col("phrase"), literal=True))
                .str.count_matches(" ").cast(pl.Int64).alias("_start"),
            )
            .with_columns((pl.col("_start") + pl.col("_words")).alias("_end"))
        )
        found.append(hits.select(*_MATCH_COLUMNS).cast(_MATCH_COLUMNS))
    return pl.concat(found)


def _match_tables(benchmarks: tuple[Benchmark, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All benchmarks in one n-gram table and one phrase table, tagged by position."""
    tag = lambda i: pl.lit(i, dtype=pl.UInt32).alias("_bench")  # noqa: E731
    ngrams = pl.concat(
        b.ngrams.lazy().select("_hash", tag(i), "text_id", pl.col("row").alias("_bench_row"), "_total")
        for i, b in enumerate(benchmarks)
    ).collect()
    shorts = pl.concat(
        b.shorts.lazy().select("phrase", tag(i), "text_id", pl.col("row").alias("_bench_row"), "_words")
        for i, b in enumerate(benchmarks)
    ).collect()
    return ngrams, shorts


def best_matches(frame: pl.DataFrame, benchmarks: tuple[Benchmark, ...], settings: DecontaminationConfig) -> pl.DataFrame:
    """One row per contaminated row (``_order``): its best match, the largest share
    first (ties: benchmark order, benchmark row, field order, earliest span)."""
    ngrams, shorts = _match_tables(benchmarks)
    # Normalised once, read by both kinds of match.
    rows = frame.lazy().select(pl.col(C.ORDER).cast(pl.UInt32), *(normalised(pl.col(f)).alias(f) for f in C.FIELDS)).collect().lazy()
    matches = pl.concat([_ngram_matches(rows, ngrams.lazy(), settings), _short_matches(rows, shorts)])
    field_rank = pl.col("_field").replace_strict({f: i for i, f in enumerate(C.FIELDS)}, return_dtype=pl.UInt8)
    names = {i: b.name for i, b in enumerate(benchmarks)}
    return (
        matches.sort(C.ORDER, "_share", "_bench", "_bench_row", field_rank, "_start",
                     descending=[False, True, False, False, False, False])
        .unique(C.ORDER, keep="first", maintain_order=True)
        .select(
            C.ORDER,
            pl.col("_bench").replace_strict(names, return_dtype=pl.String).alias(C.BENCHMARK),
            pl.col("_bench_row").alias(C.BENCHMARK_ROW),
            pl.col("_field").alias(C.BENCHMARK_FIELD),
            pl.concat_list("_start", "_end").alias(C.BENCHMARK_SPAN),
        )
        .collect()
    )


def mark_benchmark_overlap(lf: pl.LazyFrame, context: Context) -> pl.LazyFrame:
    """Add the match columns (null where the row matches no benchmark). Row-local: a
    row's matches depend only on the row and the benchmarks. Without benchmarks the
    frame is returned unchanged, so outputs stay as before."""
    settings = context.config.decontamination
    if not settings.benchmarks:
        return lf
    benchmarks = benchmarks_for(settings)
    frame = lf.collect()
    found = best_matches(frame, benchmarks, settings).with_columns(pl.col(C.ORDER).cast(frame.schema[C.ORDER]))
    return frame.join(found, on=C.ORDER, how="left", maintain_order="left").lazy()


# ---------------------------------------------------------------- report facts


_WORD = re.compile(r"(?:[^\W_]|['\u2019])+")  # a word as ``normalised`` cuts it (apostrophes inside)


def _words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, normalised word) of each word of ``text``, in Python, for the
    few report examples: the same cut as ``normalised``."""
    found = []
    for match in _WORD.finditer(text):
        word = re.sub(r"['\u2019]", "", match.group()).lower()
        if word:
            found.append((match.start(), match.end(), word))
    return found


def highlighted(text: str, span: list[int] | None) -> dict:
    """The field clipped around the words ``span`` [first, end) covers, with the
    character offsets of those words in the clipped text (None if not located)."""
    words = _words(text)
    if not span or span[0] >= len(words):
        return {"text": clip_around(text, 0, 0)[0], "span": None}
    start, end = words[span[0]][0], words[min(span[1], len(words)) - 1][1]
    clipped, offset = clip_around(text, start, end)
    return {"text": clipped, "span": [start - offset, end - offset]}


def clip_around(text: str, start: int, end: int) -> tuple[str, int]:
    """``text`` clipped to about EXAMPLE_CHARS (more if the span is longer) starting a
    little before ``start``; and how far the clipped text is shifted against ``text``."""
    left = max(0, start - EXAMPLE_CHARS // 3)
    right = min(len(text), max(end, left + EXAMPLE_CHARS))
    prefix = "…" if left else ""
    return prefix + text[left:right] + ("…" if right < len(text) else ""), left - len(prefix)


def benchmark_side(benchmark: Benchmark, row: int, shared: list[str]) -> dict:
    """The benchmark row's text holding the shared words, clipped around them and marked."""
    texts = benchmark.texts.filter(pl.col("row") == row).get_column("text").to_list()
    for text in texts:
        words = _words(text)
        cut = [w[2] for w in words]
        for i in range(len(cut) - len(shared) + 1):
            if shared and cut[i : i + len(shared)] == shared:
                clipped, offset = clip_around(text, words[i][0], words[i + len(shared) - 1][1])
                return {"benchmark_text": clipped, "benchmark_span": [words[i][0] - offset, words[i + len(shared) - 1][1] - offset]}
    longest = max(texts, key=len) if texts else ""
    return {"benchmark_text": clip_around(longest, 0, 0)[0], "benchmark_span": None}


def _example(row: dict, benchmark: Benchmark, ngram: int) -> dict:
    field = row[C.BENCHMARK_FIELD]
    text = row[field] or ""
    start, end = row[C.BENCHMARK_SPAN]
    # The first n-gram of the match (or the whole short text): words both sides hold.
    shared = [w[2] for w in _words(text)[start : min(end, start + ngram)]]
    return {
        C.SOURCE: row[C.SOURCE], C.ROW: row[C.ROW], "field": field,
        **highlighted(text, row[C.BENCHMARK_SPAN]),
        "benchmark_row": row[C.BENCHMARK_ROW],
        **benchmark_side(benchmark, row[C.BENCHMARK_ROW], shared),
    }


def decontamination_facts(frame: pl.DataFrame, context: Context) -> DecontaminationFacts:
    """Per benchmark: the rows that match it, which of its rows they match, and the
    first few matches with the shared span marked by character offsets."""
    settings = context.config.decontamination
    if not settings.benchmarks or C.BENCHMARK not in frame.columns:
        return DecontaminationFacts()
    matched = frame.filter(pl.col(C.BENCHMARK).is_not_null())
    found = {}
    for benchmark in benchmarks_for(settings):
        mine = matched.filter(pl.col(C.BENCHMARK) == benchmark.name)
        examples = [_example(row, benchmark, settings.ngram) for row in mine.head(EXAMPLES_PER_BENCHMARK).iter_rows(named=True)]
        rows = dict(mine.get_column(C.BENCHMARK_ROW).value_counts().iter_rows())
        found[benchmark.name] = BenchmarkFacts(matched_rows=mine.height, benchmark_rows=rows, examples=examples)
    return DecontaminationFacts(benchmarks=found)


def decontamination_section(facts: DecontaminationFacts, config: Config) -> dict | None:
    """The report's section: each benchmark (from its cached tables) with its matches;
    None when no benchmark was given."""
    settings = config.decontamination
    if not settings.benchmarks:
        return None
    section = []
    for benchmark in benchmarks_for(settings):
        mine = facts.benchmarks.get(benchmark.name, BenchmarkFacts())
        section.append({
            "name": benchmark.name, "file": benchmark.path, "sha256": benchmark.sha256,
            "benchmark_rows": benchmark.rows, "ngrams": benchmark.ngrams.height, "short_texts": benchmark.shorts.height,
            "matched_rows": mine.matched_rows,
            "benchmark_rows_matched": len(mine.benchmark_rows),
            "examples": mine.examples,
        })
    return {"ngram": settings.ngram, "min_overlap": settings.min_overlap, "short_min_words": settings.short_min_words,
            "benchmarks": section}
