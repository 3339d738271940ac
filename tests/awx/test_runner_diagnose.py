"""playbooks/diagnose.yml run the way AWX runs it: `ansible-runner run <private_data_dir>
-p diagnose.yml` (project = the collection's playbooks/, inventory/, env/), as the
"BeatSync diagnose" job template does (job type check, survey answers as extra vars),
against a local inventory host whose BeatSync is a loopback fixture uvicorn on a free port.
Checks what an AWX user sees: the job events, the final stats, and the set_stats artifact
data (the fleet summary).

The host is this machine (ansible_connection=local, become off): a quick check of the runner
plumbing. There is no beatsync.service unit here, so the verdict is not "healthy", but health
and docs on the fixture port are. tests/awx/test_runner_container.py runs the diagnose and
repair jobs against a real systemd host."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from testlib import COLLECTIONS_PATH, REPO, ansible_env

RUNNER = Path(sys.executable).parent / "ansible-runner"


def _events(artifacts):
    events = []
    for path in sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0])):
        events.append(json.loads(path.read_text()))
    return events


def test_diagnose_through_ansible_runner(tmp_path, start_server):
    server = start_server()
    private = tmp_path / "private"
    (private / "inventory").mkdir(parents=True)
    (private / "env").mkdir()
    (private / "project").symlink_to(REPO / "playbooks", target_is_directory=True)
    (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"beatsync": {"hosts": {"web1": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "beatsync_external_address": "127.0.0.1"}}}}))
    survey = yaml.safe_load(json.dumps(next(
        template for template in json.loads((REPO / "awx" / "beatsync_awx_import.json").read_text())["job_templates"]
        if template["name"] == "BeatSync diagnose")["related"]["survey_spec"]["spec"]))
    extra_vars = {question["variable"]: question["default"] for question in survey}
    extra_vars.update({"beatsync_port": server.port, "beatsync_become": False,
                       "beatsync_report_dir": str(tmp_path / "reports")})
    (private / "env" / "extravars").write_text(yaml.safe_dump(extra_vars))
    env = {key: value for key, value in ansible_env().items() if key.startswith("ANSIBLE_")}
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)  # AWX's own event callback does the job events
    env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS_PATH)
    (private / "env" / "envvars").write_text(yaml.safe_dump(env))
    (private / "env" / "cmdline").write_text("--check")  # the template's job type "check"

    # the json stdout callback of the other tests would replace runner's event callback
    runner_env = {key: value for key, value in ansible_env().items() if key != "ANSIBLE_STDOUT_CALLBACK"}
    proc = subprocess.run([str(RUNNER), "run", str(private), "-p", "diagnose.yml", "--ident", "job1"],
                          capture_output=True, text=True, timeout=300, check=False,
                          env=dict(runner_env, PATH="%s:/usr/bin:/bin" % RUNNER.parent))
    artifacts = private / "artifacts" / "job1"
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else proc.stdout
    assert proc.returncode == 0, stdout[-5000:] + proc.stderr[-2000:]
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "status").read_text().strip() == "successful"
    assert "--check" in " ".join(json.loads((artifacts / "command").read_text())["command"])

    events = _events(artifacts)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats"

    def ok_events(action):
        return [event for event in events if event["event"] == "runner_on_ok"
                and event["event_data"].get("task_action") == action]
    # One task per host: the module on the host, the outside check in the controller's process.
    on_host = ok_events("beatsync.ops.diagnose")
    assert len(on_host) == 1
    assert on_host[0]["event_data"]["res"]["external"]["health"]["healthy"] is True
    data = on_host[0]["event_data"]
    assert data["host"] == "web1"
    result = data["res"]
    assert result["changed"] is False
    assert result["probes"]["health"]["healthy"] is True
    assert result["probes"]["docs"]["docs_ok"] is True
    assert result["probes"]["port"]["listening"] is True
    assert not [event for event in events if event["event"] in ("runner_on_failed", "runner_on_unreachable")]

    stats = events[-1]["event_data"]
    assert stats["ok"].get("web1", 0) > 0
    assert not stats["failures"] and not stats["dark"]
    assert stats["changed"] == {}  # read-only, also in check mode
    fleet = stats["artifact_data"]["beatsync_fleet"]
    assert [row["host"] for row in fleet] == ["web1"]
    assert fleet[0]["verdict"]
    assert stats["artifact_data"]["beatsync_unhealthy"] == ([] if fleet[0]["verdict"] == "healthy" else ["web1"])
    assert (tmp_path / "reports" / "web1.json").is_file()
    assert "Diagnose BeatSync" in stdout
