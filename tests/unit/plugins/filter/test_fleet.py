# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet filter plugin (beatsync.ops.fleet_network): input checks and the one finding.
The rule itself is tested in tests/unit/plugins/module_utils/test_findings_effective.py."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.filter import fleet

from ..module_utils.test_findings_effective import outside_only


def test_most_hosts_failing_only_from_outside_give_one_finding():
    finding = fleet.fleet_network([outside_only("web0"), outside_only("web1"), outside_only("web2")])
    assert finding["code"] == "controller_network"
    assert finding["hosts"] == ["web0", "web1", "web2"]


def test_no_finding_is_an_empty_dict():
    assert fleet.fleet_network([outside_only("web0")]) == {}
    assert fleet.fleet_network([]) == {}


@pytest.mark.parametrize("reports,kwargs,message", [
    ({"host": "web0"}, {}, "must be the list of host reports"),
    ([], {"share": "most"}, "share must be a number"),
    ([], {"share": 1}, "share must be from 0"),
    ([], {"min_hosts": 0}, "min_hosts at least 1"),
])
def test_bad_input_is_named(reports, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        fleet.fleet_network(reports, **kwargs)


def test_the_filter_is_exposed_under_its_documented_name():
    assert fleet.FilterModule().filters() == {"fleet_network": fleet.fleet_network}
