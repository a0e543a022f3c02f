"""One query word with several lemmas, matched by any of them and scored once.

An ambiguous word (Києві: київ or кий) is indexed as each of its lemmas at its
position (see ``analysis.py``); searched, it must find a document holding any of
them, and score it as one word, not once per lemma it shares with the document.
``AnyLemma`` is Whoosh's ``DisjunctionMax`` (the best child's score) with a
matcher that scores the document it is on: Whoosh's own ``DisjunctionMaxMatcher``
returns the larger of its children's scores even when one child is on a later
document (whoosh3 3.54), which would add another document's lemma to the score.
The accelerated path (``accel.py``) computes the same maximum over the lemmas'
postings.
"""

from __future__ import annotations

from typing import Any

from whoosh import matching
from whoosh import query as wq


class _BestOf(matching.DisjunctionMaxMatcher):  # type: ignore[misc]  # whoosh is Any to mypy
    """The union of two matchers, scored by the better of those on the current document."""

    def score(self) -> float:
        """The larger score of the children on the current document."""
        a, b = self.a, self.b
        if not a.is_active():
            return float(b.score())
        if not b.is_active():
            return float(a.score())
        id_a, id_b = a.id(), b.id()
        if id_a < id_b:
            return float(a.score())
        if id_b < id_a:
            return float(b.score())
        return float(max(a.score(), b.score()))


class AnyLemma(wq.DisjunctionMax):  # type: ignore[misc]  # whoosh is Any to mypy
    """Documents matching any of the subqueries (a word's lemmas, or a phrase's readings
    with them), scored by the best one, times ``boost``."""

    def _matcher(self, subs: Any, searcher: Any, context: Any) -> Any:
        reader = searcher.reader()
        return self._tree_matcher(
            subs, _BestOf, searcher, context, lambda q: q.estimate_size(reader)
        )
