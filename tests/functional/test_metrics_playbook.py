"""diagnose.yml with beatsync_metrics_file on this machine against a real uvicorn on loopback:
the fleet summary task writes the Prometheus file, which prometheus_client's parser reads;
without the variable no file; a bad directory fails the task with its name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import FIXTURE_APP, ansible_env

parser = pytest.importorskip("prometheus_client.parser")
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def run(playbook, tmp_path, port, *args):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"beatsync": {"hosts": {"local-demo": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "beatsync_port": port,
        "beatsync_become": False, "beatsync_external_address": "127.0.0.1", "beatsync_app_dir": str(FIXTURE_APP),
        "beatsync_python": sys.executable, "beatsync_timeout": 2, "beatsync_report_dir": str(tmp_path / "reports"),
    }}}}))
    env = ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), "beatsync.ops." + playbook, *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def _samples(text):
    return {(family.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in parser.text_string_to_metric_families(text) for sample in family.samples}


def test_diagnose_writes_the_metrics_file(start_server, tmp_path):
    server = start_server(faults="docs_503")
    metrics = tmp_path / "textfile" / "beatsync.prom"
    metrics.parent.mkdir()
    proc = run("diagnose", tmp_path, server.port, "--check", "-e", "beatsync_metrics_file=%s" % metrics)
    assert proc.returncode == 0, proc.stdout[-4000:]
    samples = _samples(metrics.read_text())
    host = ("host", "local-demo")
    assert samples[("beatsync_verdict", (host, ("verdict", "degraded")))] == 1
    assert samples[("beatsync_verdict", (host, ("verdict", "healthy")))] == 0
    assert samples[("beatsync_root_cause", (("code", "port_conflict_stale"), host))] == 1
    assert samples[("beatsync_healthy", (host,))] == 0
    assert ("beatsync_last_success_timestamp_seconds", (host,)) not in samples
    assert ("beatsync_run_timestamp_seconds", ()) in samples


def test_no_variable_no_file_and_a_bad_directory_is_named(start_server, tmp_path):
    server = start_server()
    proc = run("diagnose", tmp_path, server.port, "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert not list(tmp_path.rglob("*.prom"))
    assert (tmp_path / "reports" / "fleet-summary.md").exists()  # the same task, without the metrics
    proc = run("diagnose", tmp_path, server.port, "--check", "-e", "beatsync_metrics_file=%s/nope/b.prom" % tmp_path)
    assert proc.returncode != 0
    assert "metrics_file: the metrics directory %s/nope does not exist" % tmp_path in proc.stdout
