"""A generation's articles as records read by position: the page's hits come from here.

This is the one copy of each article in a generation (Whoosh stores only its id and
content hash).  A build encodes each article it indexes in its worker, spools the records
in the pending generation's folder, and writes this file when Whoosh has numbered the
documents (``indexer/generation.py``); it holds one record per live document, in
document-number order::

    articles/records.bin          record i is records[offsets[i]:offsets[i + 1]]
    articles/record_offsets.npy   int64[size + 1]

    record = head length (uint32, little-endian) | head | width (1 byte) | body
    head   = UTF-8 JSON of every field but the body (``article_to_dict``)
    body   = the body in the narrowest fixed width that holds all its characters:
             1 Latin-1, 2 UTF-16-LE (no surrogates: every character is below
             U+10000), 4 UTF-32-LE

Making a str of a Cyrillic body from UTF-8 is the largest part of reading a
hit; from its fixed width it is close to a copy, and a Cyrillic body takes about
as many bytes as in UTF-8.

A deleted document has an empty span.  The file is mapped, as the postings and
columns are: a record is a slice of the map, with no system call per hit as
``pread`` would make.  The mapped pages are the OS page cache's, shared by every
worker; those a process has read count in its RSS.  A generation without these
files (written by a version that did not make them) is read from Whoosh's stored
``doc`` field, where those versions kept every article; the names differ from any older
layout's, so that an older version, finding no files it knows, does the same.

An article's JSON form (``article_to_dict``, ``article_to_json``) is defined here: a record's
head, and the stored ``doc`` field of those earlier generations.
"""

from __future__ import annotations

import dataclasses
import json
import mmap
import os
import struct
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from newsearch.search.model import Article
from newsearch.search.storage.layout import save_synced

_DATA = "records.bin"
_OFFSETS = "record_offsets.npy"
_HEAD = struct.Struct("<I")
_CODECS = {1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}


def article_to_dict(article: Article) -> dict[str, Any]:
    """Every field of an article as JSON values (the date with its offset), in stored order."""
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "published": article.published.isoformat(),
        "category": article.category,
        "source": article.source,
        "tags": list(article.tags),
        "language": article.language,
        "language_detected": article.language_detected,
        "url": article.url,
        "headline": article.headline,
    }


def article_from_dict(data: dict[str, Any]) -> Article:
    """Inverse of :func:`article_to_dict`."""
    return Article(
        id=data["id"],
        title=data["title"],
        body=data["body"],
        published=datetime.fromisoformat(data["published"]),
        category=data["category"],
        source=data["source"],
        tags=tuple(data["tags"]),
        language=data["language"],
        language_detected=data["language_detected"],
        url=data["url"],
        headline=data["headline"],
    )


# Each field's slot descriptor: setting through it is what a frozen dataclass's own
# __init__ does, without the frozen __setattr__ it refuses.
_SETTERS: dict[str, Any] = {
    f.name: getattr(Article, f.name).__set__ for f in dataclasses.fields(Article)
}
_SET_AS_IS = tuple((n, s) for n, s in _SETTERS.items() if n not in ("published", "tags"))


def article_from_record(data: dict[str, Any]) -> Article:
    """:func:`article_from_dict` without ``Article``'s checks, for the generation's own
    records: each was written from an article that passed them.  The checks (the URL
    parsed, the date's range) were 3-6 us of the 6 a hit's article took to make."""
    article: Article = object.__new__(Article)
    for name, set_value in _SET_AS_IS:
        set_value(article, data[name])
    _SETTERS["published"](article, datetime.fromisoformat(data["published"]))
    _SETTERS["tags"](article, tuple(data["tags"]))
    return article


def article_to_json(article: Article) -> str:
    """The stored form of an article (Whoosh's ``doc`` field): every field, the date with
    its offset."""
    return json.dumps(article_to_dict(article), ensure_ascii=False)


def article_from_json(text: str | bytes) -> Article:
    """Inverse of :func:`article_to_json`."""
    # orjson: a page's ten articles decode in 60 us instead of 90 (most of it is making
    # str of 3-4 KB of Cyrillic UTF-8); stored text is valid UTF-8 (the parser refuses
    # unpaired surrogates), the one input where orjson and json would differ.
    return article_from_dict(orjson.loads(text))


def encode_record(article: Article) -> bytes:
    """The record of an article (see the module docstring)."""
    fields = article_to_dict(article)
    body: str = fields.pop("body")
    head = orjson.dumps(fields)
    top = ord(max(body)) if body else 0
    width = 1 if top < 0x100 else 2 if top < 0x10000 else 4
    return _HEAD.pack(len(head)) + head + bytes((width,)) + body.encode(_CODECS[width])


def decode_record(data: bytes) -> Article:
    """Inverse of :func:`encode_record`."""
    (size,) = _HEAD.unpack_from(data)
    start = _HEAD.size + size
    fields = orjson.loads(data[_HEAD.size : start])
    fields["body"] = data[start + 1 :].decode(_CODECS[data[start]])
    return article_from_record(fields)


class ArticlesWriter:
    """Writes the articles of a generation of ``size`` documents, in docnum order.

    ``add`` takes (docnum, article) in increasing docnum order; numbers never
    added are deleted documents.  ``close`` makes the files durable.
    """

    def __init__(self, directory: Path, size: int) -> None:
        directory.mkdir(exist_ok=True)
        self.directory = directory
        self.size = size
        self.offsets = np.zeros(size + 1, dtype=np.int64)
        self.position = 0
        self.last = -1
        self._file = (directory / _DATA).open("wb")

    def add(self, docnum: int, article: Article) -> None:
        """Append one document's record."""
        self.add_record(docnum, encode_record(article))

    def add_record(self, docnum: int, data: bytes) -> None:
        """``add`` for an article already encoded (``encode_record``)."""
        if not self.last < docnum < self.size:
            raise ValueError(f"document {docnum} out of order (after {self.last}, of {self.size})")
        self.offsets[self.last + 1 : docnum + 1] = self.position  # skipped numbers: empty
        self._file.write(data)
        self.position += len(data)
        self.last = docnum

    def close(self) -> None:
        """Finish the data file and write the offsets, both forced to disk."""
        self.offsets[self.last + 1 :] = self.position
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        save_synced(self.directory / _OFFSETS, self.offsets)

    def abandon(self) -> None:
        """Close without finishing (the generation is being removed)."""
        self._file.close()


class Articles:
    """The articles of one generation, by document number."""

    def __init__(self, directory: Path, size: int) -> None:
        # A plain ndarray view of the map: np.memmap's Python-level __getitem__ costs
        # microseconds per scalar, twice a hit.
        self.offsets: npt.NDArray[np.int64] = np.load(
            directory / _OFFSETS, mmap_mode="r", allow_pickle=False
        ).view(np.ndarray)
        self._map: mmap.mmap | None = None
        fd = os.open(directory / _DATA, os.O_RDONLY)
        try:
            length = os.fstat(fd).st_size
            if length:  # an empty file cannot be mapped (a generation of deleted documents)
                self._map = mmap.mmap(fd, length, prot=mmap.PROT_READ)
        finally:
            os.close(fd)  # the map keeps the file
        try:
            o = self.offsets
            if (
                o.dtype != np.int64
                or o.shape != (size + 1,)
                or int(o[0]) != 0
                or int(o[-1]) != length
                or bool(np.any(np.diff(o) < 0))
            ):
                raise ValueError(f"{directory}: offsets do not fit {size} documents in {length} B")
        except BaseException:
            self.close()
            raise

    def record(self, docnum: int) -> bytes | None:
        """The record of a document (None: deleted)."""
        start, end = int(self.offsets[docnum]), int(self.offsets[docnum + 1])
        if start == end or self._map is None:  # (no map: every span is empty)
            return None
        return self._map[start:end]

    def article(self, docnum: int) -> Article | None:
        """The article of a document (None: deleted)."""
        data = self.record(docnum)
        return None if data is None else decode_record(data)

    def mapped(self) -> list[object]:
        """The mapped offsets and records (to preload them; see ``preload.py``)."""
        return [self.offsets] if self._map is None else [self.offsets, self._map]

    def close(self) -> None:
        """Unmap the data file (idempotent)."""
        found, self._map = getattr(self, "_map", None), None
        if found is not None:
            found.close()

    def __del__(self) -> None:
        self.close()


def open_articles(directory: Path, size: int) -> Articles | None:
    """The articles in ``directory``, or None for a generation built without them."""
    if not (directory / _OFFSETS).exists():
        return None
    return Articles(directory, size)


def records_match(articles: Articles, stored: Iterable[tuple[int, str, str]]) -> bool:
    """Whether ``articles`` hold exactly the live documents ``stored`` (docnum, id, content
    hash, as Whoosh stores them), and nothing for the other document numbers.  Each record
    must decode to an article of that id and hash: the hash covers the article's content
    (not its id, nor a language detected rather than given), so a damaged or garbled record
    is told from the one the build wrote."""
    count = 0
    for docnum, article_id, digest in stored:
        try:
            found = articles.article(docnum)
        except (ValueError, KeyError, IndexError, TypeError, struct.error):
            return False  # a damaged record (UnicodeDecodeError is a ValueError)
        if found is None or found.id != article_id or found.content_hash != digest:
            return False
        count += 1
    return count == int(np.count_nonzero(np.diff(articles.offsets)))
