# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The operator's maintenance marker: a host in maintenance is diagnosed but never repaired.

The marker is the file /etc/beatsync/maintenance (its first line is the reason) or the host
variable beatsync_maintenance (true, or the reason as a string). Standard library only.
"""

from __future__ import annotations

import os

MAINTENANCE_FILE = "/etc/beatsync/maintenance"
MAX_REASON = 200


def read_marker(path=MAINTENANCE_FILE):
    """{active, reason, source}: active when the file exists (a file that cannot be read still
    marks the host: the operator's intent wins over a permission problem)."""
    if not os.path.lexists(path):
        return {"active": False, "reason": None, "source": None}
    reason = ""
    try:
        with open(path, "rb") as handle:
            reason = handle.read(4096).decode("utf-8", "replace").splitlines()[0:1]
        reason = reason[0].strip() if reason else ""
    except (OSError, IndexError) as exc:
        reason = "marker unreadable: %s" % (getattr(exc, "strerror", None) or exc)
    return {"active": True, "reason": (reason or "no reason given")[:MAX_REASON], "source": path}


def from_variable(value):
    """The host variable beatsync_maintenance -> the same shape (None when not set or false)."""
    if value in (None, False, "", 0) or (isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off")):
        return None
    reason = value.strip() if isinstance(value, str) and value.strip().lower() not in ("true", "yes", "1", "on") else ""
    return {"active": True, "reason": (reason or "beatsync_maintenance is set")[:MAX_REASON], "source": "beatsync_maintenance"}
