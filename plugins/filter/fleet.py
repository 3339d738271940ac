# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.fleet_network: one controller-side network finding for a run (fleet_network.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.module_utils._findings import (
    FLEET_MIN_HOSTS,
    FLEET_OUTSIDE_SHARE,
    fleet_findings,
)


def fleet_network(reports, share=FLEET_OUTSIDE_SHARE, min_hosts=FLEET_MIN_HOSTS):
    if not isinstance(reports, list):
        raise AnsibleFilterError("fleet_network: the input must be the list of host reports, not %s" % type(reports).__name__)
    try:
        share, min_hosts = float(share), int(min_hosts)
    except (TypeError, ValueError):
        raise AnsibleFilterError("fleet_network: share must be a number and min_hosts an integer") from None
    if not 0 <= share < 1 or min_hosts < 1:
        raise AnsibleFilterError("fleet_network: share must be from 0 up to (not including) 1 and min_hosts at least 1")
    found = fleet_findings(reports, share=share, min_hosts=min_hosts)
    return found[0] if found else {}


class FilterModule:
    """beatsync.ops fleet filters."""

    def filters(self):
        return {"fleet_network": fleet_network}
