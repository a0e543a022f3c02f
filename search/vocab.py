"""The surface vocabulary of a generation: which words occur, in how many documents.

Whoosh's ``spelling=True`` fields would keep the same words as postings,
which doubled build time for what did-you-mean, ``prefix*`` and ``fuzzy~``
need: a sorted word list with document frequencies per language.  It is
written beside the columns as ``vocab.json``::

    {"uk": [["армія", 3], ["армії", 2], ...], "en": [...], ...}   # words sorted

Corrections use Whoosh's own ``ListCorrector`` over these lists.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from whoosh.spelling import ListCorrector
from whoosh.support.levenshtein import damerau_levenshtein

from search.analysis import (
    LANGUAGES,
    WORD_PATTERN,
    field_language,
    fold,
    normalize_apostrophes,
    words,
)
from search.model import Article
from search.store import write_synced

_WORDS = re.compile(WORD_PATTERN)
VOCAB_FILE = "vocab.json"
MAX_WORD = 40
MAX_CANDIDATES = 2000
"""Fuzzy candidates looked at per word, at most."""


def surface(language: str, word: str) -> str:
    """The surface form kept in the vocabulary: lower case, one apostrophe, ё->е in ru."""
    text = normalize_apostrophes(word.lower())
    lang = field_language(language)
    if lang == "ru":
        return text.replace("ё", "е")
    return fold(text) if lang == "other" else text


_SURFACE_LIMIT = 200_000
"""Surface words whose vocabulary words are remembered, per language (then all forgotten)."""
_SURFACE: dict[str, dict[str, tuple[str, ...]]] = {}


def vocabulary_words(language: str, split: Iterable[str]) -> set[str]:
    """Distinct vocabulary words among surface words (matches of WORD_PATTERN).

    Each distinct word is normalized (``surface``) and split again, as
    normalizing can split a word (folding ``½`` gives ``1⁄2``); the result is
    remembered, so a known word costs one lookup.
    """
    lang = field_language(language)
    table = _SURFACE.setdefault(lang, {})
    distinct = list(set(split))
    kept: list[Any] = list(map(table.get, distinct))  # C loops throughout: runs per article
    if None in kept:
        for i, word in enumerate(distinct):
            if kept[i] is None:
                kept[i] = _vocabulary_words(lang, word)
                if len(table) >= _SURFACE_LIMIT:
                    table.clear()
                table[word] = kept[i]
    found: set[str] = set().union(*kept)
    return found


def _vocabulary_words(lang: str, word: str) -> tuple[str, ...]:
    return tuple(
        w for w in _WORDS.findall(surface(lang, word)) if len(w) <= MAX_WORD and not w.isdigit()
    )


def article_words(article: Article) -> set[str]:
    """Distinct normalized words of an article's title, body and tags."""
    texts = (article.title, article.body, *article.tags)
    return vocabulary_words(article.language, [w for text in texts for w in words(text)])


class VocabularyBuilder:
    """Counts document frequencies per analyzer language."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {lang: Counter() for lang in LANGUAGES}

    def add(self, article: Article) -> None:
        """Count one article's words."""
        self.add_words(article.language, article_words(article))

    def add_words(self, language: str, words: Iterable[str]) -> None:
        """Count one article's distinct words (``article_words``, computed elsewhere)."""
        self.counts[field_language(language)].update(words)

    def write(self, path: Path) -> None:
        """Write vocab.json (fsynced)."""
        data = {lang: sorted(c.items()) for lang, c in self.counts.items()}
        write_synced(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


@dataclass
class LanguageVocabulary:
    """Sorted words of one language with their document frequencies."""

    words: list[str]
    df: list[int]
    _correctors: dict[str, ListCorrector] = field(default_factory=dict, repr=False)

    def prefixed(self, prefix: str, limit: int, scan: int = 20_000) -> list[str]:
        """Up to ``limit`` words starting with ``prefix``, most frequent first."""
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(
            self.words, prefix + "\U0010ffff", lo, min(len(self.words), lo + scan)
        )
        found = sorted(range(lo, hi), key=lambda i: (-self.df[i], self.words[i]))
        return [self.words[i] for i in found[:limit]]

    def frequency(self, word: str) -> int:
        """Documents containing ``word`` (0 if none)."""
        i = bisect.bisect_left(self.words, word)
        return self.df[i] if i < len(self.words) and self.words[i] == word else 0

    @cached_property
    def corrector(self) -> ListCorrector:
        """Whoosh's corrector over this word list."""
        return ListCorrector(self.words)

    def near(self, word: str, maxdist: int, limit: int) -> list[str]:
        """Words within ``maxdist`` Damerau-Levenshtein edits (first letter kept).

        Closest first, then most frequent.  Whoosh's automaton counts a
        transposition as two edits, so it is asked for one more and the
        candidates are measured again (``biatlhon`` is one edit from ``biathlon``).
        """
        found = self.corrector.suggest(word, limit=MAX_CANDIDATES, maxdist=maxdist + 1, prefix=1)
        scored = [(damerau_levenshtein(word, w, maxdist + 1), w) for w in found]
        kept = [(d, -self.frequency(w), w) for d, w in scored if d <= maxdist]
        kept.sort()
        return [w for _, _, w in kept[:limit]]


class Vocabulary:
    """All languages' vocabularies of one generation (loaded lazily)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def languages(self) -> dict[str, LanguageVocabulary]:
        """Per analyzer language."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        return {
            lang: LanguageVocabulary(
                [w for w, _ in data.get(lang, [])], [c for _, c in data.get(lang, [])]
            )
            for lang in LANGUAGES
        }

    def __getitem__(self, language: str) -> LanguageVocabulary:
        return self.languages[field_language(language)]


def build_vocabulary(articles: Iterable[Article], path: Path) -> None:
    """Count and write the vocabulary of ``articles``."""
    builder = VocabularyBuilder()
    for article in articles:
        builder.add(article)
    builder.write(path)
