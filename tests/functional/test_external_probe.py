"""beatsync.ops.external_probe (action plugin: the outside check in the controller's process)
through Ansible against real uvicorn servers on loopback."""

from __future__ import annotations

import pytest

from testlib import free_port


def test_healthy_server_facts_only(run_module, start_server):
    server = start_server()
    result = run_module("external_probe", {"host": "127.0.0.1", "port": server.port, "timeout": 2})
    assert result["changed"] is False and "failed" not in result
    assert "findings" not in result and "verdict" not in result  # diagnose names the root cause, once
    assert set(result["probes"]) == {"health", "docs"}
    assert result["probes"]["health"]["healthy"] is True
    assert result["probes"]["docs"]["docs_ok"] is True
    assert result["elapsed"] < 4


def test_the_incident_seen_from_outside(run_module, start_server):
    server = start_server(faults="docs_503")
    result = run_module("external_probe", {"host": "127.0.0.1", "port": server.port, "timeout": 2})
    assert result["probes"]["docs"]["problem"] == "docs_unavailable"
    assert result["probes"]["docs"]["docs"]["status"] == 503


def test_nothing_listening_is_unreachable_not_an_error(run_module):
    result = run_module("external_probe", {"host": "127.0.0.1", "port": free_port(), "timeout": 1})
    assert "failed" not in result
    assert result["probes"]["health"]["reachable"] is False


def test_a_hanging_server_is_bounded_by_the_timeout(run_module, start_server):
    server = start_server(faults="docs_hang")
    result = run_module("external_probe", {"host": "127.0.0.1", "port": server.port, "timeout": 1})
    assert result["probes"]["docs"]["problem"] == "docs_timeout"
    assert result["elapsed"] < 5


def test_check_mode_runs_the_same(run_module, start_server):
    server = start_server()
    result = run_module("external_probe", {"host": "127.0.0.1", "port": server.port, "timeout": 2}, check=True)
    assert result["probes"]["health"]["healthy"] is True


@pytest.mark.parametrize("args,message", [
    ({"host": "127.0.0.1", "port": 0}, "port"),
    ({"host": "127.0.0.1", "port": 70000}, "port"),
    ({"host": "127.0.0.1", "port": "http"}, "port"),
    ({"host": "127.0.0.1", "timeout": -1}, "timeout"),
    ({"host": ""}, "host"),
    ({"port": 8000}, "host"),
    ({"host": "127.0.0.1", "docs_path": "docs"}, "docs_path"),
])
def test_bad_input_is_named(run_module, args, message):
    result = run_module("external_probe", args)
    assert result.get("failed") is True
    assert message in result["msg"]
