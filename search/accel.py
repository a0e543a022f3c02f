"""The accelerated scoring path: a query plan evaluated over numpy postings.

``compile.py`` turns a query into a plan (``plan.py``); here the plan is evaluated with
array operations over the generation's postings (``storage/postings/``) instead of Whoosh's
pure-Python matchers, with Whoosh's semantics and scores for every node:

* ``Term`` on a text field: BM25F weight x the term's boost;
* ``BestOf`` (an ambiguous word's lemmas): documents matching any option, scored by the
  best option, x its boost (of text terms: a maximum over their postings, which then count
  as one term's);
* ``AnyOf``: documents matching any part, scores summed over matching parts;
* ``AllOf``: documents matching every part, scores summed;
* ``Excluding``: every other live document, score 1 (Whoosh's ``InverseMatcher``);
* ``Every``: every live document, score 1; ``Nothing``: nothing;
* ``Values`` (``category:war``): its documents, score 1;
* ``Require`` (an exact word, ``exact.py``; a name's case, ``namequery.name_case``): the
  documents of its query that also match its ``required`` part (the ``Values`` of the
  documents holding the form, or text terms), scored by the query alone.

A ``Phrase`` is matched from the positions the postings hold (``phrase.py``), scored as
Whoosh's phrase matcher scores it.  Where the postings hold no positions for one of its
words (a generation of the format before positions, a term too frequent in one document),
Whoosh's own matcher answers that node through the door (``storage/whoosh_query.py``), in
the segments holding all of its words only.  ``evaluate_with_whoosh`` is the reference: the
whole plan by Whoosh's matchers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

import numpy as np
import numpy.typing as npt

from newsearch.search.phrase import match_phrase
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
from newsearch.search.storage.postings import FIELDS, Postings
from newsearch.search.storage.whoosh import Searcher, whoosh_matches

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]
_TEXT_FIELDS = frozenset(FIELDS)

TextTerm = Term | BestOf
"""A text field's term, or a ``BestOf`` of them (scored as one term): see ``_is_text_term``."""


@dataclass(frozen=True)
class Evaluated:
    """Which documents a query matches, and their scores.

    A score is meaningful only where ``matched`` is set: zeroing the rest would be a
    pass over every document for each And (40 us at 100k documents, a quarter of a
    two-word query's matching).
    """

    matched: Mask
    scores: Scores


def evaluate(query: Plan, postings: Postings, searcher: Searcher, live: Mask) -> Evaluated:
    """Match and score ``query`` (a compiled plan) over every document.

    ``searcher`` is the generation's Whoosh searcher, used only for phrases (and any node
    the arrays cannot answer); ``live`` marks the documents not deleted.
    """
    matched, scores = _Evaluator(postings, searcher, live).node(query)
    return Evaluated(matched=matched, scores=scores)


def evaluate_with_whoosh(query: Plan, searcher: Searcher, live: Mask) -> Evaluated:
    """The reference path: Whoosh's matcher for the whole plan, walked once.

    Every match with its score, for generations without postings (and for tests).
    Whoosh's own top-k (``searcher.search(q, limit=k)``) is not used: on
    multi-segment indexes it returned lower-scored documents ahead of better
    ones for some queries (whoosh3 3.54, ``(a OR b) language:uk``).
    """
    matched, scores = whoosh_matches(query, searcher, np.asarray(live, dtype=np.bool_))
    return Evaluated(matched=matched, scores=scores)


class _Evaluator:
    def __init__(self, postings: Postings, searcher: Searcher, live: Mask) -> None:
        self.postings = postings
        self.searcher = searcher
        self.live = np.asarray(live, dtype=np.bool_)
        self.size = postings.size

    def node(self, q: Plan) -> tuple[Mask, Scores]:
        if _is_text_term(q):
            return self._terms([q])
        match q:
            case Nothing():
                return self._nothing()
            case Every():
                return self.live.copy(), self.live.astype(np.float64)
            case Values():
                matched = np.zeros(self.size, dtype=np.bool_)
                matched[q.docnums] = True
                return matched, matched.astype(np.float64)
            case BestOf():
                return self._best_of(q)
            case AnyOf(parts):
                terms = [c for c in parts if _is_text_term(c)]
                matched, scores = self._terms(terms)  # 0 where unmatched, as sums need
                for child in parts:
                    if not _is_text_term(child):
                        m, s = self.node(child)
                        matched |= m
                        np.add(scores, s, out=scores, where=m)
                return matched, scores
            case AllOf(parts):
                groups = [g for g in map(_term_group, parts) if g is not None]
                if len(groups) == len(parts):
                    return self._all_of(groups)
                matched, scores = self.node(parts[0])
                for child in parts[1:]:
                    m, s = self.node(child)
                    matched &= m
                    scores += s
                return matched, scores
            case Excluding(part):
                inner, _ = self.node(part)
                matched = self.live & ~inner
                return matched, matched.astype(np.float64)
            case Phrase() if q.field in _TEXT_FIELDS:
                return self._phrase(q)
            case Require(query, required):
                matched, scores = self.node(query)
                if matched.any():
                    matched &= self._holding(required)
                return matched, scores
        return whoosh_matches(q, self.searcher, self.live)

    def _holding(self, q: Plan) -> Mask:
        """The live documents matching ``q``, unscored: a ``Values``' from its numbers, text
        terms' from their postings (``namequery.name_case``), anything else as evaluated."""
        group = _term_group(q)
        if isinstance(q, Values):
            found = np.zeros(self.size, dtype=np.bool_)
            found[q.docnums] = True
        elif group is not None:
            found = _marked(self._postings(group), self.size)
        else:
            found = self.node(q)[0]
        found &= self.live
        return found

    def _best_of(self, q: BestOf) -> tuple[Mask, Scores]:
        """``BestOf`` of other options than text terms (a phrase's readings): documents
        matching any option, each scored by its best option."""
        matched, scores = self.node(q.options[0])
        for child in q.options[1:]:
            m, s = self.node(child)
            both = matched & m
            np.maximum(scores, s, out=scores, where=both)
            only = m & ~matched
            scores[only] = s[only]
            matched |= m
        return matched, self._boosted(scores, q.boost)

    def _phrase(self, q: Phrase) -> tuple[Mask, Scores]:
        """A phrase, from our postings' positions (``phrase.py``); where they have none, by
        Whoosh's matcher, in the segments holding all its words only.

        Only documents with every word of the phrase (our postings) can match, so
        segments without one are skipped: their term lookups were most of a phrase's
        time on a build of many segments.
        """
        hits = match_phrase(self.postings, q.field, q.words, 1, float(q.boost))
        if hits is not None:
            return hits.dense(self.size, self.live)
        candidates: npt.NDArray[np.int32] | None = None
        for word in q.words:
            docs, _ = self.postings.lookup(q.field, word)
            candidates = docs if candidates is None else np.intersect1d(candidates, docs)
            if candidates.size == 0:
                return self._nothing()
        return whoosh_matches(q, self.searcher, self.live, candidates)

    @staticmethod
    def _boosted(scores: Scores, boost: float) -> Scores:
        if boost != 1.0:
            scores *= boost
        return scores

    def _nothing(self) -> tuple[Mask, Scores]:
        return np.zeros(self.size, dtype=np.bool_), np.zeros(self.size)

    def _postings(self, group: list[tuple[TextTerm, float]]) -> _Group:
        """The postings of a group's terms that occur, each with its score factor (a
        ``BestOf`` of terms: one posting per document, its best lemma's weight)."""
        found: _Group = []
        for term, factor in group:
            if isinstance(term, BestOf):
                docs, weights = self._best_postings(term.options)
            else:
                docs, weights = self.postings.lookup(term.field, term.text)
            if docs.size:
                found.append((docs, weights, factor))
        return found

    def _best_postings(
        self, terms: tuple[Term, ...] | tuple[Phrase, ...]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """One posting per document holding any of ``terms``: the largest of its terms'
        boosted weights."""
        looked = []
        for t in terms:
            assert isinstance(t, Term)  # _is_text_term: a BestOf of terms only
            docs, weights = self.postings.lookup(t.field, t.text)
            if docs.size:
                # A float32 array times a Python float stays float32 (astype copies nothing).
                boosted = (
                    weights
                    if t.boost == 1.0
                    else (weights * t.boost).astype(np.float32, copy=False)
                )
                looked.append((docs, boosted))
        if len(looked) <= 1:
            return looked[0] if looked else (np.zeros(0, np.int32), np.zeros(0, np.float32))
        docs = np.concatenate([d for d, _ in looked])
        weights = np.concatenate([w for _, w in looked])
        order = np.argsort(docs, kind="stable")
        docs, weights = docs[order], weights[order]
        starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
        return docs[starts], np.maximum.reduceat(weights, starts)

    def _all_of(self, groups: list[list[tuple[TextTerm, float]]]) -> tuple[Mask, Scores]:
        """An AllOf text terms and AnyOfs of text terms (a plain words query): a document
        matches when it holds a term of every group; its score is the sum of its terms'.

        A boolean mark per group and one weighted count over every group's postings,
        rather than a dense score array per group (each ~25 us at 100k documents).
        """
        looked = [self._postings(g) for g in groups]
        if not all(looked):
            return self._nothing()  # a group without postings: nothing matches
        matched = _marked(looked[0], self.size)
        for group in looked[1:]:
            matched &= _marked(group, self.size)
        if not matched.any():
            return self._nothing()
        return matched, _count([posting for group in looked for posting in group], self.size)

    def _terms(self, terms: list[TextTerm]) -> tuple[Mask, Scores]:
        """Several text terms at once (an AnyOf): their summed weights, by document."""
        group = self._postings([(t, t.boost) for t in terms])
        if not group:
            return self._nothing()
        # Marked from the postings rather than as ``scores > 0``: a pass over every
        # document's score (20 us at 100k) for what is usually a few hundred documents.
        return _marked(group, self.size), _count(group, self.size)


_Group = list[tuple[npt.NDArray[np.int32], npt.NDArray[np.float32], float]]
"""A group's postings: (documents, BM25F weights, score factor) of each term."""


def _scaled(weights: npt.NDArray[np.float32], factor: float) -> Scores:
    wide = weights.astype(np.float64)
    if factor != 1.0:
        wide *= factor
    return wide


def _marked(group: _Group, size: int) -> Mask:
    """The documents holding any of a group's postings."""
    mark = np.zeros(size, dtype=np.bool_)
    for docs, _, _ in group:
        mark[docs] = True
    return mark


def _count(group: _Group, size: int) -> Scores:
    """Summed weights by document, as a dense array of ``size`` (0: no posting)."""
    return np.bincount(
        np.concatenate([docs for docs, _, _ in group]),
        weights=np.concatenate([_scaled(w, f) for _, w, f in group]),
        minlength=size,
    ).astype(np.float64, copy=False)


def _term_group(q: Plan) -> list[tuple[TextTerm, float]] | None:
    """A text term, or an AnyOf text terms, as (term, score factor) pairs; None for
    any other node."""
    if _is_text_term(q):
        return [(q, q.boost)]
    if isinstance(q, AnyOf):
        terms = [c for c in q.parts if _is_text_term(c)]
        if len(terms) == len(q.parts):
            return [(c, c.boost) for c in terms]
    return None


def _is_text_term(q: Plan) -> TypeGuard[TextTerm]:
    """A text field's term, or a ``BestOf`` of them (scored as one term)."""
    if isinstance(q, Term):
        return q.field in _TEXT_FIELDS
    return isinstance(q, BestOf) and all(
        isinstance(c, Term) and c.field in _TEXT_FIELDS for c in q.options
    )
