# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_ufw.parse_added and _ufw.ssh_guard on output recorded from ufw 0.36.2 (Debian 12)."""

from __future__ import annotations

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _ufw

ADDED = """Added user rules (see 'ufw status' for running firewall):
ufw limit 22/tcp
ufw deny from 192.0.2.0/24 to any port 2222 proto tcp
ufw allow 8000/tcp comment 'beatsync.ops: x'
ufw allow in on eth0 to any port 22
ufw reject 2222
ufw allow log 3000:3010/tcp
ufw allow to 10.0.0.1 port 22 proto tcp
ufw allow from fd00::/8 to any port 22 proto tcp
ufw route allow in on eth1 out on eth2
"""
NONE = "Added user rules (see 'ufw status' for running firewall):\n(None)\n"
STATUS = """Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), deny (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     LIMIT IN    Anywhere
2222/tcp                   DENY IN     Anywhere
2222/tcp                   ALLOW IN    Anywhere
8000/tcp                   ALLOW IN    Anywhere                   # beatsync.ops: x
22/tcp (v6)                LIMIT IN    Anywhere (v6)
"""


def test_parse_added_in_order():
    rules = _ufw.parse_added(ADDED)
    assert [r["index"] for r in rules] == list(range(1, 9))           # route rule skipped
    assert rules[0]["action"] == "limit" and rules[0]["ports"] == [(22, 22, "tcp")]
    assert rules[1]["from_address"] == "192.0.2.0/24" and rules[1]["action"] == "deny"
    assert rules[2]["comment"] == "beatsync.ops: x"
    assert rules[3]["interface"] == "eth0" and rules[3]["ports"] == [(22, 22, "any")]
    assert rules[5]["ports"] == [(3000, 3010, "tcp")]
    assert rules[6]["to_address"] == "10.0.0.1"
    assert rules[7]["v6"] is True


@pytest.mark.parametrize("text", [None, "", "garbage", NONE, "ufw", "ufw allow", "ufw allow from"])
def test_parse_added_garbage(text):
    assert _ufw.parse_added(text) == []


def test_guard_limit_is_kept_deny_first_is_blocked_missing_is_added():
    plan = _ufw.ssh_guard(ADDED, [22, 2222, 4000])
    by_port = {p["port"]: p for p in plan["ports"]}
    assert by_port[22]["verdict"] == "allowed" and by_port[22]["action"] == "limit"
    assert by_port[2222]["verdict"] == "blocked" and by_port[2222]["rule"] == "ufw reject 2222"
    assert plan["blocked"] == [{"port": 2222, "rule": "ufw reject 2222"}]
    assert plan["add"] == [{"port": 4000, "rule": "allow"}]


def test_guard_deny_from_one_network_counts_only_for_a_client_in_it():
    text = NONE.replace("(None)\n", "ufw deny from 192.0.2.0/24 to any port 2222 proto tcp\n")
    assert _ufw.ssh_guard(text, [2222])["missing"] == [2222]
    assert _ufw.ssh_guard(text, [2222], client_ip="10.88.0.1")["missing"] == [2222]
    blocked = _ufw.ssh_guard(text, [2222], client_ip="::ffff:192.0.2.7")["blocked"]
    assert blocked == [{"port": 2222, "rule": "ufw deny from 192.0.2.0/24 to any port 2222 proto tcp"}]


def test_guard_interface_bound_allow_does_not_count():
    text = NONE.replace("(None)\n", "ufw allow in on eth0 to any port 22\n")
    assert _ufw.ssh_guard(text, [22])["missing"] == [22]


def test_guard_on_active_status():
    plan = _ufw.ssh_guard(STATUS, [22, 2222, 8000], client_ip="10.88.0.1")
    assert plan["allowed"] == [22, 8000] and plan["active"] is True
    assert plan["blocked"][0]["port"] == 2222 and "DENY" in plan["blocked"][0]["rule"]


def test_guard_partly_limited_adds_limit():
    text = NONE.replace("(None)\n", "ufw limit from 10.0.0.0/8 to any port 22 proto tcp\n")
    plan = _ufw.ssh_guard(text, [22], client_ip="10.1.2.3")
    assert plan["allowed"] == [22]
    plan = _ufw.ssh_guard(text, [22])
    assert plan["add"] == [{"port": 22, "rule": "allow"}]
