"""The positions part of the postings (``format.py``): the arrays of a term's postings
with their positions, and the helpers that write them.

``pos.npy`` holds every posting's positions in turn, term-major like the postings: a
key's ``tf`` positions per posting, ascending, from ``pos_ptr[key]``.  Nothing per posting
says where its positions start: that is the sum of the ``tf`` before it in its key.  When
a key's positions do not add up to its ``tf`` (a posting without positions: a field whose
term frequency was capped), the key has no usable positions.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class TermPositions:
    """The postings of a term in a field with their positions: posting ``i`` (document
    ``docs[i]``, BM25F weight ``weights[i]``) has positions ``pos[starts[i]:starts[i] +
    tf[i]]``, ascending."""

    docs: npt.NDArray[np.int32]
    weights: npt.NDArray[np.float32]
    tf: npt.NDArray[np.uint16]
    starts: npt.NDArray[np.int64]
    pos: npt.NDArray[Any]


@dataclass(frozen=True)
class RunPositions:
    """The positions of a build's own postings (``PostingsBuilder``)."""

    count: npt.NDArray[np.uint16]
    """Per posting of the run, how many positions it has: its tf, or 0."""
    pos: npt.NDArray[np.uint32]
    """Every posting's positions in turn."""


def joined(a: array[int], b: array[int], dtype: type[Any]) -> npt.NDArray[Any]:
    """Two arrays end to end, without a copy when one is empty (a build adds its documents
    numbered, ``add_numbered``: the other is)."""
    if not a or not b:
        return np.frombuffer(a if a else b, dtype=dtype)
    return np.concatenate([np.frombuffer(a, dtype=dtype), np.frombuffer(b, dtype=dtype)])


def exclusive_cumsum(values: npt.NDArray[Any], dtype: type[Any] = np.int64) -> npt.NDArray[Any]:
    """Where each item starts when ``values`` are laid end to end: 0, v0, v0+v1, ..."""
    out = np.zeros(values.shape[0], dtype=dtype)
    if values.shape[0] > 1:
        np.cumsum(values[:-1], dtype=dtype, out=out[1:])
    return out


def posting_positions(
    ptr: npt.NDArray[np.int64], tf: npt.NDArray[np.uint16], pos_ptr: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.int64]]:
    """(count, start in ``pos``) of each posting's positions in written postings: a key's
    postings have theirs in turn, ``counts(tf)`` each (none for a frequency that reached the
    cap), when its positions add up to that; a key whose positions do not (written when a
    capped term took its whole field's positions along) keeps none."""
    counts = capped_counts(tf)
    within = exclusive_cumsum(counts)
    ends = np.concatenate((within, [within[-1] + int(counts[-1]) if counts.shape[0] else 0]))
    term_first = ends[ptr[:-1]]
    whole = (ends[ptr[1:]] - ends[ptr[:-1]]) == np.diff(pos_ptr)
    runs = np.diff(ptr)
    start = within + np.repeat(pos_ptr[:-1] - term_first, runs)
    count = np.where(np.repeat(whole, runs), counts, np.uint16(0)).astype(np.uint16)
    return count, start


def capped_counts(tf: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint16]:
    """How many positions postings of frequency ``tf`` hold: all of them, but none where the
    frequency reached the uint16 cap (it may stand for more occurrences than it counts)."""
    cap = np.iinfo(np.uint16).max
    return np.where(tf < cap, tf, 0).astype(np.uint16)


_GATHER = 1 << 20
"""Postings whose positions are gathered at a time (int64 temporaries stay small)."""


def gathered(
    sources: list[npt.NDArray[Any]],
    start: npt.NDArray[Any],
    order: npt.NDArray[Any],
    count: npt.NDArray[np.uint16],
) -> npt.NDArray[Any]:
    """The positions of postings ``order`` (already applied to ``count``) in turn: posting
    ``order[i]`` has ``count[i]`` of them from ``start[order[i]]`` of ``sources`` laid end to end.
    uint16 when every position fits, else uint32."""
    bounds = np.cumsum([0] + [s.shape[0] for s in sources])
    wide = any(
        s.shape[0] and (s.dtype != np.uint16 and int(s.max()) > np.iinfo(np.uint16).max)
        for s in sources
    )
    total = int(count.sum(dtype=np.int64))
    out = np.empty(total, dtype=np.uint32 if wide else np.uint16)
    at = 0
    for first in range(0, order.shape[0], _GATHER):
        c = count[first : first + _GATHER]
        n = int(c.sum(dtype=np.int64))
        if n == 0:
            continue
        s = start[order[first : first + _GATHER]].astype(np.int64)
        index = np.repeat(s - exclusive_cumsum(c), c) + np.arange(n, dtype=np.int64)
        part = out[at : at + n]
        for i, source in enumerate(sources):
            mine = (index >= bounds[i]) & (index < bounds[i + 1])
            part[mine] = source[index[mine] - bounds[i]]
        at += n
    return out
