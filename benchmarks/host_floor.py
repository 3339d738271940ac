"""What one diagnosis costs the host beyond a ping, part by part (issue 13's host CPU target).

    .venv/bin/python benchmarks/host_floor.py --repeat 20 --rounds 3

Boots one systemd container of the test bed (healthy BeatSync), keeps the AnsiballZ payloads
of ansible.builtin.ping and beatsync.ops.diagnose as Ansible builds them for it (with the
arguments diagnose.yml's action sends, the canonical unit included), and runs the commands
below with `podman exec`, interleaved (each command once per pass, --repeat passes per round,
--rounds rounds), reading the container's cgroup CPU (cpu.stat usage_usec) before and after
each run, minus the container's idle rate (measured at the start of each round) over the
run's time. Printed: host CPU per run (median of the rounds), over `true` (what `podman exec`
itself costs the container), and / the ping payload (median of the rounds' ratios, and their
range: the machine is shared, so only ratios within a round mean something); then, per round,
what a diagnosis would cost if the collection's code were never compiled (the payload minus
twice the difference of the two directory rows: zipimport compiles each module twice,
python/cpython#141276). The payloads run exactly as Ansible runs them with pipelining, without
Ansible's temporary-directory commands; benchmarks/cpu.py measures the whole task.

Rows:
  - the two payloads, and the diagnosis's payload with one probe only (`process`, /proc
    only): what importing the module and the collection's module_utils costs;
  - the parts a diagnosis needs beyond a ping that are not the collection's code: the standard
    library's HTTP client (`http.client`, which imports `email` and `ssl`) and HTML parser (the
    /docs page), one `systemctl show` and one `journalctl` of the unit (the runbook's steps);
  - the floor: benchmarks/library/runbook_floor.py, an Ansible module that takes the runbook's
    inside steps (status, journal, port, health and /docs, process, dependencies, UFW) with the
    standard library in the least code, with no validation, redaction or findings;
  - the diagnose payload's files as a directory, run by AnsiballZ's `execute`: as shipped, and
    with the collection's own files compiled beforehand (what the diagnosis would cost the host
    if the collection's code did not have to be compiled in every run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))
sys.path.insert(0, str(HERE / "benchmarks"))

from cpu import ansible_env, cgroup_usage  # noqa: E402  pylint: disable=wrong-import-position
from systemd_hosts import SystemdHost, deploy_fixture, podman_env  # noqa: E402  pylint: disable=wrong-import-position

ALL_PROBES = '"probes": ["unit", "journal", "port", "process", "health", "docs", "deps", "firewall"]'

PING = "ping payload (ansible.builtin.ping)"
DIAGNOSE = "diagnose payload (every probe)"
FLOOR = "runbook floor payload (benchmarks/library/runbook_floor.py)"
AS_SHIPPED = "diagnose payload as a directory"
PRECOMPILED = "diagnose payload as a directory, the collection's code precompiled"

COMMANDS = [
    ("true (podman exec itself)", ["true"]),
    ("python3 -c pass", ["python3", "-c", "pass"]),
    ("python3: import http.client", ["python3", "-c", "import http.client"]),
    ("python3: import html.parser", ["python3", "-c", "import html.parser"]),
    ("systemctl show beatsync.service", ["systemctl", "show", "beatsync.service"]),
    ("journalctl -u beatsync.service -n 50", ["journalctl", "-u", "beatsync.service", "-n", "50", "--no-pager"]),
    (PING, ["python3", "/tmp/floor-ping.py"]),
    ("diagnose payload, one probe (process)", ["python3", "/tmp/floor-diagnose-one.py"]),
    (DIAGNOSE, ["python3", "/tmp/floor-diagnose.py"]),
    (FLOOR, ["python3", "/tmp/floor-runbook.py"]),
    # The diagnose payload's files as a directory (AnsiballZ's `explode`, run with `execute`,
    # `python3 -B`: nothing written): first as shipped, then with the collection's own files
    # compiled beforehand. The second is what a diagnosis would cost if the collection's code
    # were never compiled on the host (ansible-core's files are compiled in both, as in a ping).
    (AS_SHIPPED, ["sh", "-c", "cd /tmp/floor-dir-source && exec python3 -B p.py execute"]),
    (PRECOMPILED, ["sh", "-c", "cd /tmp/floor-dir-bytecode && exec python3 -B p.py execute"]),
]

# /tmp/floor-dir-<variant>/p.py is the diagnose payload, its debug_dir the payload's files.
EXPLODE = """
set -e
cd /tmp && rm -rf debug_dir floor-dir-source floor-dir-bytecode
python3 -B floor-diagnose.py explode >/dev/null
for variant in source bytecode; do
  mkdir floor-dir-$variant && cp floor-diagnose.py floor-dir-$variant/p.py && cp -a debug_dir floor-dir-$variant/
done
python3 -m compileall -q floor-dir-bytecode/debug_dir/ansible_collections >/dev/null
"""


def keep_payload(host, module, name, inventory, env):
    """Run module once through Ansible with its files kept; copy its AnsiballZ payload to /tmp/<name>."""
    host.exec("rm -rf /root/.ansible/tmp/*")
    subprocess.run([str(Path(sys.executable).parent / "ansible"), "-i", str(inventory), "h0", "-m", module],
                   env=dict(env, ANSIBLE_PIPELINING="0", ANSIBLE_KEEP_REMOTE_FILES="1"),
                   capture_output=True, text=True, check=True, timeout=300)
    host.exec("cp /root/.ansible/tmp/*/AnsiballZ_*.py /tmp/%s" % name)


def idle_rate(host, seconds=3.0):
    """The container's own CPU per second while nothing is run in it (uvicorn, systemd)."""
    before, started = cgroup_usage(host), time.monotonic()
    time.sleep(seconds)
    return (cgroup_usage(host) - before) / (time.monotonic() - started)


def measure_round(host, commands, repeat):
    """One round: every command once per pass, --repeat passes, interleaved so that a busy
    moment of the shared machine weighs on every row alike -> {label: host CPU (s) per run},
    the container's idle rate over the same time subtracted."""
    rate = idle_rate(host)
    used = {label: 0.0 for label, dummy in commands}
    for dummy in range(repeat):
        for label, argv in commands:
            before, started = cgroup_usage(host), time.monotonic()
            subprocess.run(["podman", "exec", host.name] + argv, env=podman_env(), capture_output=True, check=False)
            used[label] += cgroup_usage(host) - before - rate * (time.monotonic() - started)
    return {label: max(value, 0.0) / repeat for label, value in used.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3, help="rounds; medians of the rounds are printed")
    ap.add_argument("--out", help="JSON file for the raw numbers")
    args = ap.parse_args()
    collections = HERE / "build" / "bench-collections"
    link = collections / "ansible_collections" / "beatsync" / "ops"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(HERE, target_is_directory=True)
    host = SystemdHost()
    try:
        deploy_fixture(host)
        inventory = Path("/tmp/beatsync-host-floor-%d.json" % os.getpid())
        inventory.write_text(json.dumps({"beatsync": {"hosts": {"h0": {
            "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
            "ansible_python_interpreter": "/usr/bin/python3", "beatsync_become": False,
            "beatsync_external_address": host.ip}}}}))
        env = ansible_env(collections)
        keep_payload(host, "ansible.builtin.ping", "floor-ping.py", inventory, env)
        keep_payload(host, "beatsync.ops.diagnose", "floor-diagnose.py", inventory, env)
        keep_payload(host, "runbook_floor", "floor-runbook.py", inventory,
                     dict(env, ANSIBLE_LIBRARY=str(HERE / "benchmarks" / "library")))
        text = host.exec(["cat", "/tmp/floor-diagnose.py"]).stdout
        if ALL_PROBES not in text:
            raise SystemExit("the diagnose payload does not carry the expected probe list")
        host.exec(["bash", "-c", "cat > /tmp/floor-diagnose-one.py"],
                  input=text.replace(ALL_PROBES, '"probes": ["process"]'))
        host.exec(["bash", "-c", EXPLODE])
        rounds = [measure_round(host, COMMANDS, args.repeat) for dummy in range(args.rounds)]
        rows = {label: [one[label] for one in rounds] for label, dummy in COMMANDS}
        base = statistics.median(rows[COMMANDS[0][0]])
        print("| run | host CPU per run | over `true` | / ping payload [per-round range] |")
        print("| --- | --- | --- | --- |")
        for label, dummy in COMMANDS:
            value = statistics.median(rows[label])
            ratios = [one[label] / one[PING] for one in rounds if one[PING] > 0]
            cells = (label, value * 1000, (value - base) * 1000, statistics.median(ratios), min(ratios), max(ratios))
            print("| %s | %.1f ms | %.1f ms | %.2f [%.2f-%.2f] |" % cells)
        ping = statistics.median(rows[PING])
        print("\n1.25 x the ping payload leaves %.1f ms of host CPU for everything a diagnosis adds." % (ping * 0.25 * 1000))
        floor = statistics.median(one[FLOOR] / one[PING] for one in rounds if one[PING] > 0)
        print("The runbook's inside steps in the least code (runbook_floor) cost %.2f x the ping payload." % floor)
        bound = [(one[DIAGNOSE] - 2 * (one[AS_SHIPPED] - one[PRECOMPILED])) / one[PING] for one in rounds if one[PING] > 0]
        print("Without compiling the collection's code, the diagnose payload would cost %.2f [%.2f-%.2f] x the ping payload."
              % (statistics.median(bound), min(bound), max(bound)))
        if args.out:
            Path(args.out).write_text(json.dumps({"repeat": args.repeat, "rows": rows}, indent=1))
        inventory.unlink()
    finally:
        host.remove()


if __name__ == "__main__":
    main()
