"""Writes from the API: upserts, deletes and background rebuilds, one at a time.

A rebuild (``reindex``) reads the sources the server was given (``--sources``), else those the
served generation records (see ``indexer/guard.py``); it is refused like any build when a
source is missing or it would serve no articles, and its warnings say when it drops changes
made through the API since the sources were last read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from newsearch.indexer.build import Summary, apply_changes, build
from newsearch.indexer.feed import estimate_total
from newsearch.indexer.plain import ReadOptions
from newsearch.search.model import Article
from newsearch.search.storage.layout import IndexNotFound, Layout


@dataclass(frozen=True)
class ReindexState:
    """Progress of the last rebuild started through the API."""

    state: str = "idle"
    processed: int = 0
    total: int | None = None
    generation: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class Writes:
    """Serializes this server's writes (other processes are kept out by the writer lock)."""

    def __init__(self, index_dir: Path, sources: tuple[Path, ...]) -> None:
        self.index_dir = index_dir
        self.sources = sources
        self._lock = threading.Lock()
        self._reindex = ReindexState()
        self._state_lock = threading.Lock()

    def apply(self, upserts: list[Article], deletes: list[str]) -> Summary:
        """Apply and return once the new generation is served (blocking; run off the loop)."""
        with self._lock:
            return apply_changes(self.index_dir, upserts, deletes)

    @property
    def reindex_state(self) -> ReindexState:
        """The current or last rebuild."""
        with self._state_lock:
            return self._reindex

    def _set(self, **changes: object) -> None:
        with self._state_lock:
            self._reindex = replace(self._reindex, **changes)  # type: ignore[arg-type]

    def rebuild_sources(self) -> tuple[list[Path], ReadOptions]:
        """The sources a rebuild reads, and how: ``--sources`` if given, else the served
        generation's recorded ones.  ValueError says why there are none to read."""
        layout = Layout(self.index_dir)
        served = layout.current()
        if self.sources and served is None:  # the first build of the index
            return list(self.sources), ReadOptions()
        try:
            served = layout.require_current()
        except IndexNotFound as exc:
            raise ValueError(str(exc)) from None
        manifest = layout.manifest(served)
        options = ReadOptions.from_json(manifest.read_options)
        if self.sources:
            return list(self.sources), options
        if not manifest.sources:
            raise ValueError(
                f"generation {served} records no sources (it was written through the API "
                "only): start the server with --sources"
            )
        unusable = [s for s in manifest.sources if not Path(s).is_absolute()]
        if unusable:
            raise ValueError(
                f"generation {served} records sources that cannot be read again "
                f"({', '.join(unusable)}): start the server with --sources"
            )
        return [Path(s) for s in manifest.sources], options

    def start_reindex(self) -> ReindexState:
        """Start a rebuild from the sources (see ``rebuild_sources``) in a background thread."""
        with self._state_lock:
            if self._reindex.state == "running":
                return self._reindex
            try:
                sources, options = self.rebuild_sources()
            except ValueError as exc:
                self._reindex = ReindexState(state="failed", error=str(exc))
                return self._reindex
            self._reindex = ReindexState(
                state="running",
                started_at=datetime.now(UTC),
                sources=tuple(str(p) for p in sources),
            )
        threading.Thread(
            target=self._run_reindex, args=(sources, options), name="reindex", daemon=True
        ).start()
        return self.reindex_state

    def _run_reindex(self, sources: list[Path], options: ReadOptions) -> None:
        processed = 0

        def progress(n: int) -> None:
            nonlocal processed
            processed += n
            if processed % 50 == 0:
                self._set(processed=processed)

        try:
            self._set(total=estimate_total(sources))
            with self._lock:
                summary = build(sources, self.index_dir, progress=progress, options=options)
            self._set(
                state="done",
                processed=processed,
                generation=summary.generation,
                finished_at=datetime.now(UTC),
                warnings=tuple(summary.warnings),
            )
        except Exception as exc:
            self._set(
                state="failed", processed=processed, error=str(exc), finished_at=datetime.now(UTC)
            )
