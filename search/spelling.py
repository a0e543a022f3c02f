"""Did you mean: corrections from the index's own vocabulary, kept only if they find more.

Corrections come from the unstemmed spelling fields (``spell_body_uk`` holds
``мобілізація``, not the lemma), in the query word's script: Cyrillic words
are corrected from Ukrainian and Russian texts, Latin ones from English and
the rest.  A correction is offered only when the corrected query finds more
hits than the original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from search.querylang import Node as QueryNode
from search.querylang import Word, leaves

MAX_WORDS = 4
CANDIDATES = 4


def _languages(word: str) -> tuple[str, ...]:
    cyrillic = sum(1 for c in word if "\u0400" <= c <= "\u04ff")
    return ("uk", "ru") if cyrillic * 2 >= len(word) else ("en", "other")


def candidates(searcher: Any, word: str) -> list[str]:
    """Index words close to ``word`` in its script's languages, best first."""
    lowered = word.lower()
    found: list[str] = []
    for lang in _languages(lowered):
        try:
            corrector = searcher.corrector(f"body_{lang}")
        except KeyError:
            continue
        for suggestion in corrector.suggest(lowered, limit=CANDIDATES, maxdist=2, prefix=1):
            if suggestion != lowered and suggestion not in found:
                found.append(suggestion)
    return found


def did_you_mean(
    text: str, node: QueryNode, total: int, searcher: Any, count: Callable[[str], int]
) -> str | None:
    """A corrected query finding more than ``total`` hits, or None.

    Words are corrected one at a time, each keeping the candidate that finds
    the most hits; fielded, negated and operator words are left alone.
    """
    best_text, best_total = text, total
    words = [
        leaf
        for leaf in leaves(node)
        if isinstance(leaf, Word) and leaf.field in (None, "title", "body")
    ]
    shift = 0
    for leaf in words[:MAX_WORDS]:
        surface = leaf.text
        if not any(c.isalpha() for c in surface):
            continue
        start = leaf.pos + shift + (len(leaf.field) + 1 if leaf.field else 0)
        if best_text[start : start + len(surface)] != surface:
            continue
        chosen: tuple[str, int] | None = None
        for candidate in candidates(searcher, surface):
            trial = best_text[:start] + candidate + best_text[start + len(surface) :]
            hits = count(trial)
            if hits > best_total and (chosen is None or hits > chosen[1]):
                chosen = (candidate, hits)
        if chosen is not None:
            best_text = best_text[:start] + chosen[0] + best_text[start + len(surface) :]
            shift += len(chosen[0]) - len(surface)
            best_total = chosen[1]
    return best_text if best_text != text else None
