"""Smoke test of the fleet benchmark (benchmarks/bench.py): one host, one repetition.

Not a timed test: it only proves the script boots a host, runs the timed playbooks, removes
its container and writes its report. The repair/floor part and the plot are left out to stay
well under 90 s on a loaded machine; the full run is documented in docs/benchmarks.md.
Skips when podman or the test-bed image is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from systemd_hosts import podman, unavailable_reason  # noqa: E402

pytestmark = pytest.mark.containers


def test_bench_smoke_writes_report(tmp_path):
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    out = tmp_path / "bench.md"
    argv = [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--hosts", "1", "--repeat", "1",
            "--playbooks", "ping,diagnose", "--no-stock", "--no-plot", "--no-repair",
            "--scale", "1", "--out", str(out)]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=str(REPO), capture_output=True, text=True, timeout=300,
                          check=False, env=dict(os.environ))
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "diagnose/ping  =" in proc.stdout
    text = out.read_text()
    for needle in ("<!-- bench:begin -->", "<!-- bench:end -->", "### Targets",
                   "diagnose.yml <= 1.5x ping", "benchmarks/bench.py --hosts 1", "Load average"):
        assert needle in text, needle
    # its containers are gone
    booted = [line.split(": ", 1)[1].split() for line in proc.stdout.splitlines() if "booting 1 systemd host" in line]
    assert booted and booted[0][0].startswith("beatsync-bench-"), proc.stdout
    names = podman("ps", "-a", "--format", "{{.Names}}", check=False).stdout.split()
    assert booted[0][0] not in names
    print("smoke run took %.0f s" % elapsed)
