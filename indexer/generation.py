"""A generation being written: its folder, its completion and the switch to it.

A writer (holding the lock) first removes folders that dead writers left
(:func:`remove_incomplete`), writes the Whoosh index of a :class:`PendingGeneration`, then
:func:`finish` derives the other stores from it (articles, columns, vocabulary, postings),
writes the manifest, switches ``CURRENT`` to it and prunes old generations.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

from indexer.guard import Origin
from indexer.prepare import analyzed_document
from search.model import Article
from search.storage.articles import ArticlesWriter, article_from_json
from search.storage.columns import build_columns, write_columns
from search.storage.layout import Layout, Manifest, utc_now_iso
from search.storage.postings import PostingsBuilder
from search.storage.vocab import VocabularyBuilder
from search.storage.whoosh import open_whoosh

KEEP_GENERATIONS = 3
"""The served generation, the previous one (rollback) and one grace generation for slow readers."""


class PendingGeneration:
    """A generation being written: removed again unless committed."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.name = layout.next_name()
        self.dir = layout.generation_dir(self.name)

    def cleanup(self) -> None:
        """Remove the folder and everything written into it."""
        shutil.rmtree(self.dir, ignore_errors=True)


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
) -> int:
    """Write columns, postings and manifest of a committed Whoosh index, then switch to it.

    ``counted`` is the vocabulary of every live document when it was counted while
    indexing (a build without replaced documents); else the words are counted here.
    """
    ix = open_whoosh(layout.whoosh_dir(gen.name))
    vocabulary = counted if counted is not None else VocabularyBuilder()
    with ix.reader() as reader:
        size = reader.doc_count_all()
        docs: list[tuple[str, str] | None] = [None] * size
        texts = ArticlesWriter(layout.articles_dir(gen.name), size)

        def stored_articles() -> Iterator[tuple[int, Article]]:
            # One pass over the stored articles feeds the columns, the vocabulary and
            # the postings' document table.
            for docnum, stored in reader.iter_docs():
                article = article_from_json(stored["doc"])
                texts.add(docnum, article)
                if counted is None:
                    vocabulary.add(article)
                docs[docnum] = (stored["id"], stored["hash"])
                if postings.missing(docs[docnum]):
                    # Kept from a generation built without postings: analyzed once, now.
                    postings.add(stored["id"], stored["hash"], analyzed_document(article).stats)
                yield docnum, article

        try:
            columns = build_columns(size, stored_articles())
        except BaseException:
            texts.abandon()
            raise
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
