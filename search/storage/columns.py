"""Columnar per-document arrays of a generation, aligned with Whoosh document numbers.

Files in ``<generation>/columns/`` (each a ``.npy``, memory-mapped when read)::

    published_us  int64[n]    UTC instant, microseconds since the epoch
    offset_s      int32[n]    the source's UTC offset in seconds (+03:00 -> 10800)
    language      int32[n]    index into values["language"]
    category      int32[n]    index into values["category"]
    source        int32[n]    index into values["source"]
    tag_ptr       int64[n+1]  CSR row pointers: tags of doc d are tag_ids[tag_ptr[d]:tag_ptr[d+1]]
    tag_ids       int32[nnz]  indexes into values["tag"]
    live          bool[n]     False for deleted document numbers
    values.json   {"language": [...], "category": [...], "source": [...], "tag": [...]}

Filters, facet counts, date histograms and date sorting are array operations
over these (see ``filters.py``, ``facets.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.model import Article
from search.storage.layout import save_synced, write_synced
from search.values import fold

FACETS = ("language", "category", "source", "tag")
_ARRAYS = (
    "published_us",
    "offset_s",
    "language",
    "category",
    "source",
    "tag_ptr",
    "tag_ids",
    "live",
)


@dataclass(frozen=True)
class Columns:
    """The per-document arrays of one generation (see the module docstring)."""

    published_us: npt.NDArray[np.int64]
    offset_s: npt.NDArray[np.int32]
    language: npt.NDArray[np.int32]
    category: npt.NDArray[np.int32]
    source: npt.NDArray[np.int32]
    tag_ptr: npt.NDArray[np.int64]
    tag_ids: npt.NDArray[np.int32]
    live: npt.NDArray[np.bool_]
    values: dict[str, list[str]]

    @property
    def size(self) -> int:
        """Number of document numbers (deleted ones included)."""
        return int(self.published_us.shape[0])

    @cached_property
    def folded(self) -> dict[str, dict[str, tuple[int, ...]]]:
        """Per facet: each value's ``fold`` -> the ids of the values that fold to it (often
        one; ``Politics`` and ``politics`` are two).  Built once per generation."""
        found: dict[str, dict[str, tuple[int, ...]]] = {}
        for facet, table in self.values.items():
            ids: dict[str, list[int]] = {}
            for i, value in enumerate(table):
                ids.setdefault(fold(value), []).append(i)
            found[facet] = {key: tuple(group) for key, group in ids.items()}
        return found

    def tags_of(self, docnum: int) -> list[str]:
        """The tag values of one document."""
        ids = self.tag_ids[self.tag_ptr[docnum] : self.tag_ptr[docnum + 1]]
        table = self.values["tag"]
        return [table[i] for i in ids]

    def tag_doc_index(self) -> npt.NDArray[np.int64]:
        """For each entry of tag_ids, the document it belongs to (CSR row expansion)."""
        counts = np.diff(self.tag_ptr)
        return np.repeat(np.arange(self.size, dtype=np.int64), counts)


class _Interner:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.ids)
        return found

    def table(self) -> list[str]:
        return list(self.ids)


def build_columns(size: int, docs: Iterable[tuple[int, Article]]) -> Columns:
    """Columns for ``size`` document numbers from (docnum, article) pairs of live documents."""
    published = np.zeros(size, dtype=np.int64)
    offsets = np.zeros(size, dtype=np.int32)
    live = np.zeros(size, dtype=np.bool_)
    facet_ids = {
        name: np.full(size, -1, dtype=np.int32) for name in ("language", "category", "source")
    }
    interners = {name: _Interner() for name in FACETS}
    doc_tags: list[list[int]] = [[] for _ in range(size)]
    for docnum, article in docs:
        published[docnum] = article.published_us
        offsets[docnum] = article.utc_offset_seconds
        live[docnum] = True
        facet_ids["language"][docnum] = interners["language"](article.language)
        facet_ids["category"][docnum] = interners["category"](article.category)
        facet_ids["source"][docnum] = interners["source"](article.source)
        doc_tags[docnum] = [interners["tag"](t) for t in article.tags]
    counts = np.fromiter((len(t) for t in doc_tags), dtype=np.int64, count=size)
    tag_ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=tag_ptr[1:])
    tag_ids = np.fromiter(
        (i for tags in doc_tags for i in tags), dtype=np.int32, count=int(tag_ptr[-1])
    )
    return Columns(
        published_us=published,
        offset_s=offsets,
        language=facet_ids["language"],
        category=facet_ids["category"],
        source=facet_ids["source"],
        tag_ptr=tag_ptr,
        tag_ids=tag_ids,
        live=live,
        values={name: interners[name].table() for name in FACETS},
    )


def write_columns(directory: Path, columns: Columns) -> None:
    """Write the arrays and value tables into ``directory`` (created), fsynced."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in _ARRAYS:
        save_synced(directory / f"{name}.npy", getattr(columns, name))
    write_synced(directory / "values.json", json.dumps(columns.values, ensure_ascii=False))


def read_columns(directory: Path) -> Columns:
    """Load a generation's columns, memory-mapped (cheap to open, shared between workers)."""
    arrays: dict[str, Any] = {
        name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        for name in _ARRAYS
    }
    with (directory / "values.json").open(encoding="utf-8") as f:
        values = json.load(f)
    size = arrays["published_us"].shape[0]
    if arrays["tag_ptr"].shape[0] != size + 1 or any(
        arrays[n].shape[0] != size for n in ("offset_s", "language", "category", "source", "live")
    ):
        raise ValueError(f"columns in {directory} disagree on the document count")
    return Columns(values=values, **arrays)
