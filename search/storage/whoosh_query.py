"""The query half of the Whoosh door: a query plan (``plan.py``) as Whoosh queries, and
Whoosh's own matchers run over a generation's segments.

Whoosh still answers what our postings cannot (a phrase with a word they hold no positions
for: an older format, a term capped in some document), the reference path every accelerated
result is tested against (``accel.evaluate_with_whoosh``), and a generation built without
postings.  Two Whoosh query classes of our own live here:

* ``AnyLemma`` (a ``BestOf``): one query word with several lemmas, matched by any of them
  and scored once.  An ambiguous word (Києві: київ or кий) is indexed as each of its lemmas
  at its position (see ``analysis.py``); searched, it must find a document holding any of
  them, and score it as one word, not once per lemma it shares with the document.  It is
  Whoosh's ``DisjunctionMax`` (the best child's score) with a matcher that scores the
  document it is on: Whoosh's own ``DisjunctionMaxMatcher`` returns the larger of its
  children's scores even when one child is on a later document (whoosh3 3.54), which would
  add another document's lemma to the score.
* ``ValuesQuery`` (a ``Values``): documents given by number (``category:war``, an exact
  word's forms), each scored 1 as a Whoosh keyword term is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import matching
from whoosh import query as wq
from whoosh.searching import Searcher

from newsearch.search.plan import (
    AllOf,
    AnyOf,
    BestOf,
    Every,
    Excluding,
    Nothing,
    Phrase,
    Plan,
    Require,
    Term,
    Values,
)

__all__ = ["AnyLemma", "Searcher", "ValuesQuery", "to_whoosh", "whoosh_matches"]

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]


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


class ValuesQuery(wq.Query):  # type: ignore[misc]  # whoosh.query is Any to mypy
    """Documents whose value of ``fieldname`` is one of the archive values a clause names
    (``category:war``): from the columns, so it matches exactly what the filter with the
    same value matches.  ``text`` is the clause's folded value (``war`` or ``wa*``);
    ``docnums`` the sorted live document numbers it matches in this generation.

    Each match scores ``boost`` (1.0), as a Whoosh keyword term does.  Whoosh's matchers
    get a list per segment.
    """

    def __init__(
        self, fieldname: str, text: str, docnums: npt.NDArray[np.int64], boost: float = 1.0
    ) -> None:
        self.fieldname = fieldname
        self.text = text
        self.docnums = docnums
        self.boost = boost

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fieldname!r}, {self.text!r}, boost={self.boost})"

    def __str__(self) -> str:
        return f"{self.fieldname}:{self.text}"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, ValuesQuery)
            and (self.fieldname, self.text, self.boost)
            == (other.fieldname, other.text, other.boost)
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.fieldname, self.text, self.boost))

    def estimate_size(self, ixreader: Any) -> int:
        """How many documents match (exactly)."""
        return int(self.docnums.size)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        """The matches in ``searcher``'s documents (one segment's, or all of them)."""
        # A segment's searcher has its offset in its parent's list; a searcher of the
        # whole index (atomic or not) is in none: its documents start at 0.
        parent = searcher.get_parent()
        found = parent._offset_for_subsearcher(searcher) if parent is not None else None
        offset = int(found or 0)
        end = offset + searcher.doc_count_all()
        lo, hi = np.searchsorted(self.docnums, [offset, end])
        ids = (self.docnums[lo:hi] - offset).tolist()
        return matching.ListMatcher(ids, all_weights=self.boost)


def to_whoosh(plan: Plan) -> Any:
    """The Whoosh query that matches and scores as ``plan`` does (a normalized tree when
    the plan is one the compiler made)."""
    match plan:
        case Term(field, text, boost):
            return wq.Term(field, text, boost=boost)
        case Phrase(field, words, boost):
            return wq.Phrase(field, list(words), boost=boost)
        case BestOf(options, boost):
            return AnyLemma([to_whoosh(o) for o in options], boost=boost)
        case AnyOf(parts):
            return wq.Or([to_whoosh(p) for p in parts])
        case AllOf(parts):
            return wq.And([to_whoosh(p) for p in parts])
        case Excluding(part):
            return wq.Not(to_whoosh(part))
        case Every():
            return wq.Every()
        case Nothing():
            return wq.NullQuery
        case Values(field, text, docnums):
            return ValuesQuery(field, text, docnums)
        case Require(query, required):
            return wq.Require(to_whoosh(query), to_whoosh(required))
    raise TypeError(f"not a query plan: {plan!r}")


def whoosh_matches(
    plan: Plan, searcher: Searcher, live: Mask, candidates: npt.NDArray[np.int32] | None = None
) -> tuple[Mask, Scores]:
    """The live documents ``plan`` matches and their scores, by Whoosh's own matchers,
    segment by segment (only the segments holding one of ``candidates``, sorted docnums,
    when given)."""
    return whoosh_query_matches(to_whoosh(plan), searcher, live, candidates)


def whoosh_query_matches(
    q: Any, searcher: Searcher, live: Mask, candidates: npt.NDArray[np.int32] | None = None
) -> tuple[Mask, Scores]:
    """``whoosh_matches`` of a Whoosh query itself (the tests' reference for shapes the plan
    has no node for, such as ``SpanNear2``)."""
    matched = np.zeros(live.shape[0], dtype=np.bool_)
    scores = np.zeros(live.shape[0])
    for leaf, offset in searcher.leaf_searchers():
        if candidates is not None:
            at = int(np.searchsorted(candidates, offset))
            if at == candidates.size or candidates[at] >= offset + leaf.doc_count_all():
                continue
        m = q.matcher(leaf, leaf.context())
        ids: list[int] = []
        values: list[float] = []
        while m.is_active():
            ids.append(m.id())
            values.append(m.score())
            m.next()
        if ids:
            at = np.asarray(ids, dtype=np.int64) + offset
            matched[at] = True
            scores[at] = values
    matched &= live
    return matched, scores
