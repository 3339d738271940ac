# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.firewall_probe for real: on this machine (UFW is not installed: installed
false; this test never installs or enables UFW here) and, when podman and the test-bed image
exist, in a systemd container with its own network namespace where UFW is enabled and blocks
or allows 8000 (skips cleanly otherwise)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from testlib import ansible_doc_json
from systemd_hosts import break_host, reset_host
from systemd_hosts import beatsync_host, systemd_image  # pylint: disable=unused-import  # noqa: F401 (pytest fixtures)
from test_unit_probe import run_in_host

from ansible_collections.beatsync.ops.plugins.module_utils._probe_firewall import probe_firewall

UFW_HERE = any(shutil.which("ufw", path=path) for path in ("/usr/sbin:/sbin:/usr/local/sbin", None))


@pytest.mark.skipif(UFW_HERE, reason="ufw is installed on this machine")
def test_not_installed_here_function():
    facts = probe_firewall(port=8000, environ={"SSH_CONNECTION": "192.0.2.1 5000 192.0.2.2 2200"})
    assert facts["installed"] is False and facts["active"] is None and facts["port_allowed_v4"] is None
    assert facts["ssh_port"] == 2200 and "not installed" in facts["error"]


@pytest.mark.skipif(UFW_HERE, reason="ufw is installed on this machine")
@pytest.mark.parametrize("check", [False, True])
def test_not_installed_here_module(run_module, check):
    result = run_module("firewall_probe", {"port": 8000, "ssh_port": 2222}, check=check)
    assert result["changed"] is False and not result.get("failed")
    assert result["installed"] is False and result["ssh_port"] == 2222 and result["ssh_port_source"] == "given"


def test_module_bad_port(run_module_through_ansible):
    # The real `ansible` CLI once: the failure comes back through the controller.
    result = run_module_through_ansible("firewall_probe", {"port": 70000})
    assert result["failed"] is True and "port" in result["msg"]


def test_ansible_doc_renders():
    data = ansible_doc_json("firewall_probe")
    assert data["doc"]["version_added"] == "0.1.0" and data["doc"]["options"]["port"]["default"] == 8000
    assert {"installed", "active", "port_allowed_v4", "port_allowed_v6", "ssh_allowed", "rules"} <= set(data["return"])


@pytest.mark.containers
def test_container_ufw_inactive_then_blocking(beatsync_host):
    reset_host(beatsync_host)
    result = run_in_host(beatsync_host, "firewall_probe", {"port": 8000, "ssh_port": 22}, check=True)
    assert result["installed"] is True and result["active"] is False and result["port_allowed_v4"] is None
    break_host(beatsync_host, "ufw_blocking")
    try:
        result = run_in_host(beatsync_host, "firewall_probe", {"port": 8000, "ssh_port": 22})
        assert result["active"] is True and result["default_incoming"] in ("deny", "reject")
        assert result["port_allowed_v4"] is False
        beatsync_host.exec("ufw allow 8000/tcp >/dev/null")
        result = run_in_host(beatsync_host, "firewall_probe", {"port": 8000, "ssh_port": 22})
        assert result["port_allowed_v4"] is True and result["port_allowed_v6"] is True
    finally:
        reset_host(beatsync_host)


# ------------------------------------------------------------------ no ufw process when ufw is inactive
LIB = "/usr/local/lib/beatsync-test-fw"
_DRIVER = r"""
import json, sys
sys.path.insert(0, %r)
from ansible_collections.beatsync.ops.plugins.module_utils import _probe_firewall as fw
seen = []
real = fw.run_cmd
def spy(argv, **kwargs):
    seen.append(argv[0])
    return real(argv, **kwargs)
fw.run_cmd = spy
env = {"SSH_CONNECTION": "192.0.2.9 5000 192.0.2.2 22"}
fast = fw.probe_firewall(port=8000, environ=env)
fast_cmds = list(seen)
del seen[:]
fw._inactive_without_ufw = lambda ufw, seconds: False   # as before: always `ufw status verbose`
slow = fw.probe_firewall(port=8000, environ=env)
print(json.dumps({"fast": fast, "fast_cmds": fast_cmds, "slow": slow, "slow_cmds": seen,
                  "enabled": fw.ufw_enabled_setting()}))
""" % LIB


def _both_ways(host):
    """probe_firewall in the host, then again forced through `ufw status verbose`."""
    proc = host.exec(["python3", "-I", "-c", _DRIVER])
    return json.loads(proc.stdout)


@pytest.mark.containers
def test_container_inactive_ufw_answered_without_running_ufw(beatsync_host):
    """ufw 0.36's `status` says inactive when `iptables -L ufw-user-input -n` exits 1
    (backend_iptables.get_status); the probe asks that itself (one C process) instead of
    running ufw (~50 ms of Python) and reports the same facts as parsing ufw's answer. When
    ufw is enabled, or ENABLED=no but its chains are still loaded, ufw runs as before."""
    reset_host(beatsync_host)
    module_utils = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
    beatsync_host.exec(["rm", "-rf", LIB])
    beatsync_host.copy_in(module_utils, LIB + "/ansible_collections/beatsync/ops/plugins/module_utils")
    try:
        answer = _both_ways(beatsync_host)
        assert answer["enabled"] == "no"
        assert answer["fast"] == answer["slow"] and answer["fast"]["active"] is False
        assert answer["fast_cmds"] == ["/usr/sbin/iptables"] and answer["slow_cmds"] == ["/usr/sbin/ufw"]

        break_host(beatsync_host, "ufw_blocking")
        answer = _both_ways(beatsync_host)
        assert answer["enabled"] == "yes" and answer["fast_cmds"] == ["/usr/sbin/ufw"]
        assert answer["fast"] == answer["slow"] and answer["fast"]["active"] is True
        assert answer["fast"]["port_allowed_v4"] is False and answer["fast"]["rules"]

        # ENABLED=no written by hand while the chains are loaded: ufw still says active.
        beatsync_host.exec("sed -i 's/^ENABLED=yes/ENABLED=no/' /etc/ufw/ufw.conf")
        answer = _both_ways(beatsync_host)
        assert answer["enabled"] == "no" and answer["fast_cmds"] == ["/usr/sbin/iptables", "/usr/sbin/ufw"]
        assert answer["fast"] == answer["slow"] and answer["fast"]["active"] is True
    finally:
        beatsync_host.exec(["rm", "-rf", LIB])
        # Undo the hand edit first: the host is shared with the next tests of this worker.
        beatsync_host.exec("sed -i 's/^ENABLED=no/ENABLED=yes/' /etc/ufw/ufw.conf", check=False)
        reset_host(beatsync_host)
