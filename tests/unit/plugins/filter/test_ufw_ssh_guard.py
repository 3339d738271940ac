# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The beatsync.ops.ufw_ssh_guard filter: argument checks around _ufw.ssh_guard."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.filter.ufw_ssh_guard import FilterModule, ufw_ssh_guard

ADDED = "Added user rules (see 'ufw status' for running firewall):\nufw limit 22/tcp\nufw deny 2222/tcp\n"


def test_registered():
    assert FilterModule().filters()["ufw_ssh_guard"] is ufw_ssh_guard


def test_plan():
    plan = ufw_ssh_guard(ADDED, ["22", 2222, 2200], client_ip="")
    assert plan["allowed"] == [22] and plan["blocked"] == [{"port": 2222, "rule": "ufw deny 2222/tcp"}]
    assert plan["add"] == [{"port": 2200, "rule": "allow"}]


@pytest.mark.parametrize("text,ports", [(None, [22]), (ADDED, "22"), (ADDED, [0]), (ADDED, ["x"]), (ADDED, 22)])
def test_bad_arguments(text, ports):
    with pytest.raises(AnsibleFilterError):
        ufw_ssh_guard(text, ports)
