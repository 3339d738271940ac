# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.unit_probe for real: on this machine (PID 1 is not systemd: the "no systemd"
path) and, when podman and the test-bed image exist, in a systemd container with the
runbook's unit deployed, drifted, crash-looping and missing (skips cleanly otherwise)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import ansible_env, ansible_doc_json
from systemd_hosts import CANONICAL_UNIT, break_host, podman_env, reset_host
from systemd_hosts import beatsync_host, systemd_image  # pylint: disable=unused-import  # noqa: F401 (pytest fixtures)

from ansible_collections.beatsync.ops.plugins.module_utils._probe_systemd import probe_unit


def host_has_systemd():
    return Path("/run/systemd/system").is_dir()


def run_in_host(host, module, args, check=False, timeout=180):
    """Run beatsync.ops.<module> in a systemd container through Ansible's podman connection."""
    env = ansible_env()
    env.update(podman_env())
    argv = [str(Path(sys.executable).parent / "ansible"), "all", "-i", host.name + ",",
            "-c", "containers.podman.podman", "-e", "ansible_python_interpreter=/usr/bin/python3",
            "-m", "beatsync.ops." + module, "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][host.name]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible did not return JSON (rc=%s)\n%s\n%s" % (proc.returncode, proc.stdout[-3000:],
                                                                              proc.stderr[-3000:]))


# ------------------------------------------------------------------ this machine: no systemd
@pytest.mark.skipif(host_has_systemd(), reason="this machine runs systemd as PID 1")
def test_no_systemd_here_function():
    facts = probe_unit(service="beatsync.service", canonical_unit=CANONICAL_UNIT.read_text())
    assert facts["systemd"] is False
    assert facts["present"] is None and facts["drift"] is None
    assert "systemd" in facts["error"]


@pytest.mark.skipif(host_has_systemd(), reason="this machine runs systemd as PID 1")
@pytest.mark.parametrize("check", [False, True])
def test_no_systemd_here_module(run_module, check):
    result = run_module("unit_probe", {"service": "beatsync"}, check=check)
    assert result["changed"] is False and not result.get("failed")
    assert result["systemd"] is False and result["service"] == "beatsync.service"
    assert "PID 1 is not systemd" in result["error"] or "not installed" in result["error"]
    assert "unit_diff" in result and "diff" not in result


def test_module_bad_service(run_module_through_ansible):
    # The real `ansible` CLI once: the failure comes back through the controller.
    result = run_module_through_ansible("unit_probe", {"service": "--help"})
    assert result["failed"] is True and "service" in result["msg"]


def test_ansible_doc_renders():
    data = ansible_doc_json("unit_probe")
    assert data["doc"]["version_added"] == "0.1.0"
    assert data["doc"]["options"]["service"]["default"] == "beatsync.service"
    assert {"systemd", "present", "drift", "unit_diff", "interpreter", "n_restarts"} <= set(data["return"])


# ------------------------------------------------------------------ a real systemd host
@pytest.mark.containers
def test_container_healthy_canonical_unit(beatsync_host):
    reset_host(beatsync_host)
    result = run_in_host(beatsync_host, "unit_probe", {"canonical_unit": CANONICAL_UNIT.read_text()}, check=True)
    assert result["changed"] is False
    assert result["systemd"] is True and result["present"] is True
    assert result["active_state"] == "active" and result["sub_state"] == "running"
    assert result["main_pid"] > 0 and result["unit_file_state"] == "enabled"
    assert result["fragment_path"] == "/etc/systemd/system/beatsync.service"
    assert result["interpreter"] == "/usr/bin/python3"
    assert result["working_directory"] == "/opt/beatsync/web_service/backend"
    assert result["drift"] is False and result["unit_diff"] == ""


@pytest.mark.containers
def test_container_drifted_unit(beatsync_host):
    break_host(beatsync_host, "unit_drifted", drift="workdir")
    try:
        result = run_in_host(beatsync_host, "unit_probe", {"canonical_unit": CANONICAL_UNIT.read_text()})
        assert result["drift"] is True
        assert "-WorkingDirectory=/opt/beatsync/web_service/backend" in result["unit_diff"]
    finally:
        reset_host(beatsync_host)


@pytest.mark.containers
def test_container_missing_unit(beatsync_host):
    break_host(beatsync_host, "unit_missing")
    try:
        result = run_in_host(beatsync_host, "unit_probe", {"canonical_unit": CANONICAL_UNIT.read_text()})
        assert result["systemd"] is True and result["present"] is False and result["load_state"] == "not-found"
        assert result["drift"] is None
    finally:
        reset_host(beatsync_host)


@pytest.mark.containers
def test_container_crash_loop(beatsync_host):
    break_host(beatsync_host, "crash_loop_missing_dependency", missing="uvicorn")
    try:
        result = run_in_host(beatsync_host, "unit_probe", {"service": "beatsync.service"})
        assert result["active_state"] in ("activating", "failed")
        assert result["result"] == "exit-code" or result["n_restarts"] >= 1
    finally:
        reset_host(beatsync_host)
