#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: restart
short_description: Restart BeatSync the way a repair does, in one module run on the host
version_added: 0.1.0
description:
  - Does in one run on the host, in this order, what the repair role's restart took five tasks for (runbook option 1,
    C(systemctl restart beatsync) then C(curl localhost:8000/api/health)).
  - 1. With O(count=true), counts the restart on the host's restart budget, as M(beatsync.ops.restart_budget) with
    O(beatsync.ops.restart_budget#module:action=consume) does (same O(path), O(limit), O(window), O(run_id), O(source)).
    A spent budget refuses with the same RV(code) and message, and nothing is stopped or started.
  - 2. With O(stop=true), when the unit is active, activating, deactivating or reloading, stops it bounded
    (C(systemctl stop --no-block), then C(ActiveState) polled until inactive or failed); after O(stop_grace) seconds
    it logs why (tag C(beatsync-ops)) and has systemd SIGKILL the unit (C(systemctl kill --signal=SIGKILL)), then
    waits up to 15 seconds more and fails with the state when the unit is still not down.
  - 3. With O(reset_failed=true), C(systemctl reset-failed) (the start limit).
  - 4. With O(start=true), starts the unit when it is not running and enables it when it is not enabled already.
  - 5. Then waits for O(url) (as M(beatsync.ops.health_probe), up to O(retries) more attempts O(delay) seconds apart) and, with
    O(docs_recheck=true), looks at O(base_url)'s C(/docs) once (as M(beatsync.ops.docs_probe)).
  - The module does not fail when C(/api/health) or C(/docs) is not healthy afterwards; RV(health) and RV(docs) say
    what was seen. It fails when a step that changes the host fails, with what was done before in the result.
  - A unit that is not loaded or is masked is refused (with O(start=true)) before anything is counted or stopped.
  - A stale copy that must be stopped after the unit and before its start takes two runs, O(start=false) (count and
    stop) and then O(stop=false) with O(count=false) (reset-failed, start, wait).
extends_documentation_fragment:
  - beatsync.ops.budget
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode nothing is written, stopped or started; RV(actions) says what would be done, and a spent budget refuses as it would.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  service:
    description: The systemd unit to restart (C(beatsync) means C(beatsync.service)).
    type: str
    default: beatsync.service
  count:
    description: Count the restart on the host's restart budget first. V(false) for a restart that is never refused (a rollback).
    type: bool
    default: true
  stop:
    description: Stop the unit first when it is running. V(false) when an earlier run stopped it.
    type: bool
    default: true
  stop_grace:
    description: Seconds the unit gets to stop before systemd SIGKILLs it (0-3600).
    type: float
    default: 15
  reset_failed:
    description: Run C(systemctl reset-failed) before the start (the unit hit its start limit).
    type: bool
    default: false
  start:
    description: Start (and enable) the unit and wait for O(url). V(false) to only count and stop.
    type: bool
    default: true
  url:
    description: The health URL waited for after the start (an http or https URL).
    type: str
    default: http://127.0.0.1:8000/api/health
  timeout:
    description: Seconds each HTTP request may take (greater than 0).
    type: float
    default: 5
  retries:
    description: How many more times O(url) is asked while it is not healthy (0-100).
    type: int
    default: 20
  delay:
    description: Seconds between two attempts (0-60).
    type: float
    default: 0.5
  expected_status:
    description: The C(status) value of the health JSON that means healthy.
    type: str
    default: healthy
  validate_certs:
    description: Verify TLS certificates of https URLs.
    type: bool
    default: true
  docs_recheck:
    description: After the wait, look at C(/docs) and the OpenAPI document once (RV(docs)).
    type: bool
    default: false
  base_url:
    description: The base URL of C(/docs) (O(docs_recheck=true)).
    type: str
    default: http://127.0.0.1:8000
  docs_path:
    description: The path of the Swagger UI page.
    type: str
    default: /docs
  openapi_path:
    description: The path of the OpenAPI document; by default the one the page names, else C(/openapi.json).
    type: str
notes:
  - It needs only the Python standard library, systemd and C(systemctl) on the managed host, and root (or the rights to
    manage the unit and write the budget's state file).
seealso:
  - module: beatsync.ops.restart_budget
  - module: beatsync.ops.health_probe
  - module: beatsync.ops.docs_probe
  - module: beatsync.ops.stop_listeners
"""

EXAMPLES = r"""
- name: Restart BeatSync, counted on the host's budget, and wait for /api/health
  beatsync.ops.restart:
    service: beatsync.service
    run_id: "awx-{{ tower_job_id | default('cli') }}"
    source: awx
    stop_grace: 15
  register: restarted

- name: Restart after a /docs failure and look at /docs again
  beatsync.ops.restart:
    run_id: cli-run
    docs_recheck: true
  register: restarted
  failed_when: restarted.failed | default(false) or not restarted.docs.docs_ok

- name: A stale copy holds the port - stop the unit first (counted) ...
  beatsync.ops.restart:
    run_id: cli-run
    start: false

- name: '... free the port'
  beatsync.ops.stop_listeners:
    port: 8000
    processes: "{{ stale_processes }}"

- name: '... then start it and wait for health'
  beatsync.ops.restart:
    count: false
    stop: false
    reset_failed: true
"""

RETURN = r"""
service:
  description: The unit (normalised, with its C(.service) suffix).
  returned: always
  type: str
  sample: beatsync.service
budget:
  description:
    - The restart budget after the restart was counted (as M(beatsync.ops.restart_budget) returns it, C(used),
      C(left), C(limit), C(window), C(frees_at), C(frees_in), C(restarts), C(consumed), C(state_error), C(path),
      C(now)), or null with O(count=false).
  returned: always
  type: dict
code:
  description:
    - Why the module refused or failed. The budget's codes as M(beatsync.ops.restart_budget) has them
      (C(restart_budget_exhausted), C(restart_budget_state_invalid), C(restart_budget_busy), C(restart_budget_unwritable)),
      C(restart_unit_not_loaded) (refused before anything was done), C(restart_systemd_error), C(restart_stop_failed),
      C(restart_kill_failed), C(restart_start_failed), C(restart_enable_failed).
  returned: on failure
  type: str
  sample: restart_budget_exhausted
used:
  description:
    - On a budget refusal, the budget's fields also at the top level as M(beatsync.ops.restart_budget) returns them
      (C(used), C(left), C(limit), C(window), C(frees_at), ...).
  returned: on a budget refusal
  type: int
before:
  description: The unit as seen first, C(load_state), C(active_state), C(sub_state), C(result), C(unit_file_state), C(main_pid).
  returned: always
  type: dict
  sample: {"load_state": "loaded", "active_state": "active", "sub_state": "running", "result": "success", "unit_file_state": "enabled", "main_pid": 4242}
after:
  description: The unit as seen after the start (the same keys as RV(before)), or null when not started (or in check mode).
  returned: always
  type: dict
stopped:
  description: V(stopped) (it stopped within O(stop_grace)), V(killed) (SIGKILL through systemd after O(stop_grace)), or null (not running, or not stopped).
  returned: always
  type: str
  sample: stopped
reset_failed:
  description: Whether C(systemctl reset-failed) ran (would run, in check mode).
  returned: always
  type: bool
started:
  description: Whether the unit was started (would be, in check mode); false when it was running already.
  returned: always
  type: bool
enabled:
  description: Whether the unit was enabled by this run (would be, in check mode); false when it was enabled already.
  returned: always
  type: bool
health:
  description:
    - What M(beatsync.ops.health_probe) returns (C(url), C(healthy), C(status), C(error), C(error_class), C(attempts),
      C(elapsed), ...), or null when not waited for (check mode, O(start=false)).
  returned: always
  type: dict
docs:
  description: What M(beatsync.ops.docs_probe) returns (C(base_url), C(docs), C(openapi), C(docs_ok), C(problem)), or null without O(docs_recheck).
  returned: always
  type: dict
actions:
  description: What was done (in check mode, what would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["count the restart (1 of 3 used in 1800s, 2 left)", "stopped beatsync.service", "start beatsync.service"]
elapsed:
  description: Seconds each step took (C(budget), C(stop), C(reset_failed), C(start), C(enable), C(health), C(docs); null when it did not run) and C(total).
  returned: always
  type: dict
  sample: {"budget": 0.004, "stop": 0.31, "reset_failed": null, "start": 0.05, "enable": 0.0, "health": 0.62, "docs": null, "total": 1.0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils import _budget
from ansible_collections.beatsync.ops.plugins.module_utils._argspec import SERVICE, TIMEOUT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._restart import RestartError, describe, restart
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=spec(SERVICE, TIMEOUT, _budget.ARGUMENT_SPEC, dict(
            count=dict(type="bool", default=True),
            stop=dict(type="bool", default=True),
            stop_grace=dict(type="float", default=15),
            reset_failed=dict(type="bool", default=False),
            start=dict(type="bool", default=True),
            url=dict(type="str", default="http://127.0.0.1:8000/api/health"),
            retries=dict(type="int", default=20),
            delay=dict(type="float", default=0.5),
            expected_status=dict(type="str", default="healthy"),
            validate_certs=dict(type="bool", default=True),
            docs_recheck=dict(type="bool", default=False),
            base_url=dict(type="str", default="http://127.0.0.1:8000"),
            docs_path=dict(type="str", default="/docs"),
            openapi_path=dict(type="str"),
        )),
        required_if=[("count", True, ["run_id"])],
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
        _budget.validate(params["limit"], params["window"], params["lock_timeout"])
        if params["count"] and not params["run_id"].strip():
            raise ProbeInputError("run_id must be a non-empty string naming the run (for example the AWX job id), got %r"
                                  % (params["run_id"],))
        if not params["stop"] and not params["start"]:
            raise ProbeInputError("stop and start are both false: nothing to restart")
    except (ProbeInputError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    budget = None
    if params["count"]:
        budget = {name: params[name] for name in ("path", "limit", "window", "run_id", "source", "lock_timeout")}
    health = {name: params[name] for name in ("url", "timeout", "retries", "delay", "expected_status", "validate_certs")}
    docs = None
    if params["docs_recheck"]:
        docs = {name: params[name] for name in ("base_url", "docs_path", "openapi_path", "timeout", "validate_certs")}
    try:
        result = restart(params["service"], budget=budget, stop=params["stop"], stop_grace=params["stop_grace"],
                         reset_failed=params["reset_failed"], start=params["start"], health=health, docs=docs,
                         check_mode=module.check_mode)
    except RestartError as exc:
        seen = dict(exc.result or {})
        seen["changed"] = bool(seen.get("changed"))
        seen.update(exc.extra)  # a budget refusal: its fields at the top level, as restart_budget has them
        module.fail_json(msg=exc.msg, code=exc.code, **seen)
    result["msg"] = describe(result, module.check_mode)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
