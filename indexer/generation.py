"""A generation being written: its folder, its completion and the switch to it.

A writer (holding the lock) first removes folders that dead writers left
(:func:`remove_incomplete`), writes the Whoosh index of a :class:`PendingGeneration` while
spooling the records of the articles it indexes (:class:`ArticleSpool`), then
:func:`finish` derives the other stores from it (articles, columns, vocabulary, postings),
writes the manifest, switches ``CURRENT`` to it and prunes old generations.

Whoosh stores only each document's id and content hash, and numbers the documents only
when it commits (a parallel build's sub-writers make several segments), so ``finish``
takes each live document's article by its id: from the spool when this write indexed it,
else from the parent generation's records (:class:`ParentRecords`), else, for a document
kept from a generation of an earlier version that had no records, from the ``doc`` field
where Whoosh stored it then.
"""

from __future__ import annotations

import mmap
import shutil
from collections.abc import Iterator
from pathlib import Path

from newsearch.indexer.guard import Origin
from newsearch.indexer.prepare import analyzed_document
from newsearch.search.model import Article
from newsearch.search.storage.articles import (
    Articles,
    ArticlesWriter,
    article_from_json,
    decode_record,
    open_articles,
)
from newsearch.search.storage.columns import build_columns, write_columns
from newsearch.search.storage.layout import Layout, Manifest, utc_now_iso
from newsearch.search.storage.postings import PostingsBuilder
from newsearch.search.storage.vocab import VocabularyBuilder
from newsearch.search.storage.whoosh import open_whoosh

KEEP_GENERATIONS = 3
"""The served generation, the previous one (rollback) and one grace generation for slow readers."""
SPOOL_FILE = "articles.spool"
"""In the pending generation's folder, removed when ``finish`` has written the records."""


class PendingGeneration:
    """A generation being written: removed again unless committed."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.name = layout.next_name()
        self.dir = layout.generation_dir(self.name)

    def cleanup(self) -> None:
        """Remove the folder and everything written into it."""
        shutil.rmtree(self.dir, ignore_errors=True)


class ArticleSpool:
    """The records (``encode_record``) of the articles a write indexes, in a file of its
    pending generation, found again by id for :func:`finish`.

    Only each id's last version is found: the one a write keeps of an id indexed twice
    (``build._resolve_duplicates``).  In memory: an id, a hash and two offsets per article.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("wb")
        self._size = 0
        self._at: dict[str, tuple[str, int, int]] = {}
        self._map: mmap.mmap | None = None

    def add(self, article_id: str, digest: str, record: bytes) -> None:
        """Spool the record of the article ``article_id`` whose content hash is ``digest``."""
        self._file.write(record)
        self._at[article_id] = (digest, self._size, self._size + len(record))
        self._size += len(record)

    def record(self, article_id: str, digest: str) -> bytes | None:
        """The spooled record of this id and hash (None: not indexed by this write)."""
        found = self._at.get(article_id)
        if found is None or found[0] != digest:
            return None
        if self._map is None:  # the first read: every record is written
            self._file.close()
            with self.path.open("rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        return self._map[found[1] : found[2]]

    def close(self) -> None:
        """Close and remove the spool (idempotent)."""
        try:
            self._file.close()
        finally:
            if self._map is not None:
                self._map.close()
                self._map = None
            self.path.unlink(missing_ok=True)


class ParentRecords:
    """The records of the generation a write updates, by article id.

    ``kept`` maps each of its live ids to (content hash, document number).
    """

    def __init__(self, directory: Path, size: int, kept: dict[str, tuple[str, int]]) -> None:
        self.kept = kept
        self.articles: Articles | None = open_articles(directory, size)

    def record(self, article_id: str, digest: str) -> bytes | None:
        """The parent's record of this id and hash (None: not the parent's, or the parent
        has no records)."""
        found = self.kept.get(article_id)
        if self.articles is None or found is None or found[0] != digest:
            return None
        return self.articles.record(found[1])

    def close(self) -> None:
        """Unmap the parent's records."""
        if self.articles is not None:
            self.articles.close()


def remove_incomplete(layout: Layout) -> None:
    """Drop folders of writers that died before finishing (we hold the lock)."""
    complete = set(layout.generations())
    if layout.generations_dir.is_dir():
        for p in layout.generations_dir.iterdir():
            if p.is_dir() and p.name not in complete:
                shutil.rmtree(p, ignore_errors=True)


def prune_old(layout: Layout) -> None:
    """Remove generations older than the last :data:`KEEP_GENERATIONS`, never the served one."""
    names = layout.generations()
    current = layout.current()
    for name in names[:-KEEP_GENERATIONS]:
        if name != current:
            shutil.rmtree(layout.generation_dir(name), ignore_errors=True)


def finish(
    layout: Layout,
    gen: PendingGeneration,
    parent: str | None,
    origin: Origin,
    postings: PostingsBuilder,
    counted: VocabularyBuilder | None,
    spool: ArticleSpool,
    kept: ParentRecords | None,
) -> int:
    """Write articles, columns, postings and manifest of a committed Whoosh index, then switch.

    ``counted`` is the vocabulary of every live document when it was counted while
    indexing (a build without replaced documents); else the words are counted here.
    Each live document's article comes from ``spool`` or ``kept`` (see the module
    docstring); the spool is removed.
    """
    ix = open_whoosh(layout.whoosh_dir(gen.name))
    vocabulary = counted if counted is not None else VocabularyBuilder()
    with ix.reader() as reader:
        size = reader.doc_count_all()
        docs: list[tuple[str, str] | None] = [None] * size
        texts = ArticlesWriter(layout.articles_dir(gen.name), size)

        def stored_articles() -> Iterator[tuple[int, Article]]:
            # One pass over the live documents feeds the records, the columns, the
            # vocabulary and the postings' document table.
            for docnum, stored in reader.iter_docs():
                pair: tuple[str, str] = (stored["id"], stored["hash"])
                record = spool.record(*pair)
                if record is None and kept is not None:
                    record = kept.record(*pair)
                if record is not None:
                    article = decode_record(record)
                    texts.add_record(docnum, record)
                elif "doc" in stored:  # kept from a generation without records
                    article = article_from_json(stored["doc"])
                    texts.add(docnum, article)
                else:
                    raise ValueError(
                        f"generation {gen.name}: no article for document {docnum} ({pair[0]!r})"
                    )
                if counted is None:
                    vocabulary.add(article)
                docs[docnum] = pair
                if postings.missing(pair):
                    # Kept from a generation without postings or without positions: analyzed
                    # once, now.
                    postings.add(*pair, analyzed_document(article).stats)
                yield docnum, article

        try:
            columns = build_columns(size, stored_articles())
        except BaseException:
            texts.abandon()
            raise
        finally:
            spool.close()
            if kept is not None:
                kept.close()
        texts.close()
        count = int(reader.doc_count())
    ix.close()
    write_columns(layout.columns_dir(gen.name), columns)
    vocabulary.write(layout.vocab_file(gen.name))
    postings.write(layout.postings_dir(gen.name), docs)
    layout.write_manifest(
        Manifest(
            generation=gen.name,
            parent=parent,
            built_at=utc_now_iso(),
            documents=count,
            sources=origin.sources,
            api_changes=origin.api_changes,
            read_options=origin.read_options,
        )
    )
    layout.switch(gen.name)
    prune_old(layout)
    return count
