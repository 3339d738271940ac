# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The options of plugins/module_utils/_budget.py's ARGUMENT_SPEC: the host's restart budget,
    shared by beatsync.ops.restart_budget and beatsync.ops.restart."""

    DOCUMENTATION = r"""
options:
  path:
    description:
      - The restart budget's state file. Its directory is created (mode 0700) when missing; its parent must exist.
    type: path
    default: /var/lib/beatsync-ops/restarts.json
  limit:
    description: How many restarts are allowed within O(window) (1-1000).
    type: int
    default: 3
  window:
    description: The budget's window in seconds (1-604800).
    type: int
    default: 1800
  run_id:
    description:
      - Who restarts, recorded with the restart (for example the AWX job id or the EDA event id).
      - Required when a restart is counted.
    type: str
  source:
    description: The entry point, recorded with the restart (for example C(cli), C(awx), C(eda)).
    type: str
    default: ""
  lock_timeout:
    description: Seconds to wait for another run that is updating the state file (0-600).
    type: float
    default: 30
"""
