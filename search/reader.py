"""A reusable, thread-safe reader of an index directory's served generation.

``IndexReader.generation()`` returns the current ``Generation`` snapshot; it
notices a new CURRENT (a finished build) at most every ``check_interval``
seconds and opens it, while requests that already hold the old snapshot
finish on it.  Whoosh searchers are not shared between threads: each thread
gets its own, per generation.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import threading
import time
import warnings
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from newsearch.search.analysis import ANALYSIS_VERSION
from newsearch.search.compile import CompiledWords
from newsearch.search.model import Article
from newsearch.search.preload import preload
from newsearch.search.storage.articles import Articles, article_from_json, open_articles
from newsearch.search.storage.columns import Columns, read_columns
from newsearch.search.storage.layout import COLUMNS_DIR, VOCAB_FILE, Layout, Manifest
from newsearch.search.storage.postings import Postings, analysis_version, open_postings
from newsearch.search.storage.vocab import Vocabulary
from newsearch.search.storage.whoosh import Searcher, open_whoosh


@dataclass
class Generation:
    """One opened, immutable generation: Whoosh index, columns, manifest."""

    name: str
    path: Path
    ix: Any
    columns: Columns
    manifest: Manifest
    postings: Postings | None = None
    """Arrays of the accelerated scoring path (None: a generation written without them)."""
    articles: Articles | None = None
    """Articles as records (None: a generation written without them; read from Whoosh)."""
    words: CompiledWords = field(default_factory=dict, repr=False)
    """Query words compiled against this generation's postings (see ``compile_query``)."""
    preloaded: threading.Event = field(default_factory=threading.Event, repr=False)
    """Set when preloading its files is over: done, skipped (too large for this machine's
    memory) or not asked for (see ``IndexReader``)."""
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _searchers: list[Searcher] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        # Searchers hold open files (see open_whoosh): close them when the generation is
        # dropped.  No thread can be using one then, since a search holds its generation.
        weakref.finalize(self, _release, self._searchers, self.articles)

    def searcher(self) -> Searcher:
        """This thread's Whoosh searcher for the generation (reused across requests)."""
        found: Searcher | None = getattr(self._local, "searcher", None)
        if found is None:
            found = self.ix.searcher()
            self._local.searcher = found
            self._searchers.append(found)
        return found

    def close(self) -> None:
        """Close every searcher and the index now (for short-lived, one-thread uses)."""
        _close_all(self._searchers)
        if self.articles is not None:
            self.articles.close()
        self.ix.close()

    def __enter__(self) -> Generation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def article(self, docnum: int) -> Article:
        """The stored article of a (live) document number."""
        found = self.articles.article(docnum) if self.articles is not None else None
        if found is not None:
            return found
        return article_from_json(self.searcher().stored_fields(docnum)["doc"])

    def docnum(self, article_id: str) -> int | None:
        """The live document number of an article id, if present."""
        found = self.searcher().document_number(id=article_id)
        return None if found is None else int(found)

    def preload(self) -> None:
        """Map in the postings and records now, if they fit (see ``preload.py``)."""
        try:
            preload(
                [
                    *(self.postings.mapped() if self.postings is not None else []),
                    *(self.articles.mapped() if self.articles is not None else []),
                ]
            )
        finally:
            self.preloaded.set()

    @property
    def documents(self) -> int:
        """Live documents."""
        return self.manifest.documents

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """Surface words with document frequencies (loaded on first use)."""
        return Vocabulary(self.path / COLUMNS_DIR / VOCAB_FILE)


def _release(searchers: list[Searcher], articles: Articles | None) -> None:
    """Close a dropped generation's searchers and files, then give the freed memory back:
    glibc keeps freed heap pages otherwise, so each switch would leave the dropped
    generation's heap in every worker."""
    _close_all(searchers)
    if articles is not None:
        articles.close()
    _trim_heap()


def _trim_heap() -> None:
    """Return free heap memory to the system (glibc's ``malloc_trim``; elsewhere nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _close_all(searchers: list[Searcher]) -> None:
    for searcher in searchers:
        with contextlib.suppress(Exception):
            searcher.close()
    searchers.clear()


_log = logging.getLogger(__name__)


def open_generation(layout: Layout, name: str) -> Generation:
    """Open generation ``name`` of ``layout`` (raises if it is missing or damaged).

    A generation analyzed by an earlier version is served, with a warning to rebuild it:
    its terms are not all those this version makes of a query (see ANALYSIS_VERSION)."""
    version = analysis_version(layout.postings_dir(name))
    if version != ANALYSIS_VERSION:
        _log.warning(
            "generation %s was analyzed by %s version of newsearch (analysis %d, this one "
            "%d): some words are not found in all their forms, nor in the form typed "
            "(=word), until it is rebuilt with `newsearch index build`",
            name,
            "an earlier" if version < ANALYSIS_VERSION else "a later",
            version,
            ANALYSIS_VERSION,
        )
    ix = open_whoosh(layout.whoosh_dir(name))
    try:
        columns = read_columns(layout.columns_dir(name))
        manifest = layout.manifest(name)
        postings = open_postings(layout.postings_dir(name), columns.size)
        if postings is not None and not postings.positioned:
            _log.warning(
                "generation %s has postings without positions (an earlier format): its "
                "phrases are matched by Whoosh, slower, until the next build or update",
                name,
            )
        articles = open_articles(layout.articles_dir(name), columns.size)
        with ix.reader() as r:
            if r.doc_count_all() != columns.size:
                raise ValueError(
                    f"generation {name}: {r.doc_count_all()} Whoosh documents "
                    f"but {columns.size} column rows"
                )
        generation = Generation(
            name=name,
            path=layout.generation_dir(name),
            ix=ix,
            columns=columns,
            manifest=manifest,
            postings=postings,
            articles=articles,
        )
        # Read now, so that a damaged vocabulary keeps the generation from being served
        # (and /readyz says why) instead of failing the first fuzzy query.
        _ = generation.vocabulary.languages
    except BaseException:
        ix.close()
        # Whoosh leaves the files it opened on a damaged segment to the garbage collector,
        # which would warn later in an unrelated place: collect them here, quietly.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        raise
    return generation


class IndexReader:
    """Follows the served generation of one index directory."""

    def __init__(self, index_dir: Path, check_interval: float = 1.0, preload: bool = True) -> None:
        """``preload``: map each generation's postings and records in as it is opened, in
        a background thread (see ``preload.py``), so that first queries do not pay for it."""
        self.layout = Layout(index_dir)
        self.check_interval = check_interval
        self.preload = preload
        self._lock = threading.Lock()
        self._current: Generation | None = None
        self._checked = 0.0
        self.last_error: str | None = None

    def generation(self) -> Generation:
        """The served generation, reopened when CURRENT changed (IndexNotFound if none)."""
        now = time.monotonic()
        current = self._current
        if current is not None and now - self._checked < self.check_interval:
            return current
        return self._check(now)

    def refresh(self) -> Generation:
        """Look for a new generation now, whenever the last look was."""
        return self._check(time.monotonic())

    @property
    def opened(self) -> Generation | None:
        """The generation opened last, without looking for a new one (None before the first).

        For callers that must neither block on nor trigger an open, such as ``/metrics``.
        """
        return self._current

    def _check(self, now: float) -> Generation:
        # (Forcing a look by backdating ``_checked`` to 0 fails while the machine has
        # been up for less than check_interval: monotonic time starts near boot.)
        with self._lock:
            self._checked = now
            name = self.layout.require_current()
            if self._current is None or self._current.name != name:
                try:
                    self._current = opened = open_generation(self.layout, name)
                    self.last_error = None
                    if self.preload:
                        # The thread holds the generation: it is not dropped (and its
                        # maps closed) while being read.
                        threading.Thread(
                            target=opened.preload, name=f"preload {name}", daemon=True
                        ).start()
                    else:
                        opened.preloaded.set()
                except Exception as exc:
                    self.last_error = f"generation {name} cannot be opened: {exc}"
                    if self._current is None:
                        raise
            else:
                # CURRENT names the open generation again (e.g. rolled back to it after a
                # damaged one): nothing is wrong any more.
                self.last_error = None
            return self._current
