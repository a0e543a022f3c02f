"""The Whoosh side of a build: its storage, codec and writer (in chunks when parallel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.multiproc import MpWriter, _run_subwriter
from whoosh.writing import IndexWriter

from search.lifetime import end_with_parent

CHUNK_POSTINGS = 1_500_000
"""Postings per worker in a chunk of a parallel build: about 6,000 news articles.  Each chunk
is a segment, and phrase checks walk Whoosh's segments, so smaller chunks slow phrases down;
larger ones take more memory per writer."""
POSTINGS_COMPRESSION = 0
"""zlib level of the blocks of Whoosh's postings: none.  Compressing them is a noticeable
part of a build's time (level 1 no less than Whoosh's default 3), while only phrase checks and
keyword fields read them; Whoosh's files are larger, and an uncompressed block is read
without zlib."""
CHUNK_LIMIT_MB = 512
"""Whoosh's in-memory sorting limit per worker: above its estimate for CHUNK_POSTINGS
(a writer may take more than half a chunk), so a chunk never spills."""


def storage(path: Path) -> FileStorage:
    """The Whoosh storage of a generation being written, read through file handles.

    With mmap, Whoosh copies every sub-file of a compound segment it opens into
    memory, so reading back a large build's segments would hold them all in RAM.
    """
    return FileStorage(str(path), supports_mmap=False)


def codec() -> W3Codec:
    """Whoosh's codec (its default, W3) with POSTINGS_COMPRESSION."""
    return W3Codec(compression=POSTINGS_COMPRESSION)


def _subwriter(*args: Any) -> None:
    """A Whoosh sub-writer process that ends with the build that started it."""
    end_with_parent()
    _run_subwriter(*args)


class _ParallelWriter(MpWriter):  # type: ignore[misc]
    """Whoosh's multi-process writer whose sub-writers end with the build (see lifetime.py).

    The same as ``MpWriter._new_task`` for an explicit start method, with another target.
    """

    def _new_task(self) -> Any:
        args = (
            self.storage,
            self.indexname,
            self.jobqueue,
            self.resultqueue,
            self.subargs,
            self.multisegment,
        )
        task = self._mpctx.Process(target=_subwriter, args=args)
        self.tasks.append(task)
        task.start()
        return task


class Writer:
    """The Whoosh writer of one run; a parallel build commits it in chunks.

    Whoosh sorts each sub-writer's postings in memory while they fit in
    ``limitmb``; past that it spills sorted runs to disk and merges them back,
    pickling every posting twice, which slows a build down markedly.  A
    parallel build from nothing therefore commits a segment per worker every
    ``CHUNK_POSTINGS`` postings (a size that never spills), which also bounds
    the writers' memory on any corpus, at the price of more segments (not
    merged: our postings score queries, Whoosh's segments count little).
    """

    def __init__(self, ix: Any, workers: int, chunked: bool) -> None:
        self.ix = ix
        self.workers = workers
        self.chunked = chunked and workers > 1
        self.postings = 0
        self.writer = self._open()

    def _open(self) -> IndexWriter:
        if self.chunked:
            return _ParallelWriter(
                self.ix,
                procs=self.workers,
                multisegment=True,
                limitmb=CHUNK_LIMIT_MB,
                start_method="forkserver",
                codec=codec(),
            )
        return cast(IndexWriter, self.ix.writer(limitmb=128, codec=codec()))

    def add(self, document: dict[str, Any], postings: int) -> None:
        """Add a document that makes about ``postings`` postings."""
        if self.chunked and self.postings + postings > CHUNK_POSTINGS * self.workers:
            self.writer.commit(merge=False)
            self.writer = self._open()
            self.postings = 0
        self.writer.add_document(**document)
        self.postings += postings

    def delete_by_term(self, fieldname: str, text: str) -> None:
        """Delete the documents with this term."""
        self.writer.delete_by_term(fieldname, text)

    def commit(self) -> None:
        """Commit what is left (chunks' segments are never merged)."""
        if self.chunked:
            self.writer.commit(merge=False)
        else:
            self.writer.commit()

    def cancel(self) -> None:
        """Abandon the uncommitted part (the caller removes the generation folder)."""
        self.writer.cancel()
