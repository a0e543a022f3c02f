"""The benchmark's memory sampler, on a real process tree."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.measure import MemorySampler, run_measured

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
