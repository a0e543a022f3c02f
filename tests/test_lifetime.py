"""Processes end with the process that started them, and a server owns its port alone.

* ``kill -9`` of only the parent of ``newsearch index build/update`` (not its process group) at
  seeded random moments: every descendant recorded just before the kill (forkserver, resource
  tracker, pool workers, Whoosh's sub-writers, found through ``/proc``) is gone 5 s later, the
  served generation is unchanged or whole, and the next build works.  On a generated corpus
  large enough for parallel workers, and on the real corpora (``corpus``).
* ``kill -9`` of ``newsearch serve --workers 2``: within 5 s no worker is alive and the port
  refuses connections.  SIGTERM while a worker runs a long write: every process ends within
  the shutdown timeout.
* A second ``serve`` on a port in use exits non-zero at once with a clear message, before it
  opens its index, and the first server keeps answering every request.
* ``scripts/serve --port P`` prints the URL it serves.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from newsearch.indexer.build import build
from newsearch.search.engine import Engine
from newsearch.search.storage.layout import Layout
from newsearch.search.types import SearchRequest
from tests.conftest import DEMO, REPO
from tests.server import serve_popen, serve_process
from tests.test_faults import cli, stats_documents, write_records

SEED = 20261205
GONE_WITHIN_S = 5.0
INFO = {"query": "{ indexInfo { documents } }"}


# --------------------------------------------------------------------------- /proc


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, parent pid, start time, process group) of ``pid`` from /proc, or None when
    it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return fields[0], int(fields[1]), int(fields[19]), int(fields[2])


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of ``root``: pid -> start time (to tell a reused pid apart)."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            state, ppid, start, _ = stat
            if state != "Z":
                children.setdefault(ppid, []).append((int(entry.name), start))
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for pid, start in children.get(todo.pop(), []):
            found[pid] = start
            todo.append(pid)
    return found


def group(pgid: int) -> dict[int, int]:
    """Every live process of process group ``pgid``, also those whose parent has died:
    pid -> start time.  A child forked just before its parent's ``kill -9`` is in no earlier
    look at the parent's descendants but still holds what the parent gave it."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            state, _, start, pgrp = stat
            if state != "Z" and pgrp == pgid and int(entry.name) != pgid:
                found[int(entry.name)] = start
    return found


def survivors(processes: dict[int, int], within: float = GONE_WITHIN_S) -> dict[int, str]:
    """Those of ``processes`` still alive after ``within`` seconds: pid -> command line."""
    deadline = time.monotonic() + within
    while True:
        alive = {}
        for pid, start in processes.items():
            stat = _stat(pid)
            if stat is not None and stat[0] != "Z" and stat[2] == start:
                try:
                    alive[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
        if not alive or time.monotonic() > deadline:
            return {pid: cmd.decode(errors="replace")[:200] for pid, cmd in alive.items()}
        time.sleep(0.05)


@contextmanager
def reaped(group: int) -> Iterator[None]:
    """Kill whatever is left of process group ``group`` afterwards (a failed test's orphans)."""
    try:
        yield
    finally:
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def refuses(port: int) -> bool:
    """True when nothing accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


# --------------------------------------------------------------------------- builds


def kill_writers(index_dir: Path, sources: dict[str, Path], delays: list[float]) -> list[str]:
    """``kill -9`` of the parent of a build or update after each delay; returns what was seen.

    Asserts after each kill that no descendant survives and that the served generation is
    the one before or a whole new one.
    """
    layout = Layout(index_dir)
    engine = Engine(index_dir, check_interval=0)
    served = layout.require_current()
    rng = random.Random(SEED)
    seen = []
    for delay in delays:
        verb = rng.choice(sorted(sources))
        proc = cli(
            *("index", verb, str(sources[verb]), "--index", str(index_dir), "--workers", "2"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with reaped(proc.pid):
            deadline = time.monotonic() + delay
            family: dict[int, int] = {}
            while time.monotonic() < deadline and proc.poll() is None:
                family.update(descendants(proc.pid))
                time.sleep(0.02)
            family.update(descendants(proc.pid))
            if proc.poll() is not None:
                seen.append(f"{verb} finished before {delay:.2f} s")
                continue
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            left = survivors(family)
            assert left == {}, f"{verb} killed at {delay:.2f} s left {left}"
        seen.append(f"{verb} killed at {delay:.2f} s with {len(family)} descendants")
        current = layout.require_current()
        assert current in layout.generations()
        if current != served:
            served = current
        assert engine.reader.refresh().name == served
        documents = layout.manifest(served).documents
        assert engine.search(SearchRequest(first=0)).total == documents
        assert stats_documents(index_dir) == documents
    return seen


def test_kill_9_of_a_parallel_build_leaves_no_process(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    sources = {
        "build": write_records(tmp_path / "build.jsonl", 3000, "b"),
        "update": write_records(tmp_path / "update.jsonl", 3000, "u"),
    }
    rng = random.Random(SEED)
    delays = [0.5, 1.5, 3.0] + [round(rng.uniform(0.3, 4.0), 2) for _ in range(3)]
    seen = kill_writers(index_dir, sources, delays)
    print("\n" + "\n".join(seen))
    killed = [s for s in seen if "killed" in s]
    assert len(killed) >= 4, seen
    assert any("descendants" in s and not s.endswith(" 0 descendants") for s in killed), seen
    summary = build([DEMO], index_dir, workers=2)
    assert summary.documents == 36


@pytest.mark.corpus
def test_kill_9_of_a_build_of_the_real_corpora_leaves_no_process(
    tmp_path: Path, corpus_jsonl: Path
) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    seen = kill_writers(index_dir, {"build": corpus_jsonl, "update": corpus_jsonl}, [0.5, 1.5, 3])
    print("\n" + "\n".join(seen))
    assert build([DEMO], index_dir, workers=2).documents == 36


# --------------------------------------------------------------------------- servers


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    return {**env, **extra}


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def test_kill_9_of_serve_ends_its_workers(demo_index: Path, tmp_path: Path) -> None:
    args = ["--index", str(demo_index), "--workers", "2"]
    with serve_popen(args, _env(), tmp_path / "serve.log") as (base, proc):
        workers = descendants(proc.pid)
        assert len(workers) >= 2, workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert survivors(workers) == {}
        assert refuses(_port(base))


def test_kill_9_of_a_starting_serve_ends_its_workers(demo_index: Path) -> None:
    """Killed at seeded moments while its workers start (import, open the index, warm up)."""
    rng = random.Random(SEED)
    for delay in sorted(round(rng.uniform(0.2, 3.0), 2) for _ in range(4)):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = cli(
            *("serve", "--index", str(demo_index), "--workers", "2", "--port", str(port)),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with reaped(proc.pid):
            family: dict[int, int] = {}
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                family.update(descendants(proc.pid))
                time.sleep(0.02)
            family.update(descendants(proc.pid))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            family.update(group(proc.pid))
            assert survivors(family) == {}, (delay, family)
            assert group(proc.pid) == {}, delay
            assert refuses(port), delay


REINDEX = "mutation { reindex { ... on ReindexStatus { state } } }"


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_ends_busy_workers_within_the_shutdown_timeout(
    tmp_path: Path, workers: int
) -> None:
    """A SIGTERM while a worker rebuilds the index (``reindex``: a pool and Whoosh's
    sub-writers, several seconds) ends every process within ``--shutdown-timeout`` and a
    margin; the rebuild is abandoned, the served generation stays.  The server used to
    wait for the rebuild's sub-writers, which waited for work that never came."""
    token = "lifetime-token-3f9a"
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    layout = Layout(index_dir)
    sources = write_records(tmp_path / "many.jsonl", 4000, "m")
    shutdown = 1.0
    args = ["--index", str(index_dir), "--workers", str(workers), "--sources", str(sources)]
    args += ["--shutdown-timeout", str(shutdown)]
    env = _env(NEWSEARCH_WRITE_TOKEN=token)
    with serve_popen(args, env, tmp_path / "serve.log") as (base, proc):
        before = set(layout.generations_dir.iterdir())
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": REINDEX},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        assert answer["data"]["reindex"]["state"] == "running", answer
        deadline = time.monotonic() + 30
        family: dict[int, int] = {}
        while time.monotonic() < deadline:  # until the rebuild writes Whoosh's segments
            family.update(descendants(proc.pid))
            new = set(layout.generations_dir.iterdir()) - before
            if any((d / "whoosh").is_dir() for d in new) and len(family) > workers + 2:
                break
            time.sleep(0.05)
        family |= {proc.pid: _start(proc.pid)} | descendants(proc.pid)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        left = survivors(family, within=shutdown + 2.5)
        took = time.monotonic() - started
        if left:
            time.sleep(5)
            left = survivors(family, within=0)
        log = (tmp_path / "serve.log").read_text(errors="replace")
        assert left == {} and took < shutdown + 2.5, (took, left, log)
        assert refuses(_port(base))
        print(
            f"\nSIGTERM during a reindex ({workers} workers, {len(family)} processes): "
            f"all ended in {took:.2f} s"
        )
    assert layout.require_current() == "g000001"
    assert Engine(index_dir, check_interval=0).search(SearchRequest(first=0)).total == 36


def _start(pid: int) -> int:
    stat = _stat(pid)
    assert stat is not None
    return stat[2]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_second_server_on_a_busy_port_exits_at_once(
    demo_index: Path, tmp_path: Path, workers: int
) -> None:
    other = tmp_path / "other"
    build([write_records(tmp_path / "other.jsonl", 300, "o")], other, workers=1)
    args = ["--index", str(demo_index), "--workers", "2"]
    with serve_process(args, _env(), tmp_path / "first.log") as base:
        started = time.monotonic()
        second = cli(
            *("serve", "--index", str(other), "--port", str(_port(base))),
            *("--workers", str(workers)),
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        with reaped(second.pid):  # what a second server started would otherwise stay
            try:
                _, err = second.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                err = b"still running after 30 s"
        stderr = err.decode(errors="replace")
        took = time.monotonic() - started
        assert second.returncode == 1, stderr
        assert f"port {_port(base)} on 127.0.0.1 is in use by another process" in stderr
        assert "serving generation" not in stderr, stderr  # the index was not opened
        assert took < 10, took
        with httpx.Client(base_url=base, timeout=10) as client:
            counts = {client.post("/graphql", json=INFO).json()["data"]["indexInfo"]["documents"]}
            for _ in range(39):
                with httpx.Client(base_url=base, timeout=10) as fresh:  # a new connection each
                    counts.add(
                        fresh.post("/graphql", json=INFO).json()["data"]["indexInfo"]["documents"]
                    )
        assert counts == {36}


def test_scripts_serve_prints_the_url_it_serves(demo_index: Path, tmp_path: Path) -> None:
    """``scripts/serve --port P`` printed http://127.0.0.1:8000/graphql whatever P was."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(REPO / "scripts" / "serve"), "--port", str(port), "--workers", "1"],
            cwd=REPO,
            env=_env(NEWSEARCH_INDEX=str(demo_index)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with reaped(proc.pid):
        deadline = time.monotonic() + 120
        while "GraphiQL: " not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        printed = log.read_text().split("GraphiQL: ", 1)[1].split()[0]
        assert printed == f"http://127.0.0.1:{port}/graphql"
        while True:
            try:
                if httpx.get(printed.replace("/graphql", "/readyz"), timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        proc.terminate()
        proc.wait(timeout=30)
