#!/usr/bin/env python3
"""Load test on loopback: a mixed GraphQL query stream against ``newsearch serve``, with a rebuild.

What it does, bounded by ``--duration`` and ``--max-requests`` (it stops by itself):

1. Sources: the real corpora of ``../shared/data`` written once as JSON Lines
   (``var/load/corpora.jsonl``, via ``bench/corpora.py``), or ``--sources`` files/folders.
2. Index: reuses ``--index`` (default ``var/load/index``) when its served generation was built
   from exactly these sources, else builds it with ``newsearch index build``.
3. Starts ``newsearch serve`` as a subprocess on a free ``127.0.0.1`` port (loopback only) and
   waits for ``/readyz``.
4. Runs ``--concurrency`` clients for ``--warmup`` seconds (default 15, not measured: caches and
   thread pools fill up), then for ``--duration`` seconds, each sending one request after the
   other from a seeded mix: words, phrases, OR/prefix/fuzzy queries, filters with facets, the
   date histogram and highlights, browse, article by id, articles by ids, related, suggest.
5. At ``--rebuild-at`` of the run (default half-way) rebuilds the index from the same sources
   into the same folder (``newsearch index build``, a subprocess), so the server switches
   generations under load.
6. Samples the server's RSS (``/proc/<pid>/status`` VmRSS, children included) every second.

A read whose reused keep-alive connection the server closed as it was sent goes out once more
on a new connection and is counted in ``retried`` (mutations are never sent twice).

Prints a summary to stderr and the JSON report to stdout (and ``--report FILE``).  Exit status 0,
or 1 when any request failed (transport error, non-200, 5xx, GraphQL errors, a TIMEOUT), the
rebuild failed or was never served, or the server's RSS in the last minute is ``--max-rss-growth``
percent (default 10) or more above the first minute; 2 when the corpora are absent.

``--duration 120 --concurrency 32`` is the default (``scripts/load``); ``tests/test_faults.py``
runs it briefly on the demo articles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.http_bench import start_server  # noqa: E402
from newsearch.indexer.parse import iter_sources  # noqa: E402
from newsearch.search.model import Article  # noqa: E402
from newsearch.search.storage.layout import Layout  # noqa: E402

WINDOW = 60.0
"""Seconds of the "first minute" and "last minute" RSS windows (halves of shorter runs)."""


# --------------------------------------------------------------------------- set-up


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[load] {message}", file=sys.stderr, flush=True)


def corpus_sources(work: Path) -> list[Path]:
    """The real corpora as one JSON Lines file (written once); exits 2 when they are absent."""
    from bench.corpora import all_corpus_articles, shared_dir, write_jsonl

    if shared_dir() is None:
        log("the real corpora are absent (../shared/data or $NEWSEARCH_SHARED); use --sources")
        sys.exit(2)
    target = work / "corpora.jsonl"
    if not target.exists():
        log(f"writing the corpora to {target} ...")
        tmp = target.with_suffix(".tmp")
        write_jsonl(all_corpus_articles(), tmp)
        os.replace(tmp, target)
    return [target]


def cli(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    """``python -m newsearch.schema.cli ARGS``: the ``newsearch`` command of this checkout."""
    return subprocess.Popen(
        [sys.executable, "-m", "newsearch.schema.cli", *args], cwd=REPO, **kwargs
    )


def ensure_index(index_dir: Path, sources: list[Path]) -> None:
    """Reuse the index when it was built from ``sources``, else build it."""
    layout = Layout(index_dir)
    current = layout.current()
    wanted = [str(p) for p in sources]
    if current is not None and layout.manifest(current).sources == wanted:
        log(f"reusing {index_dir} ({current}, {layout.manifest(current).documents} documents)")
        return
    log(f"building {index_dir} from {', '.join(wanted)} ...")
    started = time.monotonic()
    proc = cli(
        "index",
        "build",
        *wanted,
        "--index",
        str(index_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate()  # stdout is the report's, not the build's
    if proc.returncode != 0:
        log(f"the initial build failed:\n{err.decode(errors='replace')}")
        sys.exit(1)
    log(f"{out.decode(errors='replace').strip()} ({time.monotonic() - started:.1f} s)")


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its children (Linux ``/proc``), 0 when gone."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


# --------------------------------------------------------------------------- the query mix


@dataclass
class Vocabulary:
    """What queries are made of, taken from the indexed articles themselves."""

    ids: list[str]
    words: list[str]
    phrases: list[str]
    tags: list[str]
    categories: list[str]
    languages: list[str]
    years: list[int]

    @staticmethod
    def of(sources: list[Path], seed: int) -> Vocabulary:
        """Frequent title words, title bigrams, tags, categories, ids from ``sources``."""
        words: Counter[str] = Counter()
        phrases: Counter[str] = Counter()
        tags: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        languages: Counter[str] = Counter()
        ids: list[str] = []
        years: set[int] = set()
        word = re.compile(r"[^\W\d_]{4,}")
        for item in iter_sources(sources):
            if not isinstance(item, Article):
                continue
            ids.append(item.id)
            title = word.findall(item.title)
            words.update(w.lower() for w in title)
            phrases.update(f"{a} {b}".lower() for a, b in itertools.pairwise(title))
            tags.update(item.tags)
            categories[item.category] += 1
            languages[item.language or "und"] += 1
            years.add(item.published.year)
        rng = random.Random(seed)
        rng.shuffle(ids)
        return Vocabulary(
            ids=ids[:2000],
            words=[w for w, _ in words.most_common(3000)],
            phrases=[p for p, n in phrases.most_common(500) if n >= 1],
            tags=[t for t, _ in tags.most_common(300)],
            categories=[c for c, _ in categories.most_common(50) if c],
            languages=["uk", "ru", "en"],
            years=sorted(years),
        )


SEARCH = """query($q: String!, $f: SearchFilter, $o: FacetOptions, $h: HighlightOptions,
                  $first: Int!, $sort: SortOrder) {
  search(query: $q, filter: $f, facets: $o, highlight: $h, first: $first, sort: $sort) {
    __typename
    ... on ArticleConnection {
      totalCount generation didYouMean
      edges { cursor score node { id title published tags language }
              highlights { title fragments { html } } }
      facets { field truncated values { value count selected } }
      dateHistogram { key count }
      pageInfo { hasNextPage endCursor }
    }
    ... on QueryError { kind message }
  }
}"""
BROWSE = """query($f: SearchFilter, $o: FacetOptions) {
  browse(filter: $f, facets: $o, first: 20) {
    __typename
    ... on ArticleConnection { totalCount generation edges { node { id title published } }
                               facets { field values { value count } } }
    ... on QueryError { kind message }
  }
}"""
ARTICLE = """query($id: ID!) { article(id: $id) { __typename
  ... on Article { id title body published tags category source language } } }"""
ARTICLES = "query($ids: [ID!]!) { articles(ids: $ids) { id title } }"
RELATED = """query($id: ID!) { related(id: $id, first: 5) { __typename
  ... on RelatedArticles { articles { score node { id title } } } } }"""
SUGGEST = (
    "query($p: String!) { suggest(prefix: $p, first: 8) { tags { tag count } titles { id } } }"
)
INFO = "{ indexInfo { documents generation } }"


Request = tuple[str, str, dict[str, Any]]
"""(kind, document, variables)."""


class Mix:
    """A seeded stream of requests; each kind with its weight."""

    def __init__(self, vocab: Vocabulary, seed: int) -> None:
        self.v = vocab
        self.rng = random.Random(seed)
        self.kinds: list[tuple[str, float, Callable[[], Request]]] = [
            ("search-words", 25, self.words),
            ("search-phrase", 10, self.phrase),
            ("search-operators", 10, self.operators),
            ("search-filtered", 20, self.filtered),
            ("browse", 10, self.browse),
            ("article", 9, self.article),
            ("articles", 3, self.articles),
            ("related", 3, self.related),
            ("suggest", 10, self.suggest),
        ]
        self.weights = [w for _, w, _ in self.kinds]

    def next(self) -> Request:
        """The next request."""
        _, _, make = self.rng.choices(self.kinds, self.weights)[0]
        return make()

    def _word(self) -> str:
        return self.rng.choice(self.v.words)

    def _filter(self) -> dict[str, Any]:
        f: dict[str, Any] = {}
        r = self.rng.random()
        if r < 0.3:
            f["languages"] = [self.rng.choice(self.v.languages)]
        if 0.2 < r < 0.5 and self.v.categories:
            f["categories"] = self.rng.sample(self.v.categories, min(2, len(self.v.categories)))
        if 0.4 < r < 0.7 and self.v.tags:
            f["tagsAny"] = self.rng.sample(self.v.tags, min(3, len(self.v.tags)))
        if r > 0.6:
            year = self.rng.choice(self.v.years)
            f["publishedFrom"] = f"{year}-01-01T00:00:00+02:00"
            f["publishedTo"] = f"{year + self.rng.choice([0, 1, 3])}-12-31T23:59:59+02:00"
        return f

    def _search(self, kind: str, q: str, **extra: Any) -> Request:
        variables: dict[str, Any] = {"q": q, "first": self.rng.choice([5, 10, 20])}
        variables.update(extra)
        return kind, SEARCH, variables

    def words(self) -> Request:
        q = " ".join(self._word() for _ in range(self.rng.choice([1, 1, 2, 3])))
        return self._search("search-words", q, h={"fragments": 2, "fragmentSize": 120})

    def phrase(self) -> Request:
        phrase = self.rng.choice(self.v.phrases) if self.v.phrases else self._word()
        return self._search("search-phrase", f'"{phrase}"')

    def operators(self) -> Request:
        a, b, c = self._word(), self._word(), self._word()
        q = self.rng.choice(
            [
                f"{a} OR {b}",
                f"({a} OR {b}) -{c}",
                f"{a[:4]}*",
                f"{a}~",
                f"title:{a}",
                f"{a} NOT {b}",
            ]
        )
        return self._search("search-operators", q)

    def filtered(self) -> Request:
        q = self.rng.choice(["", self._word()])
        options = {
            "fields": ["TAG", "LANGUAGE", "CATEGORY", "SOURCE"],
            "size": 10,
            "dateHistogram": self.rng.choice(["DAY", "WEEK", "MONTH", "YEAR"]),
            "timeZone": self.rng.choice(["UTC", "Europe/Kyiv", "Europe/London"]),
        }
        sort = self.rng.choice([None, "NEWEST", "OLDEST"])
        return self._search("search-filtered", q, f=self._filter(), o=options, sort=sort)

    def browse(self) -> Request:
        options = {"fields": ["LANGUAGE", "CATEGORY"], "size": 5}
        return "browse", BROWSE, {"f": self._filter(), "o": options}

    def article(self) -> Request:
        return "article", ARTICLE, {"id": self.rng.choice(self.v.ids)}

    def articles(self) -> Request:
        return "articles", ARTICLES, {"ids": self.rng.sample(self.v.ids, min(5, len(self.v.ids)))}

    def related(self) -> Request:
        return "related", RELATED, {"id": self.rng.choice(self.v.ids)}

    def suggest(self) -> Request:
        word = self._word()
        return "suggest", SUGGEST, {"p": word[: self.rng.choice([2, 3, 4])]}


# --------------------------------------------------------------------------- running


@dataclass
class Tally:
    """Everything measured while the stream runs."""

    latencies: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failed: int = 0
    typed_errors: Counter[str] = field(default_factory=Counter)
    generations: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)
    retried: int = 0
    retry_samples: list[str] = field(default_factory=list)

    def fail(self, why: str) -> None:
        self.failed += 1
        if len(self.samples) < 10:
            self.samples.append(why[:300])

    def retry(self, why: str) -> None:
        self.retried += 1
        if len(self.retry_samples) < 10:
            self.retry_samples.append(why[:300])


def _generation_of(body: dict[str, Any]) -> str | None:
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict) and isinstance(value.get("generation"), str):
            gen: str = value["generation"]
            return gen
    return None


RESENT_ERRORS = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
"""How a keep-alive connection closed by the server as the request went out shows."""
KEEPALIVE_EXPIRY_S = 4.0
"""Idle connections are dropped from the pool after this long: shorter than any server's
keep-alive (uvicorn's default 5 s; ``newsearch serve`` keeps them 75 s)."""


def _is_read(document: str) -> bool:
    return re.match(r"\s*(query\b|\{)", document) is not None


async def post(
    client: httpx.AsyncClient, payload: dict[str, Any], kind: str, read: bool, tally: Tally
) -> httpx.Response:
    """POST ``payload`` to /graphql.

    A read sent on a reused keep-alive connection that the server closed as it went out
    (the server may close an idle connection at any moment; the client cannot tell in
    time) is sent once more on a new connection, and counted in ``retried``.  A mutation,
    or a request that failed on a connection opened for it, is never sent again.
    """
    opened = False

    async def trace(event: str, info: dict[str, Any]) -> None:
        nonlocal opened
        if event.startswith("connection.connect_tcp."):
            opened = True

    try:
        return await client.post("/graphql", json=payload, extensions={"trace": trace})
    except RESENT_ERRORS as exc:
        if not read or opened:
            raise
        tally.retry(f"{kind}: {type(exc).__name__}: {exc}")
    return await client.post("/graphql", json=payload)


async def one(client: httpx.AsyncClient, request: Request, tally: Tally) -> None:
    """Send one request and record how it went."""
    kind, document, variables = request
    started = time.perf_counter()
    try:
        payload = {"query": document, "variables": variables}
        response = await post(client, payload, kind, _is_read(document), tally)
    except httpx.HTTPError as exc:
        tally.latencies.append(time.perf_counter() - started)
        tally.kinds[kind] += 1
        tally.fail(f"{kind}: {type(exc).__name__}: {exc}")
        return
    tally.latencies.append(time.perf_counter() - started)
    tally.kinds[kind] += 1
    tally.statuses[response.status_code] += 1
    if response.status_code != 200:
        tally.fail(f"{kind}: HTTP {response.status_code}: {response.text[:200]}")
        return
    try:
        body = response.json()
    except ValueError:
        tally.fail(f"{kind}: not JSON: {response.text[:200]}")
        return
    if body.get("errors"):
        tally.fail(f"{kind}: {body['errors'][0].get('message')} {variables}")
        return
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict) and value.get("__typename") == "QueryError":
            tally.typed_errors[value["kind"]] += 1
            if value["kind"] == "TIMEOUT":
                tally.fail(f"{kind}: TIMEOUT {variables}")
    generation = _generation_of(body)
    if generation:
        tally.generations[generation] += 1


async def clients(
    base: str, mix: Mix, concurrency: int, deadline: float, max_requests: int, tally: Tally
) -> None:
    """``concurrency`` clients sending requests back to back until the deadline or the count."""
    sent = 0
    limits = httpx.Limits(
        max_connections=concurrency,
        max_keepalive_connections=concurrency,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal sent
            while time.monotonic() < deadline and sent < max_requests:
                sent += 1
                await one(client, mix.next(), tally)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def sample_rss(pid: int, started: float, stop: asyncio.Event, tally: Tally) -> None:
    """RSS of the server every second."""
    while not stop.is_set():
        tally.rss.append((time.monotonic() - started, rss_bytes(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


async def rebuild(
    at: float, sources: list[Path], index_dir: Path, base: str, report: dict[str, Any]
) -> None:
    """After ``at`` seconds, rebuild the index into the same folder; wait until it is served."""
    await asyncio.sleep(at)
    before = Layout(index_dir).current()
    report.update(started_at_s=round(at, 1), generation_before=before)
    log(f"rebuilding {index_dir} under load ...")
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "newsearch.schema.cli",
        "index",
        "build",
        *(str(s) for s in sources),
        "--index",
        str(index_dir),
        cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    report["exit_code"] = await proc.wait()
    report["seconds"] = round(time.monotonic() - started, 1)
    after = Layout(index_dir).current()
    report["generation_after"] = after
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(100):  # the server looks for a new CURRENT every second
            info = (await client.post("/graphql", json={"query": INFO})).json()
            if info["data"]["indexInfo"]["generation"] == after:
                report["served_after_s"] = round(time.monotonic() - started, 1)
                break
            await asyncio.sleep(0.1)
    log(f"rebuilt {before} -> {after} in {report['seconds']} s (exit {report['exit_code']})")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rss_windows(samples: list[tuple[float, int]], duration: float) -> tuple[float, float, float]:
    """Mean RSS (MB) of the first and the last minute of the measured run, and the peak."""
    window = min(WINDOW, duration / 2)
    first = [r for t, r in samples if 0 <= t < window]
    last = [r for t, r in samples if duration - window <= t <= duration + 1]
    mb = 1024 * 1024
    peak = max((r for _, r in samples), default=0)
    return (
        statistics.fmean(first) / mb if first else 0.0,
        statistics.fmean(last) / mb if last else 0.0,
        peak / mb,
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Set up, run the stream with a rebuild, tear down; the report."""
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sources = [Path(s).resolve() for s in args.sources] or corpus_sources(work)
    index_dir = Path(args.index).resolve() if args.index else work / "index"
    ensure_index(index_dir, sources)
    vocab = Vocabulary.of(sources, args.seed)
    try:
        server = start_server(index_dir, work / "server.log", timeout=60, log_level="warning")
    except RuntimeError as exc:
        raise SystemExit(f"the server did not get ready: {exc}") from None
    base = server.url
    tally = Tally()
    rebuilt: dict[str, Any] = {}
    try:
        mix = Mix(vocab, args.seed)
        if args.warmup > 0:  # caches and thread pools fill up; not measured
            log(f"warming up for {args.warmup:g} s ...")
            warm = time.monotonic() + args.warmup
            await clients(base, mix, args.concurrency, warm, args.max_requests, Tally())
        log(
            f"{base}: {args.concurrency} clients for {args.duration:g} s "
            f"(at most {args.max_requests} requests), rebuild at {args.rebuild_at:.0%}"
        )
        started = time.monotonic()
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(server.proc.pid, started, stop, tally))
        rebuilder = asyncio.create_task(
            rebuild(args.duration * args.rebuild_at, sources, index_dir, base, rebuilt)
        )
        await clients(
            base, mix, args.concurrency, started + args.duration, args.max_requests, tally
        )
        elapsed = time.monotonic() - started
        try:
            await asyncio.wait_for(rebuilder, timeout=max(60.0, args.duration))
        except TimeoutError:
            rebuilt["error"] = "the rebuild did not finish in time"
        stop.set()
        await sampler
    finally:
        server.stop()
    return report(args, tally, elapsed, rebuilt)


def report(
    args: argparse.Namespace, tally: Tally, elapsed: float, rebuilt: dict[str, Any]
) -> dict[str, Any]:
    """The JSON report, with ``ok`` and the reasons it is not."""
    ms = [x * 1000 for x in tally.latencies]
    step = max(1, len(tally.rss) // 24)
    timeline = [[round(t), round(r / 2**20, 1)] for t, r in tally.rss[::step]]
    first, last, peak = rss_windows(tally.rss, elapsed)
    growth = (last - first) / first * 100 if first else 0.0
    http_5xx = sum(n for status, n in tally.statuses.items() if status >= 500)
    failures = []
    if tally.failed:
        failures.append(f"{tally.failed} failed requests")
    if http_5xx:
        failures.append(f"{http_5xx} responses with a 5xx status")
    if growth >= args.max_rss_growth:
        failures.append(f"RSS grew {growth:.1f}% (limit {args.max_rss_growth:g}%)")
    if rebuilt.get("exit_code") != 0 or "served_after_s" not in rebuilt:
        failures.append(f"the rebuild failed or was not served: {rebuilt}")
    if not tally.latencies:
        failures.append("no request was sent")
    return {
        "ok": not failures,
        "failures": failures,
        "requests": len(tally.latencies),
        "concurrency": args.concurrency,
        "duration_s": round(elapsed, 1),
        "requests_per_s": round(len(tally.latencies) / elapsed, 1) if elapsed else 0.0,
        "errors": tally.failed,
        "retried": tally.retried,
        "http_5xx": http_5xx,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "typed_errors": dict(tally.typed_errors),
        "latency_ms": {
            "p50": round(percentile(ms, 50), 1),
            "p95": round(percentile(ms, 95), 1),
            "p99": round(percentile(ms, 99), 1),
            "max": round(max(ms, default=0.0), 1),
        },
        "by_kind": dict(sorted(tally.kinds.items())),
        "rss_mb": {
            "first_minute": round(first, 1),
            "last_minute": round(last, 1),
            "growth_pct": round(growth, 1),
            "peak": round(peak, 1),
            "samples": len(tally.rss),
            "timeline": timeline,
        },
        "warmup_s": args.warmup,
        "rebuild": rebuilt,
        "generations_seen": dict(sorted(tally.generations.items())),
        "sample_failures": tally.samples,
        "sample_retries": tally.retry_samples,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load (120)")
    parser.add_argument("--concurrency", type=int, default=32, help="parallel clients (32)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop after these")
    parser.add_argument("--sources", nargs="*", default=[], help="default: the real corpora")
    parser.add_argument("--index", default=None, help="index folder (default WORK/index)")
    parser.add_argument("--work", default=str(REPO / "var" / "load"), help="var/load")
    parser.add_argument("--rebuild-at", type=float, default=0.5, help="fraction of the run")
    parser.add_argument("--warmup", type=float, default=15.0, help="unmeasured seconds first")
    parser.add_argument("--max-rss-growth", type=float, default=10.0, help="percent (10)")
    parser.add_argument("--seed", type=int, default=20240915)
    parser.add_argument("--report", default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.concurrency < 1 or not 0 <= args.rebuild_at < 1:
        parser.error("--duration > 0, --concurrency >= 1 and 0 <= --rebuild-at < 1")
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.report:
        Path(args.report).write_text(text + "\n", encoding="utf-8")
    print(text)
    lat = result["latency_ms"]
    rss = result["rss_mb"]
    log(
        f"{result['requests']} requests in {result['duration_s']} s at concurrency "
        f"{result['concurrency']} ({result['requests_per_s']}/s): {result['errors']} failed, "
        f"{result['retried']} reads sent again on a new connection, "
        f"{result['http_5xx']} 5xx; p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms; "
        f"RSS {rss['first_minute']} -> {rss['last_minute']} MB ({rss['growth_pct']:+.1f}%)"
    )
    for reason in result["failures"]:
        log(f"FAILED: {reason}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
