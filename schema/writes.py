"""Writes from the API: upserts, deletes and background rebuilds, one at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from indexer.build import Summary, apply_changes, build, estimate_total
from search.model import Article


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

    def start_reindex(self) -> ReindexState:
        """Start a rebuild from the configured sources in a background thread."""
        with self._state_lock:
            if self._reindex.state == "running":
                return self._reindex
            if not self.sources:
                self._reindex = ReindexState(
                    state="failed", error="the server has no --sources configured"
                )
                return self._reindex
            self._reindex = ReindexState(state="running", started_at=datetime.now(UTC))
        threading.Thread(target=self._run_reindex, name="reindex", daemon=True).start()
        return self.reindex_state

    def _run_reindex(self) -> None:
        processed = 0

        def progress(n: int) -> None:
            nonlocal processed
            processed += n
            if processed % 50 == 0:
                self._set(processed=processed)

        try:
            self._set(total=estimate_total(list(self.sources)))
            with self._lock:
                summary = build(list(self.sources), self.index_dir, progress=progress)
            self._set(
                state="done",
                processed=processed,
                generation=summary.generation,
                finished_at=datetime.now(UTC),
            )
        except Exception as exc:
            self._set(
                state="failed", processed=processed, error=str(exc), finished_at=datetime.now(UTC)
            )
