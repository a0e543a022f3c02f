"""The postings' format: per-term postings with precomputed BM25F weights, the data of the
accelerated scoring path.

Whoosh stays the index of record; beside it each generation holds, in ``postings/``,
the same postings as numpy arrays (the eager-scoring idea of the bm25s library):
every (field, term) -> the documents containing it and the Whoosh BM25F score of the
term in that field of that document, so a query is scored with a few array sums
instead of Whoosh's pure-Python matchers (see ``accel.py``).  Shapes (T terms,
P postings, N documents, F scored fields)::

    term_keys.npy     uint8 (K)    UTF-8 keys b"<term>\\x1f<field>", sorted, concatenated
                                   (a term's fields side by side: one search finds them all)
    term_key_ptr.npy  int64 (T+1)  key t is term_keys[term_key_ptr[t]:term_key_ptr[t+1]]
    ptr.npy           int64 (T+1)  postings of key t are [ptr[t], ptr[t+1])
    doc.npy           int32 (P)    document numbers, ascending within a key
    weight.npy        float32 (P)  BM25F score of the term in that field (before query boosts)
    tf.npy            uint16 (P)   term frequency (weights recomputed after updates; where
                                   each posting's positions start)
    pos_ptr.npy       int64 (T+1)  positions of key t are pos[pos_ptr[t]:pos_ptr[t+1]]
    pos.npy           uint16 (Q)   token positions of each posting in turn (tf of them,
                      or uint32    ascending), uint32 when some position is over 65535
    lengths.npy       int32 (N, F) field lengths in tokens
    docs.json                      [id, content hash] per document number (null: deleted)
    meta.json                      fields, B, K1, keys (the key layout: "term-field"),
                                   analysis (``analysis.ANALYSIS_VERSION`` of its terms),
                                   format (FORMAT_VERSION: 2 has the positions)

Positions are those Whoosh stores for the same field and document (an ambiguous word's
lemmas share its position, tags leave gaps between tags), for the fields phrases are
searched in (POSITIONAL_FIELDS); a posting's positions start where the term's earlier
postings' ``tf`` end, so no per-posting offset is stored.  A posting whose ``tf`` reached
MAX_TF (a document's field holding the term that often, or more: its ``tf`` is capped) has
no positions, so its key has fewer than its ``tf`` sum: ``Postings.positions`` says so, and
phrases with that term are left to Whoosh (``phrase.py``); the field's other terms keep
theirs, and the key gets them back in the first update without that posting.

The statistics are Whoosh's (``BM25F(B=0.75, K1=1.2)``, idf ``log(N / (df + 1)) + 1``,
field lengths quantized to one byte as Whoosh stores them) computed over the live
documents, so on a generation without deletions both paths score alike to float32
precision; Whoosh counts deleted documents until their segment is merged.

This module says what the files hold (their fields, key layout, format version and
weights) and reads their metadata; ``writer.py`` writes them (``PostingsBuilder``),
``reader.py`` maps them (``Postings``), and ``positions.py`` holds the positions part.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from newsearch.search.analysis import LANGUAGES
from newsearch.search.exact import EXACT_FIELD
from newsearch.search.fields import FIELD_KINDS, NAMES_FIELD
from newsearch.search.storage.whoosh import byte_to_length

B = 0.75
K1 = 1.2
"""Whoosh's default BM25F parameters (the searcher's weighting)."""
FIELDS: tuple[str, ...] = (
    *(f"{kind}_{lang}" for kind in FIELD_KINDS for lang in LANGUAGES),
    NAMES_FIELD,
    EXACT_FIELD,
)
"""The text fields, in column order of ``lengths`` (the names field, then the exact field:
its postings say which documents hold a form, ``exact.py``; their weights are never used)."""
FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}
POSITIONAL_FIELDS = frozenset(f for f in FIELDS if f != EXACT_FIELD)
"""The fields whose postings hold positions: every field phrases are searched in (Whoosh
stores positions for all of them, ``storage/whoosh.py``), not the exact field."""
FORMAT_VERSION = 2
"""The postings' format: 1 (no ``format`` in meta.json) has no positions; such a generation
is served, its phrases matched by Whoosh, and an update analyzes its documents again."""
KEY_SEP = "\x1f"
"""Separates a key's term from its field (``<term>\\x1f<field>``)."""
KEY_LAYOUT = "term-field"
"""Keys are term first: a query word's term is looked up in up to 12 fields, and with the
field first those were 12 searches of the key table (a third of a new word's cost).
Postings written with field-first keys (before this layout) are not read: Whoosh
answers for that generation until the next build or update writes them anew.  The
files are named ``term_keys`` so that an older version, which would misread them,
refuses the generation instead (it keeps serving the one it has)."""
MAX_TF = np.iinfo(np.uint16).max


# Whoosh keeps a field length as one byte: byte b stands for _BYTE_LENGTH[b] tokens.
_BYTE_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)

FieldStats = tuple[int, list[str], list[int], int, bytes]
"""(field index, terms, their frequencies, field length in tokens, positions) of one document
field.  The positions are uint32, each term's ``frequency`` of them in turn, ascending; empty
for a field without positions (the exact field); none for a term whose frequency reached
MAX_TF (``positions.capped_counts``)."""
NumberedStats = tuple[int, bytes, bytes, int, bytes]
"""(field index, term numbers as int32, their frequencies as uint16, field length, positions)
of one document field: ``FieldStats`` with the terms numbered (see ``numbering.py``)."""


def quantized_lengths(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Field lengths as Whoosh scores them (its one-byte encoding, decoded)."""
    codes = np.searchsorted(_BYTE_LENGTH, lengths, side="left")
    return _BYTE_LENGTH[np.minimum(codes, 255)]


_SLICE = 1 << 22
"""Postings weighed at a time (float64 temporaries stay near 100 MB)."""


def bm25_weights(
    ptr: npt.NDArray[np.int64],
    doc: npt.NDArray[Any],
    tf: npt.NDArray[np.uint16],
    field_of_key: npt.NDArray[np.int8],
    lengths: npt.NDArray[np.int32],
    documents: int,
) -> npt.NDArray[np.float32]:
    """Whoosh's BM25F score of every posting (``whoosh.scoring.bm25``), vectorized.

    ``ptr`` delimits each term's postings in ``doc``/``tf`` (term-major).
    """
    n = max(documents, 1)
    df = np.diff(ptr)
    idf = np.array([math.log(n / (d + 1)) + 1 for d in df.tolist()], dtype=np.float64)
    totals = lengths.sum(axis=0, dtype=np.int64)
    avgfl = np.where(totals > 0, totals / n, 1.0)
    quantized = quantized_lengths(lengths.astype(np.int64))  # per document: (N, F), not per posting
    weight = np.empty(doc.shape[0], dtype=np.float32)
    for start in range(0, doc.shape[0], _SLICE):
        stop = min(start + _SLICE, doc.shape[0])
        # The terms of postings start..stop-1: a run of each term, as long as its postings there.
        first, last = np.searchsorted(ptr, [start, stop - 1], side="right") - 1
        bounds = ptr[first : last + 2].copy()
        bounds[0], bounds[-1] = start, stop
        runs = np.diff(bounds)
        term = np.repeat(np.arange(first, last + 1), runs)
        field = field_of_key[term]
        fl = quantized[doc[start:stop], field]
        tfw = tf[start:stop].astype(np.float64)
        norm = tfw + K1 * ((1 - B) + B * fl / avgfl[field])
        weight[start:stop] = idf[term] * ((tfw * (K1 + 1)) / norm)
    return weight


def load_array(directory: Path, name: str) -> Any:
    """The array ``name`` of the postings in ``directory``, memory-mapped."""
    # A plain ndarray view of the map: np.memmap's Python-level __getitem__ costs
    # microseconds per scalar, which a binary search over the keys pays 20 times a term.
    return np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)


def read_docs(directory: Path) -> list[tuple[str, str] | None]:
    """``docs.json``: (id, content hash) per document number, None where deleted."""
    with (directory / "docs.json").open(encoding="utf-8") as f:
        return [(p[0], p[1]) if p else None for p in json.load(f)]


def _meta(directory: Path) -> dict[str, Any]:
    try:
        with (directory / "meta.json").open(encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        return {}
    return meta if isinstance(meta, dict) else {}


def readable(directory: Path) -> bool:
    """Whether ``directory`` holds postings in this version's key layout, for its fields (an
    earlier version's postings have fewer: no ``names``)."""
    meta = _meta(directory)
    return meta.get("keys") == KEY_LAYOUT and tuple(meta.get("fields", ())) == FIELDS


def positioned(directory: Path) -> bool:
    """Whether the postings in ``directory`` hold positions (FORMAT_VERSION 2 or later)."""
    found = _meta(directory).get("format", 1)
    return isinstance(found, int) and found >= 2


def analysis_version(directory: Path) -> int:
    """The ``ANALYSIS_VERSION`` the generation whose postings are in ``directory`` was
    analyzed with: 1 for one written before versions were recorded, or without postings."""
    found = _meta(directory).get("analysis", 1)
    return found if isinstance(found, int) else 1
