"""Did you mean: corrections from the index's own vocabulary, kept only if they find more.

Corrections come from the generation's vocabulary of surface words
(``мобілізація``, not the lemma; see ``vocab.py``), in the query word's script: Cyrillic words
are corrected from Ukrainian and Russian texts, Latin ones from English and
the rest.  Only words that find nothing by themselves are corrected (as
Lucene's default ``SUGGEST_WHEN_NOT_IN_INDEX``: ``energy`` is never "corrected"
to ``every``), and a correction is offered only when the corrected query finds
more hits than the original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from search.analysis import lemmas_of
from search.compile import SEARCHED_FIELDS, Present, word_analyses
from search.querylang import Node as QueryNode
from search.querylang import Word, leaves
from search.vocab import Vocabulary, surface

MAX_WORDS = 4
CANDIDATES = 4


def _languages(word: str) -> tuple[str, ...]:
    cyrillic = sum(1 for c in word if "\u0400" <= c <= "\u04ff")
    return ("uk", "ru") if cyrillic * 2 >= len(word) else ("en", "other")


def candidates(vocabulary: Vocabulary, word: str) -> list[str]:
    """Archive words close to ``word`` in its script's languages, best first."""
    found: list[str] = []
    for lang in _languages(word.lower()):
        lowered = surface(lang, word)
        for suggestion in vocabulary[lang].near(lowered, maxdist=2, limit=CANDIDATES):
            if suggestion != lowered and suggestion not in found:
                found.append(suggestion)
    return found


def known(searcher: Any, word: str, present: Present | None = None) -> bool:
    """Whether ``word`` alone matches some title, body or tags in some language.

    ``present`` (the generation's postings) says whether a field holds a term in some
    live document; without it Whoosh's document frequencies are asked, segment by
    segment (a fifth of a typo query's time on a 26-segment index).
    """
    if present is None:
        reader = searcher.reader()
        indexed = set(reader.indexed_field_names())

        def present(name: str, term: str) -> bool:
            return name in indexed and bool(reader.doc_frequency(name, term))

    for lang, analyzed in word_analyses(word):
        for name in SEARCHED_FIELDS[None, lang]:
            # An ambiguous word is there when one of its lemmas is.
            if all(any(present(name, lemma) for lemma in lemmas_of(t)) for t in analyzed):
                return True
    return False


def did_you_mean(
    text: str,
    node: QueryNode,
    total: int,
    searcher: Any,
    vocabulary: Vocabulary,
    count: Callable[[str], int],
    present: Present | None = None,
) -> str | None:
    """A corrected query finding more than ``total`` hits, or None.

    Each word that finds nothing by itself (up to MAX_WORDS of them) is
    replaced, in turn, by the candidate with which the query finds the most
    hits (the closest candidate on a tie), so that several misspelt words
    can be corrected together; the result is offered only if it finds more
    than the original.  Tag/category/source/language words and operators are
    left alone.
    """
    best_text, best_total = text, total
    words = [
        leaf
        for leaf in leaves(node)
        if isinstance(leaf, Word) and leaf.field in (None, "title", "body")
    ]
    shift = 0
    for leaf in words[:MAX_WORDS]:
        written = leaf.text
        if not any(c.isalpha() for c in written) or known(searcher, written, present):
            continue
        # ``pos`` is where the word itself starts (after ``title:`` for a fielded word).
        start = leaf.pos + shift
        if best_text[start : start + len(written)] != written:
            continue
        chosen: tuple[str, int] | None = None
        for candidate in candidates(vocabulary, written):
            trial = best_text[:start] + candidate + best_text[start + len(written) :]
            hits = count(trial)
            if chosen is None or hits > chosen[1]:
                chosen = (candidate, hits)
        if chosen is not None:
            best_text = best_text[:start] + chosen[0] + best_text[start + len(written) :]
            shift += len(chosen[0]) - len(written)
            best_total = chosen[1]
    return best_text if best_text != text and best_total > total else None
