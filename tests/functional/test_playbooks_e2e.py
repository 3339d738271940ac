"""The playbooks end to end on a real systemd host (podman container of the test bed).

For every broken state the bed knows: diagnose names exactly the expected root cause and
changes nothing; repair brings the host to verified healthy, or, for the states that must
not be fixed automatically, fails clearly and leaves the host as it was; a second repair
changes nothing; repair --check changes nothing (checksums before and after).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import REPO, ansible_env
from systemd_hosts import beatsync_host, break_host, podman_env, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import

PLAYBOOKS = REPO / "playbooks"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")

# state -> (options for break_host, expected root cause, whether repair must succeed)
MATRIX = {
    "docs_503": ({}, "docs_unavailable", True),
    "service_stopped": ({}, "service_inactive", True),
    "unit_failed": ({}, "service_failed", True),
    "unit_missing": ({}, "service_missing", True),
    "unit_drifted": ({}, "unit_drift", True),
    "crash_loop_missing_dependency": ({}, "missing_dependency", True),
    "stale_copy": ({}, "port_conflict_stale", True),
    "docs_hang": ({}, "docs_timeout", True),
    "openapi_500": ({"fault_mode": "oneshot"}, "openapi_broken", True),
    "ufw_blocking": ({}, "firewall_blocks_port", True),
    "syntax_error": ({}, "syntax_error", False),
    "foreign_listener": ({}, "port_conflict_foreign", False),
}

# What "the host as it was" means: the unit, the app, the installed packages and UFW.
# (Not ActiveState: a crash-looping unit flips between activating and active by itself.)
FINGERPRINT = (
    "sha256sum /etc/systemd/system/beatsync.service /opt/beatsync/web_service/backend/main.py 2>&1; "
    "python3 -m pip list --format=freeze 2>/dev/null | sha256sum; "
    "ufw status verbose 2>&1; "
    "systemctl show -p UnitFileState -p FragmentPath beatsync.service"
)


def write_inventory(tmp_path, host, **hostvars):
    hostvars = {
        "ansible_connection": "containers.podman.podman",
        "ansible_host": host.name,
        "ansible_python_interpreter": "/usr/bin/python3",
        "beatsync_become": False,
        "beatsync_external_address": host.ip,
        "beatsync_break_system_packages": True,
        "beatsync_timeout": 3,
        "beatsync_report_dir": str(tmp_path / "reports"),
        **hostvars,
    }
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"beatsync": {"hosts": {"bed": hostvars}}}))
    return path


def playbook(name, inventory, *args, timeout=600):
    env = ansible_env()
    env.update(podman_env())
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_PIPELINING"] = "1"  # containers.podman.podman supports it: far fewer podman execs
    argv = [ANSIBLE_PLAYBOOK, "-i", str(inventory), str(PLAYBOOKS / name), *args]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return proc


def recap(proc):
    match = re.search(r"^bed\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M)
    assert match, "no PLAY RECAP for bed:\n" + proc.stdout[-5000:] + proc.stderr[-3000:]
    return {"ok": int(match[1]), "changed": int(match[2]), "unreachable": int(match[3]), "failed": int(match[4])}


def report(tmp_path):
    return json.loads((tmp_path / "reports" / "bed.json").read_text())


def fingerprint(host):
    return host.exec(["bash", "-c", FINGERPRINT], check=False).stdout


@pytest.fixture
def bed_host(beatsync_host):
    reset_host(beatsync_host)
    return beatsync_host


def test_healthy_host_diagnose_and_repair_change_nothing(bed_host, tmp_path):
    inventory = write_inventory(tmp_path, bed_host)
    diag = playbook("diagnose.yml", inventory, "--check")
    assert diag.returncode == 0, diag.stdout[-4000:]
    assert recap(diag)["changed"] == 0
    healthy = report(tmp_path)
    assert healthy["verdict"] == "healthy"
    # A serving unit has proved its imports: only versions are read (the costly import is skipped).
    assert healthy["probes"]["deps"]["imports_skipped"] is True
    # ... and its requirements are compared without importing pip's vendored packaging.
    assert healthy["probes"]["deps"]["requirements_backend"] == "stdlib"
    assert healthy["probes"]["deps"]["requirements"] and healthy["probes"]["deps"]["unsatisfied"] == []
    assert healthy["probes"]["deps"]["missing"] == []
    assert healthy["external"]["health"]["healthy"] is True
    fleet = (tmp_path / "reports" / "fleet-summary.md").read_text()
    assert "| bed | healthy | healthy |" in fleet
    repair = playbook("repair.yml", inventory)
    assert repair.returncode == 0, repair.stdout[-4000:]
    assert recap(repair)["changed"] == 0


# The runbook's own incident (docs_503) repaired end to end is the Molecule `repair` scenario
# (tests/molecule/test_scenarios.py: converge, verify, idempotence), not a second test here;
# its diagnosis is checked with every other state in test_diagnose_action.py.
@pytest.mark.parametrize("state", [state for state in MATRIX if state != "docs_503"])
def test_repair_from_broken_state(bed_host, tmp_path, state):
    options, root_cause, fixable = MATRIX[state]
    break_host(bed_host, state, **options)
    inventory = write_inventory(tmp_path, bed_host)

    before = fingerprint(bed_host)
    diag = playbook("diagnose.yml", inventory)
    assert diag.returncode == 0, diag.stdout[-4000:]
    assert recap(diag)["changed"] == 0
    diagnosis = report(tmp_path)
    assert diagnosis["root_cause"] == root_cause, json.dumps(diagnosis["findings"], indent=1)[:4000]
    assert fingerprint(bed_host) == before

    repair = playbook("repair.yml", inventory)
    if not fixable:
        assert repair.returncode != 0
        assert recap(repair)["failed"] == 1
        assert "Fail a host that is still broken" in repair.stdout
        assert fingerprint(bed_host) == before, "a refused repair changed the host"
        return
    assert repair.returncode == 0, repair.stdout[-6000:]
    after = report(tmp_path)
    assert after["verdict"] == "healthy", json.dumps(after["findings"], indent=1)[:3000]
    assert bed_host.http_status("/api/health") == 200
    assert bed_host.http_status("/docs") == 200
    assert "Swagger UI" in bed_host.http_get("/docs")[1]

    if state == "ufw_blocking":
        # UFW is still on: 8000 is open from outside now, any other port still filtered.
        assert "Status: active" in bed_host.exec(["ufw", "status"]).stdout
        bed_host.exec("cd /srv && (setsid python3 -m http.server 8081 >/dev/null 2>&1 &) ; sleep 1")
        assert bed_host.http_status_inside("/", port=8081) == "200"
        assert bed_host.http_status("/", port=8081, timeout=3) is None

    again = playbook("repair.yml", inventory)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0


@pytest.mark.parametrize("state", ["unit_drifted", "crash_loop_missing_dependency", "ufw_blocking"])
def test_repair_check_mode_changes_nothing(bed_host, tmp_path, state):
    options, _root_cause, _fixable = MATRIX[state]
    break_host(bed_host, state, **options)
    inventory = write_inventory(tmp_path, bed_host)
    before = fingerprint(bed_host)
    proc = playbook("repair.yml", inventory, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert "check mode: nothing will be changed" in proc.stdout
    assert fingerprint(bed_host) == before
    if state == "unit_drifted":
        assert "WorkingDirectory" in proc.stdout  # the --diff of the unit


def test_persistent_openapi_fault_is_reported_not_restart_looped(bed_host, tmp_path):
    break_host(bed_host, "openapi_500", fault_mode="persistent")
    inventory = write_inventory(tmp_path, bed_host)
    proc = playbook("repair.yml", inventory)
    assert proc.returncode != 0
    assert "not restarting again" in proc.stdout
    restarts = bed_host.unit_property("NRestarts")
    assert int(restarts or 0) == 0  # systemd did not loop it either


def test_smoke_passes_on_healthy_and_fails_on_broken_with_junit(bed_host, tmp_path):
    inventory = write_inventory(tmp_path, bed_host, beatsync_smoke_wait=4, beatsync_smoke_delay=1)
    ok = playbook("smoke.yml", inventory)
    assert ok.returncode == 0, ok.stdout[-4000:]
    junit = (tmp_path / "reports" / "smoke-junit.xml").read_text()
    assert 'failures="0"' in junit and 'name="api_health"' in junit and 'name="docs"' in junit

    break_host(bed_host, "docs_503")
    bad = playbook("smoke.yml", inventory)
    assert bad.returncode != 0
    junit = (tmp_path / "reports" / "smoke-junit.xml").read_text()
    assert 'failures="1"' in junit
    assert "docs_unavailable" in junit


# Two real repair.yml runs started together: tests/functional/test_repair_transaction.py.


def test_foreign_listener_is_stopped_only_when_the_operator_allows_it(bed_host, tmp_path):
    break_host(bed_host, "foreign_listener")
    inventory = write_inventory(tmp_path, bed_host, beatsync_allowed_foreign_listeners=["python3"])
    proc = playbook("repair.yml", inventory)
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert "stopped pid" in proc.stdout
    assert report(tmp_path)["verdict"] == "healthy"
    assert bed_host.http_status("/docs") == 200


def test_outside_check_runs_in_the_controller_or_on_the_host_it_is_delegated_to(bed_host, tmp_path):
    """external_probe: in the controller's process by default; delegated to another host (here
    the bed itself, as a stand-in bastion) it runs there, so that host's loopback is what it sees."""
    inventory = write_inventory(tmp_path, bed_host)
    probe = tmp_path / "probe.yml"
    probe.write_text(json.dumps([{
        "name": "Probe from the controller and from the bed", "hosts": "bed", "gather_facts": False,
        "tasks": [
            {"name": "From the controller", "beatsync.ops.external_probe": {"host": bed_host.ip, "timeout": 3},
             "register": "from_controller"},
            {"name": "From the bed (its own loopback)",
             "beatsync.ops.external_probe": {"host": "127.0.0.1", "timeout": 3},
             "delegate_to": "bed", "register": "from_bed"},
            {"name": "Keep both", "delegate_to": "localhost", "ansible.builtin.copy": {
                "dest": str(tmp_path / "seen.json"), "mode": "0644",
                "content": "{{ {'controller': from_controller, 'bed': from_bed} | to_json }}"}},
        ]}]))
    proc = playbook(str(probe), inventory)
    assert proc.returncode == 0, proc.stdout[-4000:]
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["controller"]["probed_from"] == "controller"
    assert seen["controller"]["probes"]["health"]["healthy"] is True
    assert seen["bed"]["probed_from"] == "bed"
    assert seen["bed"]["probes"]["health"]["healthy"] is True
    assert seen["bed"]["probes"]["health"]["url"] == "http://127.0.0.1:8000/api/health"
