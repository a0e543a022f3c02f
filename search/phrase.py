"""Phrases and proximity matched from the positions in our own postings (``storage/postings/``).

A phrase ``"a b c"`` in a field matches the documents where its words stand at
consecutive positions.  Candidates are the documents holding every word (an intersection
of the words' document arrays); the positions of the candidates' postings are then
checked with array operations over all candidates at once, no Python loop per document
or position: each word's positions become keys ``candidate * stride + position - i``
(``i`` its place in the phrase), sorted as they come, and a phrase starts wherever every
word has the same key.  Proximity (``near``: words within ``slop`` positions, in order or
not) joins spans word by word with the same keys.

Semantics and scores are Whoosh's (whoosh3 ``query/positional.py`` ``Phrase``, which
matches through ``query/spans.py`` ``SpanNear2(terms, slop, ordered=True, mindist=1)``):

* a span starts as a term's position; each next word's position ``b`` joins a span
  ``(start, end)`` when ``1 <= b - end <= slop`` (after it), or, unordered, also when
  ``1 <= start - b <= slop`` (before it); a position inside the span overlaps it and never
  joins; the joined span is ``(min(start, b), max(end, b))``, and a document's spans are a
  set (so a phrase's frequency is the number of distinct spans);
* a matching document's score is its words' BM25F scores summed (the span matcher wraps an
  ``IntersectionMatcher`` of the words' term matchers, whose score is the sum of theirs;
  a word twice in the phrase counts twice), times the phrase's boost (``WrappingMatcher``).
  The phrase frequency does not enter the score.  The words' BM25F scores are the
  postings' precomputed weights, so they are Whoosh's up to float32 rounding (and, on a
  generation with deleted documents Whoosh has not merged away, up to its counting them).

When the postings hold no positions for a word (an older format, or a term some document
holds ``MAX_TF`` times or more in one field) the functions return None and the caller
asks Whoosh's matcher instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from newsearch.search.storage.postings import Postings, TermPositions

Ints = npt.NDArray[np.int64]
_MAX_KEY = 1 << 62
"""Keys ``candidate * stride + position`` stay below this (int64): beyond it, Whoosh answers."""


@dataclass(frozen=True)
class PhraseHits:
    """The documents a phrase matches (ascending), how often it occurs in each (distinct
    spans) and their scores (the phrase's boost applied)."""

    docs: npt.NDArray[np.int32]
    frequency: Ints
    scores: npt.NDArray[np.float64]

    def dense(
        self, size: int, live: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
        """(matched, scores) over every document of a generation of ``size``, kept to
        ``live`` ones (scores are meaningful where matched)."""
        matched = np.zeros(size, dtype=np.bool_)
        scores = np.zeros(size)
        matched[self.docs] = True
        scores[self.docs] = self.scores
        matched &= live
        return matched, scores


def match_phrase(
    postings: Postings, field: str, words: Sequence[str], slop: int = 1, boost: float = 1.0
) -> PhraseHits | None:
    """The documents where ``words`` stand in order in ``field``, each next one at most
    ``slop`` positions after the previous (1: side by side), as Whoosh's ``Phrase``;
    None when the postings hold no positions for one of the words."""
    return _match(postings, field, words, slop, True, boost)


def match_near(
    postings: Postings,
    field: str,
    words: Sequence[str],
    slop: int,
    ordered: bool = False,
    boost: float = 1.0,
) -> PhraseHits | None:
    """The documents where ``words`` stand within ``slop`` positions of each other in
    ``field``, in any order unless ``ordered`` (``"a b"~5``), as Whoosh's
    ``SpanNear2(terms, slop, ordered, mindist=1)``; None as for ``match_phrase``."""
    return _match(postings, field, words, slop, ordered, boost)


def _match(
    postings: Postings,
    field: str,
    words: Sequence[str],
    slop: int,
    ordered: bool,
    boost: float,
) -> PhraseHits | None:
    if slop < 1:
        raise ValueError(f"slop must be at least 1, not {slop}")
    looked: list[TermPositions] = []
    for word in words:
        found = postings.positions(field, word)
        if found is None:
            return None
        looked.append(found)
    if not looked or any(t.docs.shape[0] == 0 for t in looked):
        return _nothing()
    # Candidates: the rarest word's documents, kept where every other word has a posting
    # too (binary searches in its documents, ascending within a key as the format keeps
    # them), with each word's row of each candidate.
    by_size = sorted(range(len(looked)), key=lambda i: looked[i].docs.shape[0])
    candidates = looked[by_size[0]].docs
    row_of: dict[int, Ints] = {by_size[0]: np.arange(candidates.shape[0], dtype=np.int64)}
    for i in by_size[1:]:
        docs = looked[i].docs
        at = np.searchsorted(docs, candidates)
        held = np.take(docs, at, mode="clip") == candidates
        if not held.all():
            candidates, at = candidates[held], at[held]
            row_of = {k: r[held] for k, r in row_of.items()}
            if candidates.shape[0] == 0:
                return _nothing()
        row_of[i] = at
    rows = [row_of[i] for i in range(len(looked))]
    scores = np.zeros(candidates.shape[0])
    for t, row in zip(looked, rows, strict=True):
        scores += t.weights[row]
    positions = [_candidate_positions(t, row) for t, row in zip(looked, rows, strict=True)]
    # Above any position (of the positions' type) with room for the slop and the offsets.
    stride = int(np.iinfo(looked[0].pos.dtype).max) + slop + len(words) + 1
    if candidates.shape[0] * stride >= _MAX_KEY:
        return None
    if slop == 1 and ordered:
        frequency = _adjacent(positions, stride, candidates.shape[0])
    else:
        frequency = _near(positions, stride, candidates.shape[0], slop, ordered)
    matched = frequency > 0
    return PhraseHits(
        docs=candidates[matched],
        frequency=frequency[matched],
        scores=scores[matched] * boost if boost != 1.0 else scores[matched],
    )


def _nothing() -> PhraseHits:
    return PhraseHits(np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0))


def _candidate_positions(t: TermPositions, row: Ints) -> tuple[Ints, Ints]:
    """(candidate, position) of every position of the postings ``row`` of ``t`` (one per
    candidate, in candidate order): sorted by candidate, then position."""
    counts = t.tf[row].astype(np.int64)
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    index = np.repeat(t.starts[row] - first, counts) + np.arange(total, dtype=np.int64)
    owner = np.repeat(np.arange(row.shape[0], dtype=np.int64), counts)
    return owner, t.pos[index].astype(np.int64)


def _adjacent(positions: list[tuple[Ints, Ints]], stride: int, candidates: int) -> Ints:
    """Per candidate, the positions where word 0 is followed by word 1, 2, ... at the next
    positions: keys ``candidate * stride + position - i`` held by every word ``i``."""
    owner, pos = positions[0]
    starts = owner * stride + pos
    for i, (owner, pos) in enumerate(positions[1:], start=1):
        keys = owner * stride + pos - i  # sorted: by candidate, then position
        at = np.searchsorted(keys, starts)
        held = at < keys.shape[0]
        held[held] = keys[at[held]] == starts[held]
        starts = starts[held]
        if starts.shape[0] == 0:
            break
    if starts.shape[0] > 1:  # a position twice (a lemma twice in one word) is one start
        starts = starts[np.concatenate(([True], starts[1:] != starts[:-1]))]
    return np.bincount(starts // stride, minlength=candidates).astype(np.int64)


def _near(
    positions: list[tuple[Ints, Ints]], stride: int, candidates: int, slop: int, ordered: bool
) -> Ints:
    """Per candidate, the distinct spans joining each word in turn within ``slop`` of the
    span so far (after it; unordered, before it too): Whoosh's ``SpanNear2`` spans."""
    owner, pos = positions[0]
    base = owner * stride
    start, end = base + pos, base + pos  # spans as keys: candidate * stride + position
    for owner, pos in positions[1:]:
        keys = owner * stride + pos
        first_pos = start - (start // stride) * stride
        windows = [(end + 1, end + slop)]
        if not ordered:
            windows.append((start - np.minimum(slop, first_pos), start - 1))
        joined_start, joined_end = [], []
        for lo, hi in windows:
            a = np.searchsorted(keys, lo, side="left")
            b = np.searchsorted(keys, hi, side="right")
            n = np.maximum(b - a, 0)
            span = np.repeat(np.arange(start.shape[0]), n)
            index = np.repeat(a - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
            b_key = keys[index]
            joined_start.append(np.minimum(start[span], b_key))
            joined_end.append(np.maximum(end[span], b_key))
        start, end = _distinct(np.concatenate(joined_start), np.concatenate(joined_end))
        if start.shape[0] == 0:
            break
    return np.bincount(start // stride, minlength=candidates).astype(np.int64)


def _distinct(start: Ints, end: Ints) -> tuple[Ints, Ints]:
    """The distinct (start, end) pairs, sorted by start then end."""
    order = np.lexsort((end, start))
    start, end = start[order], end[order]
    if start.shape[0] > 1:
        new = np.concatenate(([True], (start[1:] != start[:-1]) | (end[1:] != end[:-1])))
        start, end = start[new], end[new]
    return start, end
