"""newsearch itself: the build (the CLI, as a measured child process) and the in-process Engine."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.measure import ChildRun, run_measured
from bench.queries import QuerySpec

REPO = Path(__file__).resolve().parents[1]
KYIV = "Europe/Kyiv"


def code_digest() -> str:
    """A digest of the indexer and search sources: a kept index is reused only while equal."""
    h = hashlib.sha256()
    for folder in ("indexer", "search"):
        for path in sorted((REPO / folder).glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def newsearch_executable() -> list[str]:
    """The ``newsearch`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("newsearch")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "newsearch.schema.cli"]


def build(source: Path, index_dir: Path, timeout: float) -> tuple[ChildRun, dict[str, Any]]:
    """``newsearch index build SOURCE --index DIR`` with all cores, measured."""
    env = dict(os.environ, TQDM_DISABLE="1")
    run = run_measured(
        [*newsearch_executable(), "index", "build", str(source), "--index", str(index_dir)],
        timeout=timeout,
        env=env,
        cwd=REPO,
    )
    info: dict[str, Any] = {}
    for line in run.stdout.splitlines():
        if line.startswith("built generation"):
            info["summary_line"] = line.strip()
    return run, info


class NewsearchRunner:
    """Builds the ``SearchRequest`` of each query class and runs it on an in-process Engine."""

    name = "newsearch"

    def __init__(self, index_dir: Path) -> None:
        from newsearch.search.engine import Engine

        self.engine = Engine(index_dir, check_interval=3600.0)
        # Measured as a server answers once ready: with its files preloaded.
        self.engine.reader.generation().preloaded.wait(120)

    def request(self, spec: QuerySpec, after: str | None = None) -> Any:
        from newsearch.search.types import FACET_NAMES, Filters, Interval, SearchRequest

        filters = Filters(
            published_from=spec.date_from,
            published_to=spec.date_to,
            tags_any=spec.tags,
            languages=spec.languages,
        )
        kind = spec.kind
        facets = FACET_NAMES if kind in ("facets", "full", "browse") else ()
        return SearchRequest(
            query=spec.text,
            filters=filters,
            first=10,
            after=after,
            facets=facets,
            facet_size=10,
            histogram=Interval.MONTH if kind in ("facets", "full") else None,
            time_zone=KYIV,
            highlight=kind in ("highlight", "full"),
            fragments=3,
            fragment_size=160,
        )

    def prepare_deep(self, specs: list[QuerySpec]) -> list[QuerySpec]:
        """Follow cursors (untimed) to the page at offset ~200: each spec gets the offset it
        reached and that cursor.  Pages of 100 are followed (a cursor names a position, not a
        page size), so the cursor is the one 20 pages of 10 would reach."""
        out = []
        for spec in specs:
            after = None
            offset = 0
            while offset < spec.offset:
                req = replace(self.request(spec, after), first=min(100, spec.offset - offset))
                page = self.engine.search(req)
                if not page.has_next_page or page.end_cursor is None:
                    break
                after = page.end_cursor
                offset += len(page.hits)
            out.append(replace(spec, offset=offset, extra={"cursor": after}))
        return out

    def runner(self, kind: str) -> Callable[[QuerySpec], int]:
        def run(spec: QuerySpec) -> int:
            cursor = spec.extra.get("cursor") if kind == "deep" else None
            after = cursor if isinstance(cursor, str) else None
            page = self.engine.search(self.request(spec, after))
            return int(page.total)

        return run

    def profile(self, spec: QuerySpec, repeat: int = 20) -> str:
        """cProfile of ``repeat`` runs of one query: top functions by own and cumulative time."""
        import cProfile
        import io
        import pstats

        req = self.request(spec)
        self.engine.search(req)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeat):
            self.engine.search(req)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(25)
        text = out.getvalue()
        return text.replace(str(REPO) + "/", "").replace(sys.prefix + "/", "")
