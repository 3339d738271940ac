"""beatsync.ops.fleet_summary through ansible-playbook: the reports the play's hosts registered,
written once (JSON per host, the Markdown summary, the metrics file), the controller-side
network finding, the artifacts AWX shows (ansible_stats, as set_stats publishes them) and a
bad option named with the files of the last run left as they were."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from testlib import ansible_env

# Each host registers the outcome the test gives it, then one run-once task publishes the run.
PLAY_HEAD = """
- name: Publish a run
  hosts: all
  gather_facts: false
  tasks:
    - name: What each host's diagnosis registered
      ansible.builtin.set_fact:
        beatsync_outcome: "{{ outcomes[inventory_hostname] }}"

    - name: Publish
      beatsync.ops.fleet_summary:
"""

PLAYBOOK = PLAY_HEAD + """        dir: "%(out)s/reports"
        metrics_file: "%(metrics)s"
        mode: "%(mode)s"
        show: %(show)s  # printed into stdout, before the JSON callback's document
      run_once: true
      register: published

    - name: Every host sees the registered result
      ansible.builtin.assert:
        that: published.unhealthy == expected_unhealthy
"""

OUTSIDE_ONLY = {"code": "external_unreachable", "evidence": ["GET http://192.0.2.1:8000/api/health from the controller: timed out"]}


def report(host, verdict, findings=()):
    return {"report": {"host": host, "verdict": verdict, "root_cause": findings[0]["code"] if findings else None,
                       "before": verdict, "actions": [], "summary": "", "findings": list(findings), "probes": {},
                       "external": {}, "remedy": ""}}


def run(tmp_path, outcomes, expected_unhealthy, mode="0600", metrics=True, show=False):
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "prom").mkdir(exist_ok=True)
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {name: {"ansible_connection": "local",
                                                              "ansible_python_interpreter": sys.executable}
                                                       for name in outcomes}}}))
    (tmp_path / "vars.json").write_text(json.dumps({"outcomes": outcomes, "expected_unhealthy": expected_unhealthy}))
    metrics_path = str(tmp_path / "prom" / "beatsync.prom") if metrics else ""
    (tmp_path / "play.yml").write_text(PLAYBOOK % {"out": tmp_path / "out", "metrics": metrics_path, "mode": mode,
                                                   "show": str(show).lower()})
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                           "-e", "@" + str(tmp_path / "vars.json"), str(tmp_path / "play.yml")],
                          env=dict(ansible_env(), ANSIBLE_SHOW_CUSTOM_STATS="1"), capture_output=True, text=True, timeout=300, check=False)
    if show:
        return proc.returncode, proc.stdout
    try:
        return proc.returncode, json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("no JSON (rc=%s)\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))


def task_result(data, name, host):
    for task in data["plays"][0]["tasks"]:
        if task["task"]["name"] == name:
            return task["hosts"][host]
    raise AssertionError("no task %s" % name)


def test_one_task_publishes_the_whole_run(tmp_path):
    outcomes = {"web1": report("web1", "healthy"),
                "web2": report("web2", "degraded", [{"code": "docs_unavailable", "evidence": []}])}
    rc, data = run(tmp_path, outcomes, ["web2"])
    assert rc == 0, data["stats"]
    result = task_result(data, "Publish", "web1")
    assert result["changed"] is False and result["hosts"] == 2
    reports = tmp_path / "out" / "reports"
    assert sorted(os.listdir(reports)) == ["fleet-summary.md", "web1.json", "web2.json"]
    assert stat.S_IMODE(os.stat(reports / "web2.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(reports).st_mode) == 0o700
    assert json.loads((reports / "web2.json").read_text())["root_cause"] == "docs_unavailable"
    summary = (reports / "fleet-summary.md").read_text()
    assert "| web2 | degraded | degraded | docs_unavailable | - | - |" in summary
    assert result["msg"] == summary.splitlines()
    assert result["fleet_network"] == {}
    assert "beatsync_verdict{" in (tmp_path / "prom" / "beatsync.prom").read_text()
    # The artifacts AWX shows, exactly as set_stats(per_host=false) publishes them.
    stats = data["global_custom_stats"]
    assert stats["beatsync_unhealthy"] == ["web2"]
    assert [row["host"] for row in stats["beatsync_fleet"]] == ["web1", "web2"]
    assert "probes" not in stats["beatsync_fleet"][0] and stats["beatsync_fleet_network"] == {}


def test_most_hosts_failing_only_from_outside_is_one_network_finding(tmp_path):
    outcomes = {name: report(name, "degraded", [OUTSIDE_ONLY]) for name in ("web1", "web2", "web3")}
    for outcome in outcomes.values():  # healthy on the host, failing only from the controller
        outcome["report"]["probes"] = {"health": {"healthy": True}}
    rc, data = run(tmp_path, outcomes, ["web1", "web2", "web3"], metrics=False)
    assert rc == 0, data["stats"]
    network = task_result(data, "Publish", "web1")["fleet_network"]
    assert network["code"] == "controller_network" and sorted(network["hosts"]) == ["web1", "web2", "web3"]
    assert data["global_custom_stats"]["beatsync_fleet_network"]["code"] == "controller_network"
    assert "**controller_network**" in (tmp_path / "out" / "reports" / "fleet-summary.md").read_text()


def test_a_bad_mode_is_named_and_the_last_run_is_kept(tmp_path):
    rc, dummy = run(tmp_path, {"web1": report("web1", "healthy")}, [])
    assert rc == 0
    before = (tmp_path / "out" / "reports" / "web1.json").read_text()
    rc, data = run(tmp_path, {"web1": report("web1", "down")}, ["web1"], mode="rw-r--r--")
    assert rc != 0
    result = task_result(data, "Publish", "web1")
    assert result["failed"] and "mode must be an octal string" in result["msg"], result
    assert (tmp_path / "out" / "reports" / "web1.json").read_text() == before


def test_show_prints_the_summary(tmp_path):
    outcomes = {"web1": report("web1", "healthy"),
                "web2": report("web2", "degraded", [{"code": "docs_unavailable", "evidence": []}])}
    rc, stdout = run(tmp_path, outcomes, ["web2"], metrics=False, show=True)
    assert rc == 0
    printed = stdout[:re.search(r"^\{$", stdout, re.M).start()]  # before the JSON callback's document
    assert "# BeatSync fleet summary" in printed
    assert "| web2 | degraded | degraded | docs_unavailable | - | - |" in printed


VARIABLES_PLAYBOOK = PLAY_HEAD + """        show: false
      run_once: true
      register: published
"""


def run_with_variables(tmp_path, **variables):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"web1": {"ansible_connection": "local",
                                                                "ansible_python_interpreter": sys.executable}},
                                             "vars": variables}}))
    (tmp_path / "vars.json").write_text(json.dumps({"outcomes": {"web1": report("web1", "degraded", [
        {"code": "docs_unavailable", "evidence": []}])}}))
    (tmp_path / "play.yml").write_text(VARIABLES_PLAYBOOK)
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                           "-e", "@" + str(tmp_path / "vars.json"), str(tmp_path / "play.yml")],
                          env=ansible_env(), cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, task_result(json.loads(proc.stdout), "Publish", "web1")


def test_options_the_task_does_not_set_come_from_their_variables(tmp_path):
    (tmp_path / "prom").mkdir()
    rc, result = run_with_variables(
        tmp_path, beatsync_report_dir=str(tmp_path / "from-inventory"), beatsync_report_suffix="-nightly",
        beatsync_summary_name="nightly", beatsync_report_mode="0640", beatsync_report_dir_mode="0750",
        beatsync_metrics_file=str(tmp_path / "prom" / "beatsync.prom"), beatsync_detected_at="{{ 1700000000 }}")
    assert rc == 0, result
    reports = tmp_path / "from-inventory"
    assert sorted(os.listdir(reports)) == ["nightly.md", "web1-nightly.json"]
    assert stat.S_IMODE(os.stat(reports / "web1-nightly.json").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(reports).st_mode) == 0o750
    assert result["metrics_file"] == str(tmp_path / "prom" / "beatsync.prom")
    assert "beatsync_verdict{" in (tmp_path / "prom" / "beatsync.prom").read_text()


def test_unset_and_empty_variables_leave_the_defaults(tmp_path):
    """The default dir is relative to where ansible-playbook runs: tmp_path here."""
    rc, result = run_with_variables(tmp_path, beatsync_report_dir="", beatsync_metrics_file="")
    assert rc == 0, result
    assert result["dir"] == str(tmp_path / "beatsync-reports") and result["metrics_file"] is None
    assert sorted(os.listdir(tmp_path / "beatsync-reports")) == ["fleet-summary.md", "web1.json"]


def test_a_bad_option_from_a_variable_names_the_variable(tmp_path):
    rc, result = run_with_variables(tmp_path, beatsync_report_dir=str(tmp_path / "r"), beatsync_report_mode="rw-r--r--")
    assert rc != 0 and result["failed"], result
    assert "mode must be an octal string" in result["msg"], result
    assert "mode (from beatsync_report_mode)" in result["msg"], result
    assert not (tmp_path / "r").exists()
