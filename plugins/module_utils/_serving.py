# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Whether the unit itself serves: one definition for the probes (what to import again) and
the findings (what a repair may touch).

A healthy /api/health alone does not say who answers: a stale copy outside the unit answers
healthy while the unit crash-loops against the held port, and a crash-looping unit is
"active" for the moment between its start and its failed bind. The unit serves only when it is
active, the answer is healthy, and the listener on the port runs in the unit's own cgroup.
"""

from __future__ import annotations


def _part(facts, name):
    """One probe's facts, {} for anything that is not a dict (facts come back over the wire)."""
    value = facts.get(name) if isinstance(facts, dict) else None
    return value if isinstance(value, dict) else {}


def unit_serves(facts, service):
    """True when the unit is active, /api/health is healthy and the port's listener is the unit's.

    facts are the diagnosis's probe facts (unit, health, port). When the port probe did not run
    or could not read any listener's process (another user's, without root), the answer falls
    back to active and healthy: the side that changes nothing.
    """
    unit, health, port = (_part(facts, name) for name in ("unit", "health", "port"))
    if unit.get("active_state") not in ("active", "reloading") or not health.get("healthy"):
        return False
    found = port.get("listeners")
    listeners = [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
    if any(item.get("unit") == service for item in listeners):
        return True
    # A listener whose process was read and runs outside the unit: a copy outside it serves.
    return not any(item.get("pid") for item in listeners)
