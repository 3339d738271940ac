"""The findings engine on recorded facts: every code reachable, root cause first, said once."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _findings as engine
from ansible_collections.beatsync.ops.plugins.module_utils._validate import normalize_service

APP_DIR = "/opt/beatsync/web_service/backend"
UVICORN = ["/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]


def healthy_facts():
    listener = {"family": "ipv4", "address": "0.0.0.0", "port": 8000, "inode": 4242, "pid": 310, "name": "python3",
                "cmdline": UVICORN, "user": "root", "cwd": APP_DIR, "unit": "beatsync.service"}
    return {
        "health": {"url": "http://127.0.0.1:8000/api/health", "reachable": True, "status": 200,
                   "json": {"status": "healthy"}, "healthy": True, "error": None, "error_class": None},
        "docs": {"base_url": "http://127.0.0.1:8000", "docs_ok": True, "problem": None,
                 "docs": {"url": "http://127.0.0.1:8000/docs", "status": 200, "is_swagger_ui": True},
                 "openapi": {"url": "http://127.0.0.1:8000/openapi.json", "status": 200, "valid_json": True}},
        "port": {"port": 8000, "listening": True, "listeners": [listener], "owner_unknown": False},
        "process": {"processes": [{"pid": 310, "cmdline": UVICORN, "unit": "beatsync.service", "under_service": True}],
                    "stray": [], "count": 1},
        "unit": {"service": "beatsync.service", "systemd": True, "present": True, "load_state": "loaded",
                 "active_state": "active", "sub_state": "running", "result": "success", "exec_main_status": 0,
                 "n_restarts": 0, "main_pid": 310, "drift": False, "diff": ""},
        "journal": {"available": True, "lines": [], "classifications": []},
        "deps": {"interpreter": "/usr/bin/python3", "interpreter_found": True,
                 "imports": {"fastapi": {"ok": True, "version": "0.110.0"}, "uvicorn": {"ok": True, "version": "0.29.0"}},
                 "requirements": [], "missing": [], "syntax": {"checked": True, "ok": True}},
        "firewall": {"installed": True, "active": False, "default_incoming": "deny",
                     "port_allowed_v4": False, "port_allowed_v6": False, "rules": []},
    }


def run(facts):
    return engine.build_findings(facts, app_dir=APP_DIR)


def codes(result):
    return [f["code"] for f in result["findings"]]


def down(facts, active="failed", sub="failed", restarts=0):
    facts["unit"].update(active_state=active, sub_state=sub, n_restarts=restarts, main_pid=0, result="exit-code")
    facts["health"].update(reachable=False, status=None, json=None, healthy=False, error_class="refused",
                           error="connection refused")
    facts["docs"].update(docs_ok=False, problem="unreachable")
    facts["port"].update(listening=False, listeners=[])
    facts["process"].update(processes=[], stray=[], count=0)
    return facts


def test_healthy_host_has_no_findings():
    result = run(healthy_facts())
    assert result == {"verdict": "healthy", "root_cause": None, "findings": [], "plan": []}


def test_the_incident_docs_503_with_health_fine():
    facts = healthy_facts()
    facts["docs"].update(docs_ok=False, problem="docs_unavailable")
    facts["docs"]["docs"].update(status=503, body_excerpt='{"detail":"Service Unavailable"}', is_swagger_ui=False)
    result = run(facts)
    assert result["verdict"] == "degraded"
    assert codes(result) == ["docs_unavailable"]
    finding = result["findings"][0]
    assert finding["remedy"] == {"action": "restart_for_docs", "service": "beatsync.service"}
    assert "503" in finding["summary"] and "healthy" in finding["summary"]
    assert any("503" in line for line in finding["evidence"])


@pytest.mark.parametrize("problem,code", [("docs_timeout", "docs_timeout"), ("openapi_broken", "openapi_broken")])
def test_docs_problems_are_told_apart(problem, code):
    facts = healthy_facts()
    facts["docs"].update(docs_ok=False, problem=problem)
    assert codes(run(facts)) == [code]


def test_docs_disabled_is_reported_not_restarted():
    facts = healthy_facts()
    facts["docs"].update(docs_ok=False, problem="docs_disabled")
    facts["docs"]["docs"]["status"] = 404
    finding = run(facts)["findings"][0]
    assert finding["code"] == "docs_unavailable" and finding["remedy"] == {"action": "report"}


def test_stale_copy_explains_crash_loop_and_health_once():
    facts = healthy_facts()
    stale = dict(facts["port"]["listeners"][0], pid=999, unit=None)
    facts["port"]["listeners"] = [stale]
    facts["process"]["stray"] = [999]
    facts["unit"].update(active_state="activating", sub_state="auto-restart", n_restarts=7, main_pid=0)
    facts["journal"]["classifications"] = [
        {"kind": "address_in_use", "line": "ERROR: [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use"}]
    result = run(facts)
    assert codes(result) == ["port_conflict_stale"]
    finding = result["findings"][0]
    assert finding["remedy"] == {"action": "stop_stale_copy", "pids": [999], "port": 8000, "service": "beatsync.service",
                                 "app_spec": "main:app", "app_dir": APP_DIR}
    assert finding["explains"] == ["crash_loop"]
    assert any("Errno 98" in line for line in finding["evidence"])
    assert result["verdict"] == "degraded"  # the stale copy still answers /api/health


def test_foreign_listener_is_refused_with_pid_name_cmdline():
    facts = down(healthy_facts())
    foreign = {"family": "ipv4", "address": "0.0.0.0", "port": 8000, "pid": 77, "name": "python3",
               "cmdline": ["python3", "-m", "http.server", "8000"], "user": "nobody", "cwd": "/srv", "unit": None}
    facts["port"].update(listening=True, listeners=[foreign])
    result = run(facts)
    assert result["root_cause"] == "port_conflict_foreign"
    remedy = result["findings"][0]["remedy"]
    assert remedy["action"] == "refuse_foreign_listener" and remedy["pids"] == [77] and remedy["names"] == ["python3"]
    assert set(result["findings"][0]["explains"]) == {"service_failed", "health_failed"}
    assert result["verdict"] == "down"


def test_uvicorn_from_another_app_dir_is_foreign():
    facts = down(healthy_facts())
    other = {"pid": 55, "name": "python3", "cmdline": UVICORN, "cwd": "/srv/other", "unit": None, "address": "0.0.0.0", "port": 8000}
    facts["port"].update(listening=True, listeners=[other])
    assert run(facts)["root_cause"] == "port_conflict_foreign"


def test_owner_unknown_without_privilege():
    facts = down(healthy_facts())
    facts["port"].update(listening=True, owner_unknown=True, listeners=[{"address": "0.0.0.0", "port": 8000, "inode": 5, "pid": None}])
    assert run(facts)["root_cause"] == "port_owner_unknown"


def test_missing_unit():
    facts = down(healthy_facts(), active="inactive", sub="dead")
    facts["unit"].update(present=False, load_state="not-found")
    result = run(facts)
    assert codes(result) == ["service_missing"]
    expected = {"action": "install_unit", "service": "beatsync.service", "port": 8000, "app_dir": APP_DIR,
                "app_spec": "main:app", "dropins": []}
    assert result["findings"][0]["remedy"] == expected


def test_drifted_unit_that_breaks_the_service():
    facts = down(healthy_facts())
    facts["unit"].update(drift=True, diff="--- installed\n+++ canonical\n-WorkingDirectory=/tmp\n+WorkingDirectory=%s\n" % APP_DIR)
    result = run(facts)
    assert codes(result) == ["unit_drift"]
    assert result["findings"][0]["severity"] == "error"
    assert "-WorkingDirectory=/tmp" in result["findings"][0]["evidence"]


def test_harmless_drift_is_a_warning_and_explains_nothing():
    facts = healthy_facts()
    facts["unit"].update(drift=True, diff="-RestartSec=5\n+RestartSec=10\n")
    result = run(facts)
    assert codes(result) == ["unit_drift"] and result["findings"][0]["severity"] == "warning"
    # The operator's customised unit on a host that serves healthy does not make it unhealthy.
    assert result["verdict"] == "healthy"


def test_drift_while_docs_fail_is_an_error():
    facts = healthy_facts()
    facts["unit"].update(drift=True, diff="-RestartSec=5\n+RestartSec=10\n")
    facts["docs"].update(docs_ok=False, problem="docs_503")
    result = run(facts)
    drift = [f for f in result["findings"] if f["code"] == "unit_drift"]
    assert drift and drift[0]["severity"] == "error" and result["verdict"] == "degraded"


def test_maintenance_marker_is_the_verdict_and_empties_the_plan():
    facts = down(healthy_facts(), active="inactive", sub="dead", restarts=0)
    facts["maintenance"] = {"active": True, "reason": "disk swap", "source": "/etc/beatsync/maintenance"}
    result = run(facts)
    assert result["verdict"] == "maintenance" and result["plan"] == []
    assert result["maintenance"] == {"reason": "disk swap", "source": "/etc/beatsync/maintenance"}
    assert result["findings"]  # still reported, for the operator


def test_missing_dependency_crash_loop():
    facts = down(healthy_facts(), active="activating", sub="auto-restart", restarts=12)
    facts["deps"]["imports"]["uvicorn"] = {"ok": False, "version": None, "error": "ModuleNotFoundError: No module named 'uvicorn'"}
    facts["deps"]["missing"] = ["uvicorn"]
    facts["journal"]["classifications"] = [{"kind": "missing_module", "module": "uvicorn",
                                            "line": "/usr/bin/python3: No module named uvicorn"}]
    result = run(facts)
    assert codes(result) == ["missing_dependency"]
    finding = result["findings"][0]
    assert finding["remedy"]["action"] == "install_requirements" and finding["remedy"]["missing"] == ["uvicorn"]
    assert finding["remedy"]["app_dir"] == APP_DIR
    assert set(finding["explains"]) == {"crash_loop", "health_failed"}


def test_unsatisfied_specifier_on_a_healthy_host_is_a_warning_not_a_restart():
    facts = healthy_facts()
    facts["deps"]["requirements"] = [{"name": "fastapi", "specifier": ">=9.0", "installed": "0.110.0", "satisfied": False,
                                      "status": "mismatch", "file": APP_DIR + "/requirements.txt", "line": 1}]
    result = run(facts)
    assert codes(result) == ["requirements_mismatch"] and result["findings"][0]["severity"] == "warning"
    assert [step["action"] for step in result["plan"]] == ["report"]
    assert "requirements.txt:1" in result["findings"][0]["evidence"][0]


@pytest.mark.parametrize("active_state", ["active", "activating"])
def test_a_stale_copy_answering_healthy_does_not_vouch_for_the_units_requirements(active_state):
    # A crash-looping unit is "active" for the moment between its start and its failed bind;
    # the healthy answer comes from the stale copy, which proves nothing of the unit's interpreter.
    facts = healthy_facts()
    facts["port"]["listeners"] = [dict(facts["port"]["listeners"][0], pid=999, unit=None)]
    facts["process"]["stray"] = [999]
    facts["unit"].update(active_state=active_state, sub_state="running" if active_state == "active" else "auto-restart",
                         n_restarts=7, main_pid=1234)
    facts["deps"]["requirements"] = [{"name": "beatsync-no-such-package", "specifier": "==9.9.9", "installed": None,
                                      "satisfied": False, "status": "missing"}]
    facts["deps"]["missing"] = ["beatsync-no-such-package"]
    result = run(facts)
    assert "requirements_mismatch" not in codes(result)
    assert "missing_dependency" in codes(result)
    assert "install_requirements" in [step["action"] for step in result["plan"]]


def test_unit_drift_under_a_stale_copy_is_not_a_serving_units_warning():
    facts = healthy_facts()
    facts["port"]["listeners"] = [dict(facts["port"]["listeners"][0], pid=999, unit=None)]
    facts["unit"].update(drift=True, drift_items=[{"key": "ExecStart", "describe": "ExecStart= differs"}])
    finding = next(item for item in run(facts)["findings"] if item["code"] == "unit_drift")
    assert finding["severity"] == "error"


def test_a_listener_nobody_could_read_leaves_a_healthy_unit_serving():
    facts = healthy_facts()
    facts["port"]["listeners"] = [dict(facts["port"]["listeners"][0], pid=None, pids=[], unit=None)]
    facts["deps"]["requirements"] = [{"name": "fastapi", "specifier": ">=9.0", "installed": "0.110.0", "satisfied": False}]
    assert codes(run(facts)) == ["requirements_mismatch"]


def test_unsatisfied_specifier_on_a_down_host_is_a_missing_dependency():
    facts = down(healthy_facts())
    facts["deps"]["requirements"] = [{"name": "fastapi", "specifier": ">=9.0", "installed": "0.110.0", "satisfied": False}]
    result = run(facts)
    assert codes(result)[0] == "missing_dependency" and result["findings"][0]["severity"] == "critical"


def test_old_journal_lines_do_not_accuse_a_running_service():
    facts = healthy_facts()
    facts["journal"]["classifications"] = [
        {"kind": "missing_module", "module": "uvicorn", "line": "No module named uvicorn"},
        {"kind": "syntax_error", "file": "main.py", "lineno": 3, "line": "SyntaxError: invalid syntax"}]
    assert run(facts)["findings"] == []


def test_syntax_error_is_fixed_by_people_not_restarts():
    facts = down(healthy_facts(), active="activating", sub="auto-restart", restarts=4)
    facts["deps"]["syntax"] = {"checked": True, "ok": False, "file": APP_DIR + "/main.py", "line": 12, "message": "invalid syntax"}
    result = run(facts)
    assert result["root_cause"] == "syntax_error"
    assert result["findings"][0]["remedy"]["action"] == "fix_code"
    assert result["findings"][0]["remedy"]["line"] == 12
    assert codes(result) == ["syntax_error"]


@pytest.mark.parametrize("active,sub,restarts,code,reset", [
    ("failed", "failed", 0, "service_failed", False),
    ("inactive", "dead", 0, "service_inactive", False),
    ("activating", "auto-restart", 5, "crash_loop", True),
])
def test_service_states(active, sub, restarts, code, reset):
    result = run(down(healthy_facts(), active=active, sub=sub, restarts=restarts))
    assert codes(result) == [code]
    assert result["findings"][0]["remedy"] == {"action": "restart_service", "service": "beatsync.service", "reset_failed": reset}
    assert result["findings"][0]["explains"] == ["health_failed"]
    assert result["verdict"] == "down"


def test_start_limit_hit_asks_for_reset_failed():
    facts = down(healthy_facts())
    facts["journal"]["classifications"] = [{"kind": "start_limit_hit", "line": "Start request repeated too quickly."}]
    assert run(facts)["findings"][0]["remedy"] == {"action": "restart_service", "service": "beatsync.service",
                                                   "reset_failed": True}


def test_health_failing_with_service_active():
    facts = healthy_facts()
    facts["health"].update(status=500, healthy=False, error_class="http_error", json={"detail": "x"})
    result = run(facts)
    assert codes(result) == ["health_failed"] and result["verdict"] == "down"
    assert result["findings"][0]["remedy"]["action"] == "restart_service"


@pytest.mark.parametrize("active,default,allowed,found", [
    (True, "deny", False, True), (True, "reject", False, True), (True, "deny", True, False),
    (True, "allow", False, False), (False, "deny", False, False)])
def test_firewall(active, default, allowed, found):
    facts = healthy_facts()
    facts["firewall"].update(active=active, default_incoming=default, port_allowed_v4=allowed)
    result = run(facts)
    assert (codes(result) == ["firewall_blocks_port"]) is found
    if found:
        assert result["findings"][0]["remedy"] == {"action": "open_firewall", "port": 8000}


def test_external_unreachable_blames_cloud_firewall_when_ufw_is_open():
    facts = healthy_facts()
    facts["external"] = {"health": {"url": "http://203.0.113.9:8000/api/health", "healthy": False, "error_class": "timeout"},
                         "docs": {"docs_ok": False}}
    finding = run(facts)["findings"][0]
    assert finding["code"] == "external_unreachable" and finding["remedy"] == {"action": "report"}
    assert "security group" in finding["summary"]


def test_external_unreachable_with_ufw_blocking_is_said_once_per_cause():
    facts = healthy_facts()
    facts["firewall"].update(active=True)
    facts["external"] = {"health": {"url": "http://h:8000/api/health", "healthy": False}, "docs": {}}
    result = run(facts)
    assert codes(result) == ["firewall_blocks_port", "external_unreachable"]
    assert result["findings"][1]["remedy"]["action"] == "open_firewall"


@pytest.mark.parametrize("garbage", [None, [], "text", {"unit": "x", "health": 5, "port": {"listeners": [None, 3]}},
                                     {"journal": {"classifications": [None, "x", {"kind": "syntax_error"}]}}])
def test_garbage_facts_do_not_crash(garbage):
    result = engine.build_findings(garbage)
    assert result["verdict"] in ("healthy", "degraded", "down")


def test_every_code_has_a_rank_and_findings_are_sorted():
    facts = down(healthy_facts(), active="activating", sub="auto-restart", restarts=5)
    facts["unit"].update(drift=True, diff="-a\n+b\n")
    facts["firewall"].update(active=True)
    facts["deps"]["missing"] = ["fastapi"]
    result = run(facts)
    ranks = [engine.CODES.index(code) for code in codes(result)]
    assert ranks == sorted(ranks)
    assert codes(result) == ["unit_drift", "missing_dependency", "firewall_blocks_port"]
    for finding in result["findings"]:
        assert finding["severity"] in engine.SEVERITIES
        assert set(finding) == {"code", "severity", "summary", "evidence", "runbook_step", "remedy", "explains"}
        copy.deepcopy(finding)


def test_docs_failing_inside_and_outside_is_not_an_outside_problem():
    facts = healthy_facts()
    facts["docs"].update(docs_ok=False, problem="docs_unavailable")
    facts["external"] = {"health": {"url": "http://h:8000/api/health", "healthy": True}, "docs": {"docs_ok": False}}
    assert codes(run(facts)) == ["docs_unavailable"]


def test_docs_failing_only_outside_is_external():
    facts = healthy_facts()
    facts["external"] = {"health": {"url": "http://h:8000/api/health", "healthy": True}, "docs": {"docs_ok": False}}
    assert codes(run(facts)) == ["external_unreachable"]


def test_service_shorthand_matches_the_listeners_unit():
    """The edge normalises the unit name once (the engine trusts it): beatsync is beatsync.service."""
    facts = healthy_facts()
    assert engine.build_findings(facts, service=normalize_service("beatsync"), app_dir=APP_DIR)["findings"] == []
