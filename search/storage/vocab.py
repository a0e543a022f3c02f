"""The surface vocabulary of a generation: which words occur, in how many documents.

Whoosh's ``spelling=True`` fields would keep the same words as postings,
which doubled build time for what did-you-mean, ``prefix*`` and ``fuzzy~``
need: a sorted word list with document frequencies per language.  It is
written beside the columns as ``vocab.json``::

    {"uk": [["армія", 3], ["армії", 2], ...], "en": [...], ...}   # words sorted

Corrections use Whoosh's own ``ListCorrector`` over these lists (through the Whoosh door).
"""

from __future__ import annotations

import bisect
import json
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from newsearch.search.analysis import (
    LANGUAGES,
    WORD_PATTERN,
    WordMemo,
    field_language,
    fold,
    normalize_apostrophes,
    words,
)
from newsearch.search.model import Article
from newsearch.search.storage.layout import write_synced
from newsearch.search.storage.numbering import Numbered, RunNumbers
from newsearch.search.storage.whoosh import ListCorrector, damerau_levenshtein

_WORDS = re.compile(WORD_PATTERN)
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


def vocabulary_words_of(lang: str, word: str) -> tuple[str, ...]:
    """The vocabulary words of one surface word (normalized, split again, long words and
    numbers left out)."""
    # Normalizing can split a word (folding ``½`` gives ``1⁄2``): split again.
    return tuple(
        w for w in _WORDS.findall(surface(lang, word)) if len(w) <= MAX_WORD and not w.isdigit()
    )


_SURFACE = WordMemo(vocabulary_words_of)


def vocabulary_words(language: str, split: Iterable[str]) -> set[str]:
    """Distinct vocabulary words among surface words (matches of WORD_PATTERN).

    Each distinct word is normalized (``surface``) and split again; the result
    is remembered, so a known word costs one lookup.
    """
    kept = _SURFACE.many(field_language(language), list(set(split)))
    found: set[str] = set().union(*kept)  # C loops throughout: this runs per article
    return found


def article_words(article: Article, title_body: list[str] | None = None) -> set[str]:
    """Distinct normalized words of an article's title, body and tags.

    ``title_body``: the surface words of title and body when the caller has them
    already (the indexer's analysis split them).
    """
    return vocabulary_words(article.language, _surface_words(article, title_body))


def article_word_numbers(article: Article, title_body: list[str], run: RunNumbers) -> bytes:
    """``article_words`` numbered by ``run`` (int32), for ``VocabularyBuilder.add_numbered``."""
    distinct = list(set(_surface_words(article, title_body)))
    found = run.word_numbers(field_language(article.language), distinct)
    return array("i", found).tobytes()


def _surface_words(article: Article, title_body: list[str] | None) -> list[str]:
    """The surface words of title, body and tags (title and body's given if split already)."""
    if title_body is None:
        title_body = [w for text in (article.title, article.body) for w in words(text)]
    return title_body + [w for t in article.tags for w in words(t)]


class VocabularyBuilder:
    """Counts document frequencies per analyzer language."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {lang: Counter() for lang in LANGUAGES}
        self.numbered: Numbered[tuple[str, str]] = Numbered()
        """The (language, word) keys of the documents added numbered."""
        self._numbers: dict[str, array[int]] = {}

    def add(self, article: Article) -> None:
        """Count one article's words."""
        self.counts[field_language(article.language)].update(article_words(article))

    def add_numbered(self, origin: str, numbers: bytes) -> None:
        """Count one article's distinct words, numbered by ``origin`` (int32; its keys are
        given to ``numbered``, before or after)."""
        self._numbers.setdefault(origin, array("i")).frombytes(numbers)

    def _count_numbered(self) -> None:
        # Once per distinct word of each origin, not once per word of each article.
        for origin, numbers in self._numbers.items():
            keys = self.numbered.keys(origin)
            counts = np.bincount(np.frombuffer(numbers, dtype=np.int32), minlength=len(keys))
            if counts.size > len(keys):
                raise ValueError(f"vocabulary of {origin} uses word numbers it never sent")
            for number in np.flatnonzero(counts).tolist():
                lang, word = keys[number]
                self.counts[lang][word] += int(counts[number])
        self._numbers.clear()

    def write(self, path: Path) -> None:
        """Write vocab.json (fsynced)."""
        self._count_numbered()
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
