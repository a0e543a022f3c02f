"""The accelerated scoring path: a compiled Whoosh query evaluated over numpy postings.

``compile.py`` turns a query into a tree of Whoosh queries; here the tree is
evaluated with array operations over the generation's postings
(``postings.py``) instead of Whoosh's pure-Python matchers, with Whoosh's
semantics and scores for the shapes the compiler emits:

* ``Term`` on a text field: BM25F weight x the term's boost;
* ``Or``: documents matching any child, scores summed over matching children;
* ``And``: documents matching every child, scores summed;
* ``Not``: every other live document, score 1 (Whoosh's ``InverseMatcher``);
* ``Every``: every live document, score 1; ``NullQuery``: nothing.

Anything else (a phrase, a keyword field such as ``category:``) is evaluated by
Whoosh's own matcher for that subquery only, so its documents and scores are
Whoosh's, and only that part of the query pays Whoosh's price (a phrase only in
the segments holding all of its words).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import query as wq

from search.postings import FIELDS, Postings

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]
_TEXT_FIELDS = frozenset(FIELDS)


@dataclass(frozen=True)
class Evaluated:
    """Which documents a query matches, and their scores (0 where unmatched)."""

    matched: Mask
    scores: Scores


def evaluate(query: Any, postings: Postings, searcher: Any, live: Mask) -> Evaluated:
    """Match and score ``query`` (a compiled Whoosh query) over every document.

    ``searcher`` is the generation's Whoosh searcher, used only for subqueries
    the arrays cannot answer; ``live`` marks the documents not deleted.
    """
    matched, scores = _Evaluator(postings, searcher, live).node(query)
    return Evaluated(matched=matched, scores=scores)


def evaluate_with_whoosh(query: Any, searcher: Any, live: Mask) -> Evaluated:
    """The reference path: Whoosh's matcher for the whole query, walked once.

    Every match with its score, for generations without postings (and for tests).
    Whoosh's own top-k (``searcher.search(q, limit=k)``) is not used: on
    multi-segment indexes it returned lower-scored documents ahead of better
    ones for some queries (whoosh3 3.54, ``(a OR b) language:uk``).
    """
    live = np.asarray(live, dtype=np.bool_)
    matched, scores = _walk(query, searcher, live)
    return Evaluated(matched=matched, scores=scores)


class _Evaluator:
    def __init__(self, postings: Postings, searcher: Any, live: Mask) -> None:
        self.postings = postings
        self.searcher = searcher
        self.live = np.asarray(live, dtype=np.bool_)
        self.size = postings.size

    def node(self, q: Any) -> tuple[Mask, Scores]:
        if q is wq.NullQuery:
            return np.zeros(self.size, dtype=np.bool_), np.zeros(self.size)
        if isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
            return self.live.copy(), self.live.astype(np.float64) * float(q.boost)
        if _is_text_term(q):
            return self._terms([q])
        if type(q) is wq.Or and not q.scale and not q.minmatch:
            terms = [c for c in q.subqueries if _is_text_term(c)]
            matched, scores = self._terms(terms)
            for child in q.subqueries:
                if not _is_text_term(child):
                    m, s = self.node(child)
                    matched |= m
                    scores += s
            return matched, self._boosted(scores, q.boost)
        if type(q) is wq.And:
            matched, scores = self.node(q.subqueries[0])
            for child in q.subqueries[1:]:
                m, s = self.node(child)
                matched &= m
                scores += s
            scores[~matched] = 0.0
            return matched, self._boosted(scores, q.boost)
        if type(q) is wq.Not:
            inner, _ = self.node(q.query)
            matched = self.live & ~inner
            return matched, matched.astype(np.float64)
        if type(q) is wq.Phrase and q.fieldname in _TEXT_FIELDS:
            return self._phrase(q)
        return _walk(q, self.searcher, self.live)

    def _phrase(self, q: Any) -> tuple[Mask, Scores]:
        """A phrase, by Whoosh's matcher, in the segments holding all its words only.

        Only documents with every word of the phrase (our postings) can match, so
        segments without one are skipped: their term lookups were most of a phrase's
        time on a build of many segments.
        """
        candidates: npt.NDArray[Any] | None = None
        for word in q.words:
            docs, _ = self.postings.lookup(q.fieldname, word)
            candidates = docs if candidates is None else np.intersect1d(candidates, docs)
            if candidates.size == 0:
                return np.zeros(self.size, dtype=np.bool_), np.zeros(self.size)
        return _walk(q, self.searcher, self.live, candidates)

    @staticmethod
    def _boosted(scores: Scores, boost: float) -> Scores:
        if boost != 1.0:
            scores *= boost
        return scores

    def _terms(self, terms: list[Any]) -> tuple[Mask, Scores]:
        """Several text terms at once: one weighted count over their postings."""
        docs: list[npt.NDArray[np.int32]] = []
        weights: list[npt.NDArray[Any]] = []
        for term in terms:
            d, w = self.postings.lookup(term.fieldname, term.text)
            if d.size:
                docs.append(d)
                weights.append(w.astype(np.float64) * term.boost if term.boost != 1.0 else w)
        if not docs:
            return np.zeros(self.size, dtype=np.bool_), np.zeros(self.size)
        scores: Scores = np.bincount(
            np.concatenate(docs),
            weights=np.concatenate(weights).astype(np.float64),
            minlength=self.size,
        ).astype(np.float64, copy=False)
        # Every BM25F weight is > 0 (idf >= 1 - 1/N, tf >= 1), so a score marks a match.
        return scores > 0, scores


def _walk(
    q: Any, searcher: Any, live: Mask, candidates: npt.NDArray[Any] | None = None
) -> tuple[Mask, Scores]:
    """A (sub)query matched and scored by Whoosh's own matchers, segment by segment
    (only the segments holding one of ``candidates``, sorted docnums, when given)."""
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
    scores[~matched] = 0.0
    return matched, scores


def _is_text_term(q: Any) -> bool:
    return type(q) is wq.Term and q.fieldname in _TEXT_FIELDS
