"""A synthetic Alpaca-style corpus whose duplicates are known, for the benchmark and the tests.

Alpaca-sized records (words drawn with Zipf frequencies from common English words
followed by a long tail of made-up rare words), plus planted exact copies (verbatim,
recased, re-spaced), near copies (punctuation edits, one word changed in a field of
25 words or more), conflicting outputs (same prompt, new answer), and templated tasks
(one long instruction shared by 20 rows with different inputs and often the same
one-word output) that must all be kept. Real Alpaca text is not used: its own
unlabelled duplicates would make precision and recall unmeasurable.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline import columns as C

_WORDS = """
the of and to a in is that for it as was with be by on not he this are or his from at which
but have an they you were her she there been one all we their has would when if so no will
more can who about up out them some could into its time than only other new also two these
may then do first any like now my such make over our even most after made many before must
through back years where much your way well down should because each just those people how
too little state good very world still own see men work long get here between both life being
under never day same another know while last might great old year off come since against go
came right used take three small large water house point city place number part system word
garden river market letter answer question story music animal plant light school family
country problem money night table paper morning friend car food mountain color weather
language computer science history health energy travel ocean forest picture reason teacher
student doctor village island bridge window kitchen summer winter spring autumn journey
simple quick careful bright quiet strong gentle ancient modern useful famous hidden
explain describe compare list write create suggest identify classify summarize translate
rewrite generate calculate choose find give name provide convert design analyze evaluate
""".split()
_SYLLABLES = "ka lo mi ren ta su vel dor an is ber gon li mat ur pe tor sa vin ko ral es ni".split()
_PUNCTUATION = [".", ",", "!", "?", ";", ":"]
_RARE_WORDS = 6000  # made-up words behind the common ones, for a vocabulary of realistic size


def vocabulary() -> list[str]:
    """The common English words first (they get the highest Zipf weights), then
    made-up two- and three-syllable words as the long tail of rare words."""
    rng = random.Random(1234)
    rare: set[str] = set()
    while len(rare) < _RARE_WORDS:
        rare.add("".join(rng.choices(_SYLLABLES, k=rng.choice([2, 3]))))
    common = list(dict.fromkeys(_WORDS))
    return common + sorted(rare - set(common))
_LABELS = ["Positive", "Negative", "Neutral"]
TEMPLATE_GROUP = 20  # rows sharing one templated instruction


@dataclass
class _Writer:
    rng: random.Random
    weights: list[float]  # cumulative
    words_list: list[str]

    def words(self, count: int) -> list[str]:
        return self.rng.choices(self.words_list, cum_weights=self.weights, k=count)

    def sentence_text(self, count: int) -> str:
        words = self.words(count)
        # Punctuation every 6-14 words, like prose.
        out, since = [], 0
        for word in words:
            out.append(word)
            since += 1
            if since >= self.rng.randint(6, 14):
                out[-1] += self.rng.choice([".", ".", ",", ","])
                since = 0
        text = " ".join(out)
        return text[0].upper() + text[1:] + "."

    def length(self, median: float, spread: float, low: int, high: int) -> int:
        return max(low, min(high, int(self.rng.lognormvariate(0, spread) * median)))

    def record(self) -> dict:
        instruction = self.sentence_text(self.length(11, 0.4, 3, 60))
        has_input = self.rng.random() < 0.4
        source = self.sentence_text(self.length(14, 0.6, 2, 200)) if has_input else ""
        output = self.sentence_text(self.length(38, 0.8, 1, 600))
        return {"instruction": instruction, "input": source, "output": output}


def recase(text: str, rng: random.Random) -> str:
    return rng.choice([text.upper(), text.lower(), text.swapcase()])


def respace(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    where = rng.randrange(len(words))
    words[where] = words[where] + rng.choice(["  ", "\t", "   "])
    return " ".join(words) + rng.choice(["", " ", "\n"])


def repunctuate(text: str, rng: random.Random) -> str:
    stripped = text.rstrip(".!?")
    return stripped + rng.choice(["!", "", "?", "..."]) if stripped else text + "."


def _change_word(text: str, rng: random.Random, writer: _Writer) -> str:
    words = text.split(" ")
    where = rng.randrange(1, len(words) - 1)
    replacement = writer.words(1)[0]
    while replacement == words[where].strip("".join(_PUNCTUATION)).lower():
        replacement = writer.words(1)[0]
    words[where] = replacement
    return " ".join(words)


def _long_field(record: dict, least_words: int = 25) -> str | None:
    fields = [name for name in C.FIELDS if len(record[name].split(" ")) >= least_words]
    return max(fields, key=lambda name: len(record[name])) if fields else None


def make_corpus(rows: int, seed: int = 0) -> tuple[list[dict], pl.DataFrame]:
    """(records, truth). ``truth`` has one row per record: ``group`` (records that
    are duplicates of one another share it; exactly one per group should survive)
    and ``kind`` (unique, template, exact, near, conflicting)."""
    rng = random.Random(seed)
    words = vocabulary()
    # Zipf's law over the vocabulary, common words first.
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    writer = _Writer(rng, cumulative, words)
    planted = {"exact": 0.05, "near": 0.05, "conflicting": 0.01}
    templated = (int(rows * 0.04) // TEMPLATE_GROUP) * TEMPLATE_GROUP
    copies = {kind: int(rows * share) for kind, share in planted.items()}
    originals = rows - templated - sum(copies.values())
    records: list[dict] = []
    prompts: set[str] = set()
    while len(records) < originals:
        record = writer.record()
        # Two originals with one prompt would be a (conflicting) duplicate pair.
        prompt = " ".join(re.findall(r"\w+", f"{record['instruction']} | {record['input']}".lower()))
        if prompt not in prompts:
            prompts.add(prompt)
            records.append(record)
    truth: list[tuple[int, str]] = [(group, "unique") for group in range(originals)]
    for start in range(0, templated, TEMPLATE_GROUP):
        instruction = writer.sentence_text(rng.randint(30, 45))
        labels = rng.sample(_LABELS, 2)
        for _ in range(TEMPLATE_GROUP):
            output = rng.choice(labels) if rng.random() < 0.8 else writer.sentence_text(rng.randint(3, 8))
            records.append({"instruction": instruction, "input": writer.sentence_text(rng.randint(4, 10)), "output": output})
            truth.append((len(truth), "template"))
    with_long_field = [i for i in range(originals) if _long_field(records[i])]
    for kind, count in copies.items():
        for _ in range(count):
            base = rng.choice(with_long_field if kind == "near" else range(originals))
            records.append(_planted_copy(kind, dict(records[base]), rng, writer))
            truth.append((base, kind))
    order = list(range(rows))
    rng.shuffle(order)
    frame = pl.DataFrame(truth, schema={"group": pl.Int64, "kind": pl.String}, orient="row")
    return [records[i] for i in order], frame[order].with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))


def _planted_copy(kind: str, record: dict, rng: random.Random, writer: _Writer) -> dict:
    if kind == "exact":
        edit = rng.choice(["verbatim", "case", "space"])
        name = rng.choice(C.FIELDS[:1] + C.FIELDS[2:])
        if edit == "case":
            record[name] = recase(record[name], rng)
        elif edit == "space":
            record[name] = respace(record[name], rng)
    elif kind == "near":
        edit = rng.choice(["punctuation", "word", "word+case"])
        if edit == "punctuation":
            record["instruction"] = repunctuate(record["instruction"], rng)
        else:
            name = _long_field(record)
            record[name] = _change_word(record[name], rng, writer)
            if edit == "word+case":
                record["instruction"] = recase(record["instruction"], rng)
    elif kind == "conflicting":
        record["output"] = writer.sentence_text(writer.length(38, 0.8, 1, 600))
    return record


def write_jsonl(records: list[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
