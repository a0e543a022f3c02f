"""Strings numbered where an article is analyzed, sent once, resolved where they are counted.

A parallel build analyzes articles in worker processes and collects their postings
and vocabulary in the main process.  Sent as strings, an article's hundreds of
distinct terms and words would each cost the main process, the build's bottleneck, a
lookup in its large tables.  Instead a worker numbers the strings it meets during one run
(``Numbering``), sends each string once with its number and every article as arrays
of numbers; the main process keeps each worker's strings (``Numbered``) and resolves
numbers once per distinct string, when it writes.

A worker's numbers mean something only with its strings: every batch says which
``Numbering`` (``origin``) it comes from and carries the strings numbered while
preparing it, as ``(first number, strings)``.  Chunks may arrive in any order; the
main process refuses to resolve an origin with a gap.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from newsearch.search.analysis import LEMMA_SEPARATOR, WordMemo

K = TypeVar("K", bound=Hashable)

Fresh = tuple[int, list[K]]
"""Strings numbered since the last ``fresh()``: (number of the first, the strings)."""


class Numbering(Generic[K]):
    """Numbers 0, 1, 2, ... for the distinct keys one process meets in one run."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex
        self.keys: list[K] = []
        self._numbers: dict[K, int] = {}
        self._sent = 0

    def number(self, key: K) -> int:
        """The number of ``key`` (a new one the first time)."""
        found = self._numbers.get(key)
        if found is None:
            found = self._numbers[key] = len(self.keys)
            self.keys.append(key)
        return found

    def fresh(self) -> Fresh[K]:
        """The keys numbered since the last call, to send with what uses them."""
        start, self._sent = self._sent, len(self.keys)
        return start, self.keys[start:]


class Numbered(Generic[K]):
    """The keys of every origin, by number, gathered from the chunks sent with articles."""

    def __init__(self) -> None:
        self._chunks: dict[str, list[Fresh[K]]] = {}

    def define(self, origin: str, fresh: Fresh[K]) -> None:
        """Record a chunk of ``origin``'s keys (empty chunks are ignored)."""
        if fresh[1]:
            self._chunks.setdefault(origin, []).append(fresh)

    def keys(self, origin: str) -> list[K]:
        """``origin``'s keys by number (ValueError if a chunk is missing)."""
        keys: list[K] = []
        for start, chunk in sorted(self._chunks.get(origin, []), key=lambda c: c[0]):
            if start != len(keys):
                raise ValueError(f"keys {len(keys)}..{start - 1} of {origin} never arrived")
            keys.extend(chunk)
        return keys


class RunNumbers:
    """What one process numbers during one run: the term of each surface word (per
    language) and the vocabulary words of each surface word (keyed by language).

    A surface word costs one dictionary lookup once met, as with ``analysis.word_terms``,
    which this replaces when indexing: the numbers come with that lookup.  Past ``limit``
    words a language's memo is emptied (the numbers stay valid).
    """

    def __init__(
        self,
        term_of: Callable[[str, str], str],
        words_of: Callable[[str, str], tuple[str, ...]],
        limit: int = 200_000,
    ) -> None:
        self.terms: Numbering[str] = Numbering()
        self.words: Numbering[tuple[str, str]] = Numbering()
        self.lemmas: dict[int, tuple[int, ...]] = {}
        """The numbers of each numbered position term's lemmas, for the ambiguous words'
        position terms only (most words have one lemma: their term is their number)."""
        self._term_numbers = WordMemo(lambda lang, word: self._number(term_of(lang, word)), limit)
        self._word_numbers = WordMemo(
            lambda lang, word: tuple(self.words.number((lang, w)) for w in words_of(lang, word)),
            limit,
        )

    def _number(self, term: str) -> int:
        """The number of a position term, with its lemmas numbered if it has several."""
        number = self.terms.number(term)
        if LEMMA_SEPARATOR in term and number not in self.lemmas:
            self.lemmas[number] = tuple(map(self.terms.number, term.split(LEMMA_SEPARATOR)))
        return number

    def term_numbers(self, language: str, split: list[str]) -> list[int]:
        """The number of the term of each surface word of ``split``, in order."""
        return self._term_numbers.many(language, split)

    def word_numbers(self, language: str, distinct: list[str]) -> set[int]:
        """The numbers of the vocabulary words of distinct surface words."""
        result: set[int] = set().union(*self._word_numbers.many(language, distinct))
        return result
