"""Articles to analyzed batches for a build, in this process or in a pool of workers.

Articles are grouped in batches of :data:`BATCH`; each batch is analyzed by
``newsearch.indexer.prepare.prepare_batch``, in worker processes when a build is large enough
(:data:`PARALLEL_THRESHOLD`, judged by :func:`estimate_total`), with a bounded number of
batches in flight.  Input errors are collected aside as they pass.
"""

from __future__ import annotations

import gzip
import multiprocessing
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from itertools import islice
from pathlib import Path
from typing import Any

from newsearch.indexer.prepare import PreparedBatch, prepare_batch
from newsearch.search.model import Article, ArticleError

BATCH = 64
PARALLEL_THRESHOLD = 256
"""Below this many articles a build stays in one process: pools cost more than they save."""


def _batches(
    items: Iterable[Article | ArticleError], errors: list[ArticleError]
) -> Iterator[list[Article]]:
    """Group articles in batches; errors are collected aside as they pass."""
    batch: list[Article] = []
    for item in items:
        if isinstance(item, ArticleError):
            errors.append(item)
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def prepared_batches(
    items: Iterable[Article | ArticleError], errors: list[ArticleError], pool: Executor | None
) -> Iterator[PreparedBatch]:
    """The analyzed batches of ``items``, in order; ``errors`` receives the input errors."""
    batches = _batches(items, errors)
    run = uuid.uuid4().hex
    if pool is None:
        for batch in batches:
            yield prepare_batch(batch, run)
        return
    # Keep a bounded number of batches in flight: memory stays flat on any corpus.
    in_flight = [pool.submit(prepare_batch, b, run) for b in islice(batches, 8)]
    while in_flight:
        done = in_flight.pop(0)
        nxt = next(batches, None)
        if nxt is not None:
            in_flight.append(pool.submit(prepare_batch, nxt, run))
        yield done.result()


def estimate_total(paths: Sequence[Path], enough: int | None = None) -> int:
    """A cheap count of the articles in ``paths`` (files and JSONL lines), for progress ETA.

    With ``enough``, counting stops once that many are found (a yes/no question
    need not read a large corpus through).
    """
    total = 0
    for path in paths:
        files = [path] if path.is_file() else [p for p in sorted(path.rglob("*")) if p.is_file()]
        for f in files:
            if enough is not None and total >= enough:
                return total
            name = f.name.removesuffix(".gz")
            if name.endswith(".txt"):
                total += 1
            elif name.endswith((".jsonl", ".ndjson")):
                opener: Any = gzip.open if f.name.endswith(".gz") else open
                try:
                    with opener(f, "rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            total += int(chunk.count(b"\n"))
                            if enough is not None and total >= enough:
                                return total
                except OSError:
                    total += 1
    return total


def mp_context() -> multiprocessing.context.BaseContext:
    """The start method of the build's worker processes."""
    # forkserver: no fork() of a threaded parent (deprecated and unsafe), cheap restarts.
    return multiprocessing.get_context("forkserver")
