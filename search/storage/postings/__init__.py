"""Our postings format: per-term postings with precomputed BM25F weights and positions,
in a generation's ``postings/`` folder.  ``format.py`` describes the files and their
weights, ``writer.py`` writes them, ``reader.py`` reads them, ``positions.py`` holds the
positions part; the names other modules use are imported from here."""

from __future__ import annotations

from newsearch.search.storage.postings.format import (
    FIELD_INDEX,
    FIELDS,
    FORMAT_VERSION,
    K1,
    KEY_LAYOUT,
    MAX_TF,
    POSITIONAL_FIELDS,
    B,
    FieldStats,
    NumberedStats,
    analysis_version,
    bm25_weights,
    positioned,
    quantized_lengths,
)
from newsearch.search.storage.postings.positions import TermPositions, capped_counts
from newsearch.search.storage.postings.reader import Postings, open_postings, postings_agree
from newsearch.search.storage.postings.writer import PostingsBuilder

__all__ = [
    "FIELDS",
    "FIELD_INDEX",
    "FORMAT_VERSION",
    "K1",
    "KEY_LAYOUT",
    "MAX_TF",
    "POSITIONAL_FIELDS",
    "B",
    "FieldStats",
    "NumberedStats",
    "Postings",
    "PostingsBuilder",
    "TermPositions",
    "analysis_version",
    "bm25_weights",
    "capped_counts",
    "open_postings",
    "positioned",
    "postings_agree",
    "quantized_lengths",
]
