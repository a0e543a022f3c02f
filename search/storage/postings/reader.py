"""Reads a generation's postings (the format is ``format.py``): ``Postings`` maps them
and finds a term's postings, weights and positions; ``open_postings`` opens a generation's
when this version can read them."""

from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from newsearch.search.storage.postings.format import (
    FIELDS,
    KEY_SEP,
    load_array,
    read_docs,
    readable,
)
from newsearch.search.storage.postings.positions import TermPositions

_FOUND_CACHE = 50_000
"""Terms whose fields are remembered per generation (dict operations are atomic under the GIL)."""


class _Keys:
    """The sorted key table, searched without decoding it all.

    Every ``stride``-th key is held in memory; a key is found by a binary search
    there (in C), then in its block of ``stride`` keys, read from the map in one
    slice.  A Python-level binary search over the whole map cost 25 us a lookup,
    0.3 ms for each query word not looked up before (12 lookups, one per field,
    before keys were term-first).
    """

    def __init__(self, blob: Any, ptr: Any, stride: int = 32) -> None:
        self.blob = blob
        self.ptr = ptr
        self.stride = stride
        self.size = int(ptr.shape[0]) - 1
        view = memoryview(blob)
        starts = ptr[: self.size : stride].tolist()
        ends = ptr[1 : self.size + 1 : stride].tolist()
        self.sample = [bytes(view[a:b]) for a, b in zip(starts, ends, strict=True)]

    def lower_bound(self, key: bytes) -> int:
        """The index of the first key >= ``key`` (``size`` when there is none)."""
        block = bisect.bisect_right(self.sample, key) - 1
        if block < 0:
            return 0
        lo = block * self.stride
        offsets = self.ptr[lo : min(lo + self.stride, self.size) + 1].tolist()
        base = offsets[0]
        chunk = self.blob[base : offsets[-1]].tobytes()
        a, b = 0, len(offsets) - 1
        while a < b:
            m = (a + b) // 2
            if chunk[offsets[m] - base : offsets[m + 1] - base] < key:
                a = m + 1
            else:
                b = m
        return lo + a

    def prefixed(self, prefix: bytes, batch: int = 16) -> list[tuple[bytes, int]]:
        """(key, index) of every key that starts with ``prefix``, in order (they are
        side by side in a sorted table; ``batch`` keys are read at a time)."""
        found: list[tuple[bytes, int]] = []
        i = self.lower_bound(prefix)
        while i < self.size:
            offsets = self.ptr[i : min(i + batch, self.size) + 1].tolist()
            base = offsets[0]
            chunk = self.blob[base : offsets[-1]].tobytes()
            for j in range(len(offsets) - 1):
                key = chunk[offsets[j] - base : offsets[j + 1] - base]
                if not key.startswith(prefix):
                    return found
                found.append((key, i + j))
            i += len(offsets) - 1
        return found


class Postings:
    """A generation's postings, memory-mapped (cheap to open, shared between processes)."""

    def __init__(self, directory: Path, size: int) -> None:
        with (directory / "meta.json").open(encoding="utf-8") as f:
            meta = json.load(f)
        if tuple(meta["fields"]) != FIELDS:
            raise ValueError(f"postings in {directory} were built for other fields")
        self.ptr = load_array(directory, "ptr")
        self.doc = load_array(directory, "doc")
        self.weight = load_array(directory, "weight")
        key_ptr = load_array(directory, "term_key_ptr")
        keys = load_array(directory, "term_keys")
        self._fields: dict[str, dict[str, int]] = {}
        self.size = size
        terms = self.ptr.shape[0] - 1
        if (
            key_ptr.shape[0] != terms + 1
            or int(key_ptr[0]) != 0
            or int(key_ptr[-1]) != keys.shape[0]
            or self.doc.shape != self.weight.shape
            or int(self.ptr[-1]) != self.doc.shape[0]
        ):
            raise ValueError(f"postings in {directory} are inconsistent")
        self._keys = _Keys(keys, key_ptr)
        self.tf: npt.NDArray[np.uint16] | None = None
        self.pos_ptr: npt.NDArray[np.int64] | None = None
        self.pos: npt.NDArray[Any] | None = None
        if meta.get("format", 1) >= 2:
            self.tf = load_array(directory, "tf")
            self.pos_ptr = load_array(directory, "pos_ptr")
            self.pos = load_array(directory, "pos")
            if (
                self.tf.shape != self.doc.shape
                or self.pos_ptr.shape != self.ptr.shape
                or int(self.pos_ptr[0]) != 0
                or int(self.pos_ptr[-1]) != self.pos.shape[0]
            ):
                raise ValueError(f"positions in {directory} are inconsistent")

    @property
    def positioned(self) -> bool:
        """Whether these postings hold positions (an older format's do not)."""
        return self.pos is not None

    def mapped(self) -> list[npt.NDArray[Any]]:
        """The mapped arrays a query reads (to preload them; see ``preload.py``)."""
        found = [self._keys.blob, self._keys.ptr, self.ptr, self.doc, self.weight]
        if self.tf is not None and self.pos_ptr is not None and self.pos is not None:
            found += [self.tf, self.pos_ptr, self.pos]
        return found

    def lookup(self, field: str, term: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[Any]]:
        """(documents, weights) of ``term`` in ``field``; empty arrays when absent."""
        i = self._find(field, term)
        if i < 0:
            return self.doc[:0], self.weight[:0]
        start, end = int(self.ptr[i]), int(self.ptr[i + 1])
        return self.doc[start:end], self.weight[start:end]

    def positions(self, field: str, term: str) -> TermPositions | None:
        """The postings of ``term`` in ``field`` with their positions (empty when absent);
        None when they have none: postings of an older format, the exact field, or a term
        some document's field holds MAX_TF times or more (see the module's docstring)."""
        if self.tf is None or self.pos_ptr is None or self.pos is None:
            return None
        i = self._find(field, term)
        if i < 0:
            empty = np.zeros(0, np.int64)
            return TermPositions(self.doc[:0], self.weight[:0], self.tf[:0], empty, self.pos[:0])
        start, end = int(self.ptr[i]), int(self.ptr[i + 1])
        tf = self.tf[start:end]
        ends = np.cumsum(tf, dtype=np.int64)
        first, last = int(self.pos_ptr[i]), int(self.pos_ptr[i + 1])
        if int(ends[-1]) != last - first:
            return None
        return TermPositions(
            self.doc[start:end], self.weight[start:end], tf, ends - tf, self.pos[first:last]
        )

    def frequency(self, field: str, term: str) -> int:
        """How many live documents hold ``term`` (a single lemma or name key) in ``field``."""
        i = self._find(field, term)
        return 0 if i < 0 else int(self.ptr[i + 1] - self.ptr[i])

    def has(self, field: str, term: str) -> bool:
        """Whether some document holds ``term`` in ``field`` (every live one has postings)."""
        return self._find(field, term) >= 0

    def _find(self, field: str, term: str) -> int:
        """The index of (field, term), or -1: every field of the term is found at once."""
        fields = self._fields.get(term)
        if fields is None:
            prefix = (term + KEY_SEP).encode()
            fields = {key[len(prefix) :].decode(): i for key, i in self._keys.prefixed(prefix)}
            if len(self._fields) >= _FOUND_CACHE:
                self._fields.clear()  # a crude bound: the hot terms come back at once
            self._fields[term] = fields
        return fields.get(field, -1)


def postings_agree(directory: Path, docs: dict[int, tuple[str, str]], size: int) -> bool:
    """Whether the postings in ``directory`` are whole and name exactly the live
    documents ``docs`` (docnum -> (id, content hash)) of a generation of ``size``."""
    table = read_docs(directory)
    if len(table) != size or {i: p for i, p in enumerate(table) if p is not None} != docs:
        return False
    ptr, doc = load_array(directory, "ptr"), load_array(directory, "doc")
    return bool(
        ptr[0] == 0
        and ptr[-1] == doc.shape[0]
        and np.all(np.diff(ptr) > 0)
        and (doc.shape[0] == 0 or (int(doc.min()) >= 0 and int(doc.max()) < size))
    )


def open_postings(directory: Path, size: int) -> Postings | None:
    """The postings in ``directory``, or None for a generation built without them (or
    with field-first keys, see KEY_LAYOUT, or other fields): Whoosh's matchers search that
    generation."""
    if not readable(directory):
        return None
    return Postings(directory, size)
