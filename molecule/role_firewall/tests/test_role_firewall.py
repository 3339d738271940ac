"""beatsync.ops.firewall inside a real systemd container (NET_ADMIN): UFW inactive, enabling
with the SSH port kept open, already active with default deny, and UFW missing."""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "role_service" / "tests"))
from rolerun import role, run_play  # noqa: E402

SHOW_RESULT = """
- name: Show the role's result
  ansible.builtin.debug:
    var: firewall_result
"""


def firewall_result(result):
    values = [r["firewall_result"] for name, r in result.tasks() if name == "Show the role's result"]
    assert values, result
    return values[0]


def allowed(status, port):
    """Ports with an ALLOW line in `ufw status`, v4 and v6."""
    v4 = re.search(r"(?m)^%s/tcp\s+ALLOW(?: IN)?\s+Anywhere\s*($|#)" % port, status) is not None
    v6 = re.search(r"(?m)^%s/tcp \(v6\)\s+ALLOW(?: IN)?\s+Anywhere \(v6\)" % port, status) is not None
    return v4, v6


def test_inactive_ufw_gets_the_rule_and_stays_inactive(host):
    assert "Status: inactive" in host.check_output("ufw status")
    assert "ufw allow 8000/tcp comment 'beatsync.ops: BeatSync API'" in host.check_output("ufw show added")
    assert re.search(r"(?m)^### tuple ### allow tcp 8000 0\.0\.0\.0/0 any 0\.0\.0\.0/0 in",
                     host.file("/etc/ufw/user.rules").content.decode())
    assert re.search(r"(?m)^### tuple ### allow tcp 8000 ::/0 any ::/0 in",
                     host.file("/etc/ufw/user6.rules").content.decode())


def test_enabling_allows_the_ssh_port_of_the_connection_first(host):
    # What an SSH connection would show: the server port is the 4th field.
    env = {"ansible_env": {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.20 2200"}}
    result = run_play(role("firewall", firewall_enable=True) + SHOW_RESULT, extra_vars=env)
    assert not result.failed, result
    facts = firewall_result(result)
    assert facts["ssh_ports"] == [2200] and facts["enabled_now"] and facts["active"], facts
    status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "Default: deny (incoming)" in status
    assert allowed(status, 2200) == (True, True)
    assert allowed(status, 8000) == (True, True)
    assert allowed(status, 22) == (False, False)   # detected, not assumed 22


def test_enabling_without_ssh_connection_allows_the_configured_port(host):
    host.check_output("ufw --force reset >/dev/null && rm -f /etc/ufw/*.rules.20*")
    assert "Status: inactive" in host.check_output("ufw status")
    result = run_play(role("firewall", firewall_enable=True) + SHOW_RESULT)
    assert not result.failed, result
    assert firewall_result(result)["ssh_ports"] == [22]
    status = host.check_output("ufw status verbose")
    assert "Status: active" in status and "Default: deny (incoming)" in status
    assert allowed(status, 22) == (True, True)
    assert allowed(status, 8000) == (True, True)
    again = run_play(role("firewall", firewall_enable=True))
    assert not again.failed and again.changed == 0, again


def test_active_default_deny_gets_source_rules_and_keeps_ssh(host):
    host.check_output("ufw --force reset >/dev/null && rm -f /etc/ufw/*.rules.20* && ufw default deny incoming"
                      " && ufw allow 22/tcp && ufw --force enable")
    result = run_play(role("firewall", firewall_sources=["10.0.0.0/8", "fd00::/8"]))
    assert not result.failed, result
    assert result.changed > 0
    status = host.check_output("ufw status")
    assert "Status: active" in status
    assert re.search(r"(?m)^8000/tcp\s+ALLOW\s+10\.0\.0\.0/8", status), status
    assert re.search(r"(?m)^8000/tcp\s+ALLOW\s+fd00::/8", status), status
    assert allowed(status, 22) == (True, True)
    dry = run_play(role("firewall", firewall_sources=["10.0.0.0/8", "fd00::/8"]), check=True)
    assert not dry.failed and dry.changed == 0, dry


def test_missing_ufw_is_reported_and_skipped(host):
    host.check_output("mv /usr/sbin/ufw /usr/sbin/ufw.hidden")
    try:
        result = run_play(role("firewall") + SHOW_RESULT)
    finally:
        host.check_output("mv /usr/sbin/ufw.hidden /usr/sbin/ufw")
    assert not result.failed, result
    assert result.changed == 0, result
    facts = firewall_result(result)
    assert facts["installed"] is False and "firewall_install" in facts["skipped"], facts
    assert "UFW is not installed" in json.dumps(result.data)
