"""The AWX job templates run through ansible-runner, as an AWX user sees them: the templates of
awx/beatsync_awx_import.json, a job's events, and what the "BeatSync diagnose" (check) and
"BeatSync repair" jobs must show against a host broken as in the runbook's incident (/docs 503).
Shared by tests/awx/test_runner_container.py (runner on this machine) and
tests/functional/test_ee_run.py (runner in the execution environment)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from testlib import REPO

RUNNER = Path(sys.executable).parent / "ansible-runner"
TEMPLATES = {template["name"]: template
             for template in json.loads((REPO / "awx" / "beatsync_awx_import.json").read_text())["job_templates"]}


def job_events(artifacts):
    """The job's events (artifacts/job_events/<counter>-<uuid>.json), in order."""
    return [json.loads(path.read_text()) for path in
            sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))]


def assert_diagnose_job_reported(artifacts, events, host):
    """The check job succeeded, changed nothing, reported bed degraded (docs_unavailable,
    restart_for_docs) in the set_stats artifacts, and left /docs at 503."""
    assert (artifacts / "status").read_text().strip() == "successful"
    stats = events[-1]["event_data"]
    assert events[-1]["event"] == "playbook_on_stats"
    assert stats["changed"] == {} and not stats["failures"] and not stats["dark"]
    assert stats["artifact_data"]["beatsync_unhealthy"] == ["bed"]
    [row] = stats["artifact_data"]["beatsync_fleet"]
    assert (row["host"], row["verdict"], row["root_cause"], row["remedy"]) == \
        ("bed", "degraded", "docs_unavailable", "restart_for_docs")
    assert host.http_status("/docs") == 503, "the check job changed the host"


def assert_repair_job_fixed(artifacts, events, host):
    """The repair job succeeded with no failed or unreachable task, diagnosed degraded then
    healthy, changed bed, and left /docs and /api/health at 200. Returns the job's fleet row."""
    assert (artifacts / "status").read_text().strip() == "successful"
    kinds = [event["event"] for event in events]
    assert not [kind for kind in kinds if kind in ("runner_on_failed", "runner_on_unreachable")]
    diagnoses = [event for event in events if event["event"] == "runner_on_ok"
                 and event["event_data"].get("task_action") == "beatsync.ops.diagnose"]
    assert [event["event_data"]["res"]["verdict"] for event in diagnoses] == ["degraded", "healthy"]
    stats = events[-1]["event_data"]
    assert stats["changed"].get("bed", 0) >= 1 and not stats["failures"]
    assert stats["artifact_data"]["beatsync_unhealthy"] == []
    [row] = stats["artifact_data"]["beatsync_fleet"]
    assert (row["before"], row["before_root_cause"], row["verdict"]) == ("degraded", "docs_unavailable", "healthy")
    assert host.http_status("/docs") == 200 and host.http_status("/api/health") == 200
    return row
