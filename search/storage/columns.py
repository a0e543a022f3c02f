"""Columnar per-document arrays of a generation, aligned with Whoosh document numbers.

Files in ``<generation>/columns/`` (each a ``.npy``, memory-mapped when read)::

    published_us  int64[n]    UTC instant, microseconds since the epoch
    offset_s      int32[n]    the source's UTC offset in seconds (+03:00 -> 10800)
    live          bool[n]     False for deleted document numbers
    <name>        int32[n]    per value field of one value (``catalog.VALUE_FIELDS``: language,
                              category, source): index into values[<name>] (-1: a deleted document)
    <name>_ptr    int64[n+1]  per field of many values (tag): CSR row pointers, the values of
    <name>_ids    int32[nnz]  doc d are <name>_ids[<name>_ptr[d]:<name>_ptr[d+1]], indexes
                              into values[<name>]
    values.json   {<name>: [...]} per value field: its distinct values as written

Filters, facet counts, date histograms and date sorting are array operations
over these (see ``filters.py``, ``facets.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from newsearch.search.catalog import VALUE_FIELDS, ValueField
from newsearch.search.model import Article
from newsearch.search.storage.layout import save_synced, write_synced
from newsearch.search.values import fold

_DATES = ("published_us", "offset_s", "live")


@dataclass(frozen=True)
class Columns:
    """The per-document arrays of one generation (see the module docstring).

    ``ids``: per value field (``catalog.VALUE_FIELDS``), its value ids into ``values``: one
    per document, or for a field of ``many`` values the CSR entries whose row pointers are
    ``ptr``'s (the values of document d are ``ids[name][ptr[name][d]:ptr[name][d+1]]``).
    """

    published_us: npt.NDArray[np.int64]
    offset_s: npt.NDArray[np.int32]
    live: npt.NDArray[np.bool_]
    ids: dict[str, npt.NDArray[np.int32]]
    ptr: dict[str, npt.NDArray[np.int64]]
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

    @cached_property
    def owners(self) -> dict[str, npt.NDArray[np.int64]]:
        """Per field of ``many`` values: for each entry of its ``ids``, the document it
        belongs to (CSR row expansion; built once per generation)."""
        return {
            name: np.repeat(np.arange(self.size, dtype=np.int64), np.diff(ptr))
            for name, ptr in self.ptr.items()
        }

    def values_of(self, name: str, docnum: int) -> list[str]:
        """The values of field ``name`` of one document (one or none for a single value)."""
        table = self.values[name]
        ptr = self.ptr.get(name)
        if ptr is None:
            found = int(self.ids[name][docnum])
            return [table[found]] if found >= 0 else []
        return [table[i] for i in self.ids[name][ptr[docnum] : ptr[docnum + 1]]]


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


def build_columns(
    size: int,
    docs: Iterable[tuple[int, Article]],
    value_fields: tuple[ValueField, ...] = VALUE_FIELDS,
) -> Columns:
    """Columns for ``size`` document numbers from (docnum, article) pairs of live documents,
    with a column per entry of ``value_fields``."""
    published = np.zeros(size, dtype=np.int64)
    offsets = np.zeros(size, dtype=np.int32)
    live = np.zeros(size, dtype=np.bool_)
    single = [f for f in value_fields if not f.many]
    many = [f for f in value_fields if f.many]
    ids = {f.name: np.full(size, -1, dtype=np.int32) for f in single}
    interners = {f.name: _Interner() for f in value_fields}
    lists: dict[str, list[list[int]]] = {f.name: [[] for _ in range(size)] for f in many}
    # Per field: how to read it from an article, its interner and where its ids go.
    one = [(attrgetter(f.attribute), interners[f.name], ids[f.name]) for f in single]
    several = [(attrgetter(f.attribute), interners[f.name], lists[f.name]) for f in many]
    for docnum, article in docs:
        published[docnum] = article.published_us
        offsets[docnum] = article.utc_offset_seconds
        live[docnum] = True
        for get, intern, column in one:
            column[docnum] = intern(get(article))
        for get, intern, rows in several:
            rows[docnum] = [intern(v) for v in get(article)]
    ptrs: dict[str, npt.NDArray[np.int64]] = {}
    for f in many:
        rows = lists[f.name]
        counts = np.fromiter((len(r) for r in rows), dtype=np.int64, count=size)
        ptr = ptrs[f.name] = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        ids[f.name] = np.fromiter(
            (i for row in rows for i in row), dtype=np.int32, count=int(ptr[-1])
        )
    return Columns(
        published_us=published,
        offset_s=offsets,
        live=live,
        ids=ids,
        ptr=ptrs,
        values={f.name: interners[f.name].table() for f in value_fields},
    )


def _files(name: str, many: bool) -> tuple[str, str | None]:
    """The files of a value field's ids and (``many``) row pointers."""
    if many:
        return f"{name}_ids", f"{name}_ptr"
    return name, None


def write_columns(directory: Path, columns: Columns) -> None:
    """Write the arrays and value tables into ``directory`` (created), fsynced."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in _DATES:
        save_synced(directory / f"{name}.npy", getattr(columns, name))
    for name, ids in columns.ids.items():
        ids_file, ptr_file = _files(name, name in columns.ptr)
        save_synced(directory / f"{ids_file}.npy", ids)
        if ptr_file is not None:
            save_synced(directory / f"{ptr_file}.npy", columns.ptr[name])
    write_synced(directory / "values.json", json.dumps(columns.values, ensure_ascii=False))


def read_columns(directory: Path, value_fields: tuple[ValueField, ...] = VALUE_FIELDS) -> Columns:
    """Load a generation's columns (those of ``value_fields``), memory-mapped (cheap to
    open, shared between workers)."""

    def load(name: str) -> Any:
        return np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)

    dates = {name: load(name) for name in _DATES}
    ids: dict[str, Any] = {}
    ptrs: dict[str, Any] = {}
    for field in value_fields:
        ids_file, ptr_file = _files(field.name, field.many)
        if not (directory / f"{ids_file}.npy").exists():
            raise ValueError(
                f"{directory / ids_file}.npy is missing: this generation has no {field.name} "
                "column (built before that facet was added): rebuild it with `newsearch index "
                "build SRC... --index DIR`"
            )
        ids[field.name] = load(ids_file)
        if ptr_file is not None:
            ptrs[field.name] = load(ptr_file)
    with (directory / "values.json").open(encoding="utf-8") as f:
        values = json.load(f)
    size = dates["published_us"].shape[0]
    singles = [ids[f.name] for f in value_fields if not f.many]
    if any(p.shape[0] != size + 1 for p in ptrs.values()) or any(
        a.shape[0] != size for a in (dates["offset_s"], dates["live"], *singles)
    ):
        raise ValueError(f"columns in {directory} disagree on the document count")
    return Columns(ids=ids, ptr=ptrs, values=values, **dates)
