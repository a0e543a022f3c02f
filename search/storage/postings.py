"""Per-term postings with precomputed BM25F weights: the data of the accelerated scoring path.

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
theirs, and the key gets them back in the first update without that posting.  The
positions part is in ``positions.py``.

The statistics are Whoosh's (``BM25F(B=0.75, K1=1.2)``, idf ``log(N / (df + 1)) + 1``,
field lengths quantized to one byte as Whoosh stores them) computed over the live
documents, so on a generation without deletions both paths score alike to float32
precision; Whoosh counts deleted documents until their segment is merged.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from newsearch.search.analysis import ANALYSIS_VERSION, LANGUAGES
from newsearch.search.exact import EXACT_FIELD
from newsearch.search.fields import FIELD_KINDS, NAMES_FIELD
from newsearch.search.storage.layout import save_synced, write_synced
from newsearch.search.storage.numbering import Numbered
from newsearch.search.storage.positions import (
    RunPositions,
    TermPositions,
    capped_counts,
    exclusive_cumsum,
    gathered,
    joined,
    posting_positions,
)
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
_SEP = "\x1f"
KEY_LAYOUT = "term-field"
"""Keys are term first: a query word's term is looked up in up to 12 fields, and with the
field first those were 12 searches of the key table (a third of a new word's cost).
Postings written with field-first keys (before this layout) are not read: Whoosh
answers for that generation until the next build or update writes them anew.  The
files are named ``term_keys`` so that an older version, which would misread them,
refuses the generation instead (it keeps serving the one it has)."""
_FOUND_CACHE = 50_000
"""Terms whose fields are remembered per generation (dict operations are atomic under the GIL)."""
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


@dataclass(frozen=True)
class _Arrays:
    keys: list[str]
    ptr: npt.NDArray[np.int64]
    doc: npt.NDArray[np.int32]
    tf: npt.NDArray[np.uint16]
    lengths: npt.NDArray[np.int32]
    pos_ptr: npt.NDArray[np.int64]
    pos: npt.NDArray[Any]


class PostingsBuilder:
    """Collects the postings of the documents analyzed in this run, then writes a generation.

    ``parent`` is the folder of the generation being updated: documents kept
    from it keep their postings without being analyzed again.
    """

    def __init__(self, parent: Path | None = None) -> None:
        # A parent without positions (format 1) is not used: its documents are analyzed
        # again, as those of a generation without postings are (newsearch.indexer.generation).
        self.parent = (
            parent if parent is not None and _readable(parent) and positioned(parent) else None
        )
        self._terms: list[dict[str, int]] = [{} for _ in FIELDS]
        self._term_count = 0
        self._term = array("i")
        self._doc = array("i")
        self._tf = array("H")
        self._pcount = array("H")  # positions recorded per posting: its tf, or 0 (none)
        self._pos = array("I")
        self._lengths = array("i")
        self._index: dict[tuple[str, str], int] = {}
        # Documents added numbered (``add_numbered``): term numbers of their origin's
        # ``numbered`` keys, resolved to term ids by ``write``.
        self.numbered: Numbered[str] = Numbered()
        self._origins: dict[str, int] = {}
        self._doc_origin = array("h")  # per document of this run; -1: added with strings
        self._n_term = array("i")
        self._n_field = array("b")
        self._n_doc = array("i")
        self._n_tf = array("H")
        self._n_pcount = array("H")
        self._n_pos = array("I")
        self._parent_index: dict[tuple[str, str], int] = {}
        self._parent_size = 0
        if self.parent is not None:
            parent_docs = _read_docs(self.parent)
            self._parent_size = len(parent_docs)
            for i, pair in enumerate(parent_docs):
                if pair is not None:
                    self._parent_index[pair] = i

    def missing(self, pair: tuple[str, str]) -> bool:
        """Whether document (id, hash) has no postings yet, from this run or the parent."""
        return pair not in self._index and pair not in self._parent_index

    def add(self, article_id: str, digest: str, stats: Iterable[FieldStats]) -> None:
        """Record one analyzed document (a later one with the same id and hash replaces it)."""
        d = self._new_document(article_id, digest, -1)
        row = [0] * len(FIELDS)
        for field_index, field_terms, freqs, length, positions in stats:
            row[field_index] = length
            ids = [self._term_id(field_index, t) for t in field_terms]
            self._term.extend(ids)
            self._doc.extend(array("i", (d,)) * len(ids))
            self._tf.extend(freqs)
            if positions and FIELDS[field_index] in POSITIONAL_FIELDS:
                self._pcount.frombytes(capped_counts(np.asarray(freqs, dtype=np.uint16)).tobytes())
                self._pos.frombytes(positions)
            else:
                self._pcount.extend(array("H", (0,)) * len(ids))
        self._lengths.extend(row)

    def add_numbered(
        self, article_id: str, digest: str, origin: str, stats: Iterable[NumberedStats]
    ) -> None:
        """``add`` for a document whose terms ``origin`` numbered (its keys are given to
        ``numbered``, before or after; see ``numbering.py``)."""
        number = self._origins.setdefault(origin, len(self._origins))
        d = self._new_document(article_id, digest, number)
        row = [0] * len(FIELDS)
        for field_index, terms, freqs, length, positions in stats:
            row[field_index] = length
            count = len(terms) // 4
            self._n_term.frombytes(terms)
            self._n_tf.frombytes(freqs)
            if positions and FIELDS[field_index] in POSITIONAL_FIELDS:
                self._n_pcount.frombytes(capped_counts(np.frombuffer(freqs, np.uint16)).tobytes())
                self._n_pos.frombytes(positions)
            else:
                self._n_pcount.frombytes(bytes(len(freqs)))
            self._n_field.frombytes(bytes((field_index,)) * count)
            self._n_doc.extend(array("i", (d,)) * count)
        self._lengths.extend(row)

    def _new_document(self, article_id: str, digest: str, origin: int) -> int:
        d = len(self._lengths) // len(FIELDS)
        self._index[(article_id, digest)] = d
        self._doc_origin.append(origin)
        return d

    def _resolved(
        self,
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.uint16], RunPositions]:
        """(term ids, run documents, frequencies, positions) of every posting of this run:
        numbered terms are interned once per distinct (origin, field, number), not per
        posting."""
        fields = len(FIELDS)
        term = np.frombuffer(self._n_term, dtype=np.int32)
        field = np.frombuffer(self._n_field, dtype=np.int8)
        doc = np.frombuffer(self._n_doc, dtype=np.int32)
        origin_of = np.frombuffer(self._doc_origin, dtype=np.int16)[doc]
        resolved = np.empty_like(term)
        for origin, number in self._origins.items():
            keys = self.numbered.keys(origin)
            mine = origin_of == number
            pair = term[mine].astype(np.int64) * fields + field[mine]
            if pair.size and int(pair.max()) >= len(keys) * fields:
                raise ValueError(f"postings of {origin} use term numbers it never sent")
            used = np.zeros(len(keys) * fields, dtype=np.bool_)
            used[pair] = True
            found = np.flatnonzero(used)
            ids = np.empty(len(keys) * fields, dtype=np.int32)
            ids[found] = [
                self._term_id(f, keys[t])
                for t, f in zip((found // fields).tolist(), (found % fields).tolist(), strict=True)
            ]
            resolved[mine] = ids[pair]
        pcount = joined(self._pcount, self._n_pcount, np.uint16)
        pos = joined(self._pos, self._n_pos, np.uint32)
        if int(pcount.sum(dtype=np.int64)) != pos.shape[0]:
            raise ValueError("positions given do not add up to the frequencies of their terms")
        return (
            np.concatenate([np.frombuffer(self._term, dtype=np.int32), resolved]),
            np.concatenate([np.frombuffer(self._doc, dtype=np.int32), doc]),
            np.concatenate(
                [np.frombuffer(self._tf, dtype=np.uint16), np.frombuffer(self._n_tf, np.uint16)]
            ),
            RunPositions(pcount, pos),
        )

    def _term_id(self, field_index: int, term: str) -> int:
        table = self._terms[field_index]
        found = table.get(term)
        if found is None:
            found = table[term] = self._term_count
            self._term_count += 1
        return found

    def write(self, directory: Path, docs: Sequence[tuple[str, str] | None]) -> None:
        """Write the postings of the generation whose document ``i`` is ``docs[i]``.

        ``docs[i]`` is (id, content hash), None for a deleted document.  Every
        live document must have been added or be in the parent generation.
        Memory: about 50 bytes per posting and 6 per position at the peak (int32 and
        uint16 arrays throughout; weights computed and positions gathered in slices).
        """
        size = len(docs)
        run_term, run_doc, tf, run_positions = self._resolved()
        run_keys = [""] * self._term_count
        for field_index, table in enumerate(self._terms):
            suffix = _SEP + FIELDS[field_index]
            for text, tid in table.items():
                run_keys[tid] = text + suffix
        parent = _read_arrays(self.parent) if self.parent is not None else None
        keys = sorted(set(run_keys).union(parent.keys if parent else ()))
        key_id = {k: i for i, k in enumerate(keys)}

        run_docs = len(self._lengths) // len(FIELDS)
        run_to_new = np.full(run_docs, -1, dtype=np.int32)
        parent_to_new = np.full(self._parent_size, -1, dtype=np.int32)
        for docnum, pair in enumerate(docs):
            if pair is None:
                continue
            if pair in self._index:
                run_to_new[self._index[pair]] = docnum
            elif pair in self._parent_index:
                parent_to_new[self._parent_index[pair]] = docnum
            else:
                raise ValueError(f"no postings for document {docnum} (id {pair[0]!r})")

        lengths = np.zeros((size, len(FIELDS)), dtype=np.int32)
        run_lengths = np.frombuffer(self._lengths, dtype=np.int32).reshape(-1, len(FIELDS))
        kept = run_to_new >= 0
        lengths[run_to_new[kept]] = run_lengths[kept]
        run_map = np.array([key_id[k] for k in run_keys], dtype=np.int32)
        term = run_map[run_term]
        doc = run_to_new[run_doc]
        del run_term, run_doc
        pcount = run_positions.count
        sources = [run_positions.pos]
        total = run_positions.pos.shape[0] + (parent.pos.shape[0] if parent is not None else 0)
        # Where each posting's positions start in ``sources`` laid end to end (4 bytes a
        # posting while they fit).
        start_type = np.uint32 if total < 1 << 32 else np.int64
        start = exclusive_cumsum(pcount, start_type)
        if parent is not None:
            kept = parent_to_new >= 0
            lengths[parent_to_new[kept]] = parent.lengths[kept]
            parent_map = np.array([key_id[k] for k in parent.keys], dtype=np.int32)
            term = np.concatenate([term, np.repeat(parent_map, np.diff(parent.ptr))])
            doc = np.concatenate([doc, parent_to_new[parent.doc]])
            tf = np.concatenate([tf, parent.tf])
            parent_count, parent_start = posting_positions(parent.ptr, parent.tf, parent.pos_ptr)
            pcount = np.concatenate([pcount, parent_count])
            parent_start += run_positions.pos.shape[0]
            start = np.concatenate([start, parent_start.astype(start_type)])
            del parent_start
            sources.append(parent.pos)
        live = doc >= 0
        if not live.all():  # postings of replaced or deleted documents go
            term, doc, tf = term[live], doc[live], tf[live]
            pcount, start = pcount[live], start[live]
        del live
        counts = np.bincount(term, minlength=len(keys))
        used = counts > 0
        if not used.all():  # and so do terms only they had
            term = (np.cumsum(used, dtype=np.int32) - 1)[term]
            keys = [k for k, u in zip(keys, used.tolist(), strict=True) if u]
            counts = counts[used]
        # Term-major, a term's documents ascending (a parallel build numbers documents out
        # of the order they were added in, an update appends the parent's): phrases find a
        # word's candidates by binary search (``phrase.py``).
        order = np.lexsort((doc, term))
        del term
        doc, tf, pcount = doc[order], tf[order], pcount[order]
        pos = gathered(sources, start, order, pcount)
        del order, start
        ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        pos_ptr = np.concatenate(([0], np.cumsum(pcount, dtype=np.int64)))[ptr]
        del pcount
        field_of_key = np.array([FIELD_INDEX[k.rsplit(_SEP, 1)[1]] for k in keys], dtype=np.int8)
        live_docs = sum(pair is not None for pair in docs)
        weight = bm25_weights(ptr, doc, tf, field_of_key, lengths, live_docs)
        encoded = [k.encode("utf-8") for k in keys]
        key_ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum([len(k) for k in encoded], out=key_ptr[1:])
        arrays: dict[str, npt.NDArray[Any]] = {
            "term_keys": np.frombuffer(b"".join(encoded), dtype=np.uint8),
            "term_key_ptr": key_ptr,
            "ptr": ptr,
            "doc": doc,
            "weight": weight,
            "tf": tf,
            "pos_ptr": pos_ptr,
            "pos": pos,
            "lengths": lengths,
        }
        directory.mkdir(parents=True, exist_ok=True)
        for name, value in arrays.items():
            save_synced(directory / f"{name}.npy", value)
        _dump(directory / "docs.json", [list(p) if p else None for p in docs])
        _dump(
            directory / "meta.json",
            {
                "fields": list(FIELDS),
                "B": B,
                "K1": K1,
                "keys": KEY_LAYOUT,
                "analysis": ANALYSIS_VERSION,
                "format": FORMAT_VERSION,
            },
        )


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


def _dump(path: Path, value: object) -> None:
    # json.dumps, not json.dump: dump streams through the pure-Python encoder (10x slower).
    write_synced(path, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _load(directory: Path, name: str) -> Any:
    # A plain ndarray view of the map: np.memmap's Python-level __getitem__ costs
    # microseconds per scalar, which a binary search over the keys pays 20 times a term.
    return np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)


def _read_arrays(directory: Path) -> _Arrays:
    blob = bytes(_load(directory, "term_keys"))
    key_ptr = np.asarray(_load(directory, "term_key_ptr")).tolist()
    keys = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(key_ptr)]
    return _Arrays(
        keys=keys,
        ptr=_load(directory, "ptr"),
        doc=_load(directory, "doc"),
        tf=_load(directory, "tf"),
        lengths=_load(directory, "lengths"),
        pos_ptr=_load(directory, "pos_ptr"),
        pos=_load(directory, "pos"),
    )


def _read_docs(directory: Path) -> list[tuple[str, str] | None]:
    with (directory / "docs.json").open(encoding="utf-8") as f:
        return [(p[0], p[1]) if p else None for p in json.load(f)]


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
        self.ptr = _load(directory, "ptr")
        self.doc = _load(directory, "doc")
        self.weight = _load(directory, "weight")
        key_ptr = _load(directory, "term_key_ptr")
        keys = _load(directory, "term_keys")
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
            self.tf = _load(directory, "tf")
            self.pos_ptr = _load(directory, "pos_ptr")
            self.pos = _load(directory, "pos")
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
            prefix = (term + _SEP).encode()
            fields = {key[len(prefix) :].decode(): i for key, i in self._keys.prefixed(prefix)}
            if len(self._fields) >= _FOUND_CACHE:
                self._fields.clear()  # a crude bound: the hot terms come back at once
            self._fields[term] = fields
        return fields.get(field, -1)


def postings_agree(directory: Path, docs: dict[int, tuple[str, str]], size: int) -> bool:
    """Whether the postings in ``directory`` are whole and name exactly the live
    documents ``docs`` (docnum -> (id, content hash)) of a generation of ``size``."""
    table = _read_docs(directory)
    if len(table) != size or {i: p for i, p in enumerate(table) if p is not None} != docs:
        return False
    ptr, doc = _load(directory, "ptr"), _load(directory, "doc")
    return bool(
        ptr[0] == 0
        and ptr[-1] == doc.shape[0]
        and np.all(np.diff(ptr) > 0)
        and (doc.shape[0] == 0 or (int(doc.min()) >= 0 and int(doc.max()) < size))
    )


def _meta(directory: Path) -> dict[str, Any]:
    try:
        with (directory / "meta.json").open(encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _readable(directory: Path) -> bool:
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


def open_postings(directory: Path, size: int) -> Postings | None:
    """The postings in ``directory``, or None for a generation built without them (or
    with field-first keys, see KEY_LAYOUT, or other fields): Whoosh's matchers search that
    generation."""
    if not _readable(directory):
        return None
    return Postings(directory, size)
