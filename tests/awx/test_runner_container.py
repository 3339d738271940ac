"""The AWX job templates' playbooks through ansible-runner (as AWX runs them: a private data
dir with project/, inventory/, env/extravars from the survey answers, env/cmdline for the job
type) against a real systemd host of the test bed, broken as in the runbook's incident
(/docs 503): "BeatSync diagnose" (job type check) reports it and changes nothing, "BeatSync
repair" fixes it. Checks what an AWX user sees: job status, job events, final stats and the
set_stats artifacts (the fleet summary, before and after)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from awx_jobs import RUNNER, TEMPLATES, assert_diagnose_job_reported, assert_repair_job_fixed, job_events
from testlib import COLLECTIONS_PATH, REPO, ansible_env
from systemd_hosts import beatsync_host, break_host, podman_env, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import


def run_job(tmp_path, host, template_name, ident):
    """One AWX-style job: survey defaults as extra vars, job type as cmdline -> (artifacts dir, events)."""
    template = TEMPLATES[template_name]
    private = tmp_path / ident
    (private / "inventory").mkdir(parents=True)
    (private / "env").mkdir()
    (private / "project").symlink_to(REPO / "playbooks", target_is_directory=True)
    (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"beatsync": {"hosts": {"bed": {
        "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
        "ansible_python_interpreter": "/usr/bin/python3", "beatsync_external_address": host.ip,
        "beatsync_break_system_packages": True}}}}))
    extra_vars = {question["variable"]: question["default"] for question in template["related"]["survey_spec"]["spec"]}
    extra_vars.update({"beatsync_become": False, "beatsync_report_dir": str(tmp_path / "reports")})
    (private / "env" / "extravars").write_text(yaml.safe_dump(extra_vars))
    env = {key: value for key, value in ansible_env().items() if key.startswith("ANSIBLE_")}
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)  # runner's own event callback makes the job events
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH), "ANSIBLE_PIPELINING": "1",
                "CONTAINERS_CONF": podman_env()["CONTAINERS_CONF"]})
    (private / "env" / "envvars").write_text(yaml.safe_dump(env))
    if template["job_type"] == "check":
        (private / "env" / "cmdline").write_text("--check")
    runner_env = dict(podman_env(), PATH="%s:/usr/bin:/bin" % RUNNER.parent)
    runner_env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    proc = subprocess.run([str(RUNNER), "run", str(private), "-p", Path(template["playbook"]).name, "--ident", ident],
                          capture_output=True, text=True, timeout=600, check=False, env=runner_env)
    artifacts = private / "artifacts" / ident
    events = job_events(artifacts)
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else proc.stdout
    return artifacts, events, proc.returncode, stdout


def test_diagnose_then_repair_jobs_on_a_systemd_host(beatsync_host, tmp_path):
    reset_host(beatsync_host)
    break_host(beatsync_host, "docs_503")

    artifacts, events, rc, stdout = run_job(tmp_path, beatsync_host, "BeatSync diagnose", "diagnose")
    assert rc == 0, stdout[-5000:]
    assert_diagnose_job_reported(artifacts, events, beatsync_host)

    artifacts, events, rc, stdout = run_job(tmp_path, beatsync_host, "BeatSync repair", "repair")
    assert rc == 0, stdout[-5000:]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats"
    changed = [event["event_data"]["task"] for event in events
               if event["event"] == "runner_on_ok" and event["event_data"]["res"].get("changed")]
    assert changed, "the repair job changed nothing"
    row = assert_repair_job_fixed(artifacts, events, beatsync_host)
    assert row["actions"]
    assert "findings" not in row and "probes" not in row  # the artifacts stay small
    assert "/api/health healthy and /docs 200 Swagger UI" in stdout
