# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.journal_probe for real: on this machine (no journald: available false) and,
when podman and the test-bed image exist, in a systemd container whose unit crash-loops on a
missing module or a syntax error (skips cleanly otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testlib import ansible_doc_json
from systemd_hosts import break_host, reset_host
from systemd_hosts import beatsync_host, systemd_image  # pylint: disable=unused-import  # noqa: F401 (pytest fixtures)
from test_unit_probe import run_in_host

from ansible_collections.beatsync.ops.plugins.module_utils._journal import probe_journal

NO_JOURNALD = not Path("/run/systemd/journal").is_dir()


@pytest.mark.skipif(not NO_JOURNALD, reason="this machine runs journald")
def test_no_journal_here_function():
    facts = probe_journal(service="beatsync.service", lines=20)
    assert facts["available"] is False and facts["lines"] == [] and facts["classifications"] == []
    assert facts["error"]


@pytest.mark.skipif(not NO_JOURNALD, reason="this machine runs journald")
@pytest.mark.parametrize("check", [False, True])
def test_no_journal_here_module(run_module, check):
    result = run_module("journal_probe", {"service": "beatsync", "lines": 20}, check=check)
    assert result["changed"] is False and not result.get("failed")
    assert result["available"] is False and result["service"] == "beatsync.service" and result["error"]


def test_module_bad_lines(run_module_through_ansible):
    # The real `ansible` CLI once: the failure comes back through the controller.
    result = run_module_through_ansible("journal_probe", {"lines": 5000})
    assert result["failed"] is True and "lines" in result["msg"]


def test_ansible_doc_renders():
    data = ansible_doc_json("journal_probe")
    assert data["doc"]["version_added"] == "0.1.0" and data["doc"]["options"]["lines"]["default"] == 50
    assert {"available", "lines", "classifications", "kinds", "error"} <= set(data["return"])


@pytest.mark.containers
def test_container_healthy_journal(beatsync_host):
    reset_host(beatsync_host)
    result = run_in_host(beatsync_host, "journal_probe", {"lines": 30}, check=True)
    assert result["available"] is True and result["error"] is None and result["lines"]
    assert not any(item["kind"] in ("missing_module", "syntax_error") for item in result["classifications"])


@pytest.mark.containers
def test_container_missing_module(beatsync_host):
    break_host(beatsync_host, "crash_loop_missing_dependency", missing="fastapi")
    try:
        result = run_in_host(beatsync_host, "journal_probe", {"lines": 100})
        modules = {item.get("module") for item in result["classifications"] if item["kind"] == "missing_module"}
        assert "fastapi" in modules, result["lines"][-20:]
    finally:
        reset_host(beatsync_host)


@pytest.mark.containers
def test_container_syntax_error(beatsync_host):
    break_host(beatsync_host, "syntax_error")
    try:
        result = run_in_host(beatsync_host, "journal_probe", {"lines": 200})
        errors = [item for item in result["classifications"] if item["kind"] == "syntax_error"]
        assert errors, result["lines"][-20:]
        assert errors[-1]["file"] == "/opt/beatsync/web_service/backend/main.py" and errors[-1]["lineno"] >= 1
    finally:
        reset_host(beatsync_host)
