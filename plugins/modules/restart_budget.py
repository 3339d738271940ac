#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: restart_budget
short_description: A restart budget kept on the host and shared by every run (CLI, AWX, EDA)
version_added: 0.1.0
description:
  - Counts the restarts of BeatSync that any run made on this host in the last O(window) seconds, in a small
    state file (O(path)), so that a host that breaks again right after each repair is not restarted by every
    schedule and every event forever.
  - O(action=check) reports the budget (read-only, never writes). O(action=consume) records one restart for
    O(run_id) when the budget allows it, and fails with RV(code=restart_budget_exhausted) and the time the
    window frees when it is spent.
  - The state directory is created mode 0700 and must be owned by the user running the module (root) and not
    writable by group or others; the file is written mode 0600, atomically, under an exclusive C(flock) on
    C(<path>.lock), so two runs consuming at the same time never exceed the budget.
  - A state file that cannot be trusted (corrupt, not the expected form, a symlink, owned by another user,
    writable by others) is reported in RV(state_error) and the budget counts as spent (RV(left=0)) until an
    operator checks it and removes or repairs it; consuming then fails with
    RV(code=restart_budget_state_invalid). Nothing resets it silently.
extends_documentation_fragment:
  - beatsync.ops.budget
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode nothing is written or created; O(action=consume) reports whether the restart would be allowed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  action:
    description: C(check) reads the budget, C(consume) records one restart.
    type: str
    choices: [check, consume]
    default: check
"""

EXAMPLES = r"""
- name: How much of the restart budget is left
  beatsync.ops.restart_budget:
    action: check
  register: budget

- name: Record a restart (fails with code restart_budget_exhausted when spent)
  beatsync.ops.restart_budget:
    action: consume
    run_id: "awx-{{ tower_job_id | default('cli') }}"
    source: awx
    limit: 3
    window: 1800
  register: consumed
  failed_when: consumed.failed | default(false) and consumed.code | default('') != 'restart_budget_exhausted'
"""

RETURN = r"""
used:
  description: Restarts recorded within the window (after this one, when consumed).
  returned: always
  type: int
  sample: 2
left:
  description: Restarts still allowed within the window; 0 when spent or when the state file cannot be trusted.
  returned: always
  type: int
  sample: 1
limit:
  description: O(limit).
  returned: always
  type: int
window:
  description: O(window) in seconds.
  returned: always
  type: int
frees_at:
  description: When spent, the UTC time (ISO 8601) at which the next restart is allowed; null otherwise.
  returned: always
  type: str
  sample: "2026-12-01T10:30:00Z"
frees_in:
  description: When spent, seconds until RV(frees_at); null otherwise.
  returned: always
  type: int
restarts:
  description: The restarts within the window, oldest first, each C({at, at_iso, run_id, source}).
  returned: always
  type: list
  elements: dict
consumed:
  description: Whether a restart was recorded by this call (always false for O(action=check) and in check mode).
  returned: always
  type: bool
state_error:
  description: Why the state file cannot be trusted (the budget then counts as spent), or null.
  returned: always
  type: str
code:
  description:
    - Why O(action=consume) refused, C(restart_budget_exhausted) (spent), C(restart_budget_state_invalid)
      (see RV(state_error)), C(restart_budget_busy) (another run held the state file longer than
      O(lock_timeout)) or C(restart_budget_unwritable).
  returned: on refusal
  type: str
path:
  description: The state file.
  returned: always
  type: str
now:
  description: The host's time (UTC) the budget was computed at.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils import _budget


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["check", "consume"], default="check"),
            **{name: dict(option) for name, option in _budget.ARGUMENT_SPEC.items()}),
        required_if=[("action", "consume", ["run_id"])],
        supports_check_mode=True,
    )
    params = module.params
    try:
        _budget.validate(params["limit"], params["window"], params["lock_timeout"])
        if params["action"] == "check":
            result = _budget.check(params["path"], params["limit"], params["window"])
            result["consumed"] = False
            module.exit_json(changed=False, msg=_describe(result), **result)
        result = _budget.consume(params["path"], params["limit"], params["window"], params["run_id"],
                                 params["source"], module.check_mode, params["lock_timeout"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except _budget.BudgetError as exc:
        budget = dict(exc.budget)
        budget.setdefault("path", params["path"])
        budget["consumed"] = False
        module.fail_json(msg=exc.msg, code=exc.code, **budget)
    module.exit_json(changed=True, msg=("would record" if module.check_mode else "recorded") + " a restart; " + _describe(result), **result)


def _describe(result):
    if result["state_error"]:
        return "budget counts as spent: %s" % result["state_error"]
    text = "%d of %d restart(s) used in the last %ds, %d left" % (result["used"], result["limit"], result["window"], result["left"])
    if result["frees_at"]:
        text += "; the next one is allowed at %s" % result["frees_at"]
    return text


if __name__ == "__main__":
    main()
