# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_ufw parsing and probe_firewall on real `LC_ALL=C ufw status verbose` captures from a
Debian 12 container (tests/unit/fixtures/ufw, see ../systemd/README.md), garbage and
truncated input, replayed through a stand-in ufw script (never the host's firewall)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _ufw
from ansible_collections.beatsync.ops.plugins.module_utils import _probe_firewall as probe_firewall

UFW = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "ufw"


def parsed(name):
    return _ufw.parse_status((UFW / ("%s.txt" % name)).read_text())


def test_inactive():
    status = parsed("inactive")
    assert status["active"] is False and status["status_seen"] and status["rules"] == []
    assert _ufw.evaluate_port(status, 8000) == (None, [])


def test_active_allowed():
    status = parsed("active-allowed")
    assert status["active"] is True
    assert status["default_incoming"] == "deny" and status["default_outgoing"] == "allow"
    assert status["default_routed"] == "disabled" and status["logging"] == "on (low)"
    assert [(rule["to"], rule["v6"]) for rule in status["rules"]] == [
        ("22/tcp", False), ("8000/tcp", False), ("22/tcp (v6)", True), ("8000/tcp (v6)", True)]
    assert _ufw.evaluate_port(status, 8000) == (True, ["Anywhere"])
    assert _ufw.evaluate_port(status, 8000, v6=True) == (True, ["Anywhere"])
    assert _ufw.evaluate_port(status, 8001) == (False, [])


def test_active_blocked_with_limited_openssh_profile():
    status = parsed("active-blocked")
    first = status["rules"][0]
    assert first["app"] == "OpenSSH" and first["action"] == "limit" and first["ports"] == [[22, 22, "tcp"]]
    assert status["rules"][2]["app"] == "OpenSSH" and status["rules"][2]["v6"] is True
    assert status["rules"][1]["ports"] == [[80, 80, "tcp"], [443, 443, "tcp"]]
    assert _ufw.evaluate_port(status, 8000) == (False, [])
    assert _ufw.evaluate_port(status, 22)[0] is True
    assert _ufw.evaluate_port(status, 443, v6=True)[0] is True


def test_active_mixed_rules():
    status = parsed("active-mixed")
    rules = {rule["to"]: rule for rule in status["rules"] if not rule["v6"]}
    assert rules["8000"]["action"] == "deny" and rules["8000"]["from_address"] == "1.2.3.4"
    assert rules["8000"]["ports"] == [[8000, 8000, "any"]]
    assert rules["8000:8010/tcp"]["ports"] == [[8000, 8010, "tcp"]]
    assert rules["9000 on eth0"]["interface"] == "eth0"
    assert rules["8001"]["comment"] == "beatsync-extra"
    assert rules["10.88.0.5 8000/tcp"]["to_address"] == "10.88.0.5"
    assert rules["25"]["direction"] == "out"
    v6_cidr = [rule for rule in status["rules"] if rule["from"] == "2001:db8::/32"]
    assert v6_cidr and v6_cidr[0]["v6"] is True
    # deny from 1.2.3.4 does not block Anywhere; the range rule allows it
    allowed, sources = _ufw.evaluate_port(status, 8000)
    assert allowed is True and "10.0.0.0/8" in sources and "Anywhere" in sources
    assert _ufw.evaluate_port(status, 8000, client_ip="1.2.3.4")[0] is False
    allowed, sources = _ufw.evaluate_port(status, 8000, v6=True)
    assert allowed is True and "2001:db8::/32" in sources
    assert _ufw.evaluate_port(status, 9000)[0] is False  # only on eth0
    assert _ufw.evaluate_port(status, 8001, proto="tcp")[0] is True


def test_restricted_sources_and_reject_default():
    status = parsed("active-restricted")
    assert status["default_incoming"] == "reject"
    assert _ufw.evaluate_port(status, 8000) == (False, ["10.0.0.0/8"])
    assert _ufw.evaluate_port(status, 22)[0] is False
    assert _ufw.evaluate_port(status, 22, client_ip="192.168.1.20")[0] is True
    assert _ufw.evaluate_port(status, 22, client_ip="203.0.113.9")[0] is False


def test_default_allow_without_rules():
    status = parsed("default-allow")
    assert status["rules"] == [] and status["default_incoming"] == "allow"
    assert _ufw.evaluate_port(status, 8000) == (True, [])


def test_deny_before_allow_wins():
    status = parsed("deny-before-allow")
    allowed, sources = _ufw.evaluate_port(status, 8000)
    assert allowed is False and sources == ["Anywhere"]
    assert _ufw.evaluate_port(status, 8000, proto="udp")[0] is True
    assert _ufw.evaluate_port(status, 2222)[0] is True


def test_v4_only():
    status = parsed("v4only")
    assert all(not rule["v6"] for rule in status["rules"])
    assert _ufw.evaluate_port(status, 8000) == (True, ["Anywhere"])
    assert _ufw.evaluate_port(status, 8000, v6=True) == (False, [])


def test_plain_status_app_name_form():
    status = _ufw.parse_status("Status: active\n\nTo                         Action      From\n"
                               "--                         ------      ----\n"
                               "OpenSSH                    ALLOW       Anywhere\n"
                               "Apache Full                ALLOW       Anywhere\n"
                               "OpenSSH (v6)               ALLOW       Anywhere (v6)\n")
    assert [rule["app"] for rule in status["rules"]] == ["OpenSSH", "Apache Full", "OpenSSH"]
    assert status["rules"][0]["ports"] == [[22, 22, "tcp"]] and status["rules"][1]["ports"] is None
    assert status["rules"][2]["v6"] is True
    assert _ufw.evaluate_port(status, 22)[0] is True
    assert _ufw.evaluate_port(status, 80)[0] is False  # unknown profile ports: not assumed


@pytest.mark.parametrize("text", [
    None, "", "garbage", os.urandom(3000).decode("latin-1"), "Status: weird\n",
    "Status: active\nTo Action From\n" + "x" * 100000,
    (UFW / "active-mixed.txt").read_text()[:300],  # truncated mid-table
    "Status: active\n\nTo                         Action      From\n--\n99999/tcp                  ALLOW IN    Anywhere\n",
])
def test_garbage_and_truncated(text):
    status = _ufw.parse_status(text)
    assert isinstance(status["rules"], list)
    for rule in status["rules"]:
        assert rule["ports"] is None or all(0 < low <= high <= 65535 for low, high, _proto in rule["ports"])
    _ufw.evaluate_port(status, 8000)


def test_truncated_table_keeps_complete_rules():
    text = (UFW / "active-allowed.txt").read_text()
    cut = text[:text.index("8000/tcp (v6)")]
    status = _ufw.parse_status(cut)
    assert len(status["rules"]) == 3 and _ufw.evaluate_port(status, 8000)[0] is True


# ------------------------------------------------------------------ probe_firewall, replayed
def fake_ufw(tmp_path, stdout_file=None, stderr_file=None, rc=0):
    script = tmp_path / "ufw"
    body = "#!/bin/sh\n[ \"$*\" = \"status verbose\" ] || exit 99\n[ \"$LC_ALL\" = C ] || exit 98\n"
    if stdout_file:
        body += "cat %s\n" % stdout_file
    if stderr_file:
        body += "cat %s >&2\n" % stderr_file
    script.write_text(body + "exit %d\n" % rc)
    script.chmod(0o755)
    return str(script)


def test_probe_firewall_blocked(tmp_path):
    facts = probe_firewall.probe_firewall(port=8000, ufw_path=fake_ufw(tmp_path, UFW / "active-blocked.txt"),
                                          environ={"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22"})
    assert facts["installed"] is True and facts["active"] is True and facts["default_incoming"] == "deny"
    assert facts["port_allowed_v4"] is False and facts["port_allowed_v6"] is False
    assert facts["ssh_port"] == 22 and facts["ssh_port_source"] == "ssh_connection" and facts["ssh_client"] == "192.0.2.10"
    assert facts["ssh_allowed"] is True and facts["error"] is None and len(facts["rules"]) == 4


def test_probe_firewall_ssh_port_from_environment_and_given(tmp_path):
    ufw = fake_ufw(tmp_path, UFW / "deny-before-allow.txt")
    facts = probe_firewall.probe_firewall(ufw_path=ufw, environ={"SSH_CONNECTION": "10.0.0.5 40000 10.0.0.1 2222"})
    assert facts["ssh_port"] == 2222 and facts["ssh_allowed"] is True and facts["port_allowed_v4"] is False
    facts = probe_firewall.probe_firewall(ufw_path=ufw, ssh_port=22, environ={})
    assert facts["ssh_port"] == 22 and facts["ssh_port_source"] == "given" and facts["ssh_allowed"] is False
    facts = probe_firewall.probe_firewall(ufw_path=ufw, environ={"SSH_CONNECTION": "garbage"})
    assert facts["ssh_port"] == 22 and facts["ssh_port_source"] == "default"


def test_probe_firewall_restricted_ssh_client(tmp_path):
    ufw = fake_ufw(tmp_path, UFW / "active-restricted.txt")
    inside = probe_firewall.probe_firewall(ufw_path=ufw, environ={"SSH_CONNECTION": "192.168.1.50 1 192.168.1.1 22"})
    outside = probe_firewall.probe_firewall(ufw_path=ufw, environ={"SSH_CONNECTION": "198.51.100.7 1 192.168.1.1 22"})
    assert inside["ssh_allowed"] is True and outside["ssh_allowed"] is False
    assert inside["port_sources"] == {"v4": ["10.0.0.0/8"], "v6": []}


def test_probe_firewall_inactive(tmp_path):
    facts = probe_firewall.probe_firewall(ufw_path=fake_ufw(tmp_path, UFW / "inactive.txt"), environ={})
    assert facts["installed"] is True and facts["active"] is False
    assert facts["port_allowed_v4"] is None and facts["ssh_allowed"] is None and facts["error"] is None


def test_probe_firewall_not_root(tmp_path):
    ufw = fake_ufw(tmp_path, UFW / "not-root.stdout", UFW / "not-root.stderr", rc=1)
    facts = probe_firewall.probe_firewall(ufw_path=ufw, environ={})
    assert facts["installed"] is True and facts["active"] is None
    assert "needs root" in facts["error"] and "become" in facts["error"]


def test_probe_firewall_garbage(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(2048))
    facts = probe_firewall.probe_firewall(ufw_path=fake_ufw(tmp_path, garbage), environ={})
    assert facts["installed"] is True and facts["active"] is None and "could not parse" in facts["error"]


def test_probe_firewall_not_installed(tmp_path):
    facts = probe_firewall.probe_firewall(ufw_path=str(tmp_path / "ufw"), environ={})
    assert facts["installed"] is False and "not installed" in facts["error"]
