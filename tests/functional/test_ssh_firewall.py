"""Proof from outside that beatsync.ops.firewall cannot lock out the operator's SSH.

Real hosts of the test bed reached as users reach theirs: ssh as `ops` to a non-default port,
`ansible_become: true` through sudo (Debian's env_reset drops SSH_CONNECTION). After the role
enables UFW, a NEW ssh connection from this machine to the port must work and run a task;
existing `limit` rules stay limits; a DENY that UFW would match before the SSH allow makes the
role refuse and leave UFW exactly as it was.
"""

from __future__ import annotations

import re

import pytest

from sshlane import UFW_RESET, UFW_STATE, adhoc, playbook, recap, tail, write_inventory
from systemd_hosts import SshHost, podman_env, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

ENABLE_PLAY = """
- name: Enable UFW through the role, as an operator would
  hosts: beatsync
  gather_facts: false
  tasks:
    - name: The firewall role with firewall_enable
      ansible.builtin.include_role:
        name: beatsync.ops.firewall
      vars:
        firewall_enable: true
    - name: Show the result
      ansible.builtin.debug:
        var: firewall_result
"""


@pytest.fixture(scope="module")
def fw_host(systemd_image, tmp_path_factory):  # noqa: F811
    """One host per module: sshd only on 2222 through ListenAddress, UFW inactive."""
    host = SshHost(key_dir=tmp_path_factory.mktemp("fwkey"), ssh_port=2222, listen="listenaddress",
                   image=systemd_image)
    try:
        yield host
    finally:
        host.remove()


@pytest.fixture
def host(fw_host):
    fw_host.exec(UFW_RESET)
    if fw_host.listen != "listenaddress" or fw_host.ssh_port != 2222:
        fw_host.configure_sshd(2222, "listenaddress")
    return fw_host


@pytest.fixture
def play(tmp_path):
    path = tmp_path / "enable.yml"
    path.write_text(ENABLE_PLAY)
    return path


def listening(host):
    return host.exec("ss -Htln", check=False).stdout


def ufw_state(host):
    return host.exec(UFW_STATE, check=False).stdout


def new_connection_works(host, inventory):
    """A new ssh connection from this machine to the SSH port, and a task over a new one."""
    direct = host.ssh("sudo", "-n", "true", connect_timeout=8, timeout=30)
    assert direct.returncode == 0, "new ssh connection to %s:%s failed: %s" % (host.ip, host.ssh_port, direct.stderr)
    task = adhoc(inventory, "ansible.builtin.command", "cat /etc/hostname", "-T", "8")
    assert task.returncode == 0 and host.name in task.stdout, tail(task)


def test_enabling_keeps_the_listenaddress_port_open(host, play, tmp_path):
    assert ":2222" in listening(host) and ":22 " not in listening(host)
    inventory = write_inventory(tmp_path / "inv", host)
    run = playbook(play, inventory)
    assert run.returncode == 0, tail(run)
    status = host.exec("LC_ALL=C ufw status verbose").stdout
    assert "Status: active" in status and "deny (incoming)" in status, status
    assert re.search(r"(?m)^2222/tcp\s+ALLOW IN\s+Anywhere", status), status
    new_connection_works(host, inventory)
    # The role saw the port of its own connection through sudo, from /proc.
    assert "'connection_port': 2222" in run.stdout or '"connection_port": 2222' in run.stdout, tail(run)
    again = playbook(play, inventory)
    assert again.returncode == 0 and recap(again)["changed"] == 0, tail(again)


def test_existing_limit_rule_stays_limit(host, play, tmp_path):
    host.configure_sshd(2222, "port")          # `Port 2222`: IPv4 and IPv6
    host.exec("ufw limit 22/tcp && ufw limit 2222/tcp")
    inventory = write_inventory(tmp_path / "inv", host)
    run = playbook(play, inventory)
    assert run.returncode == 0, tail(run)
    status = host.exec("LC_ALL=C ufw status verbose").stdout
    assert "Status: active" in status, status
    assert re.search(r"(?m)^22/tcp\s+LIMIT IN\s+Anywhere\s*$", status), status
    assert re.search(r"(?m)^2222/tcp\s+LIMIT IN\s+Anywhere\s*$", status), status
    assert not re.search(r"(?m)^22(22)?/tcp\s+ALLOW", status), status
    new_connection_works(host, inventory)


def test_deny_before_the_ssh_port_makes_the_role_refuse(host, play, tmp_path):
    host.exec("ufw deny 2222/tcp")
    before = ufw_state(host)
    inventory = write_inventory(tmp_path / "inv", host)
    run = playbook(play, inventory)
    assert run.returncode != 0, tail(run)
    assert recap(run)["failed"] == 1 and recap(run)["changed"] == 0, tail(run)
    assert "UFW was NOT enabled" in run.stdout and "ufw deny 2222/tcp" in run.stdout, tail(run)
    assert ufw_state(host) == before
    new_connection_works(host, inventory)


def test_check_mode_changes_nothing(host, play, tmp_path):
    before = ufw_state(host)
    inventory = write_inventory(tmp_path / "inv", host)
    run = playbook(play, inventory, "--check", "--diff")
    assert run.returncode == 0, tail(run)
    assert ufw_state(host) == before
    assert "SSH port(s) 2222 stay open" in run.stdout, tail(run)


def test_without_ptrace_the_session_port_is_still_found(systemd_image, tmp_path, play):  # noqa: F811
    """Root without CAP_SYS_PTRACE cannot read sshd sessions' descriptors (some containers)."""
    with SshHost(key_dir=tmp_path / "key", ssh_port=2200, listen="listenaddress", ptrace=False,
                 image=systemd_image) as host:
        inventory = write_inventory(tmp_path / "inv", host)
        run = playbook(play, inventory)
        assert run.returncode == 0, tail(run)
        status = host.exec("LC_ALL=C ufw status verbose").stdout
        assert "Status: active" in status and re.search(r"(?m)^2200/tcp\s+ALLOW IN", status), status
        new_connection_works(host, inventory)
