"""Fleet benchmark for beatsync.ops (issues 3 "Performance" and 7 "Fleet benchmark").

Boots N systemd containers of the test bed (names beatsync-bench-<run>-<i>), deploys the
fixture app the runbook's way and measures, in one run and on the same hosts:

  1. playbooks/diagnose.yml (healthy fleet) vs. benchmarks/ping.yml vs.
     benchmarks/runbook_plain_tasks.yml - wall clock, median of --repeat runs, interleaved;
     with the tuned benchmarks/ansible.cfg and (unless --no-stock) with Ansible's defaults;
  2. the same three playbooks on 1, 2, 4, ... N hosts (forks >= N): growth with N;
  3. the floor: a bare `systemctl restart beatsync` plus the first healthy /api/health,
     timed inside a host, and benchmarks/restart_floor.yml (the least an Ansible run does);
  4. playbooks/repair.yml time to healthy per fault type (a share of the hosts broken in
     different ways, repaired per fault type with --limit) and for the whole mixed fleet.

Writes a Markdown report (--out, default docs/benchmarks.md: only the part between the
`<!-- bench:begin -->` / `<!-- bench:end -->` markers is replaced when they exist), a PNG plot of
time vs. N hosts next to it (matplotlib, installed into build/bench-venv), and the raw numbers
in build/bench/<run>/results.json. Every container it starts is removed at the end, also on
failure or Ctrl-C.

    .venv/bin/python benchmarks/bench.py --hosts 10 --repeat 3
    .venv/bin/python benchmarks/bench.py --hosts 1 --repeat 1 --no-stock --no-plot \
        --faults service_stopped --out /tmp/bench.md          # the smoke test's run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PY = REPO / ".venv" / "bin" / "python"


def _reexec_in_toolchain_venv():
    """The test bed helper imports pytest and ansible-playbook lives in .venv: use its Python."""
    try:
        import pytest  # noqa: F401
        import ansible  # noqa: F401
        return
    except ImportError:
        pass
    if VENV_PY.exists() and Path(sys.executable).resolve() != VENV_PY.resolve() \
            and not os.environ.get("BEATSYNC_BENCH_REEXEC"):
        os.environ["BEATSYNC_BENCH_REEXEC"] = "1"
        os.execv(str(VENV_PY), [str(VENV_PY), *sys.argv])
    sys.exit("bench.py: needs pytest and ansible-core (run it with %s; scripts/bootstrap.sh makes it)"
             % VENV_PY)


_reexec_in_toolchain_venv()
sys.path.insert(0, str(REPO / "tests"))

from systemd_hosts import (  # noqa: E402
    IMAGE, SystemdHost, break_host, build_image, deploy_fixture, podman, podman_env, reset_host,
    unavailable_reason,
)

BENCH = REPO / "benchmarks"
TUNED_CFG = BENCH / "ansible.cfg"
PLAYBOOKS = {
    "ping": BENCH / "ping.yml",
    "diagnose": REPO / "playbooks" / "diagnose.yml",
    "plain": BENCH / "runbook_plain_tasks.yml",
    "module": BENCH / "diagnose_module.yml",
    "repair": REPO / "playbooks" / "repair.yml",
    "restart_floor": BENCH / "restart_floor.yml",
}
LABELS = {"ping": "ansible.builtin.ping play", "module": "diagnose task alone",
          "diagnose": "playbooks/diagnose.yml", "plain": "runbook as plain tasks"}
DEFAULT_FAULTS = ("service_stopped", "docs_503", "unit_drifted", "stale_copy")
NAME_PREFIX = "beatsync-bench-"
PLOT_VENV = REPO / "build" / "bench-venv"
MATPLOTLIB_PIN = "matplotlib==3.11.2"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# Targets of issues 3 and 7.
TARGET_DIAG_VS_PING = 1.5
TARGET_PLAIN_VS_DIAG = 3.0
TARGET_REPAIR_VS_FLOOR = 2.0
LINEAR_SLACK = 1.15  # t(n2)/t(n1) <= 1.15 * n2/n1 between consecutive N: no super-linear growth

# Inside a host: restart, then poll /api/health every 50 ms; prints the nanoseconds taken.
FLOOR_SCRIPT = r"""
set -eu
t0=$(date +%s%N)
systemctl restart beatsync
until [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' http://127.0.0.1:8000/api/health)" = 200 ]; do
  sleep 0.05
done
t1=$(date +%s%N)
echo $((t1 - t0))
"""


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def median(values):
    return statistics.median(values) if values else None


def mean(values):
    return statistics.fmean(values) if values else None


def fmt(seconds):
    return "-" if seconds is None else "%.2f" % seconds


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


class LoadSampler(threading.Thread):
    """Samples the 1-minute load average every few seconds while the benchmark runs."""

    def __init__(self, every=5.0):
        super().__init__(daemon=True)
        self.every = every
        self.samples = []
        self._stop = threading.Event()

    def run(self):
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def stop(self):
        self._stop.set()


class Bench:
    def __init__(self, args):
        self.args = args
        self.run_id = uuid.uuid4().hex[:6]
        self.workdir = REPO / "build" / "bench" / ("%s-%s" % (time.strftime("%Y%m%d-%H%M%S"), self.run_id))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.names = ["%s%s-%02d" % (NAME_PREFIX, self.run_id, i) for i in range(args.hosts)]
        self.hosts = []
        self.inventory = self.workdir / "inventory.yml"
        self.stock_cfg = self.workdir / "stock-ansible.cfg"
        self.stock_cfg.write_text("# Ansible's defaults (no settings): the 'stock' configuration\n")
        self.ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
        if not os.path.exists(self.ansible_playbook):
            self.ansible_playbook = shutil.which("ansible-playbook") or "ansible-playbook"
        self.runs = []          # every timed ansible-playbook run
        self.results = {}
        self.counter = 0

    # ---- hosts ---------------------------------------------------------------------------

    def boot(self):
        def one(name):
            host = SystemdHost(name=name, boot_timeout=180)
            self.hosts.append(host)
            deploy_fixture(host)
            return host

        log("booting %d systemd host(s) from %s: %s" % (len(self.names), IMAGE, " ".join(self.names)))
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=min(4, len(self.names))) as pool:
            booted = list(pool.map(one, self.names))
        self.hosts = booted  # in name order
        log("hosts up and deployed in %.1f s" % (time.monotonic() - t0))
        self.results["boot_seconds"] = time.monotonic() - t0
        self.write_inventory()

    def write_inventory(self):
        lines = ["---", "beatsync:", "  vars:",
                 "    ansible_connection: containers.podman.podman",
                 "    ansible_python_interpreter: /usr/bin/python3",
                 "    beatsync_become: false",
                 "    beatsync_break_system_packages: true",
                 "    beatsync_report_dir: %s" % json.dumps(str(self.workdir / "reports")),
                 "  hosts:"]
        for host in self.hosts:
            lines += ["    %s:" % host.name, "      ansible_host: %s" % host.name,
                      "      beatsync_external_address: %s" % host.ip]
        self.inventory.write_text("\n".join(lines) + "\n")

    def cleanup(self):
        for name in self.names:
            try:
                podman("rm", "--force", "--time", "0", name, check=False, timeout=120)
            except Exception as exc:  # keep removing the others
                log("could not remove %s: %s" % (name, exc))
        left = podman("ps", "-a", "--format", "{{.Names}}", check=False).stdout.split()
        stray = [n for n in left if n.startswith(NAME_PREFIX + self.run_id)]
        if stray:
            log("WARNING: containers left behind: %s" % ", ".join(stray))
        else:
            log("removed all %d bench container(s)" % len(self.names))

    def parallel(self, func, hosts):
        with ThreadPoolExecutor(max_workers=max(1, min(4, len(hosts)))) as pool:
            return list(pool.map(func, hosts))

    def healthy(self, host):
        return host.http_status("/api/health") == 200 and host.http_status("/docs") == 200

    # ---- ansible-playbook ----------------------------------------------------------------

    def env(self, cfg):
        # Python's default bytecode cache, as on an operator's controller (see cpu.ansible_env).
        env = {k: v for k, v in podman_env().items() if not k.startswith("ANSIBLE_") and k != "PYTHONDONTWRITEBYTECODE"}
        env.update({
            "ANSIBLE_CONFIG": str(cfg),
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
        })
        return env

    def playbook(self, key, hosts, config="tuned", extra=(), forks=None, tag=""):
        """Run one playbook over `hosts` -> seconds (wall clock); records the run."""
        self.counter += 1
        cfg = TUNED_CFG if config == "tuned" else self.stock_cfg
        forks = forks or self.args.forks
        logfile = self.workdir / "logs" / ("%03d-%s-%s-n%d%s.log" % (self.counter, key, config, len(hosts), tag))
        logfile.parent.mkdir(exist_ok=True)
        argv = [self.ansible_playbook, "-i", str(self.inventory), str(PLAYBOOKS[key]),
                "-f", str(forks), "--limit", ",".join(h.name for h in hosts), *extra]
        with open(logfile, "w") as out:
            t0 = time.monotonic()
            rc = subprocess.run(argv, env=self.env(cfg), cwd=str(REPO), stdout=out,
                                stderr=subprocess.STDOUT, check=False).returncode
            seconds = time.monotonic() - t0
        self.runs.append({"playbook": key, "config": config, "hosts": len(hosts), "forks": forks,
                          "seconds": seconds, "rc": rc, "log": str(logfile.relative_to(REPO)),
                          "tag": tag, "load1": os.getloadavg()[0]})
        note = "" if rc == 0 else "  <- see " + str(logfile)
        log("%-13s %-5s n=%-2d f=%-2d %6.2f s rc=%d%s" % (key, config, len(hosts), forks, seconds, rc, note))
        return seconds, rc

    def interleaved(self, keys, hosts, config="tuned", repeat=None, forks=None):
        """Median wall clock of each playbook in keys, runs interleaved to spread load drift."""
        times = {k: [] for k in keys}
        failed = {k: 0 for k in keys}
        for _round in range(repeat or self.args.repeat):
            for key in keys:
                seconds, rc = self.playbook(key, hosts, config=config, forks=forks)
                times[key].append(seconds)
                failed[key] += rc != 0
        return {k: {"median": median(v), "runs": v, "failed": failed[k]} for k, v in times.items()}

    # ---- measurements --------------------------------------------------------------------

    def measure_ratios(self):
        log("== diagnose vs ping vs plain tasks on %d host(s), tuned ansible.cfg" % len(self.hosts))
        rc = self.playbook("ping", self.hosts, tag="-warmup")[1]
        if rc != 0:
            raise RuntimeError("the warm-up ping failed: see %s" % self.runs[-1]["log"])
        self.results["tuned"] = self.interleaved(self.args.playbooks, self.hosts)
        if self.args.stock:
            hosts = self.hosts[:max(1, min(self.args.stock_hosts, len(self.hosts)))]
            log("== the same on %d host(s) with Ansible's defaults (no pipelining; same forks)" % len(hosts))
            self.results["stock"] = self.interleaved(self.args.playbooks, hosts, config="stock",
                                                     repeat=self.args.stock_repeat)
            self.results["stock_hosts"] = len(hosts)

    def measure_scaling(self):
        sizes = sorted({n for n in self.args.scale if 1 <= n <= len(self.hosts)} | {len(self.hosts)})
        log("== growth with N: %s hosts, forks %d" % (sizes, self.args.forks))
        scaling = {}
        for n in sizes:
            if n == len(self.hosts) and "tuned" in self.results:
                scaling[n] = self.results["tuned"]
                continue
            scaling[n] = self.interleaved(self.args.playbooks, self.hosts[:n],
                                          forks=max(self.args.forks, n), repeat=self.args.scale_repeat)
        self.results["scaling"] = {str(n): v for n, v in scaling.items()}

    def measure_floor(self):
        host = self.hosts[0]
        log("== floor on %s: systemctl restart + first healthy /api/health" % host.name)
        inside, outside = [], []
        for _round in range(self.args.repeat):
            t0 = time.monotonic()
            proc = host.exec(FLOOR_SCRIPT, timeout=120)
            outside.append(time.monotonic() - t0)
            inside.append(int(proc.stdout.strip().splitlines()[-1]) / 1e9)
        ansible_floor = []
        for _round in range(self.args.repeat):
            break_host(host, "service_stopped")
            seconds, rc = self.playbook("restart_floor", [host])
            ansible_floor.append(seconds)
            if rc != 0 or not self.healthy(host):
                reset_host(host)
        self.results["floor"] = {"inside": median(inside), "inside_runs": inside,
                                 "via_podman_exec": median(outside), "via_podman_exec_runs": outside,
                                 "ansible": median(ansible_floor), "ansible_runs": ansible_floor}
        log("floor: %s s inside the host, %s s incl. podman exec, %s s as an Ansible play"
            % (median(inside), median(outside), median(ansible_floor)))

    def assign_faults(self):
        count = int(round(len(self.hosts) * self.args.break_share))
        if self.args.break_share > 0:
            count = max(count, 1)
        count = min(count, len(self.hosts))
        # break the LAST hosts, so hosts[0] (the floor host) stays a plain healthy host
        broken = self.hosts[len(self.hosts) - count:]
        return [(host, self.args.faults[i % len(self.args.faults)]) for i, host in enumerate(broken)]

    def measure_repair(self):
        plan = self.assign_faults()
        if not plan:
            return
        log("== repair.yml: %s" % ", ".join("%s=%s" % (h.name[-2:], f) for h, f in plan))
        per_fault = {}
        for fault in self.args.faults:
            hosts = [h for h, f in plan if f == fault]
            if not hosts:
                continue
            runs, healed, failed = [], 0, 0
            for _round in range(self.args.repair_repeat):
                self.parallel(lambda h, fault=fault: break_host(h, fault), hosts)
                seconds, rc = self.playbook("repair", hosts, tag="-" + fault)
                runs.append(seconds)
                ok = all(self.parallel(self.healthy, hosts))
                healed += ok
                failed += rc != 0
                if not ok:
                    log("%s: not healthy after repair.yml (rc=%d); resetting" % (fault, rc))
                    self.parallel(reset_host, hosts)
            per_fault[fault] = {"hosts": len(hosts), "mean": mean(runs), "median": median(runs),
                                "runs": runs, "healed": healed, "failed_runs": failed}
        self.results["repair"] = per_fault

        # The whole fleet at once: broken hosts of every kind plus the healthy rest.
        runs, healed = [], 0
        for _round in range(self.args.repair_repeat if self.args.fleet_repair else 0):
            self.parallel(lambda hf: break_host(hf[0], hf[1]), plan)
            seconds, rc = self.playbook("repair", self.hosts, tag="-fleet")
            runs.append(seconds)
            ok = all(self.parallel(self.healthy, self.hosts))
            healed += ok
            if not ok:
                self.parallel(reset_host, self.hosts)
        if runs:
            self.results["repair_fleet"] = {
                "hosts": len(self.hosts), "broken": len(plan),
                "mean": mean(runs), "median": median(runs), "runs": runs, "healed": healed}

    # ---- verdicts, report, plot --------------------------------------------------------

    def verdicts(self):
        res = self.results
        out = []
        tuned = res.get("tuned", {})
        d, p, pl = (tuned.get(k, {}).get("median") for k in ("diagnose", "ping", "plain"))
        r1 = ratio(d, p)
        out.append(("diagnose.yml <= %.1fx ping (N=%d, tuned)" % (TARGET_DIAG_VS_PING, len(self.hosts)),
                    r1 is not None and r1 <= TARGET_DIAG_VS_PING, "%.2fx" % r1 if r1 else "-"))
        mod = tuned.get("module", {}).get("median")
        if mod is not None:
            rm = ratio(mod, p)
            out.append(("(task alone) beatsync.ops.diagnose <= %.1fx ping" % TARGET_DIAG_VS_PING,
                        rm is not None and rm <= TARGET_DIAG_VS_PING, "%.2fx" % rm if rm else "-"))
        r2 = ratio(pl, d)
        if pl is not None:
            out.append(("diagnose.yml >= %.0fx faster than plain tasks" % TARGET_PLAIN_VS_DIAG,
                        r2 is not None and r2 >= TARGET_PLAIN_VS_DIAG, "%.2fx" % r2 if r2 else "-"))
        floor = res.get("floor", {}).get("inside")
        stopped = res.get("repair", {}).get("service_stopped", {}).get("mean")
        if floor and stopped:
            r3 = stopped / floor
            out.append(("repair.yml of a stopped service <= %.0fx the floor" % TARGET_REPAIR_VS_FLOOR,
                        r3 <= TARGET_REPAIR_VS_FLOOR, "%.2fx (%.2f s vs %.2f s)" % (r3, stopped, floor)))
        scaling = res.get("scaling", {})
        sizes = sorted(int(n) for n in scaling)
        if len(sizes) >= 2:
            worst, detail = 0.0, []
            for a, b in zip(sizes, sizes[1:]):
                ta, tb = scaling[str(a)]["diagnose"]["median"], scaling[str(b)]["diagnose"]["median"]
                growth = (tb / ta) / (b / a)
                worst = max(worst, growth)
                detail.append("%d->%d: x%.2f" % (a, b, tb / ta))
            out.append(("diagnose.yml grows at most linearly in N (forks >= N)", worst <= LINEAR_SLACK,
                        ", ".join(detail)))
        return out

    def fit(self, key):
        """Least-squares t = a + b*N over the scaling medians of playbook `key`."""
        scaling = self.results.get("scaling", {})
        pts = [(int(n), v[key]["median"]) for n, v in scaling.items()]
        if len(pts) < 2:
            return None
        xs, ys = zip(*pts)
        mx, my = mean(xs), mean(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        b = sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else 0.0
        return my - b * mx, b

    def machine(self):
        cpu = ""
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        mem = ""
        try:
            kb = int(Path("/proc/meminfo").read_text().split()[1])
            mem = "%.1f GiB" % (kb / 1024 / 1024)
        except (OSError, ValueError, IndexError):
            pass
        versions = {}
        for name, argv in (("ansible-core", [self.ansible_playbook, "--version"]),
                           ("podman", ["podman", "--version"])):
            try:
                versions[name] = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                                                env=podman_env()).stdout.splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                versions[name] = "?"
        others = [n for n in podman("ps", "--format", "{{.Names}}", check=False).stdout.split()
                  if not n.startswith(NAME_PREFIX + self.run_id)]
        return {"cpus": os.cpu_count(), "cpu": cpu, "memory": mem, "kernel": platform.release(),
                "python": platform.python_version(), "versions": versions,
                "other_containers_at_start": len(others)}

    def report(self, command, started, finished, load):
        res, args = self.results, self.args
        m = res["machine"]
        n = len(self.hosts)
        lines = [BEGIN, "",
                 "## Results of the last run", "",
                 "Generated by `benchmarks/bench.py` on %s (%.0f s). Command:" % (
                     started.strftime("%Y-%m-%d %H:%M UTC"), (finished - started).total_seconds()),
                 "", "```console", "$ " + command, "```", "",
                 "| Machine | |", "|---|---|",
                 "| CPUs | %s x %s |" % (m["cpus"], m["cpu"] or "?"),
                 "| Memory | %s |" % m["memory"],
                 "| Kernel / Python | %s / %s |" % (m["kernel"], m["python"]),
                 "| Ansible / podman | %s / %s |" % (m["versions"].get("ansible-core"), m["versions"].get("podman")),
                 "| Load average (1 min) | start %.2f, during min %.2f / mean %.2f / max %.2f, end %.2f |" % (
                     load["start"], load["min"], load["mean"], load["max"], load["end"]),
                 "| Other containers running at start | %d (other engineers' tests) |" % m["other_containers_at_start"],
                 "| Hosts / forks / repetitions | %d systemd containers (podman connection) / %d / %d (median) |" % (
                     n, args.forks, args.repeat),
                 ""]
        lines += ["### Targets", "", "| Target | Measured | Met |", "|---|---|---|"]
        for name, ok, value in self.verdicts():
            lines.append("| %s | %s | %s |" % (name, value, "yes" if ok else "**no**"))
        lines.append("")

        keys = [k for k in ("ping", "module", "diagnose", "plain") if k in args.playbooks]
        head = "| Hosts | ansible.cfg | " + " | ".join(LABELS[k] for k in keys) + " | diagnose / ping |"
        if "plain" in keys:
            head += " plain / diagnose |"
        lines += ["### diagnose vs. ping vs. plain tasks (wall clock, median seconds)", "", head,
                  "|" + "---|" * (head.count("|") - 1)]
        rows = [(n, "benchmarks/ansible.cfg", res.get("tuned"))]
        if "stock" in res:
            same = res.get("scaling", {}).get(str(res["stock_hosts"]))
            if res["stock_hosts"] != n and same:
                rows.append((res["stock_hosts"], "benchmarks/ansible.cfg", same))
            rows.append((res["stock_hosts"], "Ansible defaults (no pipelining)", res["stock"]))
        for hosts, cfg, t in rows:
            if not t:
                continue
            cells = [fmt(t[k]["median"]) for k in keys]
            row = "| %d | %s | %s | %.2fx |" % (hosts, cfg, " | ".join(cells),
                                                ratio(t["diagnose"]["median"], t["ping"]["median"]))
            if "plain" in keys:
                row += " %.2fx |" % ratio(t["plain"]["median"], t["diagnose"]["median"])
            fails = sum(v["failed"] for v in t.values())
            lines.append(row + ("" if not fails else " (%d failed runs)" % fails))
        lines.append("")

        if res.get("scaling"):
            lines += ["### Growth with N (forks >= N, tuned, median seconds)", "",
                      "| N hosts | " + " | ".join(LABELS[k] for k in keys) + " | diagnose / ping |",
                      "|---|" + "---|" * (len(keys) + 1)]
            for size in sorted(res["scaling"], key=int):
                t = res["scaling"][size]
                lines.append("| %s | %s | %.2fx |" % (
                    size, " | ".join(fmt(t[k]["median"]) for k in keys),
                    ratio(t["diagnose"]["median"], t["ping"]["median"])))
            fits = []
            for key in keys:
                f = self.fit(key)
                if f:
                    fits.append("%s %.2f s + %.2f s/host" % (LABELS[key], f[0], f[1]))
            if fits:
                lines += ["", "Least-squares fit t = a + b*N: " + "; ".join(fits) + "."]
            if args.plot:
                lines += ["", "![time vs. N hosts](%s)" % self.png_path().name]
            lines.append("")

        if "floor" in res:
            f = res["floor"]
            lines += ["### Repair: time to healthy vs. the floor", "",
                      "Floor: a bare `systemctl restart beatsync` plus the first healthy `/api/health` "
                      "(polled every 50 ms), timed inside a host: **%s s** (%s s including the `podman exec` "
                      "round trip; %s s as the smallest Ansible play that does it, "
                      "`benchmarks/restart_floor.yml`)." % (fmt(f["inside"]), fmt(f["via_podman_exec"]), fmt(f["ansible"])),
                      ""]
        if res.get("repair"):
            lines += ["| Fault | Hosts | repair.yml mean | median | x floor | x Ansible floor | healthy after |",
                      "|---|---|---|---|---|---|---|"]
            floor = res.get("floor", {})
            for fault, r in res["repair"].items():
                lines.append("| %s | %d | %s s | %s s | %.1fx | %.1fx | %d/%d runs |" % (
                    fault, r["hosts"], fmt(r["mean"]), fmt(r["median"]),
                    ratio(r["mean"], floor.get("inside")) or 0, ratio(r["mean"], floor.get("ansible")) or 0,
                    r["healed"], len(r["runs"])))
            fl = res.get("repair_fleet")
            if fl:
                lines.append("| whole fleet, mixed (%d of %d broken) | %d | %s s | %s s | %.1fx | %.1fx | %d/%d runs |" % (
                    fl["broken"], fl["hosts"], fl["hosts"], fmt(fl["mean"]), fmt(fl["median"]),
                    ratio(fl["mean"], floor.get("inside")) or 0, ratio(fl["mean"], floor.get("ansible")) or 0,
                    fl["healed"], len(fl["runs"])))
            lines += ["", "repair.yml time is the wall clock of `ansible-playbook playbooks/repair.yml --limit <hosts "
                      "of that fault>`: start-up, diagnosis, remedy, the runbook's settle wait, re-diagnosis inside "
                      "and outside, and the reports. \"healthy after\" is checked independently from the controller "
                      "(/api/health and /docs both 200).", ""]
        lines += ["Raw numbers and every run's log: `%s` (not committed)." % (
            (self.workdir / "results.json").relative_to(REPO)), "", END]
        return "\n".join(lines) + "\n"

    def png_path(self):
        return Path(self.args.out).with_suffix(".png")

    def plot(self):
        scaling = self.results.get("scaling")
        if not scaling:
            return None
        py = PLOT_VENV / "bin" / "python"
        probe = subprocess.run([str(py), "-c", "import matplotlib"], capture_output=True, check=False) if py.exists() else None
        if probe is None or probe.returncode != 0:
            log("installing %s into %s (for the plot)" % (MATPLOTLIB_PIN, PLOT_VENV.relative_to(REPO)))
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(PLOT_VENV)], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            MATPLOTLIB_PIN], check=True)
        title = "beatsync.ops on %d-core %s (load avg ~%.1f)" % (os.cpu_count(), platform.system(), self.results["load"]["mean"])
        series = {LABELS[k]: [(int(n), v[k]["median"]) for n, v in sorted(scaling.items(), key=lambda i: int(i[0]))]
                  for k in self.args.playbooks}
        data = {"title": title, "series": series}
        data_file = self.workdir / "plot.json"
        data_file.write_text(json.dumps(data))
        self.png_path().parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(py), str(BENCH / "plot.py"), str(data_file), str(self.png_path())], check=True)
        return self.png_path()


def write_report(out, section):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        text = out.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            out.write_text(head + section.rstrip("\n") + tail)
            return
    out.write_text("# beatsync.ops benchmarks\n\n" + section)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=10, help="systemd containers to start (10-20 for the fleet run)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions per measurement (median)")
    ap.add_argument("--forks", type=int, default=None, help="ansible forks (default: --hosts, so forks >= N)")
    ap.add_argument("--break-share", type=float, default=0.5, help="share of hosts broken for the repair runs")
    ap.add_argument("--faults", default=",".join(DEFAULT_FAULTS),
                    help="comma-separated broken states (tests/systemd_hosts.py BROKEN_STATES)")
    ap.add_argument("--scale", default="1,2,4",
                    help="host counts for the growth measurement (N itself is always included)")
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"), help="Markdown report")
    ap.add_argument("--no-stock", dest="stock", action="store_false",
                    help="skip the runs with Ansible's default configuration")
    ap.add_argument("--no-plot", dest="plot", action="store_false", help="do not draw the PNG")
    ap.add_argument("--no-repair", dest="repair", action="store_false", help="skip floor and repair runs")
    ap.add_argument("--no-fleet-repair", dest="fleet_repair", action="store_false",
                    help="skip the whole-fleet repair.yml run (per-fault runs only)")
    ap.add_argument("--playbooks", default="ping,module,diagnose,plain",
                    help="what to time against each other (ping,module,diagnose,plain; ping and diagnose required)")
    ap.add_argument("--scale-repeat", type=int, default=None, help="repetitions for the growth runs (default --repeat)")
    ap.add_argument("--repair-repeat", type=int, default=None, help="repetitions of the repair runs (default --repeat)")
    ap.add_argument("--stock-hosts", type=int, default=2, help="hosts for the Ansible-defaults comparison")
    ap.add_argument("--stock-repeat", type=int, default=1, help="repetitions of the Ansible-defaults comparison")
    args = ap.parse_args(argv)
    if args.hosts < 1:
        ap.error("--hosts must be >= 1")
    args.forks = args.forks or max(args.hosts, 1)
    args.faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    args.scale = [int(n) for n in args.scale.split(",") if n.strip()]
    args.playbooks = [k.strip() for k in args.playbooks.split(",") if k.strip()]
    if not {"ping", "diagnose"} <= set(args.playbooks) or set(args.playbooks) - set(LABELS):
        ap.error("--playbooks: a subset of %s containing ping and diagnose" % ",".join(LABELS))
    args.scale_repeat = args.scale_repeat or args.repeat
    args.repair_repeat = args.repair_repeat or args.repeat
    return args


def main(argv=None):
    args = parse_args(argv)
    command = ".venv/bin/python benchmarks/bench.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    reason = unavailable_reason()
    if reason and "image" in reason and "missing" in reason:
        log("building the test-bed image (scripts/build-image.sh) ...")
        build_image()
        reason = unavailable_reason()
    if reason:
        log("cannot run: " + reason)
        return 2
    link = REPO / "build" / "collections" / "ansible_collections" / "beatsync" / "ops"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)

    bench = Bench(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    sampler = LoadSampler()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()[0]
    sampler.start()
    try:
        bench.results["machine"] = bench.machine()
        bench.boot()
        bench.measure_ratios()
        bench.measure_scaling()
        if args.repair:
            bench.measure_floor()
            bench.measure_repair()
    finally:
        sampler.stop()
        bench.cleanup()
    finished = datetime.datetime.now(datetime.timezone.utc)
    samples = sampler.samples or [load_start]
    bench.results["load"] = {"start": load_start, "end": os.getloadavg()[0], "min": min(samples),
                             "mean": mean(samples), "max": max(samples), "samples": samples}
    bench.results["runs"] = bench.runs
    bench.results["command"] = command
    (bench.workdir / "results.json").write_text(json.dumps(bench.results, indent=2, default=str))
    if args.plot:
        try:
            bench.plot()
        except (subprocess.CalledProcessError, OSError) as exc:
            log("WARNING: no plot: %s" % exc)
            args.plot = False
    section = bench.report(command, started, finished, bench.results["load"])
    write_report(args.out, section)

    tuned = bench.results["tuned"]
    d, p = tuned["diagnose"]["median"], tuned["ping"]["median"]
    print()
    print("diagnose/ping  = %.2f  (%.2f s / %.2f s, target <= %.1f)" % (d / p, d, p, TARGET_DIAG_VS_PING))
    if "plain" in tuned:
        pl = tuned["plain"]["median"]
        print("plain/diagnose = %.2f  (%.2f s / %.2f s, target >= %.1f)" % (pl / d, pl, d, TARGET_PLAIN_VS_DIAG))
    if "module" in tuned:
        print("module/ping    = %.2f  (the diagnose task alone)" % (tuned["module"]["median"] / p))
    for name, ok, value in bench.verdicts():
        print("%-4s %s: %s" % ("MET" if ok else "MISS", name, value))
    print("report: %s" % args.out)
    failed = [r for r in bench.runs if r["rc"] != 0 and r["playbook"] != "repair"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
