"""`ansible -m beatsync.ops.diagnose` with no options on a real systemd host (the test bed)
names the same verdict and root cause as playbooks/diagnose.yml, for every broken state of
the bed, drift included: the action renders the canonical unit from the service role's own
template, makes the outside check in the controller's process and runs the findings engine
once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import REPO, ansible_env
from systemd_hosts import BROKEN_STATES, beatsync_host, break_host, podman_env, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

BIN = Path(sys.executable).parent

# state -> (break_host options, root cause): the same table as the playbooks' e2e test.
EXPECTED = {
    "service_stopped": ({}, "service_inactive"),
    "unit_failed": ({}, "service_failed"),
    "unit_missing": ({}, "service_missing"),
    "unit_drifted": ({}, "unit_drift"),
    "crash_loop_missing_dependency": ({}, "missing_dependency"),
    "syntax_error": ({}, "syntax_error"),
    "stale_copy": ({}, "port_conflict_stale"),
    "foreign_listener": ({}, "port_conflict_foreign"),
    "docs_503": ({}, "docs_unavailable"),
    "docs_hang": ({}, "docs_timeout"),
    "openapi_500": ({"fault_mode": "oneshot"}, "openapi_broken"),
    "ufw_blocking": ({}, "firewall_blocks_port"),
}


def test_every_broken_state_is_covered():
    assert set(EXPECTED) == set(BROKEN_STATES)


def _env():
    env = ansible_env()
    env.update(podman_env())
    env["ANSIBLE_PIPELINING"] = "1"
    return env


def inventory(tmp_path, host):
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"beatsync": {"hosts": {"bed": {
        "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
        "ansible_python_interpreter": "/usr/bin/python3", "beatsync_become": False,
        "beatsync_external_address": host.ip, "beatsync_timeout": 3,
        "beatsync_report_dir": str(tmp_path / "reports")}}}}))
    return path


def adhoc(inv, args=None):
    argv = [str(BIN / "ansible"), "-i", str(inv), "bed", "-m", "beatsync.ops.diagnose"]
    if args:
        argv += ["-a", json.dumps(args)]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["bed"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("no JSON result:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:])) from None


def diagnose_playbook(tmp_path, inv):
    env = _env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inv), str(REPO / "playbooks" / "diagnose.yml")],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout, json.loads((tmp_path / "reports" / "bed.json").read_text())


@pytest.fixture
def bed(beatsync_host):
    reset_host(beatsync_host)
    return beatsync_host


def test_healthy_host_same_as_the_playbook_and_readable(bed, tmp_path):
    inv = inventory(tmp_path, bed)
    result = adhoc(inv)
    assert result["verdict"] == "healthy" and result["findings"] == [] and result["plan"] == [], result["msg"]
    assert result["probes"]["unit"]["drift"] is False  # the canonical unit was rendered and compared
    assert result["external"]["health"]["healthy"] is True
    assert result["msg"][0] == "bed: HEALTHY"
    assert "canonical_unit" not in json.dumps(result.get("invocation", {})) or \
        "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in json.dumps(result.get("invocation", {}))
    stdout, report = diagnose_playbook(tmp_path, inv)
    assert report["verdict"] == "healthy"
    assert "bed: HEALTHY" in stdout  # the lines the role prints, once per host


@pytest.mark.parametrize("state", list(EXPECTED))
def test_broken_state_same_verdict_and_root_cause_as_the_playbook(bed, tmp_path, state):
    options, root_cause = EXPECTED[state]
    break_host(bed, state, **options)
    inv = inventory(tmp_path, bed)
    result = adhoc(inv)
    assert result["root_cause"] == root_cause, result["msg"]
    assert result["changed"] is False
    assert result["plan"] and result["plan"][0]["action"] == result["findings"][0]["remedy"]["action"] or \
        [step["action"] for step in result["plan"]] == sorted(
            {f["remedy"]["action"] for f in result["findings"]}, key=[s["action"] for s in result["plan"]].index)
    _stdout, report = diagnose_playbook(tmp_path, inv)
    assert (report["verdict"], report["root_cause"]) == (result["verdict"], result["root_cause"])


def test_module_defaults_group_sets_the_shared_options_once(bed, tmp_path):
    inv = inventory(tmp_path, bed)
    play = tmp_path / "play.yml"
    play.write_text(json.dumps([{
        "hosts": "bed", "gather_facts": False,
        "module_defaults": {"group/beatsync.ops.beatsync": {"port": 8001, "timeout": 2, "service": "beatsync"}},
        "tasks": [{"name": "diagnose", "beatsync.ops.diagnose": {"probes": ["unit", "port", "health"],
                                                                 "external_check": False},
                   "register": "out"},
                  {"name": "keep", "delegate_to": "localhost", "ansible.builtin.copy": {
                      "dest": str(tmp_path / "out.json"), "mode": "0644", "content": "{{ out | to_json }}"}}]}]))
    env = _env()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inv), str(play)], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["urls"]["health"].endswith(":8001/api/health")
    assert out["probes"]["unit"]["service"] == "beatsync.service"
    # The canonical unit follows the option too: the installed unit (port 8000) drifts from it.
    assert out["root_cause"] == "unit_drift" or "unit_drift" in [f["code"] for f in out["findings"]]


def test_service_variables_that_are_templates_shape_the_canonical_unit(bed, tmp_path):
    """A service_* variable may name another variable, as it may for the service role itself."""
    inv = tmp_path / "inventory.json"
    inventory(tmp_path, bed)
    data = json.loads(inv.read_text())
    data["beatsync"]["hosts"]["bed"].update(site_name="Canary", service_description="{{ site_name }} BeatSync")
    inv.write_text(json.dumps(data))
    result = adhoc(inv)
    assert result["probes"]["unit"]["drift"] is True, result["msg"]
    assert "Description=Canary BeatSync" in result["probes"]["unit"]["diff"], result["probes"]["unit"]


def test_hosts_of_one_run_share_a_canonical_unit_only_when_their_inputs_agree(bed, tmp_path):
    """The run's workers share one rendering of the canonical unit per set of inputs: four
    names for the one bed, in one run, two of them with another Description= (one plain, one a
    template of the inventory's own), each gets the unit its own variables make."""
    inv = tmp_path / "inventory.json"
    inventory(tmp_path, bed)
    data = json.loads(inv.read_text())
    host = data["beatsync"]["hosts"].pop("bed")
    data["beatsync"]["hosts"] = {
        "bed": host, "same": dict(host),
        "other": dict(host, service_description="Other BeatSync"),
        "templated": dict(host, site_name="Canary", service_description="{{ site_name }} BeatSync"),
    }
    data["beatsync"]["vars"] = {"beatsync_summary_name": "shared-unit"}
    inv.write_text(json.dumps(data))
    env = _env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inv), "--forks", "4",
                           str(REPO / "playbooks" / "diagnose.yml")],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    reports = {name: json.loads((tmp_path / "reports" / ("%s.json" % name)).read_text())
               for name in ("bed", "same", "other", "templated")}
    assert [reports[name]["probes"]["unit"]["drift"] for name in ("bed", "same")] == [False, False]
    assert "-Description=Other BeatSync" in reports["other"]["probes"]["unit"]["diff"]
    assert "-Description=Canary BeatSync" in reports["templated"]["probes"]["unit"]["diff"]
