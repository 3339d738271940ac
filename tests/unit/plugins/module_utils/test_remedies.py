"""The remedy registry (_remedies.py): one task file per action, the plan in the runbook's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _findings, _remedies

TASKS = Path(__file__).resolve().parents[4] / "roles" / "repair" / "tasks"


def test_every_remedy_has_its_task_file_and_every_task_file_its_remedy():
    files = {path.stem[len("remedy_"):] for path in TASKS.glob("remedy_*.yml")}
    assert files, TASKS
    assert set(_remedies.ORDER) - files == set(), "remedies without roles/repair/tasks/remedy_<action>.yml"
    assert files - set(_remedies.ORDER) == set(), "task files without a remedy in the registry"


def test_task_files_read_only_the_registered_arguments():
    for action, arguments in _remedies.REMEDIES:
        text = (TASKS / ("remedy_%s.yml" % action)).read_text()
        used = set(__import__("re").findall(r"beatsync_step\.remedy\.(\w+)", text))
        assert used <= set(arguments), (action, used - set(arguments))


def test_remedy_takes_exactly_the_registered_arguments():
    assert _remedies.remedy("open_firewall", port=8000) == {"action": "open_firewall", "port": 8000}
    with pytest.raises(ValueError, match="open_firewall takes"):
        _remedies.remedy("open_firewall")
    with pytest.raises(ValueError, match="unknown remedy"):
        _remedies.remedy("reboot")


def test_plan_is_in_the_runbook_order_one_step_per_action():
    findings = [
        {"code": "firewall_blocks_port", "summary": "ufw", "remedy": _remedies.remedy("open_firewall", port=8080)},
        {"code": "service_failed", "summary": "failed",
         "remedy": _remedies.remedy("restart_service", service="b.service", reset_failed=False)},
        {"code": "health_failed", "summary": "down",
         "remedy": _remedies.remedy("restart_service", service="b.service", reset_failed=True)},
        {"code": "port_conflict_stale", "summary": "stale",
         "remedy": _remedies.remedy("stop_stale_copy", port=8080, pids=[5], service="b.service", app_spec="main:app",
                                    app_dir="/srv")},
    ]
    plan = _remedies.plan(findings)
    assert [step["action"] for step in plan] == ["stop_stale_copy", "restart_service", "open_firewall"]
    assert plan[1]["codes"] == ["service_failed", "health_failed"] and plan[1]["remedy"]["reset_failed"] is True
    assert plan[2]["remedy"]["port"] == 8080


def test_every_code_of_the_engine_asks_for_a_registered_remedy():
    source = Path(_findings.__file__).read_text()
    assert '{"action"' not in source, "remedies are built with _remedies.remedy(), not by hand"
