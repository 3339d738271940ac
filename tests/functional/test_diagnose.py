"""beatsync.ops.diagnose (in-process, and once through `ansible`) against real uvicorn servers on loopback.

This host has no systemd, so these tests select the probes that run here for real (HTTP,
/proc, the interpreter); unit, journal and firewall findings are covered on systemd
containers (tests/functional/test_playbooks_e2e.py) and on recorded facts
(tests/unit/plugins/module_utils/test_findings.py).
"""

from __future__ import annotations

import sys

import pytest

from testlib import FIXTURE_APP, free_port

HTTP = ["health", "docs"]


def diagnose(run_module, server_port, probes, **extra):
    args = {"port": server_port, "app_dir": str(FIXTURE_APP), "python": sys.executable, "timeout": 2, "probes": probes}
    args.update(extra)
    return run_module("diagnose", args)


def codes(result):
    return [finding["code"] for finding in result["findings"]]


def test_healthy_server(run_module_through_ansible, start_server):
    server = start_server()
    # The real `ansible` CLI once; the other cases call the module in-process.
    result = diagnose(run_module_through_ansible, server.port, HTTP + ["deps"])
    assert result["changed"] is False
    assert result["verdict"] == "healthy" and result["root_cause"] is None and result["findings"] == []
    assert result["probes"]["health"]["healthy"] is True
    assert result["probes"]["docs"]["docs_ok"] is True
    assert result["probes"]["deps"]["missing"] == []
    assert set(result["elapsed_by_probe"]) == {"health", "docs", "deps"}


def test_the_incident_docs_503(run_module, start_server):
    server = start_server(faults="docs_503")
    result = diagnose(run_module, server.port, HTTP)
    assert result["verdict"] == "degraded" and codes(result) == ["docs_unavailable"]
    finding = result["findings"][0]
    assert finding["remedy"] == {"action": "restart_for_docs", "service": "beatsync.service"}
    assert [step["action"] for step in result["plan"]] == ["restart_for_docs"]
    assert "503" in finding["summary"]


@pytest.mark.parametrize("fault,code,action", [
    ("docs_hang", "docs_timeout", "restart_for_docs"),
    ("openapi_500", "openapi_broken", "restart_for_docs"),
    ("docs_disabled", "docs_unavailable", "report"),
])
def test_docs_faults_are_told_apart(run_module, start_server, fault, code, action):
    server = start_server(faults=fault)
    result = diagnose(run_module, server.port, HTTP, timeout=1)
    assert codes(result) == [code]
    assert result["findings"][0]["remedy"]["action"] == action


def test_health_failing_is_down(run_module, start_server):
    server = start_server(faults="health_500")
    result = diagnose(run_module, server.port, HTTP)
    assert result["verdict"] == "down" and result["root_cause"] == "health_failed"


def test_nothing_listening_is_down(run_module):
    result = diagnose(run_module, free_port(), HTTP + ["port"])
    assert result["verdict"] == "down" and codes(result) == ["health_failed"]
    assert result["probes"]["port"]["listening"] is False
    assert result["probes"]["health"]["error_class"] == "refused"


def test_stale_copy_outside_the_unit(run_module, start_server):
    server = start_server()
    result = diagnose(run_module, server.port, HTTP + ["port", "process"])
    assert codes(result) == ["port_conflict_stale"]
    remedy = result["findings"][0]["remedy"]
    assert remedy["action"] == "stop_stale_copy" and remedy["pids"] == [server.pid] and remedy["port"] == server.port
    assert result["verdict"] == "degraded"


def test_foreign_program_on_the_port(run_module, start_server):
    server = start_server(kind="http.server")
    result = diagnose(run_module, server.port, HTTP + ["port", "process"])
    assert result["root_cause"] == "port_conflict_foreign"
    remedy = result["findings"][0]["remedy"]
    assert remedy["action"] == "refuse_foreign_listener" and remedy["pids"] == [server.pid]
    assert "http.server" in " ".join(remedy["cmdlines"][0])


def test_missing_dependency_with_an_interpreter_that_lacks_them(run_module, start_server, tmp_path):
    bare = tmp_path / "bare"
    import venv
    venv.EnvBuilder(with_pip=False).create(bare)
    server = start_server()
    result = diagnose(run_module, server.port, ["deps"], python=str(bare / "bin" / "python"))
    assert codes(result) == ["missing_dependency"]
    assert set(result["findings"][0]["remedy"]["missing"]) == {"fastapi", "uvicorn"}


def test_syntax_error_in_the_app(run_module, start_server, tmp_path):
    (tmp_path / "main.py").write_text("import os\n\ndef broken(:\n    pass\n")
    (tmp_path / "requirements.txt").write_text("fastapi\n")
    server = start_server()
    result = diagnose(run_module, server.port, ["deps"], app_dir=str(tmp_path))
    assert result["root_cause"] == "syntax_error"
    remedy = result["findings"][0]["remedy"]
    assert remedy["action"] == "fix_code" and remedy["line"] == 3 and remedy["file"].endswith("main.py")


def test_check_mode_runs_the_same(run_module, start_server):
    server = start_server(faults="docs_503")
    result = run_module("diagnose", {"port": server.port, "probes": HTTP}, check=True)
    assert result["changed"] is False and codes(result) == ["docs_unavailable"]


def test_all_probes_on_a_host_without_systemd(run_module, start_server):
    server = start_server()
    result = diagnose(run_module, server.port, ["unit", "journal", "port", "process", "health", "docs", "deps", "firewall"])
    assert result["probes"]["unit"]["systemd"] is False
    assert result["probes"]["unit"]["error"]
    assert "traceback" not in str(result).lower()


@pytest.mark.parametrize("args,message", [
    ({"port": 0}, "port"),
    ({"port": 70000}, "port"),
    ({"port": "abc"}, "port"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": -1}, "timeout"),
    ({"journal_lines": 5000}, "journal_lines"),
    ({"app_dir": "relative/dir"}, "app_dir"),
    ({"health_path": "api/health"}, "health_path"),
    ({"probes": ["nope"]}, "probes"),
    ({"release_lock": True}, "release_lock must be a dict (path, owner), got bool"),
    ({"lock": [1]}, "lock must be a dict"),
])
def test_bad_input_fails_clearly(run_module, args, message):
    result = run_module("diagnose", args)
    assert result.get("failed") is True
    assert message in result["msg"]
