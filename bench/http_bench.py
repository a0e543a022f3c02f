"""GraphQL over HTTP against a real ``newsearch serve`` child process on 127.0.0.1.

The client (httpx AsyncClient, keep-alive, one connection per concurrent worker) runs in the
benchmark process on the same machine, so at high concurrency client and server share the
cores.  Every request loop is bounded by a request count and a time budget; only the loopback
address is ever contacted.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import MemorySampler, summarize, tree_memory
from bench.newsearch_bench import REPO, newsearch_executable
from bench.queries import QuerySpec

FULL_QUERY = """\
query Full($q: String!, $filter: SearchFilter) {
  search(
    query: $q
    filter: $filter
    first: 10
    facets: { size: 10, dateHistogram: MONTH, timeZone: "Europe/Kyiv" }
    highlight: { fragments: 3, fragmentSize: 160 }
  ) {
    __typename
    ... on ArticleConnection {
      totalCount
      didYouMean
      tookMs
      edges {
        score
        cursor
        node { id title published language category source tags }
        highlights { title fragments { html } }
      }
      facets { field truncated distinct values { value count selected } }
      dateHistogram { key count }
      pageInfo { hasNextPage endCursor }
    }
    ... on QueryError { kind message position hint }
  }
}
"""
"""The journalist's full query (schema/examples.py) at benchmark size: top-10, the four
facets (the default fields), a month histogram and highlights."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A ``newsearch serve`` child process."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    started_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_server(
    index_dir: Path,
    log: Path,
    workers: int | None = None,
    timeout: float = 120.0,
    log_level: str | None = None,
) -> Server:
    """Start the server on a free loopback port and wait until /readyz says ready.

    Raises RuntimeError when it exits or is not ready within ``timeout`` seconds.
    """
    import httpx

    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NEWSEARCH_READ_TOKEN", "NEWSEARCH_WRITE_TOKEN", "NEWSEARCH_INDEX")
    }
    argv = [
        *newsearch_executable(),
        "serve",
        "--index",
        str(index_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(["--workers", str(workers)] if workers else []),
        *(["--log-level", log_level] if log_level else []),
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True
        )
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    deadline = started + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"newsearch serve exited ({proc.returncode}); see {log}")
        try:
            r = httpx.get(f"{server.url}/readyz", timeout=5)
            if r.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.perf_counter() > deadline:
            server.stop()
            raise RuntimeError(f"newsearch serve not ready after {timeout:.0f} s; see {log}")
        time.sleep(0.1)
    server.started_s = time.perf_counter() - started
    return server


def payloads(specs: list[QuerySpec]) -> list[dict[str, Any]]:
    return [{"query": FULL_QUERY, "variables": {"q": s.text, "filter": None}} for s in specs]


async def _load(
    url: str,
    bodies: list[dict[str, Any]],
    concurrency: int,
    max_requests: int,
    budget_s: float,
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    took: list[float] = []
    errors = 0
    first_error: str | None = None
    started_requests = 0
    source = itertools.cycle(bodies)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        deadline = time.perf_counter() + budget_s

        async def worker() -> None:
            nonlocal started_requests, errors, first_error
            while started_requests < max_requests and time.perf_counter() < deadline:
                started_requests += 1
                body = next(source)
                t0 = time.perf_counter_ns()
                try:
                    r = await client.post(f"{url}/graphql", json=body)
                    data = r.json()
                except (httpx.HTTPError, ValueError) as exc:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                    continue
                elapsed = (time.perf_counter_ns() - t0) / 1e6
                result = (data.get("data") or {}).get("search") or {}
                if r.status_code != 200 or data.get("errors") or "totalCount" not in result:
                    errors += 1
                    first_error = first_error or (
                        f"HTTP {r.status_code}: {str(data.get('errors') or result)[:300]}"
                    )
                    continue
                latencies.append(elapsed)
                took.append(float(result.get("tookMs") or 0.0))

        t_start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t_start
    out = summarize(latencies)
    out.update(
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        seconds=round(wall, 3),
        requests_per_s=round(len(latencies) / wall, 2) if wall > 0 else 0.0,
        engine_took_p50_ms=round(sorted(took)[len(took) // 2], 3) if took else None,
        stopped_by="count" if started_requests >= max_requests else "time budget",
    )
    if first_error:
        out["first_error"] = first_error[:300]
    return out


def run_http(
    index_dir: Path,
    specs: list[QuerySpec],
    *,
    levels: tuple[int, ...],
    requests_per_level: int,
    budget_s: float,
    log: Path,
    workers: int | None = None,
) -> dict[str, Any]:
    """Latency and throughput of the full query at each concurrency level; server memory."""
    server = start_server(index_dir, log, workers)
    result: dict[str, Any] = {"startup_s": round(server.started_s, 3), "levels": {}}
    try:
        bodies = payloads(specs)
        with MemorySampler(server.proc.pid, interval=0.2) as sampler:
            warm = asyncio.run(_load(server.url, bodies, 1, min(30, len(bodies)), budget_s))
            result["warmup"] = {"requests": warm["requests"], "errors": warm["errors"]}
            idle = tree_memory(server.proc.pid)
            result["rss_after_warmup_bytes"] = idle["rss"]
            for level in levels:
                result["levels"][str(level)] = asyncio.run(
                    _load(server.url, bodies, level, requests_per_level, budget_s)
                )
            sampler.sample()
        result["peak_rss_bytes"] = sampler.peak_rss
        result["peak_pss_bytes"] = sampler.peak_pss
        result["rss_end_bytes"] = sampler.last.get("rss", 0)
    finally:
        server.stop()
    return result


def profile_graphql(index_dir: Path, specs: list[QuerySpec], requests: int = 40) -> dict[str, Any]:
    """The full query through the app in-process (httpx ASGITransport, no sockets), sequential:
    request time against the engine's own ``tookMs``, and a cProfile of the event-loop thread
    (GraphQL parsing, validation, execution, serialization; the engine runs in a worker thread,
    so it shows as waiting in ``select``/``epoll``)."""
    import cProfile
    import io
    import pstats
    import sys

    import httpx

    from newsearch.schema.app import create_app
    from newsearch.schema.settings import Settings

    app = create_app(Settings(index_dir=index_dir))
    bodies = payloads(specs)[:requests]

    async def run(profiler: cProfile.Profile | None) -> tuple[list[float], list[float]]:
        latencies: list[float] = []
        took: list[float] = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for body in bodies[:5]:
                    await client.post("/graphql", json=body)
                if profiler is not None:
                    profiler.enable()
                for body in bodies:
                    t0 = time.perf_counter_ns()
                    r = await client.post("/graphql", json=body)
                    latencies.append((time.perf_counter_ns() - t0) / 1e6)
                    took.append(float(r.json()["data"]["search"]["tookMs"]))
                if profiler is not None:
                    profiler.disable()
        return latencies, took

    latencies, took = asyncio.run(run(None))
    profiler = cProfile.Profile()
    asyncio.run(run(profiler))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    text = out.getvalue().replace(str(REPO) + "/", "").replace(sys.prefix + "/", "")
    request = summarize(latencies)
    engine = summarize(took)
    return {
        "requests": len(latencies),
        "request_p50_ms": request.get("p50_ms"),
        "request_mean_ms": request.get("mean_ms"),
        "engine_took_p50_ms": engine.get("p50_ms"),
        "engine_took_mean_ms": engine.get("mean_ms"),
        "text": text,
    }
