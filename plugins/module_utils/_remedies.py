# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The one remedy registry: each remedy's action name, its place in the runbook's order and
the arguments a finding's `remedy` carries for it.

The repair role applies `plan(findings)` in this order, one `roles/repair/tasks/remedy_<action>.yml`
per action, reading the arguments from the step (`beatsync_step.remedy.port`), never from a
global variable. tests/unit/plugins/module_utils/test_remedies.py fails when an action has no
task file or a task file has no action here. Standard library only.
"""

from __future__ import annotations

# In the runbook's order: blockers first (nothing is touched when a person must act), then
# free the port, dependencies, the unit, one restart, the firewall, what is left to report.
REMEDIES = (
    ("refuse_foreign_listener", ("port", "pids", "names", "cmdlines")),
    ("fix_code", ("file", "line", "message")),
    ("stop_stale_copy", ("port", "pids", "service", "app_spec", "app_dir")),
    ("install_requirements", ("missing", "python", "app_dir")),
    ("install_unit", ("service", "port", "app_dir", "app_spec", "dropins")),
    ("restart_service", ("service", "reset_failed")),
    ("restart_for_docs", ("service",)),
    ("open_firewall", ("port",)),
    ("report", ()),
)

ORDER = tuple(action for action, _args in REMEDIES)
ARGUMENTS = dict(REMEDIES)


def remedy(action, **arguments):
    """A finding's remedy: {"action": action, **arguments}, exactly the registry's arguments."""
    if action not in ARGUMENTS:
        raise ValueError("unknown remedy %r (one of %s)" % (action, ", ".join(ORDER)))
    if set(arguments) != set(ARGUMENTS[action]):
        raise ValueError("remedy %s takes %s, got %s" % (action, sorted(ARGUMENTS[action]), sorted(arguments)))
    return dict(arguments, action=action)


def plan(findings):
    """Findings (root cause first) -> the repair steps, one per action, in the runbook's order.

    Each step: {action, order, remedy (the arguments), codes (the findings it answers),
    summaries}. Two findings asking for the same action make one step (a restart resets the
    start limit when any of them asks for it; a unit install moves every drop-in any of them
    names)."""
    steps = {}
    for finding in findings or []:
        wanted = (finding or {}).get("remedy") or {}
        action = wanted.get("action")
        if action not in ARGUMENTS:
            continue
        step = steps.get(action)
        if step is None:
            steps[action] = {"action": action, "order": ORDER.index(action), "remedy": dict(wanted),
                             "codes": [finding.get("code")], "summaries": [finding.get("summary")]}
            continue
        step["codes"].append(finding.get("code"))
        step["summaries"].append(finding.get("summary"))
        if action == "restart_service":
            step["remedy"]["reset_failed"] = bool(step["remedy"].get("reset_failed") or wanted.get("reset_failed"))
        if action == "install_unit":
            step["remedy"]["dropins"] = sorted(set(step["remedy"].get("dropins") or []) | set(wanted.get("dropins") or []))
    return sorted(steps.values(), key=lambda step: step["order"])
