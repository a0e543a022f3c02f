"""A generation's articles as plain JSON, read by position: the page's hits come from here.

Whoosh keeps every article in its stored fields (the record), but reads one
through a zlib-compressed column, a pickle and a JSON string: 35 µs per
article, 0.35 ms for a page of ten, a third of a top-10 search.  Written from
those stored fields when a generation is finished, this copy is one JSON
object per line in document-number order, with the start of each line::

    articles/data.jsonl     {"id": "a1", "title": ..., "published": ...}\\n ...
    articles/offsets.npy    int64[size + 1]; line i is data[offsets[i]:offsets[i + 1]]

A deleted document has an empty line span.  The file is read with ``pread``
rather than mapped, so the page cache is shared by every worker without
counting in each one's memory.  A generation built before this file existed
is read from Whoosh.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from search.columns import save_synced
from search.fields import article_from_json
from search.model import Article

ARTICLES_DIR = "articles"
_DATA = "data.jsonl"
_OFFSETS = "offsets.npy"


class ArticlesWriter:
    """Writes the articles of a generation of ``size`` documents, in docnum order.

    ``add`` takes (docnum, stored JSON) in increasing docnum order; numbers
    never added are deleted documents.  ``close`` makes the files durable.
    """

    def __init__(self, directory: Path, size: int) -> None:
        directory.mkdir(exist_ok=True)
        self.directory = directory
        self.size = size
        self.offsets = np.zeros(size + 1, dtype=np.int64)
        self.position = 0
        self.last = -1
        self._file = (directory / _DATA).open("wb")

    def add(self, docnum: int, text: str) -> None:
        """Append one document's stored JSON."""
        if not self.last < docnum < self.size:
            raise ValueError(f"document {docnum} out of order (after {self.last}, of {self.size})")
        self.offsets[self.last + 1 : docnum + 1] = self.position  # skipped numbers: empty
        data = text.encode("utf-8") + b"\n"  # JSON escapes newlines: one line each
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
        self._fd = os.open(directory / _DATA, os.O_RDONLY)
        try:
            length = os.fstat(self._fd).st_size
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

    def text(self, docnum: int) -> bytes | None:
        """The stored JSON of a document (None: deleted)."""
        start, end = int(self.offsets[docnum]), int(self.offsets[docnum + 1])
        if start == end:
            return None
        data = os.pread(self._fd, end - start, start)
        if len(data) != end - start:
            raise ValueError(f"article {docnum}: file shorter than its offsets")
        return data

    def article(self, docnum: int) -> Article | None:
        """The article of a document (None: deleted)."""
        data = self.text(docnum)
        return None if data is None else article_from_json(data)

    def close(self) -> None:
        """Close the data file (idempotent)."""
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        self.close()


def open_articles(directory: Path, size: int) -> Articles | None:
    """The articles in ``directory``, or None for a generation built without them."""
    if not (directory / _OFFSETS).exists():
        return None
    return Articles(directory, size)


def articles_agree(articles: Articles, stored: Iterable[tuple[int, str]]) -> bool:
    """Whether ``articles`` hold exactly ``stored`` (docnum, stored JSON of every live
    document), and nothing for the other document numbers."""
    count = 0
    for docnum, text in stored:
        if articles.text(docnum) != text.encode("utf-8") + b"\n":
            return False
        count += 1
    return count == int(np.count_nonzero(np.diff(articles.offsets)))
