"""Per-term postings with precomputed BM25F weights: the data of the accelerated scoring path.

Whoosh stays the index of record; beside it each generation holds, in ``postings/``,
the same postings as numpy arrays (the eager-scoring idea of the bm25s library):
every (field, term) -> the documents containing it and the Whoosh BM25F score of the
term in that field of that document, so a query is scored with a few array sums
instead of Whoosh's pure-Python matchers (see ``accel.py``).  Shapes (T terms,
P postings, N documents, F scored fields)::

    keys.npy     uint8 (K)      UTF-8 keys b"<field>\\x1f<term>", sorted, concatenated
    key_ptr.npy  int64 (T+1)    key t is keys[key_ptr[t]:key_ptr[t+1]]
    ptr.npy      int64 (T+1)    postings of term t are [ptr[t], ptr[t+1])
    doc.npy      int32 (P)      document numbers, ascending within a term
    weight.npy   float32 (P)    BM25F score of the term in that field (before query boosts)
    tf.npy       uint16 (P)     term frequency, kept to recompute weights after updates
    lengths.npy  int32 (N, F)   field lengths in tokens
    docs.json                   [id, content hash] per document number (null: deleted)
    meta.json                   fields, B, K1

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
import os
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.util.numeric import byte_to_length

from search.analysis import LANGUAGES, field_language, tags_analyzer, text_analyzer
from search.fields import FIELD_KINDS, document
from search.model import Article

POSTINGS_DIR = "postings"
B = 0.75
K1 = 1.2
"""Whoosh's default BM25F parameters (the searcher's weighting)."""
FIELDS: tuple[str, ...] = tuple(f"{kind}_{lang}" for kind in FIELD_KINDS for lang in LANGUAGES)
"""The scored text fields, in column order of ``lengths``."""
_FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}
_SEP = "\x1f"
_FOUND_CACHE = 100_000
"""Term lookups remembered per generation (dict operations are atomic under the GIL)."""
_MAX_TF = np.iinfo(np.uint16).max
# Whoosh keeps a field length as one byte: byte b stands for _BYTE_LENGTH[b] tokens.
_BYTE_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)

FieldStats = tuple[int, list[str], list[int], int]
"""(field index, terms, their frequencies, field length in tokens) of one document field."""


def analyzed_document(article: Article) -> tuple[dict[str, Any], list[FieldStats]]:
    """The Whoosh document of ``article`` with title and body analyzed once, and its postings.

    Title and body go to Whoosh as token lists (Whoosh indexes a list as
    pre-analyzed tokens at consecutive positions, exactly what the text analyzer
    yields), so the analysis done here for the postings is not repeated by
    Whoosh.  Tags keep their string: their analyzer leaves position gaps between
    tags, which a token list cannot express.
    """
    doc = document(article)
    lang = field_language(article.language)
    stats: list[FieldStats] = []
    for kind in FIELD_KINDS:
        name = f"{kind}_{lang}"
        value = doc.get(name)
        if not value:
            continue
        analyzer = tags_analyzer(lang) if kind == "tags" else text_analyzer(lang)
        tokens = [t.text for t in analyzer(value)]
        if kind != "tags":
            doc[name] = tokens
        if tokens:
            counts = Counter(tokens)
            stats.append((_FIELD_INDEX[name], list(counts), list(counts.values()), len(tokens)))
    return doc, stats


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
    docs: list[tuple[str, str] | None]


class PostingsBuilder:
    """Collects the postings of the documents analyzed in this run, then writes a generation.

    ``parent`` is the folder of the generation being updated: documents kept
    from it keep their postings without being analyzed again.
    """

    def __init__(self, parent: Path | None = None) -> None:
        self.parent = parent if parent is not None and (parent / "meta.json").exists() else None
        self._terms: list[dict[str, int]] = [{} for _ in FIELDS]
        self._term_count = 0
        self._term = array("i")
        self._doc = array("i")
        self._tf = array("H")
        self._lengths = array("i")
        self._index: dict[tuple[str, str], int] = {}
        self._parent_index: dict[tuple[str, str], int] = {}
        if self.parent is not None:
            for i, pair in enumerate(_read_docs(self.parent)):
                if pair is not None:
                    self._parent_index[pair] = i

    def missing(self, pair: tuple[str, str]) -> bool:
        """Whether document (id, hash) has no postings yet, from this run or the parent."""
        return pair not in self._index and pair not in self._parent_index

    def add(self, article_id: str, digest: str, stats: Iterable[FieldStats]) -> None:
        """Record one analyzed document (a later one with the same id and hash replaces it)."""
        d = len(self._lengths) // len(FIELDS)
        self._index[(article_id, digest)] = d
        row = [0] * len(FIELDS)
        for field_index, field_terms, freqs, length in stats:
            row[field_index] = length
            table = self._terms[field_index]
            for term in field_terms:
                tid = table.get(term)
                if tid is None:
                    tid = table[term] = self._term_count
                    self._term_count += 1
                self._term.append(tid)
            self._doc.extend([d] * len(field_terms))
            self._tf.extend(min(f, _MAX_TF) for f in freqs)
        self._lengths.extend(row)

    def write(self, directory: Path, docs: Sequence[tuple[str, str] | None]) -> None:
        """Write the postings of the generation whose document ``i`` is ``docs[i]``.

        ``docs[i]`` is (id, content hash), None for a deleted document.  Every
        live document must have been added or be in the parent generation.
        """
        size = len(docs)
        run_keys = [""] * self._term_count
        for field_index, table in enumerate(self._terms):
            prefix = FIELDS[field_index] + _SEP
            for text, tid in table.items():
                run_keys[tid] = prefix + text
        parent = _read_arrays(self.parent) if self.parent is not None else None
        keys = sorted(set(run_keys).union(parent.keys if parent else ()))
        key_id = {k: i for i, k in enumerate(keys)}

        run_doc_to_new = np.full(len(self._lengths) // len(FIELDS), -1, dtype=np.int64)
        parent_index = self._parent_index
        parent_to_new = np.full(len(parent.docs) if parent else 0, -1, dtype=np.int64)
        for docnum, pair in enumerate(docs):
            if pair is None:
                continue
            if pair in self._index:
                run_doc_to_new[self._index[pair]] = docnum
            elif pair in parent_index:
                parent_to_new[parent_index[pair]] = docnum
            else:
                raise ValueError(f"no postings for document {docnum} (id {pair[0]!r})")

        run_lengths = np.frombuffer(self._lengths, dtype=np.int32).reshape(-1, len(FIELDS))
        lengths = np.zeros((size, len(FIELDS)), dtype=np.int32)
        kept = run_doc_to_new >= 0
        lengths[run_doc_to_new[kept]] = run_lengths[kept]
        term_parts = [np.array([key_id[k] for k in run_keys], dtype=np.int64)[self._term]]
        doc_parts = [run_doc_to_new[np.frombuffer(self._doc, dtype=np.int32)]]
        tf_parts = [np.frombuffer(self._tf, dtype=np.uint16)]
        if parent is not None:
            kept = parent_to_new >= 0
            lengths[parent_to_new[kept]] = parent.lengths[kept]
            parent_terms = np.array([key_id[k] for k in parent.keys], dtype=np.int64)
            term_parts.append(np.repeat(parent_terms, np.diff(parent.ptr)))
            doc_parts.append(parent_to_new[parent.doc])
            tf_parts.append(np.asarray(parent.tf))
        term = np.concatenate(term_parts)
        doc = np.concatenate(doc_parts)
        tf = np.concatenate(tf_parts)
        live = doc >= 0  # postings of replaced or deleted documents go
        term, doc, tf = term[live], doc[live], tf[live]
        used = np.bincount(term, minlength=len(keys)) > 0  # and terms only they had
        if not used.all():
            term = (np.cumsum(used) - 1)[term]
            keys = [k for k, u in zip(keys, used.tolist(), strict=True) if u]
        order = np.argsort(term * max(size, 1) + doc, kind="stable")
        term, doc, tf = term[order], doc[order].astype(np.int32), tf[order]
        del order
        ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(keys)), out=ptr[1:])
        field_of_key = np.array([_FIELD_INDEX[k.split(_SEP, 1)[0]] for k in keys], dtype=np.int64)
        live_docs = sum(pair is not None for pair in docs)
        weight = bm25_weights(ptr, term, doc, tf, field_of_key, lengths, live_docs)
        encoded = [k.encode("utf-8") for k in keys]
        key_ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum([len(k) for k in encoded], out=key_ptr[1:])
        arrays: dict[str, npt.NDArray[Any]] = {
            "keys": np.frombuffer(b"".join(encoded), dtype=np.uint8),
            "key_ptr": key_ptr,
            "ptr": ptr,
            "doc": doc,
            "weight": weight,
            "tf": tf,
            "lengths": lengths,
        }
        directory.mkdir(parents=True, exist_ok=True)
        for name, value in arrays.items():
            _save(directory / f"{name}.npy", value)
        _dump(directory / "docs.json", [list(p) if p else None for p in docs])
        _dump(directory / "meta.json", {"fields": list(FIELDS), "B": B, "K1": K1})


def bm25_weights(
    ptr: npt.NDArray[np.int64],
    term: npt.NDArray[np.int64],
    doc: npt.NDArray[Any],
    tf: npt.NDArray[np.uint16],
    field_of_key: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int32],
    documents: int,
) -> npt.NDArray[np.float32]:
    """Whoosh's BM25F score of every posting (``whoosh.scoring.bm25``), vectorized."""
    n = max(documents, 1)
    df = np.diff(ptr)
    idf = np.array([math.log(n / (d + 1)) + 1 for d in df.tolist()], dtype=np.float64)
    totals = lengths.sum(axis=0, dtype=np.int64)
    avgfl = np.where(totals > 0, totals / n, 1.0)
    field = field_of_key[term]
    fl = quantized_lengths(lengths[doc, field].astype(np.int64))
    tfw = tf.astype(np.float64)
    weight = idf[term] * ((tfw * (K1 + 1)) / (tfw + K1 * ((1 - B) + B * fl / avgfl[field])))
    return weight.astype(np.float32)


def _save(path: Path, value: npt.NDArray[Any]) -> None:
    with path.open("wb") as f:
        np.save(f, value, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _dump(path: Path, value: object) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())


def _load(directory: Path, name: str) -> Any:
    # A plain ndarray view of the map: np.memmap's Python-level __getitem__ costs
    # microseconds per scalar, which a binary search over the keys pays 20 times a term.
    return np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)


def _read_arrays(directory: Path) -> _Arrays:
    blob = bytes(_load(directory, "keys"))
    key_ptr = np.asarray(_load(directory, "key_ptr")).tolist()
    keys = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(key_ptr)]
    return _Arrays(
        keys=keys,
        ptr=_load(directory, "ptr"),
        doc=_load(directory, "doc"),
        tf=_load(directory, "tf"),
        lengths=_load(directory, "lengths"),
        docs=_read_docs(directory),
    )


def _read_docs(directory: Path) -> list[tuple[str, str] | None]:
    with (directory / "docs.json").open(encoding="utf-8") as f:
        return [(p[0], p[1]) if p else None for p in json.load(f)]


class _Keys(Sequence[bytes]):
    """The sorted key table as a sequence ``bisect`` can search without decoding it all."""

    def __init__(self, blob: Any, ptr: Any) -> None:
        self.blob = blob
        self.ptr = ptr

    def __len__(self) -> int:
        return int(self.ptr.shape[0]) - 1

    def __getitem__(self, i: Any) -> Any:
        return self.blob[int(self.ptr[i]) : int(self.ptr[i + 1])].tobytes()


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
        key_ptr = _load(directory, "key_ptr")
        self._keys = _Keys(_load(directory, "keys"), key_ptr)
        self._found: dict[str, int] = {}
        self.size = size
        terms = self.ptr.shape[0] - 1
        if (
            key_ptr.shape[0] != terms + 1
            or self.doc.shape != self.weight.shape
            or int(self.ptr[-1]) != self.doc.shape[0]
        ):
            raise ValueError(f"postings in {directory} are inconsistent")

    def lookup(self, field: str, term: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[Any]]:
        """(documents, weights) of ``term`` in ``field``; empty arrays when absent."""
        i = self._find(f"{field}{_SEP}{term}")
        if i < 0:
            return self.doc[:0], self.weight[:0]
        start, end = int(self.ptr[i]), int(self.ptr[i + 1])
        return self.doc[start:end], self.weight[start:end]

    def _find(self, key: str) -> int:
        found = self._found.get(key)
        if found is None:
            encoded = key.encode()
            i = bisect.bisect_left(self._keys, encoded)
            found = i if i < len(self._keys) and self._keys[i] == encoded else -1
            if len(self._found) >= _FOUND_CACHE:
                self._found.clear()  # a crude bound: the hot terms come back at once
            self._found[key] = found
        return found


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


def open_postings(directory: Path, size: int) -> Postings | None:
    """The postings in ``directory``, or None for a generation built without them."""
    if not (directory / "meta.json").exists():
        return None
    return Postings(directory, size)
