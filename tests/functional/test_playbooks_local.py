"""The playbooks as collection playbooks (ansible-playbook beatsync.ops.<name>) on this machine,
against a real uvicorn on loopback: the controller-side parts (reports, fleet summary,
fail_on_unhealthy, check mode) without a container."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from testlib import FIXTURE_APP, ansible_env

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def run(playbook, tmp_path, port, *args):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"beatsync": {"hosts": {"local-demo": {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "beatsync_port": port,
        "beatsync_become": False,
        "beatsync_external_address": "127.0.0.1",
        "beatsync_app_dir": str(FIXTURE_APP),
        "beatsync_python": sys.executable,
        "beatsync_timeout": 2,
        "beatsync_report_dir": str(tmp_path / "reports"),
    }}}}))
    env = ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), "beatsync.ops." + playbook, *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_diagnose_as_collection_playbook_in_check_mode(start_server, tmp_path):
    server = start_server(faults="docs_503")
    proc = run("diagnose", tmp_path, server.port, "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    report = json.loads((tmp_path / "reports" / "local-demo.json").read_text())
    # A uvicorn started by hand (as here) is exactly what port_conflict_stale means.
    assert report["root_cause"] == "port_conflict_stale"
    assert "docs_unavailable" in report["findings"][0]["explains"]
    assert report["probes"]["docs"]["docs"]["status"] == 503
    assert report["external"]["health"]["healthy"] is True
    summary = (tmp_path / "reports" / "fleet-summary.md").read_text()
    assert "| local-demo | degraded (port_conflict_stale) | degraded | port_conflict_stale | stop_stale_copy |" in summary
    assert "local-demo: DEGRADED (root cause: port_conflict_stale)" in proc.stdout


def test_fail_on_unhealthy_fails_the_job_but_still_reports(start_server, tmp_path):
    server = start_server(faults="docs_503")
    proc = run("diagnose", tmp_path, server.port, "-e", "beatsync_fail_on_unhealthy=true")
    assert proc.returncode != 0
    assert "local-demo is degraded" in proc.stdout
    assert (tmp_path / "reports" / "fleet-summary.md").exists()


def test_repair_check_mode_shows_the_plan(start_server, tmp_path):
    server = start_server(faults="docs_503")
    proc = run("repair", tmp_path, server.port, "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "check mode: nothing will be changed" in proc.stdout
    assert "stop_stale_copy <- port_conflict_stale" in proc.stdout
    assert server.proc.poll() is None, "check mode stopped the server"


def test_smoke_fails_with_junit_naming_the_check(start_server, tmp_path):
    server = start_server(faults="docs_503")
    proc = run("smoke", tmp_path, server.port, "-e", "beatsync_smoke_wait=2", "-e", "beatsync_smoke_delay=1")
    assert proc.returncode != 0
    junit = (tmp_path / "reports" / "smoke-junit.xml").read_text()
    assert 'tests="2" failures="1"' in junit
    assert "/docs not ok: docs_unavailable" in junit
