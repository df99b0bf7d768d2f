"""``non_english``: the record is not in an allowed language.

langdetect costs about 3 ms a call, so 52,000 rows cannot all pay for it. A
vectorised pre-screen settles the rows that are plainly English -- almost no
letters outside A-Z and no more foreign function words ("der", "que", "les",
"yang") than English ones -- and only the rest are detected, once per distinct
text. Detection is seeded, so the same input gives the same answer every run.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache

import polars as pl

from rules.base import Severity, only_where, python_check, rule
from rules.params import RuleParams

# ASCII word boundaries and ASCII-only word lists keep these regexes on Rust's
# fast path: Unicode-aware \b with case folding is several times slower.
_ENGLISH = (
    r"(?i)(?-u:\b)(?:the|and|of|to|is|are|was|were|in|for|that|with|this|it|be|as|on|or|by|you|your|what|how|which|"
    r"from|can|will|has|have|not|its|their|they|we|he|she|at|if|but|all|these|each|one|an|a|given|following|"
    r"write|describe|give|create|generate|list|name|explain|find|make|identify)(?-u:\b)"
)
# Function words of other languages that are not also English words (accented
# ones are left out: the non-ASCII letter count catches those languages).
_FOREIGN = (
    r"(?i)(?-u:\b)(?:el|los|las|del|que|por|para|una|les|des|une|du|et|pour|dans|pas|qui|avec|est|der|das|und|ist|"
    r"nicht|ein|eine|mit|ich|auf|sind|che|di|della|sono|non|gli|uma|com|het|een|van|niet|zijn|voor|ook|"
    r"yang|dan|ini|itu|dengan|untuk|tidak|adalah|och|att|og|ikke|jest|nie)(?-u:\b)"
)
_NON_ASCII_LETTER = r"[\p{L}&&[^A-Za-z]]"
_TRANSLATION = (
    r"(?i)translat|traduc|übersetz|\b(?:in|into|to) (?:french|spanish|german|italian|portuguese|chinese|mandarin|"
    r"japanese|korean|russian|arabic|hindi|dutch|latin|greek|swedish|turkish|polish|hebrew|vietnamese|thai)\b"
)
DETECT_CHARS = 1000  # langdetect reads this much; more text does not change its answer


def _text() -> pl.Expr:
    return pl.concat_str(
        pl.col("instruction").fill_null(""), pl.col("input").fill_null(""), pl.col("output").fill_null(""), separator="\n"
    )


def long_enough(params: RuleParams) -> pl.Expr:
    return _text().str.len_bytes() >= params.language_min_bytes


def _has_non_ascii(text: pl.Expr) -> pl.Expr:
    """Whether ``text`` holds a character outside ASCII: more bytes than
    characters (a length comparison, no scan of the text by a regex)."""
    return text.str.len_bytes() != text.str.len_chars()


def plainly_english() -> pl.Expr:
    """The vectorised pre-screen: True where detection is not needed.

    Text with neither a letter outside A-Z nor a foreign function word is
    English without further ado (two fast ``contains``); the rest is counted:
    still English if non-ASCII letters are at most 3% of the text and English
    function words at least as many as foreign ones."""
    return _text().map_batches(_plainly_english_texts, return_dtype=pl.Boolean, is_elementwise=True)


def _plainly_english_texts(texts: pl.Series) -> pl.Series:
    """``plainly_english`` on a batch of texts, in steps, each on the rows the one
    before leaves (one row in ten, then one in twenty of real text). A letter
    outside A-Z is looked for only in text with a character outside ASCII: the
    only ASCII letters are A-Z and a-z."""
    text = pl.col("text")
    rows = texts.alias("text").to_frame().with_row_index("_at")
    maybe = rows.with_columns(_has_non_ascii(text).alias("_non_ascii"), text.str.contains(_FOREIGN).alias("_foreign"))
    maybe = maybe.filter(pl.col("_non_ascii") | pl.col("_foreign"))
    suspicious = maybe.filter(pl.col("_foreign") | text.str.contains(_NON_ASCII_LETTER))
    english, foreign = text.str.count_matches(_ENGLISH), text.str.count_matches(_FOREIGN)
    mostly_ascii = text.str.count_matches(_NON_ASCII_LETTER) <= 0.03 * text.str.len_chars()
    not_plain = suspicious.filter(~(mostly_ascii & (foreign <= english))).get_column("_at")
    plain = pl.Series([True] * texts.len(), dtype=pl.Boolean)
    return plain.scatter(not_plain, False) if not_plain.len() else plain


SEED = 0
_factory_lock = threading.Lock()
_factory = None


class WordProbabilities(Mapping):
    """langdetect's ``word_lang_prob_map`` (n-gram -> probability in each
    language, in profile order), each n-gram's list worked out the first time a
    detector asks for it. ``DetectorFactory.load_profile`` builds all 87,000
    lists up front, half a second of Python, while a run asks for a few hundred;
    a list here holds the same floats, computed the same way (its ``add_profile``)."""

    def __init__(self, profiles: list, langsize: int) -> None:
        self._profiles, self._langsize = profiles, langsize
        self._words = frozenset().union(*(profile.freq for profile in profiles))
        self._lists: dict[str, list[float]] = {}

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def __getitem__(self, word: str) -> list[float]:
        found = self._lists.get(word)
        if found is None:
            if word not in self._words:
                raise KeyError(word)
            found = [0.0] * self._langsize
            length = len(word)
            if 1 <= length <= 3:
                for index, profile in enumerate(self._profiles):
                    if word in profile.freq:
                        found[index] = 1.0 * profile.freq.get(word) / profile.n_words[length - 1]
            self._lists[word] = found  # two threads may both compute it: the same list
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)


def _load_profiles(directory: str):
    """A ``DetectorFactory`` as ``load_profile(directory)`` leaves it (the same
    languages in the same order, the same list size), with ``WordProbabilities``
    for its map."""
    from langdetect.detector_factory import DetectorFactory
    from langdetect.utils.lang_profile import LangProfile

    names = os.listdir(directory)
    profiles = []
    for name in names:
        path = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as file:
            profiles.append(LangProfile(**json.load(file)))
    factory = DetectorFactory()
    factory.langlist = [profile.name for profile in profiles]
    factory.word_lang_prob_map = WordProbabilities(profiles, len(names))
    return factory


def _detector_factory():
    """langdetect's profiles, loaded once. Not ``langdetect.detect``: its lazy
    global set-up races when Polars runs the check on two chunks in two threads,
    and a half-loaded factory answers "pl" for English."""
    global _factory
    with _factory_lock:
        if _factory is None:
            from langdetect.detector_factory import PROFILES_DIRECTORY

            factory = _load_profiles(PROFILES_DIRECTORY)
            factory.set_seed(SEED)
            _factory = factory
    return _factory


@lru_cache(maxsize=1 << 16)
def detect_language(text: str) -> str:
    """langdetect's best guess with a fixed seed, "unknown" when it has none."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _detector_factory().create()
    detector.append(text[:DETECT_CHARS])
    try:
        return detector.detect()
    except LangDetectException:
        return "unknown"


def _join(*fields: str) -> str:
    return "\n".join(fields)


def _not_allowed(allowed: frozenset[str], instruction: str, input: str, output: str) -> bool:
    # A translation task may rightly answer in another language: judge its
    # instruction only.
    if re.search(_TRANSLATION, instruction):
        return detect_language(instruction) not in allowed | {"unknown"}
    return detect_language(_join(instruction, input, output)) not in allowed | {"unknown"}


@rule(Severity.DROP)
def non_english(params: RuleParams) -> pl.Expr:
    """The record is not in an allowed language (langdetect, seeded; English by default).

    Dropped: a model tuned for English learns nothing useful from it, and mixed
    languages teach switching. Translation tasks are judged by their instruction
    alone, and texts shorter than ``language_min_bytes`` are never judged
    (langdetect guesses wildly on a few words)."""
    allowed = frozenset(params.languages)
    # The pre-screen only recognises English: without "en" allowed, English text
    # must be detected (and dropped) like any other.
    needs_detection = long_enough(params) if "en" not in allowed else ~plainly_english() & long_enough(params)
    return python_check(
        needs_detection,
        ["instruction", "input", "output"],
        lambda instruction, input, output: _not_allowed(allowed, instruction, input, output),
    )


def language_counts(frame: pl.DataFrame, params: RuleParams) -> dict[str, int]:
    """Rows per detected language for the report: rows that pass the pre-screen
    count as "en", rows too short to judge as "unknown"."""
    if frame.is_empty():
        return {}
    screened = frame.select(plainly_english().alias("plain"), long_enough(params).alias("long"), _text().alias("text"))
    counts: dict[str, int] = {"en": int(screened.get_column("plain").sum())}
    short = screened.filter(~pl.col("plain") & ~pl.col("long")).height
    if short:
        counts["unknown"] = short
    for text in screened.filter(~pl.col("plain") & pl.col("long")).get_column("text"):
        language = detect_language(text)
        counts[language] = counts.get(language, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
