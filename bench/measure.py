"""Timing loops, percentiles, process-tree memory, the machine's description."""

from __future__ import annotations

import contextlib
import importlib.metadata
import itertools
import os
import platform
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIME = Path("/usr/bin/time")
GIB = 1024**3
MIB = 1024**2


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(samples_ms: Sequence[float]) -> dict[str, Any]:
    """n, p50/p95/p99, mean and max of latencies in milliseconds."""
    if not samples_ms:
        return {"n": 0}
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 3),
        "p95_ms": round(percentile(samples_ms, 95), 3),
        "p99_ms": round(percentile(samples_ms, 99), 3),
        "mean_ms": round(sum(samples_ms) / len(samples_ms), 3),
        "max_ms": round(max(samples_ms), 3),
    }


@dataclass
class Latency:
    """Latencies of one (system, dataset, class) and what went wrong."""

    samples_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    stopped_by: str = "count"
    hits: list[int] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        out = summarize(self.samples_ms)
        out["errors"] = self.errors
        if self.first_error:
            out["first_error"] = self.first_error
        out["stopped_by"] = self.stopped_by
        if self.hits:
            out["median_total_hits"] = sorted(self.hits)[len(self.hits) // 2]
            out["zero_hit_queries"] = sum(1 for h in self.hits if h == 0)
        return out


def measure(
    fn: Callable[[Any], int | None],
    items: Sequence[Any],
    *,
    budget_s: float,
    max_samples: int,
    warmup: int = 5,
) -> Latency:
    """Run ``fn`` over ``items`` (cycling), timing each call, until ``max_samples`` timed calls
    or ``budget_s`` seconds.  The first ``warmup`` items are run untimed first.  ``fn`` may
    return the total hit count of its query; exceptions are counted, not raised."""
    lat = Latency()
    if not items:
        lat.stopped_by = "no queries"
        return lat
    started = time.perf_counter()
    deadline = started + budget_s
    for item in items[:warmup]:
        try:
            fn(item)
        except Exception as exc:  # a broken query must not stop the benchmark
            lat.errors += 1
            lat.first_error = lat.first_error or f"{type(exc).__name__}: {exc}"[:300]
    seen = 0
    for item in itertools.cycle(items):
        if len(lat.samples_ms) >= max_samples:
            break
        # At least one timed call, however long the warm-up took (a busy machine).
        if lat.samples_ms and time.perf_counter() > deadline:
            lat.stopped_by = "time budget"
            break
        t0 = time.perf_counter_ns()
        try:
            total = fn(item)
        except Exception as exc:
            lat.errors += 1
            lat.first_error = lat.first_error or f"{type(exc).__name__}: {exc}"[:300]
            if lat.errors > 20 and not lat.samples_ms:
                lat.stopped_by = "errors"
                break
            continue
        lat.samples_ms.append((time.perf_counter_ns() - t0) / 1e6)
        if seen < len(items) and total is not None:
            lat.hits.append(int(total))
        seen += 1
    return lat


def measure_alternating(
    fns: dict[str, Callable[[Any], int | None]],
    items: Sequence[Any],
    *,
    budget_s: float,
    passes: int,
    warmup: int = 5,
) -> dict[str, Latency]:
    """``measure`` for several systems over the same items, pass by pass in turn: every
    system's first pass, then every system's second pass, and so on.

    A shared machine has slow phases that last minutes; measured one system after the
    other, a phase falls on whichever ran then (the same code measured 0.78x to 1.5x
    SQLite's latency that way).  Alternating puts each system in every phase.  Each
    system warms up before its first pass only; ``budget_s`` is per system (all passes).
    """
    merged = {name: Latency() for name in fns}
    for done in range(passes):
        for name, fn in fns.items():
            one = measure(
                fn,
                items,
                budget_s=budget_s / passes,
                max_samples=len(items),
                warmup=warmup if done == 0 else 0,
            )
            total = merged[name]
            total.samples_ms += one.samples_ms
            total.errors += one.errors
            total.first_error = total.first_error or one.first_error
            if one.stopped_by != "count":
                total.stopped_by = one.stopped_by
            if done == 0:
                total.hits = one.hits  # each query's total once
    return merged


# --------------------------------------------------------------------------- memory


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (now)."""
    children = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def _status_kib(pid: int, key: bytes) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(pid: int, pss: bool = True) -> dict[str, int]:
    """RSS and PSS (bytes) summed over ``pid``'s process tree, and its process count.

    PSS walks every page of every process (25 ms of CPU for a build's tree);
    ``pss=False`` leaves it out (reported as 0).
    """
    pids = process_tree(pid)
    return {
        "rss": sum(_status_kib(p, b"VmRSS:") for p in pids) * 1024,
        "pss": sum(_pss_kib(p) for p in pids) * 1024 if pss else 0,
        "processes": len(pids),
    }


class MemorySampler:
    """Samples a process tree's summed RSS/PSS in a thread; keeps the peaks.

    RSS is read every ``interval`` and PSS every ``pss_every`` samples: reading PSS
    four times a second took 5% of a 2-core machine from the build it measured.
    """

    def __init__(self, pid: int, interval: float = 0.25, pss_every: int = 8) -> None:
        self.pid = pid
        self.interval = interval
        self.pss_every = pss_every
        self._samples = 0
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self.last: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> dict[str, int]:
        mem = tree_memory(self.pid, pss=self._samples % self.pss_every == 0)
        self._samples += 1
        self.last = mem
        self.peak_rss = max(self.peak_rss, mem["rss"])
        self.peak_pss = max(self.peak_pss, mem["pss"])
        self.peak_processes = max(self.peak_processes, mem["processes"])
        return mem

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def reset(self) -> None:
        self.peak_rss = self.peak_pss = self.peak_processes = 0


@dataclass
class ChildRun:
    """A measured child process: exit code, wall time, memory, its output."""

    returncode: int
    seconds: float
    peak_tree_rss: int
    peak_tree_pss: int
    max_process_rss: int
    """The largest single process among the child and its reaped descendants (``ru_maxrss``,
    as ``/usr/bin/time`` reports it)."""
    peak_processes: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_measured(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildRun:
    """Run ``argv``, sampling its process tree's memory; killed (group) after ``timeout`` s."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.time_ns()}"
    maxrss_path = Path(f"{out_path}.maxrss")
    # ru_maxrss of a child we fork ourselves would include this (big) process's RSS at fork
    # time (Linux keeps the pre-exec high-water mark), so GNU time forks it from a small one.
    wrapper = ["/usr/bin/time", "-f", "%M", "-o", str(maxrss_path)] if TIME.exists() else []
    with open(f"{out_path}.out", "w+b") as out, open(f"{out_path}.err", "w+b") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*wrapper, *argv], stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True
        )
        timed_out = False
        with MemorySampler(proc.pid) as sampler:
            deadline = started + timeout
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid == proc.pid:
                    break
                if time.perf_counter() > deadline:
                    timed_out = True
                    os.killpg(proc.pid, 9)
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    max_rss = usage.ru_maxrss * 1024
    if wrapper:
        try:
            max_rss = int(maxrss_path.read_text().split()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            max_rss = 0
    for suffix in (".out", ".err", ".maxrss"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    return ChildRun(
        returncode=proc.returncode,
        seconds=seconds,
        peak_tree_rss=sampler.peak_rss,
        peak_tree_pss=sampler.peak_pss,
        max_process_rss=max_rss,
        peak_processes=sampler.peak_processes,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
    )


def dir_size(path: Path) -> int:
    """Bytes of all regular files under ``path``."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


# --------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def _git(repo: Path, *args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(repo: Path) -> dict[str, Any]:
    """What the numbers were measured on."""
    dirty = _git(repo, "status", "--porcelain", "--", "search", "indexer", "schema")
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_bytes": _mem_total(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {
            name: _version(name)
            for name in (
                "whoosh3",
                "tantivy",
                "numpy",
                "strawberry-graphql",
                "starlette",
                "uvicorn",
                "httpx",
                "pymorphy3",
                "PyStemmer",
            )
        }
        | {"sqlite": sqlite3.sqlite_version},
        "git_head": _git(repo, "rev-parse", "--short", "HEAD"),
        "git_dirty_files": len(dirty.splitlines()) if dirty else 0,
        "loadavg_start": loadavg(),
    }
