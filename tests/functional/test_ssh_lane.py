"""The real-SSH lane: the playbooks and the firewall role reach a systemd test host the way
operators reach theirs - ansible_connection ssh as the unprivileged user `ops` with a key
generated for the test, on port 2222 (sshd listens only there, through ListenAddress), and
`ansible_become: true` through sudo with Debian's env_reset.

One host per module (booted, BeatSync deployed); each test resets it first.
"""

from __future__ import annotations

import json
import re

import pytest

from sshlane import PLAYBOOKS, UFW_RESET, adhoc, playbook, recap, tail, write_inventory
from systemd_hosts import SshHost, break_host, deploy_fixture, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers


@pytest.fixture(scope="module")
def lane_host(systemd_image, tmp_path_factory):  # noqa: F811
    host = SshHost(key_dir=tmp_path_factory.mktemp("lanekey"), ssh_port=2222, listen="listenaddress",
                   image=systemd_image)
    try:
        deploy_fixture(host)
        yield host
    finally:
        host.remove()


@pytest.fixture
def host(lane_host):
    reset_host(lane_host)
    return lane_host


def inventory_for(tmp_path, host, **extra):
    return write_inventory(tmp_path / "inv", host, beatsync_external_address=host.ip,
                           beatsync_break_system_packages=True, beatsync_timeout=3,
                           beatsync_report_dir=str(tmp_path / "reports"), **extra)


def report(tmp_path):
    return json.loads((tmp_path / "reports" / "bed.json").read_text())


def test_become_goes_through_sudo_as_ops(host, tmp_path):
    inventory = inventory_for(tmp_path, host)
    who = adhoc(inventory, "ansible.builtin.command", "id -un")
    assert who.returncode == 0 and '"stdout": "root"' in who.stdout, tail(who)
    env = adhoc(inventory, "ansible.builtin.command", "printenv SSH_CONNECTION")
    # Debian's sudo env_reset: the session's SSH_CONNECTION does not survive become.
    assert '"rc": 1' in env.stdout, tail(env)
    plain = adhoc(inventory, "ansible.builtin.command", "id -un", "-e", "ansible_become=false")
    assert '"stdout": "ops"' in plain.stdout, tail(plain)


def test_diagnose_then_repair_the_incident_over_ssh(host, tmp_path):
    break_host(host, "docs_503")
    inventory = inventory_for(tmp_path, host)
    diag = playbook(PLAYBOOKS / "diagnose.yml", inventory)
    assert diag.returncode == 0, tail(diag)
    assert recap(diag)["changed"] == 0
    assert report(tmp_path)["root_cause"] == "docs_unavailable", json.dumps(report(tmp_path)["findings"])[:3000]
    assert host.http_status("/docs") == 503

    repair = playbook(PLAYBOOKS / "repair.yml", inventory)
    assert repair.returncode == 0, tail(repair)
    assert report(tmp_path)["verdict"] == "healthy"
    assert host.http_status("/api/health") == 200 and host.http_status("/docs") == 200
    again = playbook(PLAYBOOKS / "repair.yml", inventory)
    assert again.returncode == 0 and recap(again)["changed"] == 0, tail(again)


def test_smoke_over_ssh(host, tmp_path):
    inventory = inventory_for(tmp_path, host, beatsync_smoke_wait=4, beatsync_smoke_delay=1)
    ok = playbook(PLAYBOOKS / "smoke.yml", inventory)
    assert ok.returncode == 0, tail(ok)
    junit = (tmp_path / "reports" / "smoke-junit.xml").read_text()
    assert 'failures="0"' in junit


def test_firewall_role_over_ssh_opens_the_app_and_keeps_ssh(host, tmp_path):
    play = tmp_path / "firewall.yml"
    play.write_text("""
- name: Firewall over SSH
  hosts: beatsync
  gather_facts: false
  roles:
    - role: beatsync.ops.firewall
      vars:
        firewall_enable: true
""")
    inventory = inventory_for(tmp_path, host)
    try:
        run = playbook(play, inventory)
        assert run.returncode == 0, tail(run)
        status = host.exec("LC_ALL=C ufw status").stdout
        assert "Status: active" in status and re.search(r"(?m)^2222/tcp\s+ALLOW", status), status
        assert host.http_status("/docs") == 200            # 8000 open from outside
        assert host.ssh("true", connect_timeout=8).returncode == 0
        again = playbook(play, inventory)
        assert again.returncode == 0 and recap(again)["changed"] == 0, tail(again)
    finally:
        host.exec(UFW_RESET)
