# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outside check through a bastion (beatsync_external_probe_host), on real systemd hosts.

The host `bed` drops port 8000 from the controller's address, so only a check that really
leaves from the bastion (a second host of the test bed, itself a healthy BeatSync host) sees it
healthy. The bastion host, diagnosed in the same play with the default outside check from the
controller, runs the diagnose task alone: the role ends for it before the bastion's task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import REPO, ansible_env
from systemd_hosts import podman, podman_env, reset_host, beatsync_host, systemd_host_factory, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

BIN = Path(sys.executable).parent


def _hostvars(host, tmp_path, **extra):
    return dict({"ansible_connection": "containers.podman.podman", "ansible_host": host.name,
                 "ansible_python_interpreter": "/usr/bin/python3", "beatsync_become": False,
                 "beatsync_external_address": host.ip, "beatsync_timeout": 3, "beatsync_external_timeout": 3,
                 "beatsync_report_dir": str(tmp_path / "reports")}, **extra)


def _diagnose(tmp_path, inventory):
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory))
    env = ansible_env()
    env.update(podman_env())
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORCE_COLOR="0", ANSIBLE_PIPELINING="1")
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", str(path), str(REPO / "playbooks" / "diagnose.yml")],
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def _report(tmp_path, name):
    return json.loads((tmp_path / "reports" / ("%s.json" % name)).read_text())


@pytest.fixture
def controller_blocked(beatsync_host):  # noqa: F811
    """The shared bed host, healthy, with tcp/8000 dropped for the controller's address only."""
    reset_host(beatsync_host)
    gateway = podman("inspect", "--format", "{{.NetworkSettings.Gateway}}", beatsync_host.name).stdout.strip()
    rule = ["INPUT", "-p", "tcp", "--dport", "8000", "-s", gateway, "-j", "DROP"]
    beatsync_host.exec(["iptables", "-I"] + rule)
    try:
        yield beatsync_host
    finally:
        beatsync_host.exec(["iptables", "-D"] + rule, check=False)


def test_the_outside_check_leaves_from_the_bastion(controller_blocked, systemd_host_factory, tmp_path):  # noqa: F811
    bed = controller_blocked
    bastion = systemd_host_factory(deploy=True)
    assert bed.http_status("/api/health", timeout=2) is None          # the controller cannot reach it
    inventory = {"beatsync": {"hosts": {
        "bed": _hostvars(bed, tmp_path, beatsync_external_probe_host="bastion"),
        "bastion": _hostvars(bastion, tmp_path)}}}

    proc = _diagnose(tmp_path, inventory)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    # From the bastion bed is healthy outside too; the controller's own view would have said
    # external_unreachable.
    bed_report = _report(tmp_path, "bed")
    assert bed_report["verdict"] == "healthy", bed_report["findings"]
    assert bed_report["external"]["health"]["healthy"] is True
    assert bed_report["external"]["docs"]["docs_ok"] is True
    assert "ok: [bed -> bastion]" in out
    # The bastion host itself: diagnosed from the controller, one task, no bastion step for it.
    assert _report(tmp_path, "bastion")["verdict"] == "healthy"
    assert "[bastion -> " not in out
    assert "skipping: [bastion]" not in out


def test_without_a_bastion_the_same_block_is_seen_from_the_controller(controller_blocked, tmp_path):
    """The check that can fail: the same host diagnosed from the controller is not healthy."""
    proc = _diagnose(tmp_path, {"beatsync": {"hosts": {"bed": _hostvars(controller_blocked, tmp_path)}}})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    report = _report(tmp_path, "bed")
    assert report["verdict"] != "healthy"
    assert report["root_cause"] == "external_unreachable", report["findings"]
