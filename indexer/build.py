"""Index builds and updates: every write makes a new generation, switched to atomically.

``build`` indexes sources into a fresh generation; ``update`` copies the
served generation and applies new, changed and (with ``prune``) vanished
articles to the copy.  Either way the served generation is never touched: a
crash or a failure leaves it answering as before, and the next writer
removes the incomplete folder.

What a write may replace (no articles, a missing source) and the sources a
generation records: see ``indexer/guard.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsearch.indexer.feed import PARALLEL_THRESHOLD, estimate_total, mp_context, prepared_batches
from newsearch.indexer.generation import (
    SPOOL_FILE,
    ArticleSpool,
    ParentRecords,
    PendingGeneration,
    finish,
    remove_incomplete,
)
from newsearch.indexer.guard import (
    check_size,
    check_sources,
    dropped_api_changes,
    origin_of,
    read_sources,
)
from newsearch.indexer.lock import WriterLock
from newsearch.indexer.plain import ReadOptions, ReadReport
from newsearch.indexer.prepare import Prepared, PreparedBatch
from newsearch.search.analysis import ANALYSIS_VERSION
from newsearch.search.lifetime import end_with_parent
from newsearch.search.model import Article, ArticleError
from newsearch.search.storage.layout import Layout
from newsearch.search.storage.postings import PostingsBuilder, analysis_version
from newsearch.search.storage.vocab import VocabularyBuilder
from newsearch.search.storage.whoosh import Writer, codec, create_whoosh, open_whoosh

Progress = Callable[[int], None]


class StrictBuildError(Exception):
    """``--strict`` was given and some input had errors; nothing was switched."""

    def __init__(self, errors: list[ArticleError]) -> None:
        super().__init__(f"{len(errors)} input error(s); index not changed (--strict)")
        self.errors = errors


class OutdatedAnalysis(ValueError):
    """The generation to update was analyzed by an earlier version: its terms and the
    new articles' would differ, so it must be rebuilt (``newsearch index build``)."""

    def __init__(self, generation: str, version: int) -> None:
        super().__init__(
            f"generation {generation} was analyzed by an earlier version (analysis {version}, "
            f"now {ANALYSIS_VERSION}): rebuild it with `newsearch index build SRC... --index DIR`"
        )


@dataclass
class Summary:
    """What a build or update did."""

    generation: str = ""
    documents: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    duplicates: int = 0
    errors: list[ArticleError] = field(default_factory=list)
    seconds: float = 0.0
    read: ReadReport = field(default_factory=ReadReport)
    """The kinds of files read, and the files skipped for their type."""
    warnings: list[str] = field(default_factory=list)
    """What a reader of the summary must not miss: a source that gave no articles, a
    generation much smaller than the one it replaced, API changes a build dropped."""

    @property
    def processed(self) -> int:
        """Articles read from the sources."""
        return self.added + self.updated + self.unchanged + self.duplicates

    @property
    def docs_per_second(self) -> float:
        """Throughput over the whole run."""
        return self.processed / self.seconds if self.seconds > 0 else 0.0


def _numbered(
    batches: Iterable[PreparedBatch],
    postings: PostingsBuilder,
    vocabulary: VocabularyBuilder | None,
) -> Iterator[tuple[Prepared, str, str]]:
    """Each prepared article with the origins of its term and word numbers; every batch's
    strings are handed to the builders first, whether its articles are added or not."""
    for batch in batches:
        postings.numbered.define(*batch.terms)
        if vocabulary is not None:
            vocabulary.numbered.define(*batch.words)
        for item in batch.items:
            yield item, batch.terms[0], batch.words[0]


def _index_articles(
    writer: Writer,
    prepared: Iterable[PreparedBatch],
    known: Mapping[str, tuple[str, int]],
    summary: Summary,
    progress: Progress | None,
    postings: PostingsBuilder,
    vocabulary: VocabularyBuilder | None,
    spool: ArticleSpool,
) -> tuple[set[str], dict[str, str]]:
    """Add new or changed articles (to Whoosh, the spool, the postings and, if given, the
    vocabulary); ``known``: the parent generation's (content hash, document number) by id.

    Returns the ids seen in the sources, and those seen twice with different
    content mapped to the hash of their last version (the one that must stay).
    """
    seen: dict[str, str] = {}
    redo: dict[str, str] = {}
    for item, term_origin, word_origin in _numbered(prepared, postings, vocabulary):
        digest = item.document["hash"]  # the worker computed it (SHA-256 of the article)
        if progress is not None:
            progress(1)
        if item.id in seen:
            summary.duplicates += 1
            if seen[item.id] != digest:
                _add(item, digest, term_origin, writer, spool, postings)
                redo[item.id] = digest
                seen[item.id] = digest
            continue
        seen[item.id] = digest
        old = known.get(item.id)
        if old is not None and old[0] == digest:
            summary.unchanged += 1
            continue
        if old is not None:
            writer.delete_by_term("id", item.id)
            summary.updated += 1
        else:
            summary.added += 1
        _add(item, digest, term_origin, writer, spool, postings)
        if vocabulary is not None:
            vocabulary.add_numbered(word_origin, item.words)
    return set(seen), redo


def _add(
    item: Prepared,
    digest: str,
    term_origin: str,
    writer: Writer,
    spool: ArticleSpool,
    postings: PostingsBuilder,
) -> None:
    """Write one article to Whoosh, the records' spool and the postings."""
    writer.add(item.document, item.postings)
    spool.add(item.id, digest, item.record)
    postings.add_numbered(item.id, digest, term_origin, item.stats)


def _resolve_duplicates(ix: Any, redo: dict[str, str]) -> None:
    """Where one id came more than once with different content, keep one copy of the last version.

    The last version may have been added twice (A, B, A): copies of it are
    identical, so the first one found stays.
    """
    if not redo:
        return
    writer = ix.writer(codec=codec())  # its commit may merge segments: written alike
    with ix.searcher() as searcher:
        for article_id, digest in redo.items():
            kept = False
            for docnum in searcher.document_numbers(id=article_id):
                if not kept and searcher.stored_fields(docnum)["hash"] == digest:
                    kept = True
                else:
                    writer.delete_document(docnum)
    writer.commit()


def _abandon(writer: Writer | None, pool: Executor | None) -> None:
    """Stop a failed write: cancel the writer and the pool's pending work."""
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.cancel()
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _run(
    layout: Layout,
    sources: Sequence[Path],
    *,
    items: Iterable[Article | ArticleError] | None = None,
    deletes: Sequence[str] = (),
    parent: str | None,
    strict: bool,
    workers: int,
    progress: Progress | None,
    prune: bool,
    options: ReadOptions,
    allow_empty: bool,
) -> Summary:
    started = time.perf_counter()
    summary = Summary()
    api = items is not None  # an API write: its articles, not sources, and deletes by id
    if not api:
        check_sources(layout, sources)
    gen = PendingGeneration(layout)
    spool: ArticleSpool | None = None
    kept: ParentRecords | None = None
    try:
        if parent is None:
            gen.dir.mkdir(parents=True)
            layout.whoosh_dir(gen.name).mkdir()
            ix = create_whoosh(layout.whoosh_dir(gen.name))
            known: dict[str, tuple[str, int]] = {}
        else:
            version = analysis_version(layout.postings_dir(parent))
            if version != ANALYSIS_VERSION:
                raise OutdatedAnalysis(parent, version)
            gen.dir.mkdir(parents=True)
            shutil.copytree(layout.whoosh_dir(parent), layout.whoosh_dir(gen.name))
            ix = open_whoosh(layout.whoosh_dir(gen.name), writable=True)
            with ix.reader() as reader:
                # The copy's document numbers are the parent's until the writer commits.
                known = {f["id"]: (f["hash"], d) for d, f in reader.iter_docs()}
                kept = ParentRecords(layout.articles_dir(parent), reader.doc_count_all(), known)
        spool = ArticleSpool(gen.dir / SPOOL_FILE)
        parallel = (
            workers > 1 and estimate_total(sources, enough=PARALLEL_THRESHOLD) >= PARALLEL_THRESHOLD
        )
        pool = (
            # Each worker ends with this process (a kill -9 of a build leaves no worker).
            ProcessPoolExecutor(workers, mp_context=mp_context(), initializer=end_with_parent)
            if parallel
            else None
        )
        writer: Writer | None = None
        postings = PostingsBuilder(layout.postings_dir(parent) if parent is not None else None)
        try:
            writer = Writer(ix, workers, chunked=parallel and parent is None)
            if items is None:
                items = read_sources(sources, options, summary.read, summary.warnings)
            articles = prepared_batches(items, summary.errors, pool)
            # Only a build from nothing can use words counted as they come (see
            # newsearch.indexer.generation.finish).
            vocabulary = VocabularyBuilder() if parent is None else None
            seen_now, redo = _index_articles(
                writer, articles, known, summary, progress, postings, vocabulary, spool
            )
            if strict and summary.errors:
                raise StrictBuildError(summary.errors)
            gone = (set(known) - seen_now) if prune else set()
            gone |= {i for i in deletes if i in known and i not in seen_now}
            for article_id in sorted(gone):
                writer.delete_by_term("id", article_id)
                summary.deleted += 1
            writer.commit()
        except BaseException:
            _abandon(writer, pool)
            raise
        if pool is not None:
            pool.shutdown()
        _resolve_duplicates(ix, redo)
        summary.warnings += check_size(layout, ix.doc_count(), summary.errors, allow_empty or api)
        if not api and (parent is None or prune):
            summary.warnings += dropped_api_changes(layout)
        ix.close()
        # Counted while indexing, the vocabulary is exact when every document indexed in
        # this run is live and there are no others: a build that replaced nothing.
        counted = vocabulary if summary.duplicates == 0 else None
        changed = summary.added + summary.updated + summary.deleted
        origin = origin_of(
            layout, parent, sources, options, api_changes=changed if api else None, prune=prune
        )
        summary.documents = finish(layout, gen, parent, origin, postings, counted, spool, kept)
        summary.generation = gen.name
    except BaseException:
        for opened in (spool, kept):
            if opened is not None:
                # Closing may fail as the write did (a full disk): the folder goes anyway.
                with contextlib.suppress(Exception):
                    opened.close()
        gen.cleanup()
        raise
    summary.seconds = time.perf_counter() - started
    return summary


def _locked_run(
    index_dir: Path,
    sources: Sequence[Path],
    *,
    from_current: bool,
    workers: int | None,
    **run_options: Any,
) -> Summary:
    """Take the writer lock, drop dead writers' folders, and write one generation.

    ``from_current`` starts from a copy of the served generation (update)
    instead of an empty index (build).
    """
    layout = Layout(index_dir)
    with WriterLock(layout.root):
        remove_incomplete(layout)
        return _run(
            layout,
            sources,
            parent=layout.current() if from_current else None,
            workers=workers or os.cpu_count() or 1,
            **run_options,
        )


def build(
    sources: Sequence[Path],
    index_dir: Path,
    *,
    strict: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    options: ReadOptions | None = None,
    allow_empty: bool = False,
) -> Summary:
    """Index ``sources`` into a new generation of ``index_dir`` and serve it.

    Raises IndexLocked when another writer runs, StrictBuildError with
    ``strict`` and any input error, MissingSourcesError when a source does not
    exist, EmptyBuildError when no article was found (unless ``allow_empty``);
    the served generation is then unchanged.  ``options`` say how ``.txt``
    files are read.
    """
    return _locked_run(
        index_dir,
        sources,
        from_current=False,
        strict=strict,
        workers=workers,
        progress=progress,
        prune=False,
        options=options or ReadOptions(),
        allow_empty=allow_empty,
    )


def update(
    sources: Sequence[Path],
    index_dir: Path,
    *,
    prune: bool = False,
    strict: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    options: ReadOptions | None = None,
    allow_empty: bool = False,
) -> Summary:
    """Add new and changed articles (by content hash) to a copy of the served generation.

    With ``prune``, articles no longer in ``sources`` are removed.  With no
    index yet, this is a build.  Refused like ``build`` when a source is
    missing or the result would serve no articles.
    """
    return _locked_run(
        index_dir,
        sources,
        from_current=True,
        strict=strict,
        workers=workers,
        progress=progress,
        prune=prune,
        options=options or ReadOptions(),
        allow_empty=allow_empty,
    )


def apply_changes(
    index_dir: Path,
    upserts: Sequence[Article] = (),
    deletes: Sequence[str] = (),
) -> Summary:
    """Upsert and delete articles (as apps do through the API) in a new generation.

    Unknown ids in ``deletes`` are ignored; articles without a language get
    one detected.  Returns when the new generation is served.  The generation
    keeps its parent's recorded sources and counts these changes (a rebuild
    from the sources does not have them).  Deleting the last article is allowed:
    each deletion names its article.
    """
    return _locked_run(
        index_dir,
        [],
        from_current=True,
        workers=1,
        items=list(upserts),
        deletes=deletes,
        strict=False,
        progress=None,
        prune=False,
        options=ReadOptions(),
        allow_empty=True,
    )
