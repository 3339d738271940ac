"""The README's demo: a BeatSync host broken like the runbook's incident, diagnosed and repaired.

Boots a systemd container (the test bed's image), deploys BeatSync the runbook's way, breaks it
as in the incident (/api/health healthy, /docs 503), runs playbooks/diagnose.yml and then
playbooks/repair.yml with inventory/demo, shows the reports, and removes the container.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from systemd_hosts import SystemdHost, break_host, deploy_fixture, podman, podman_env  # noqa: E402

NAME = "beatsync-demo"
REPORTS = REPO / "beatsync-reports" / "demo"


def banner(text):
    print("\n" + "=" * 78 + "\n== " + text + "\n" + "=" * 78, flush=True)


def run_playbook(name, ip):
    env = dict(os.environ)
    env.update(podman_env())
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / "build" / "collections")
    env.setdefault("ANSIBLE_HOST_KEY_CHECKING", "0")
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(REPO / "inventory" / "demo"),
            str(REPO / "playbooks" / name), "-e", "beatsync_external_address=" + ip,
            "-e", "beatsync_report_dir=" + str(REPORTS)]
    print("$ " + " ".join(argv[0:1] + [name, "-i", "inventory/demo", "-e", "beatsync_external_address=" + ip]), flush=True)
    return subprocess.run(argv, env=env, cwd=str(REPO), check=False).returncode


def main():
    link = REPO / "build" / "collections" / "ansible_collections" / "beatsync" / "ops"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    podman("rm", "--force", "--time", "0", NAME, check=False)
    banner("Booting the demo host %s (systemd in a container)" % NAME)
    with SystemdHost(name=NAME) as host:
        deploy_fixture(host)
        break_host(host, "docs_503")
        print("demo host at %s: /api/health -> %s, /docs -> %s  (the runbook's incident)"
              % (host.ip, host.http_status("/api/health"), host.http_status("/docs")), flush=True)

        banner("ansible-playbook playbooks/diagnose.yml (read-only)")
        diagnose_rc = run_playbook("diagnose.yml", host.ip)
        banner("ansible-playbook playbooks/repair.yml")
        repair_rc = run_playbook("repair.yml", host.ip)

        banner("Reports in %s" % REPORTS.relative_to(REPO))
        print((REPORTS / "fleet-summary.md").read_text())
        print("after the repair: /api/health -> %s, /docs -> %s"
              % (host.http_status("/api/health"), host.http_status("/docs")))
        banner("Removing the demo host")
    ok = diagnose_rc == 0 and repair_rc == 0
    print("demo %s" % ("passed: diagnosed and repaired" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
