"""The benchmark's memory sampler, on a real process tree, and its timing loops."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

from bench.measure import MemorySampler, measure_alternating, run_measured

# A parent holding 64 MiB whose child holds 32 MiB; both wait to be killed.
_TREE = """
import subprocess, sys, time
held = b"x" * (64 << 20)  # written: calloc-ed pages would not count
code = "import time; b = b'x' * (32 << 20); time.sleep(60)"
child = subprocess.Popen([sys.executable, "-c", code])
print("ready", flush=True)
time.sleep(60)
"""


def test_pss_is_read_every_few_samples_and_rss_at_each() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _TREE], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(0.5)  # the child allocates
        sampler = MemorySampler(proc.pid, pss_every=3)
        samples = [sampler.sample() for _ in range(7)]
        assert [s["pss"] > 0 for s in samples] == [True, False, False, True, False, False, True]
        assert all(s["rss"] > 96 << 20 and s["processes"] == 2 for s in samples)
        assert sampler.peak_pss > 96 << 20 and sampler.peak_rss >= sampler.peak_pss
    finally:
        subprocess.run(["pkill", "-P", str(proc.pid)], check=False)
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_a_measured_run_reports_its_peaks() -> None:
    code = "b = b'x' * (48 << 20); import time; time.sleep(3)"
    run = run_measured([sys.executable, "-c", code], timeout=30)
    assert run.returncode == 0 and not run.timed_out
    assert run.peak_tree_rss > 48 << 20 and run.peak_tree_pss > 48 << 20


def test_systems_alternate_pass_by_pass_and_their_samples_add_up() -> None:
    calls: list[tuple[str, int]] = []

    def system(name: str) -> Callable[[int], int]:
        def run(item: int) -> int:
            calls.append((name, item))
            if name == "b" and item == 2:
                raise ValueError("broken query")
            return item * 10

        return run

    found = measure_alternating(
        {"a": system("a"), "b": system("b")}, [1, 2, 3], budget_s=60, passes=2, warmup=1
    )
    warm_a, warm_b = [("a", 1)], [("b", 1)]
    pass_a = [("a", i) for i in (1, 2, 3)]
    pass_b = [("b", i) for i in (1, 2, 3, 1)]  # a failed query is not a sample: one more
    assert calls == warm_a + pass_a + warm_b + pass_b + pass_a + pass_b
    assert len(found["a"].samples_ms) == 6 and found["a"].errors == 0
    assert len(found["b"].samples_ms) == 6 and found["b"].errors == 2
    assert found["b"].first_error == "ValueError: broken query"
    assert found["a"].hits == [10, 20, 30]  # the first pass's only
    assert found["a"].result()["median_total_hits"] == 20
