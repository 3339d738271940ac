"""repair.yml vs. the Ansible restart floor on one host, paired runs (issue 13).

    .venv/bin/python benchmarks/repair_floor.py --repeat 3 [--repo /tmp/before-checkout] [--out FILE]

Boots one systemd container of the test bed (healthy BeatSync) and, --repeat times, runs in a
row: benchmarks/restart_floor.yml (a restart plus the first healthy /api/health: the least an
Ansible repair can do), then for each fault (--faults, default service_stopped and docs_503)
breaks the host that way and times playbooks/repair.yml of --repo, checking from outside that
/docs answers 200 afterwards. The host's restart budget is cleared before every run, so every
repair really restarts. Prints the medians and each fault's median / the floor's median.
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

from systemd_hosts import SystemdHost, break_host, deploy_fixture  # noqa: E402
from cpu import ansible_env  # noqa: E402


def link_collection(repo):
    link = repo / "build" / "bench-collections" / "ansible_collections" / "beatsync" / "ops"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(repo, target_is_directory=True)
    return link.parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--faults", default="service_stopped,docs_503")
    ap.add_argument("--repo", default=str(HERE), help="checkout whose playbooks/repair.yml is measured")
    ap.add_argument("--out", help="JSON file for the raw numbers")
    args = ap.parse_args()
    repo = Path(args.repo).resolve()
    faults = [fault for fault in args.faults.split(",") if fault]
    env = ansible_env(link_collection(repo))
    host = SystemdHost()
    inventory = Path("/tmp/beatsync-repair-floor-%d.json" % os.getpid())
    try:
        deploy_fixture(host)
        inventory.write_text(json.dumps({"beatsync": {"hosts": {"h1": {
            "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
            "ansible_python_interpreter": "/usr/bin/python3", "beatsync_become": False,
            "beatsync_external_address": host.ip, "beatsync_break_system_packages": True, "beatsync_timeout": 3,
            "beatsync_report_dir": "/tmp/beatsync-repair-floor-reports"}}}}))

        def play(playbook):
            host.exec(["rm", "-rf", "/var/lib/beatsync-ops"])  # a fresh restart budget for every run
            started = time.monotonic()
            proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
                                  env=env, capture_output=True, text=True, check=False, cwd=str(repo))
            wall = time.monotonic() - started
            if proc.returncode != 0:
                raise SystemExit("%s failed:\n%s" % (playbook, proc.stdout[-3000:]))
            return wall

        # Warm-up on the healthy host (nothing to repair): the first run writes the collection's
        # bytecode, as an operator's first run does (see cpu.ansible_env).
        play(repo / "playbooks" / "repair.yml")
        runs = {name: [] for name in ["floor"] + faults}
        for dummy in range(args.repeat):
            runs["floor"].append(play(HERE / "benchmarks" / "restart_floor.yml"))
            for fault in faults:
                break_host(host, fault)
                runs[fault].append(play(repo / "playbooks" / "repair.yml"))
                if host.http_status("/docs") != 200:
                    raise SystemExit("repair.yml left %s with /docs not answering 200" % fault)
        floor = statistics.median(runs["floor"])
        summary = {name: {"median": round(statistics.median(values), 2),
                          "x_floor": round(statistics.median(values) / floor, 2)} for name, values in runs.items()}
        print(json.dumps({"repo": str(repo), "repeat": args.repeat, "runs": runs, "summary": summary}, indent=1))
        if args.out:
            Path(args.out).write_text(json.dumps({"runs": runs, "summary": summary}, indent=1))
    finally:
        host.remove()
        inventory.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
