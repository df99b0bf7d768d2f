"""``non_english``'s shortcuts answer as the slow ways they replace: the staged
pre-screen marks the rows the one-expression pre-screen marked (on literal rows
built to sit on its edges and on the real reference data when present), and the
profile map filled word by word holds what langdetect's own loader builds."""

from __future__ import annotations

import polars as pl
import pytest

import rules.language as L
from pipeline.real_data import real_frame
from tests.conftest import needs_real_data


def _old_plainly_english() -> pl.Expr:
    """The pre-screen as one expression, as it was before the staged one."""
    text = L._text()
    suspicious = text.str.contains(L._NON_ASCII_LETTER) | text.str.contains(L._FOREIGN)
    english, foreign = text.str.count_matches(L._ENGLISH), text.str.count_matches(L._FOREIGN)
    mostly_ascii = text.str.count_matches(L._NON_ASCII_LETTER) <= 0.03 * text.str.len_chars()
    return ~pl.when(suspicious).then(~(mostly_ascii & (foreign <= english))).otherwise(False)


# English, other languages, foreign function words inside English ("Lady Di",
# "et al."), non-ASCII punctuation without a non-ASCII letter, a few accented
# words in English, nulls and empty fields.
LITERAL_ROWS = [
    ("Describe the weather in one sentence.", "", "It is sunny and warm today."),
    ("Schreiben Sie einen kurzen Text über das Wetter.", "", "Heute ist das Wetter sonnig und warm."),
    ("Escribe una frase sobre el mar.", "", "El mar es azul y profundo."),
    ("用一句话描述春天。", "", "春天来了，花儿都开了。"),
    ("Who was Lady Di?", "", "Diana, Princess of Wales, was known as Lady Di."),
    ("Cite the paper.", "", "Smith et al. (2020) show that the method works."),
    ("Say something nice.", None, "It’s a “lovely” day — isn’t it?"),
    ("Name a German city.", "", "München"),
    ("Name three cafés.", "", "Café de Flore, Café Sacher and the Naïve Café are well known."),
    ("Traduire en français", "", "Le chat est sur la table et le chien est dans le jardin."),
    (None, None, None),
    ("", "", ""),
    ("Qui est là ? Que fais-tu ici avec les autres pour le dîner ?", "Dis-moi.", "Je ne sais pas."),
]


def _literal_frame() -> pl.DataFrame:
    instruction, input, output = zip(*LITERAL_ROWS)
    return pl.DataFrame({"instruction": instruction, "input": input, "output": output},
                        schema={"instruction": pl.String, "input": pl.String, "output": pl.String})


def _assert_screens_as_before(frame: pl.DataFrame) -> pl.Series:
    screened = frame.select(L.plainly_english().alias("new"), _old_plainly_english().alias("old"))
    assert screened.get_column("new").to_list() == screened.get_column("old").to_list()
    return screened.get_column("new")


def test_staged_prescreen_marks_the_rows_the_expression_marked_on_literal_rows():
    plain = _assert_screens_as_before(_literal_frame())
    assert plain.any() and not plain.all()
    chunked = pl.concat([_literal_frame(), _literal_frame()], rechunk=False)
    assert chunked.n_chunks() > 1
    _assert_screens_as_before(chunked)


@needs_real_data()
def test_staged_prescreen_marks_the_rows_the_expression_marked_on_the_real_data():
    plain = _assert_screens_as_before(real_frame())
    assert plain.sum() > 0.9 * plain.len() and not plain.all()


def test_profile_map_holds_what_langdetect_builds():
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    eager = DetectorFactory()
    eager.load_profile(PROFILES_DIRECTORY)
    lazy = L._load_profiles(PROFILES_DIRECTORY)
    assert lazy.langlist == eager.langlist
    assert set(lazy.word_lang_prob_map) == set(eager.word_lang_prob_map)
    assert "zzzz" not in lazy.word_lang_prob_map
    for word, probabilities in eager.word_lang_prob_map.items():
        assert lazy.word_lang_prob_map[word] == probabilities, word
    with pytest.raises(KeyError):
        lazy.word_lang_prob_map["zzzz"]


def test_detection_with_the_lazy_map_answers_as_langdetects_loader():
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    eager = DetectorFactory()
    eager.load_profile(PROFILES_DIRECTORY)
    eager.set_seed(L.SEED)
    texts = ["\n".join(field or "" for field in row) for row in LITERAL_ROWS if any(row)]
    answers = []
    for text in texts:
        detector = eager.create()
        detector.append(text[: L.DETECT_CHARS])
        answers.append(detector.detect())
    L.detect_language.cache_clear()
    assert [L.detect_language(text) for text in texts] == answers
    assert {"de", "es", "fr", "en"} <= set(answers)
