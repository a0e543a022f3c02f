"""Faults while writing: killed writers, a full disk, damaged files, writes racing reads.

* ``kill -9`` (of the whole process group) of ``newsearch index build/update`` subprocesses at
  seeded random moments and at the entry of each phase of a write (the generation folder
  created, the Whoosh commit, the columns, the manifest): the served index keeps answering with
  the same counts (``Engine.search`` and ``newsearch index stats``), and the next build takes the
  dead writer's lock and removes its incomplete folder.
* A full disk (a 4 MB tmpfs holding the index) during a build and an update: the CLI exits
  non-zero with a one-line error, the served generation answers as before.
* A truncated or garbled file of the served generation: ``/readyz`` says not ready and why,
  ``newsearch index rollback`` brings the previous generation back and ``/readyz`` is ready.
* Upserts through GraphQL from several threads while others search: no errors, and every
  article is found by a search made right after its mutation returned.
* ``scripts/load`` briefly (its real two-minute run is done by hand, see the script).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from newsearch.indexer.build import build
from newsearch.indexer.generation import KEEP_GENERATIONS
from newsearch.schema.app import create_app
from newsearch.schema.cli import main
from newsearch.schema.settings import Settings
from newsearch.search.engine import Engine
from newsearch.search.storage.layout import Layout
from newsearch.search.types import SearchRequest
from tests.conftest import DEMO, REPO
from tests.server import live_server

SEED = 20240915
TOKEN = "faults-write-token-7d1e"


def write_records(path: Path, count: int, prefix: str) -> Path:
    """``count`` distinct English articles as JSON Lines."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            record = {
                "id": f"{prefix}{i}",
                "title": f"Article number {i} about energy",
                "body": f"Energy markets and grid repairs {prefix}{i} were discussed at length. "
                * 12,
                "published": f"2024-05-{i % 28 + 1:02d}T10:00:00+03:00",
                "language": "en",
            }
            f.write(json.dumps(record) + "\n")
    return path


def cli(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    """``python -m newsearch.schema.cli ARGS`` (the ``newsearch`` command) in a process group of its
    own."""
    return subprocess.Popen(
        [sys.executable, "-m", "newsearch.schema.cli", *args],
        cwd=REPO,
        start_new_session=True,
        **kwargs,
    )


def stats_documents(index_dir: Path) -> int:
    """Documents of the served generation according to ``newsearch index stats --json``."""
    result = CliRunner().invoke(main, ["index", "stats", "--index", str(index_dir), "--json"])
    assert result.exit_code == 0, result.output
    documents: int = json.loads(result.output)["documents"]
    return documents


# --------------------------------------------------------------------------- kill -9


@dataclass
class Fault:
    """One writer killed: how it was chosen and what the index looked like after."""

    verb: str
    workers: int
    trigger: str
    killed: bool = False
    committed: bool = False


@dataclass
class FaultLog:
    """What the kill loop did."""

    faults: list[Fault] = field(default_factory=list)

    def summary(self) -> str:
        killed = [f for f in self.faults if f.killed]
        return (
            f"{len(killed)} writers killed mid-way "
            f"({sum(not f.committed for f in killed)} before the switch, "
            f"{sum(f.committed for f in killed)} after it), "
            f"{len(self.faults) - len(killed)} finished before the kill; all survived"
        )


MARKERS = ("whoosh", "whoosh/_MAIN_1.toc", "columns", "columns/values.json", "manifest.json")
"""Paths inside the new generation whose appearance marks the entry of a phase of the write."""


def _dirs(path: Path) -> set[tuple[str, int, int]]:
    found = set()
    for p in path.iterdir() if path.is_dir() else ():
        try:
            with_stat = p.stat()
        except FileNotFoundError:  # pruned by the writer between listing and stat
            continue
        found.add((p.name, with_stat.st_ino, with_stat.st_ctime_ns))
    return found


def run_until(proc: subprocess.Popen[bytes], gens: Path, trigger: str, timeout: float = 60) -> bool:
    """Wait for ``trigger`` (``delay:S`` or a marker path), then kill the process group.

    Returns False when the writer finished by itself first.
    """
    before = _dirs(gens)
    deadline = time.monotonic() + timeout
    if trigger.startswith("delay:"):
        until = time.monotonic() + float(trigger.removeprefix("delay:"))
        while time.monotonic() < until and proc.poll() is None:
            time.sleep(0.005)
    else:
        while proc.poll() is None and time.monotonic() < deadline:
            new = [gens / name for name, *_ in _dirs(gens) - before]
            if any((d / trigger).exists() for d in new):
                break
            time.sleep(0.001)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def test_kill_9_of_writers_at_random_points(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    engine = Engine(index_dir, check_interval=0)
    layout = Layout(index_dir)
    served = {"generation": "g000001", "documents": 36}
    sources = {
        "build": write_records(tmp_path / "build.jsonl", 500, "b"),
        "update": write_records(tmp_path / "update.jsonl", 500, "u"),
    }
    rng = random.Random(SEED)
    triggers = [f"delay:{rng.uniform(0.05, 1.6):.2f}" for _ in range(4)] + list(MARKERS)
    rng.shuffle(triggers)
    log = FaultLog()
    for trigger in triggers:
        fault = Fault(
            verb=rng.choice(["build", "update"]), workers=rng.choice([1, 2]), trigger=trigger
        )
        proc = cli(
            "index",
            fault.verb,
            str(sources[fault.verb]),
            "--index",
            str(index_dir),
            "--workers",
            str(fault.workers),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        fault.killed = run_until(proc, layout.generations_dir, trigger)
        log.faults.append(fault)

        current = layout.require_current()
        assert current in layout.generations(), "CURRENT must name a complete generation"
        fault.committed = current != served["generation"]
        if fault.committed:  # the writer got past the switch: the new generation is whole
            served = {"generation": current, "documents": layout.manifest(current).documents}
        assert engine.reader.refresh().name == served["generation"], fault
        assert engine.search(SearchRequest(first=0)).total == served["documents"], fault
        assert engine.search(SearchRequest(query="energy OR армія")).total >= 0
        assert stats_documents(index_dir) == served["documents"], fault

    print(f"\nkill -9 faults: {log.summary()}")
    for f in log.faults:
        print(f"  {f}")
    killed = [f for f in log.faults if f.killed]
    assert len(killed) >= 6, log.summary()
    assert sum(not f.committed for f in killed) >= 5, log.summary()

    # The next build takes the dead writers' lock and removes their incomplete folders.
    summary = build([DEMO], index_dir, workers=1)
    assert summary.documents == 36
    on_disk = sorted(p.name for p in layout.generations_dir.iterdir())
    assert on_disk == layout.generations() and len(on_disk) <= KEEP_GENERATIONS
    assert engine.reader.refresh().name == summary.generation
    assert engine.search(SearchRequest(first=0)).total == 36


# --------------------------------------------------------------------------- full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs (we run as root in CI); skipped where mounting is not permitted."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A ballast file that leaves only ``leave`` bytes free on ``disk``."""
    ballast = disk / "ballast"
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with ballast.open("wb") as f:
        f.truncate(0)
        remaining = max(0, free - leave)
        chunk = b"\0" * (1 << 20)
        while remaining > 0:
            remaining -= f.write(chunk[: min(len(chunk), remaining)])
    return ballast


def test_full_disk_during_build_and_update(small_disk: Path, tmp_path: Path) -> None:
    index_dir = small_disk / "ix"
    build([DEMO], index_dir, workers=1)
    ballast = fill(small_disk, leave=400_000)
    big = write_records(tmp_path / "big.jsonl", 800, "x")
    settings = Settings(index_dir=index_dir, check_interval=0.05)
    with live_server(create_app(settings)) as base:
        for args in (["build", "--workers", "1"], ["update", "--workers", "1"], ["build"]):
            verb, *options = args
            proc = cli(
                "index",
                verb,
                str(big),
                "--index",
                str(index_dir),
                *options,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            _, err = proc.communicate(timeout=120)
            stderr = err.decode("utf-8", "replace")
            assert proc.returncode == 1, (args, stderr)
            errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
            assert len(errors) == 1 and "No space left on device" in errors[0], stderr
            assert "the served generation is unchanged" in errors[0]
            if options:  # one process: the CLI's own line is all there is
                assert "Traceback" not in stderr, stderr
            # The served generation is intact, still answering, and nothing was left behind.
            layout = Layout(index_dir)
            assert layout.current() == "g000001"
            assert sorted(p.name for p in layout.generations_dir.iterdir()) == ["g000001"]
            ready = httpx.get(f"{base}/readyz", timeout=10).json()
            assert ready == {"ready": True, "generation": "g000001", "documents": 36}
            found = httpx.post(
                f"{base}/graphql",
                json={"query": "{ search { ... on ArticleConnection { totalCount } } }"},
                timeout=10,
            ).json()
            assert found == {"data": {"search": {"totalCount": 36}}}
            assert stats_documents(index_dir) == 36
        # Once there is room again, the next build works and the server switches to it.
        ballast.unlink()
        assert build([big], index_dir, workers=1).documents == 800
        assert wait_ready(base) == {"ready": True, "generation": "g000002", "documents": 800}


@pytest.mark.xfail(
    strict=False,
    reason="known defect: Whoosh's writer processes started through forkserver cannot be "
    "cancelled through its API and may print their own ENOSPC tracebacks beside the CLI's error",
)
def test_full_disk_parallel_build_prints_only_the_error(small_disk: Path, tmp_path: Path) -> None:
    index_dir = small_disk / "ix"
    build([DEMO], index_dir, workers=1)
    fill(small_disk, leave=400_000)
    big = write_records(tmp_path / "big.jsonl", 800, "x")
    proc = cli(
        "index", "build", str(big), "--index", str(index_dir), "--workers", "2",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    text = err.decode("utf-8", "replace")
    # The CLI's own last word is the clear error.  Whoosh's writer processes that hit the
    # full disk themselves may print their traceback first (they are not ours to silence);
    # the main process no longer leaves workers behind to print after it.
    last = [line for line in text.splitlines() if line.strip()][-1]
    assert last.startswith("Error: build failed: ")
    assert "No space left on device" in last or "File too large" in last
    assert "nothing was switched" in last


# --------------------------------------------------------------------------- damaged files


def _truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(0, len(data), 5):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "segment truncated": ("whoosh/*.seg", _truncate_half),
    "toc garbled": ("whoosh/_MAIN_*.toc", _garble),
    "column emptied": ("columns/published_us.npy", lambda p: p.write_bytes(b"")),
    "values truncated": ("columns/values.json", _truncate_half),
    "vocabulary truncated": ("columns/vocab.json", _truncate_half),
    "postings truncated": ("postings/weight.npy", _truncate_half),
    "postings meta garbled": ("postings/meta.json", _garble),
    "articles truncated": ("articles/records.bin", _truncate_half),
    "article offsets garbled": ("articles/record_offsets.npy", _garble),
}


# Whoosh does not close a damaged segment or TOC file when it fails to read it; CPython closes
# it as soon as the exception is gone, with a ResourceWarning that pytest reports as
# "unraisable".  That (and only that) is expected where a server meets a damaged index.
WHOOSH_LEAVES_DAMAGED_FILES_OPEN = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io.FileIO name='[^']*/whoosh/[^']*'"
    ":pytest.PytestUnraisableExceptionWarning"
)


def damage(generation_dir: Path, how: str) -> Path:
    """Damage one file of a generation nobody has opened (a mapped file could SIGBUS us)."""
    pattern, fn = DAMAGE[how]
    [target] = sorted(generation_dir.glob(pattern))
    fn(target)
    return target


def two_generations(tmp_path: Path) -> Path:
    """g000001: all 36 demo articles; g000002 (served): the 12 Ukrainian ones."""
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    subset = tmp_path / "uk"
    subset.mkdir()
    for f in sorted(DEMO.glob("uk-*.txt")):
        shutil.copy(f, subset / f.name)
    build([subset], index_dir, workers=1)
    return index_dir


def run_rollback(index_dir: Path) -> subprocess.CompletedProcess[str]:
    """``newsearch index rollback --index DIR``, one command in a subprocess."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "newsearch.schema.cli",
            "index",
            "rollback",
            "--index",
            str(index_dir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def rollback_cli(index_dir: Path) -> str:
    """A rollback that must succeed; what it printed."""
    done = run_rollback(index_dir)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_ready(base: str, timeout: float = 10) -> dict[str, Any]:
    """/readyz once it says ready (the server looks for a new CURRENT every 50 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{base}/readyz", timeout=10)
        if response.status_code == 200 or time.monotonic() > deadline:
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.05)


@WHOOSH_LEAVES_DAMAGED_FILES_OPEN
@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_fresh_server_on_a_damaged_generation_then_rollback(tmp_path: Path, how: str) -> None:
    index_dir = two_generations(tmp_path)
    damaged = damage(index_dir / "generations" / "g000002", how)
    settings = Settings(index_dir=index_dir, check_interval=0.05)
    with live_server(create_app(settings)) as base:
        response = httpx.get(f"{base}/readyz", timeout=10)
        assert response.status_code == 503
        reason = response.json()["reason"]
        assert response.json()["ready"] is False and "g000002" in reason, reason
        answer = httpx.post(f"{base}/graphql", json={"query": "{ indexInfo { documents } }"})
        assert answer.status_code == 200 and answer.json()["errors"]

        assert rollback_cli(index_dir) == "now serving generation g000001"

        assert wait_ready(base) == {"ready": True, "generation": "g000001", "documents": 36}
        answer = httpx.post(f"{base}/graphql", json={"query": "{ indexInfo { documents } }"})
        assert answer.json() == {"data": {"indexInfo": {"documents": 36}}}
    assert damaged.exists()


@WHOOSH_LEAVES_DAMAGED_FILES_OPEN
def test_running_server_keeps_serving_when_the_new_generation_is_damaged(tmp_path: Path) -> None:
    index_dir = two_generations(tmp_path)
    layout = Layout(index_dir)
    assert rollback_cli(index_dir) == "now serving generation g000001"
    settings = Settings(index_dir=index_dir, check_interval=0.05)
    with live_server(create_app(settings)) as base:
        assert wait_ready(base)["generation"] == "g000001"
        # g000002 (never opened by anyone) rots, then becomes current again (a finished build).
        damage(layout.generation_dir("g000002"), "segment truncated")
        layout.switch("g000002")
        time.sleep(0.2)
        response = httpx.get(f"{base}/readyz", timeout=10)
        assert response.status_code == 503
        body = response.json()
        assert body["ready"] is False and body["serving"] == "g000001"
        assert "g000002" in body["reason"]
        answer = httpx.post(f"{base}/graphql", json={"query": "{ indexInfo { documents } }"})
        assert answer.json() == {"data": {"indexInfo": {"documents": 36}}}

        assert rollback_cli(index_dir) == "now serving generation g000001"

        assert wait_ready(base) == {"ready": True, "generation": "g000001", "documents": 36}


def test_rollback_refuses_a_damaged_previous_generation(tmp_path: Path) -> None:
    index_dir = two_generations(tmp_path)
    damage(index_dir / "generations" / "g000001", "toc garbled")
    done = run_rollback(index_dir)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "g000001" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert Layout(index_dir).current() == "g000002"


# --------------------------------------------------------------------------- writes racing reads

UPSERT = """mutation($a: [ArticleInput!]!) { upsertArticles(articles: $a) {
  __typename ... on WriteSuccess { generation added } ... on QueryError { kind message } } }"""
FIND = """query($q: String!) { search(query: $q, first: 5) { __typename
  ... on ArticleConnection { totalCount generation edges { node { id } } }
  ... on QueryError { kind message } } }"""


def _word(n: int) -> str:
    """A made-up English word unique to article ``n`` (letters only)."""
    letters = "bcdfghjklmnpqrstvwxz"
    return "zorb" + "".join(letters[int(d)] for d in f"{n:04d}") + "ix"


def test_concurrent_upserts_are_searchable_at_once(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    # The default check interval (1 s): being found right away must not rely on polling.
    settings = Settings(index_dir=index_dir, write_token=TOKEN)
    writers, per_writer, searchers = 3, 3, 4
    problems: list[str] = []
    searches = 0
    stop = threading.Event()
    with live_server(create_app(settings)) as base:

        def write(w: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                for k in range(per_writer):
                    n = w * 100 + k
                    article = {
                        "id": f"race-{n}",
                        "title": f"Race report {n}",
                        "body": f"The {_word(n)} pipeline was inspected on day {k}.",
                        "published": "2025-03-01T10:00:00+02:00",
                        "language": "en",
                        "tags": [f"race-{w}"],
                    }
                    done = c.post(
                        "/graphql",
                        json={"query": UPSERT, "variables": {"a": [article]}},
                        headers={"authorization": f"Bearer {TOKEN}"},
                    ).json()
                    if done.get("errors") or done["data"]["upsertArticles"]["added"] != 1:
                        problems.append(f"upsert {n}: {done}")
                        continue
                    found = c.post(
                        "/graphql", json={"query": FIND, "variables": {"q": _word(n)}}
                    ).json()
                    page = (found.get("data") or {}).get("search") or {}
                    ids = [e["node"]["id"] for e in page.get("edges", [])]
                    if ids != [f"race-{n}"]:
                        problems.append(f"race-{n} not found right after its upsert: {found}")

        def search(s: int) -> None:
            nonlocal searches
            queries = ["energy", "армія", "race", "pipeline OR report", "", "мигранты"]
            with httpx.Client(base_url=base, timeout=60) as c:
                i = 0
                while not stop.is_set():
                    q = queries[(s + i) % len(queries)]
                    i += 1
                    response = c.post("/graphql", json={"query": FIND, "variables": {"q": q}})
                    body = response.json()
                    if response.status_code != 200 or body.get("errors"):
                        problems.append(f"search {q!r}: {response.status_code} {body}")
                    elif body["data"]["search"]["__typename"] != "ArticleConnection":
                        problems.append(f"search {q!r}: {body}")
                    searches += 1

        readers = [threading.Thread(target=search, args=(s,)) for s in range(searchers)]
        writing = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in readers + writing:
            t.start()
        for t in writing:
            t.join(timeout=120)
        stop.set()
        for t in readers:
            t.join(timeout=60)
        ids = [f"race-{w * 100 + k}" for w in range(writers) for k in range(per_writer)]
        final = httpx.post(
            f"{base}/graphql",
            json={
                "query": "query($ids: [ID!]!) { articles(ids: $ids) { id } "
                "indexInfo { documents } }",
                "variables": {"ids": ids},
            },
            timeout=30,
        ).json()
    print(f"\n{writers * per_writer} upserts from {writers} threads, {searches} searches")
    assert problems == []
    assert final["data"]["articles"] == [{"id": i} for i in ids]
    assert final["data"]["indexInfo"]["documents"] == 36 + len(ids)
    assert searches > 0


def _open_files_under(path: Path) -> list[str]:
    """Files below ``path`` this process holds open (``(deleted)`` ones included)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith(str(path)):
                found.append(target)
    return found


def test_rebuilds_release_old_generations(tmp_path: Path) -> None:
    """A served generation is freed (memory, open files) once a newer one is served.

    The app's lifespan used to hold the generation it opened at start-up for the server's
    lifetime: after rebuilds its memory stayed, and its files stayed open after the pruning
    deleted them (disk space never came back until a restart).
    """
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    app = create_app(Settings(index_dir=index_dir, check_interval=0.05))
    engine: Engine = app.state.services.engine
    query = {"query": '{ search(query: "war") { ... on ArticleConnection { generation } } }'}
    with live_server(app) as base:
        first = engine.reader.generation()
        assert httpx.post(f"{base}/graphql", json=query).json()["data"]["search"] == {
            "generation": "g000001"
        }
        gone = weakref.ref(first)
        del first
        for n in range(2, 6):  # g000001 is pruned by the 4th rebuild (three are kept)
            build([DEMO], index_dir, workers=1)
            assert wait_ready(base)["generation"] == f"g{n:06d}"
            answer = httpx.post(f"{base}/graphql", json=query).json()
            assert answer["data"]["search"] == {"generation": f"g{n:06d}"}
        gc.collect()
        assert gone() is None, "the first generation is still referenced"
        assert not (index_dir / "generations" / "g000001").exists()
        assert _open_files_under(index_dir / "generations" / "g000001") == []
        assert _open_files_under(index_dir / "generations" / "g000002") == []


# --------------------------------------------------------------------------- scripts/load

REPORT_KEYS = {
    "ok",
    "failures",
    "requests",
    "concurrency",
    "duration_s",
    "requests_per_s",
    "errors",
    "retried",
    "http_5xx",
    "statuses",
    "typed_errors",
    "latency_ms",
    "by_kind",
    "rss_mb",
    "rebuild",
    "generations_seen",
    "sample_failures",
    "sample_retries",
    "warmup_s",
}


def test_load_script_briefly(tmp_path: Path) -> None:
    """``scripts/load`` for 5 s at concurrency 4 on the demo articles, with its rebuild."""
    report = tmp_path / "report.json"
    started = time.monotonic()
    done = subprocess.run(
        [
            *(sys.executable, str(REPO / "scripts" / "load.py"), "--sources", str(DEMO)),
            *("--duration", "5", "--concurrency", "4", "--warmup", "1"),
            *("--work", str(tmp_path / "work"), "--report", str(report)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    result = json.loads(report.read_text(encoding="utf-8"))
    assert json.loads(done.stdout) == result
    assert set(result) == REPORT_KEYS
    assert result["ok"] is True and result["failures"] == []
    assert result["requests"] > 20 and result["errors"] == 0 and result["http_5xx"] == 0
    assert result["concurrency"] == 4 and 4 <= result["duration_s"] < 10
    assert set(result["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"]
    assert result["latency_ms"]["p95"] <= result["latency_ms"]["p99"]
    assert set(result["rss_mb"]) >= {"first_minute", "last_minute", "growth_pct"}
    assert result["rss_mb"]["first_minute"] > 10
    rebuilt = result["rebuild"]
    assert rebuilt["exit_code"] == 0
    assert (rebuilt["generation_before"], rebuilt["generation_after"]) == ("g000001", "g000002")
    assert set(result["by_kind"]) >= {"search-words", "search-filtered", "article", "suggest"}
