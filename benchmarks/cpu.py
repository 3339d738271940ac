"""Controller and host CPU of one diagnosis vs. one ping play, paired runs (issue 13).

    .venv/bin/python benchmarks/cpu.py --hosts 1 --repeat 5 [--repo /tmp/before-checkout] [--connection ssh]
                                       [--playbook benchmarks/diagnose_module.yml]

Boots --hosts systemd containers of the test bed (healthy BeatSync), then runs, interleaved
and --repeat times: benchmarks/ping.yml and playbooks/diagnose.yml of --repo (default: this
checkout) on all hosts. For each run it records
  - controller CPU: user+sys of the ansible-playbook process tree (RUSAGE_CHILDREN delta: the
    playbook process and every worker it waited for);
  - wall time;
  - host CPU: the containers' cgroup CPU usage delta (v2 cpu.stat usage_usec, v1 cpuacct.usage), minus the same containers'
    idle usage over an equally long quiet window measured right after.
--connection podman (default) reaches the containers with containers.podman.podman as root;
--connection ssh reaches them as users do (tests/systemd_hosts.SshHost: ssh as `ops` on port
2222, become through sudo), with the SSH multiplexing of benchmarks/ansible.cfg (ControlPersist:
the connection is made by the warm-up run, each task opens a channel on it).
Prints medians and the paired ratios (diagnose / ping, median of per-pair ratios). The machine
is shared: only the ratios of paired runs mean something.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))

from systemd_hosts import SshHost, SystemdHost, deploy_fixture, podman_env  # noqa: E402


_CGROUP = {}


def cgroup_usage(host):
    """CPU seconds the container's cgroup used so far (read on the machine, cgroup v2)."""
    if host.name not in _CGROUP:
        proc = subprocess.run(["podman", "inspect", "--format", "{{.State.CgroupPath}}", host.name], env=podman_env(),
                              capture_output=True, text=True, check=True)
        relative = proc.stdout.strip().lstrip("/")
        v2 = Path("/sys/fs/cgroup") / relative / "cpu.stat"
        _CGROUP[host.name] = v2 if v2.exists() else Path("/sys/fs/cgroup/cpuacct") / relative / "cpuacct.usage"
    path = _CGROUP[host.name]
    text = path.read_text()
    if path.name == "cpuacct.usage":  # cgroup v1: nanoseconds
        return int(text) / 1e9
    return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


def _connection(host, connection):
    if connection == "ssh":
        # As benchmarks/ansible.cfg recommends: one multiplexed connection per host, kept open.
        return host.hostvars(ansible_ssh_args="-C -o ControlMaster=auto -o ControlPersist=120s")
    return {"ansible_connection": "containers.podman.podman", "ansible_host": host.name,
            "ansible_python_interpreter": "/usr/bin/python3", "beatsync_become": False}


def ansible_env(collections):
    """The environment of every measured ansible run: benchmarks/ansible.cfg, the collection of
    the checkout measured, the project's containers.conf, and Python's default bytecode cache,
    as on an operator's controller. There ansible-core's plugin loader imports the collection's
    action plugins from the __pycache__ the first run (the warm-up run here) wrote, as
    ansible-core's own code comes from the bytecode pip wrote; this machine's sandbox sets
    PYTHONDONTWRITEBYTECODE, which would compile those files in every run (the ping play has
    none). The module_utils and plugin_utils the actions import are compiled in every run
    either way: ansible-core's collection loader keeps no bytecode."""
    env = dict(podman_env(), ANSIBLE_CONFIG=str(HERE / "benchmarks" / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(collections))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(repo, playbook, inventory, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
                          env=env, capture_output=True, text=True, check=False, cwd=str(repo))
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (playbook, proc.stdout[-3000:]))
    return {"cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), "wall": wall}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--repo", default=str(HERE), help="checkout whose playbooks/diagnose.yml is measured")
    ap.add_argument("--playbook", default="playbooks/diagnose.yml",
                    help="the play measured against the ping play, relative to --repo (benchmarks/diagnose_module.yml: "
                         "the diagnose task alone, without the role and the fleet summary around it)")
    ap.add_argument("--out", help="JSON file for the raw numbers")
    ap.add_argument("--connection", choices=["podman", "ssh"], default="podman",
                    help="podman: containers.podman.podman as root; ssh: as users connect (ssh + sudo)")
    args = ap.parse_args()
    repo = Path(args.repo).resolve()
    collections = repo / "build" / "bench-collections"
    link = collections / "ansible_collections" / "beatsync" / "ops"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(repo, target_is_directory=True)
    key_dir = Path("/tmp/beatsync-cpu-bench-keys-%d" % os.getpid())
    hosts = []
    try:
        for dummy in range(args.hosts):
            hosts.append(SshHost(key_dir) if args.connection == "ssh" else SystemdHost())
            deploy_fixture(hosts[-1])
        inventory = Path("/tmp/beatsync-cpu-bench-%d.json" % os.getpid())
        inventory.write_text(json.dumps({"beatsync": {"hosts": {
            "h%d" % i: dict(_connection(host, args.connection), beatsync_external_address=host.ip,
                            beatsync_report_dir="/tmp/beatsync-cpu-bench-reports")
            for i, host in enumerate(hosts)}}}))
        env = ansible_env(collections)
        plays = {"ping": HERE / "benchmarks" / "ping.yml", "diagnose": repo / args.playbook}
        run(repo, plays["diagnose"], inventory, env)  # warm caches
        rows = []
        for dummy in range(args.repeat):
            pair = {}
            for name in ("ping", "diagnose"):
                used = [cgroup_usage(host) for host in hosts]
                result = run(repo, plays[name], inventory, env)
                busy = sum(cgroup_usage(host) - u for host, u in zip(hosts, used))
                idle_from = [cgroup_usage(host) for host in hosts]
                time.sleep(result["wall"])
                idle = sum(cgroup_usage(host) - u for host, u in zip(hosts, idle_from))
                result["host_cpu"] = max(busy - idle, 0.0)
                pair[name] = result
            rows.append(pair)
        summary = {}
        for key in ("cpu", "wall", "host_cpu"):
            summary[key] = {
                "ping": statistics.median(r["ping"][key] for r in rows),
                "diagnose": statistics.median(r["diagnose"][key] for r in rows),
                "ratio": statistics.median(r["diagnose"][key] / r["ping"][key] for r in rows if r["ping"][key] > 0),
            }
        print(json.dumps({"hosts": args.hosts, "repeat": args.repeat, "repo": str(repo), "playbook": args.playbook,
                          "connection": args.connection, "summary": summary}, indent=1))
        if args.out:
            Path(args.out).write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    finally:
        for host in hosts:
            host.remove()
        shutil.rmtree(key_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
