"""Writes a generation's postings (the format is ``format.py``): ``PostingsBuilder``
collects the documents analyzed in a run, keeps the parent generation's postings of the
documents it keeps, and writes the arrays with their BM25F weights."""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from newsearch.search.analysis import ANALYSIS_VERSION
from newsearch.search.storage.layout import save_synced, write_synced
from newsearch.search.storage.numbering import Numbered
from newsearch.search.storage.postings.format import (
    FIELD_INDEX,
    FIELDS,
    FORMAT_VERSION,
    K1,
    KEY_LAYOUT,
    KEY_SEP,
    POSITIONAL_FIELDS,
    B,
    FieldStats,
    NumberedStats,
    bm25_weights,
    load_array,
    positioned,
    read_docs,
    readable,
)
from newsearch.search.storage.postings.positions import (
    RunPositions,
    capped_counts,
    exclusive_cumsum,
    gathered,
    joined,
    posting_positions,
)


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
            parent if parent is not None and readable(parent) and positioned(parent) else None
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
            parent_docs = read_docs(self.parent)
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
            suffix = KEY_SEP + FIELDS[field_index]
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
        field_of_key = np.array([FIELD_INDEX[k.rsplit(KEY_SEP, 1)[1]] for k in keys], dtype=np.int8)
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


def _dump(path: Path, value: object) -> None:
    # json.dumps, not json.dump: dump streams through the pure-Python encoder (10x slower).
    write_synced(path, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _read_arrays(directory: Path) -> _Arrays:
    blob = bytes(load_array(directory, "term_keys"))
    key_ptr = np.asarray(load_array(directory, "term_key_ptr")).tolist()
    keys = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(key_ptr)]
    return _Arrays(
        keys=keys,
        ptr=load_array(directory, "ptr"),
        doc=load_array(directory, "doc"),
        tf=load_array(directory, "tf"),
        lengths=load_array(directory, "lengths"),
        pos_ptr=load_array(directory, "pos_ptr"),
        pos=load_array(directory, "pos"),
    )
