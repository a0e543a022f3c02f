"""Language detection accuracy on the real corpora (the figures of scripts/langdetect-accuracy).

Every article of bbc-news (en), ner-uk (uk) and factRuEval-2016 (ru) goes through
``detect_language(title, body)`` exactly as the indexer calls it (``language`` is empty in the
converted articles), and again with its title alone, a short-text test.  The title is the
converted article's title (``bench/corpora.py``): line 1 for bbc-news, the first sentence of the
first line for ner-uk and factRuEval.  Measured, title + body: 1.0000 for all three (2095/2095,
560/560, 254/254), ~0.4 ms per article; titles alone: en 0.9962 (2087/2095), uk 1.0000,
ru 0.9961 (253/254; ``Corus Chess Tournament 2006`` is English).  The floors are 0.98 for
title + body and 0.99 for titles alone, per language.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import pytest

from bench import corpora
from newsearch.indexer.language import detect_language

pytestmark = pytest.mark.corpus

MIN_ACCURACY = 0.98
MIN_TITLE_ACCURACY = 0.99
LANGUAGES = ("en", "uk", "ru")


@dataclass(frozen=True)
class Outcome:
    """What detection said about one corpus: detected language -> count, and the misses."""

    confusion: Counter[str]
    misses: list[tuple[str, str]]
    ms_per_article: float

    @property
    def total(self) -> int:
        return sum(self.confusion.values())


def _outcomes(*, title_only: bool) -> dict[str, Outcome]:
    data = corpora.require_shared()
    confusion: dict[str, Counter[str]] = {lang: Counter() for lang in LANGUAGES}
    misses: dict[str, list[tuple[str, str]]] = {lang: [] for lang in LANGUAGES}
    seconds = dict.fromkeys(LANGUAGES, 0.0)
    for article in corpora.all_corpus_articles(data):
        truth = corpora.true_language(article.id)
        start = time.perf_counter()
        detected = detect_language(article.title, "" if title_only else article.body)
        seconds[truth] += time.perf_counter() - start
        confusion[truth][detected] += 1
        if detected != truth:
            misses[truth].append((article.id, detected))
    return {
        lang: Outcome(
            confusion[lang], misses[lang], 1000 * seconds[lang] / sum(confusion[lang].values())
        )
        for lang in LANGUAGES
    }


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    return _outcomes(title_only=False)


@pytest.fixture(scope="module")
def title_outcomes() -> dict[str, Outcome]:
    return _outcomes(title_only=True)


def _check(outcome: Outcome, language: str, floor: float) -> None:
    assert outcome.total == {"en": 2095, "uk": 560, "ru": 254}[language]
    accuracy = outcome.confusion[language] / outcome.total
    assert accuracy >= floor, (
        f"{language}: accuracy {accuracy:.4f} < {floor}; detected as "
        f"{dict(outcome.confusion.most_common())}; first misses {outcome.misses[:10]}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_accuracy(outcomes: dict[str, Outcome], language: str) -> None:
    _check(outcomes[language], language, MIN_ACCURACY)


@pytest.mark.parametrize("language", LANGUAGES)
def test_accuracy_on_titles_alone(title_outcomes: dict[str, Outcome], language: str) -> None:
    _check(title_outcomes[language], language, MIN_TITLE_ACCURACY)


def test_no_confusion_between_the_archive_languages(outcomes: dict[str, Outcome]) -> None:
    """Whatever the misses, an article of one archive language is never filed under another."""
    crossed = {
        (truth, detected): count
        for truth, outcome in outcomes.items()
        for detected, count in outcome.confusion.items()
        if detected != truth and detected in LANGUAGES
    }
    assert crossed == {}
