#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: diagnose
short_description: Diagnose BeatSync on a host, inside and from outside, and name the root cause
version_added: 0.1.0
description:
  - One task per host. The action plugin of this name runs in the controller's worker; it renders
    the canonical unit (the template the P(beatsync.ops.service#role) role installs, with its
    defaults the runbook's unit), runs this module on the host, requests C(/api/health) and
    C(/docs) from outside right after it (an O(external_address) that is not a host is refused
    before the host is probed), and runs the findings engine once on what was seen inside and
    outside.
  - On the host, every probe of the runbook's diagnosis runs once, in one module execution, covering
    the unit (C(systemctl show), drop-ins, drift against the canonical unit), journal, port owner,
    uvicorn processes, C(/api/health), C(/docs) and the OpenAPI document, Python dependencies and
    syntax, and UFW. The module itself returns facts only.
  - Returns RV(verdict), RV(findings) root cause first (each with evidence, the runbook step and a
    machine-readable remedy), RV(plan) (the remedies in the runbook's order, which
    C(playbooks/repair.yml) applies) and RV(msg), the same lines C(playbooks/diagnose.yml) prints.
  - With no options on a BeatSync host it gives the same verdict and root cause as C(playbooks/diagnose.yml).
  - An option the task does not set is read from the collection's variable for it when that is set
    (O(service) from C(beatsync_service), O(port) from C(beatsync_port), O(host) from C(beatsync_probe_host),
    O(app_dir), O(app_spec), O(python), O(timeout), O(journal_lines), O(check_drift), O(external_check),
    O(external_address) and O(external_timeout) from C(beatsync_<option>)), as the roles set them; and what
    the roles pass on from their own variables, O(external) from C(beatsync_external.probes) (the bastion's
    view), O(before) from C(beatsync_before), O(actions) from C(beatsync_applied), O(lock), O(budget) and
    O(release_lock) from C(beatsync_diagnose_lock), C(beatsync_diagnose_budget) and C(beatsync_diagnose_release_lock).
    A message about an option read from a variable names the variable.
  - Changes nothing on the host (with O(lock), only the repair lock's file).
author:
  - BeatSync operations (@beatsync)
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.timeout
  - beatsync.ops.probe.service
  - beatsync.ops.probe.port
  - beatsync.ops.probe.http_paths
  - beatsync.ops.probe.app
attributes:
  action:
    support: full
    description: The action plugin renders the canonical unit, makes the outside check and names the root cause on the controller.
options:
  app_module:
    description: The application's main file, relative to O(app_dir), compiled to find syntax errors.
    type: str
    default: main.py
  process_pattern:
    description: Word in a process's command line that marks it as the server.
    type: str
    default: uvicorn
  python:
    description:
      - Interpreter whose imports are checked. By default the one the unit's C(ExecStart) runs,
        else C(/usr/bin/python3).
    type: path
  requirements_file:
    description: Requirements file, relative to O(app_dir) or absolute.
    type: str
    default: requirements.txt
  modules:
    description: Modules that must import with the interpreter.
    type: list
    elements: str
    default: [fastapi, uvicorn]
  canonical_unit:
    description:
      - Text of the canonical unit file; the installed unit is compared with it to find drift.
      - By default the action renders it from the template of the P(beatsync.ops.service#role) role
        with that role's defaults, your C(service_*) variables, and O(service), O(port), O(app_dir)
        and O(app_spec) (see O(check_drift)).
      - Not logged (it may carry C(Environment=) values).
    type: str
  check_drift:
    description: Compare the installed unit with the canonical unit.
    type: bool
    default: true
  journal_lines:
    description: How many of the unit's last journal lines to read and classify (1 to 1000).
    type: int
    default: 50
  ssh_port:
    description: SSH port whose UFW rule is checked. By default the port of the current SSH connection, else 22.
    type: int
  probes:
    description: Which probes to run on the host. Findings that need a skipped probe are not reported.
    type: list
    elements: str
    choices: [unit, journal, port, process, health, docs, deps, firewall]
    default: [unit, journal, port, process, health, docs, deps, firewall]
  external_check:
    description:
      - Also request C(/api/health) and C(/docs) on O(external_address) from the controller, in the
        controller's own process (the runbook's "test external access"), to find C(external_unreachable).
    type: bool
    default: true
  external_address:
    description: The address users reach the host at. By default C(ansible_host), else the inventory name.
    type: str
  external_timeout:
    description: Seconds each outside request may take. By default O(timeout).
    type: float
  external:
    description:
      - C(health) and C(docs) facts seen from another machine (a bastion), as RV(beatsync.ops.external_probe#module:probes)
        returns them; used instead of the controller's own outside check.
    type: dict
  before:
    description: The outcome of an earlier diagnosis of this run (C(playbooks/repair.yml)), for RV(report).
    type: dict
  actions:
    description: What a repair did in between, for RV(report).
    type: list
    elements: str
    default: []
  lock:
    description:
      - Take the per-host repair lock (as M(beatsync.ops.repair_lock) does) before the probes, in
        the same run, so that C(playbooks/repair.yml) diagnoses under the lock without a second round trip.
      - When another repair holds it after O(lock.wait) seconds the task fails with that repair's
        owner and nothing else runs. Check mode only looks at the lock.
      - The lock file is the only thing this option changes on the host; the task still reports
        no change, as the repair role's lock task does.
    type: dict
    suboptions:
      path:
        description: The lock file (its directory must be root-only).
        type: path
        required: true
      owner:
        description: Who takes it (unique per run).
        type: str
        required: true
      owner_pid:
        description: A process whose exit makes the lock stale.
        type: int
      wait:
        description: Seconds to wait for another holder.
        type: float
        required: true
      stale_after:
        description: Seconds after which a held lock counts as stale and is taken over.
        type: float
        required: true
  budget:
    description:
      - Read the host's restart budget (as M(beatsync.ops.restart_budget) with C(action=check)),
        after O(lock) and before the probes, into RV(restart_budget). Read only.
    type: dict
    suboptions:
      path:
        description: The budget's state file.
        type: path
        required: true
      limit:
        description: Restarts allowed in O(budget.window).
        type: int
        required: true
      window:
        description: The window in seconds.
        type: int
        required: true
  release_lock:
    description:
      - Give the repair lock back after the probes (only when O(release_lock.owner) holds it), into
        RV(lock_released). For a repair's last diagnosis, when nothing of the repair follows it.
        Not in check mode.
    type: dict
    suboptions:
      path:
        description: The lock file.
        type: path
        required: true
      owner:
        description: The owner that took it.
        type: str
        required: true
  show:
    description:
      - Print RV(msg) for the person running the play (one block per host), as the
        P(beatsync.ops.diagnose#role) role does. Off by default, so output meant for a program
        (an ad-hoc run, the JSON callback) stays the result alone.
    type: bool
    default: false
notes:
  - The outside check needs the controller (or AWX execution environment) to reach the host's
    port; from a bastion use M(beatsync.ops.external_probe) delegated there and pass its RV(beatsync.ops.external_probe#module:probes) as O(external).
seealso:
  - module: beatsync.ops.external_probe
"""

EXAMPLES = r"""
- name: Diagnose BeatSync (same verdict and root cause as playbooks/diagnose.yml)
  beatsync.ops.diagnose:
  become: true
  register: beatsync_outcome

- name: Show the root cause and the plan
  ansible.builtin.debug:
    msg: "{{ beatsync_outcome.root_cause }}: {{ beatsync_outcome.plan | map(attribute='action') | list }}"

- name: Set port, service and timeout once for every member of the beatsync.ops.beatsync action group
  module_defaults:
    group/beatsync.ops.beatsync:
      port: 8080
      service: beatsync-staging.service
      timeout: 3
  block:
    - name: Diagnose a deployment on another port
      beatsync.ops.diagnose:
        app_dir: /srv/beatsync/backend
      become: true
"""

RETURN = r"""
verdict:
  description:
    - C(healthy) (no findings, or only warnings such as a customised unit while /api/health is healthy),
      C(degraded) (health fine but something is wrong), C(down) (health not healthy) or C(maintenance).
    - C(maintenance) when the file C(/etc/beatsync/maintenance) exists (its first line is the reason, in
      RV(maintenance)) or the host variable C(beatsync_maintenance) is set; the findings are still listed,
      RV(plan) is empty and the repair leaves the host untouched.
  returned: always
  type: str
  sample: degraded
root_cause:
  description: Code of the first finding, or null when healthy.
  returned: always
  type: str
  sample: docs_unavailable
findings:
  description:
    - Root cause first. Symptoms a finding explains are listed in its C(explains), not reported again.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Stable code, for example C(port_conflict_stale), C(missing_dependency), C(docs_unavailable).
      type: str
    severity:
      description: C(critical), C(error), C(warning) or C(info).
      type: str
    summary:
      description: One sentence for people.
      type: str
    evidence:
      description: The lines, fields or diff lines that prove it.
      type: list
      elements: str
    runbook_step:
      description: The runbook's step or repair option this corresponds to.
      type: str
    remedy:
      description: The remedy registry's C(action) with its arguments (for example C(port)), which C(playbooks/repair.yml) reads.
      type: dict
    explains:
      description: Codes of the symptoms this finding explains.
      type: list
      elements: str
  sample:
    - code: docs_unavailable
      severity: error
      summary: http://127.0.0.1:8000/docs answers 503 (docs_unavailable) while /api/health is healthy.
      evidence: ["GET http://127.0.0.1:8000/docs -> 503"]
      runbook_step: "diagnosis step 4: curl http://localhost:8000/docs; repair option 1 (restart)"
      remedy: {action: restart_for_docs, service: beatsync.service}
      explains: []
plan:
  description: The remedies the findings ask for, one step per action, in the runbook's order (the remedy registry's).
  returned: always
  type: list
  elements: dict
  sample:
    - {action: restart_for_docs, order: 6, remedy: {action: restart_for_docs, service: beatsync.service},
       codes: [docs_unavailable], summaries: ["..."]}
maintenance:
  description: The operator's maintenance marker, C({reason, source}), when the verdict is C(maintenance).
  returned: when the host is in maintenance
  type: dict
  sample: {reason: "disk swap until 14:00", source: /etc/beatsync/maintenance}
msg:
  description: What a person reads at a glance, one line per list item (host, verdict, findings, evidence, remedy).
  returned: always
  type: list
  elements: str
probes:
  description:
    - The raw facts of every probe that ran on the host, keyed C(unit), C(journal), C(port), C(process), C(health),
      C(docs), C(deps), C(firewall), and C(maintenance) (the marker file, C({active, reason, source})).
    - C(deps.checked_in) is V(module) when a unit that serves a healthy answer runs the interpreter the module runs in,
      as the module's user, and the requirements and syntax were checked in the module's own process (nothing is
      imported then; the facts are those the interpreter's own run gives), V(interpreter) when the unit's interpreter
      ran the check (see M(beatsync.ops.deps_probe)).
  returned: always
  type: dict
external:
  description: C(health) and C(docs) as seen from outside (empty when O(external_check=false)).
  returned: always
  type: dict
urls:
  description: The on-host probe URLs (C(base), C(health), C(docs)), IPv6 addresses in brackets.
  returned: always
  type: dict
  sample: {base: "http://127.0.0.1:8000", health: "http://127.0.0.1:8000/api/health", docs: "http://127.0.0.1:8000/docs"}
report:
  description: The host's row for the JSON report and the fleet summary (verdict, before, actions, findings, probes ...).
  returned: always
  type: dict
elapsed:
  description: Seconds the probes on the host took.
  returned: always
  type: float
elapsed_by_probe:
  description: Seconds each probe took.
  returned: always
  type: dict
lock:
  description:
    - The repair lock as O(lock) found and took it, the fields M(beatsync.ops.repair_lock) returns
      (C(acquired), C(holder), C(took_over), C(age), C(waited)).
  returned: when O(lock) is set
  type: dict
restart_budget:
  description:
    - The host's restart budget read under the lock, the fields M(beatsync.ops.restart_budget)
      returns for C(action=check) (C(used), C(left), C(limit), C(window), C(frees_at), C(frees_in), C(state_error)).
  returned: when O(budget) is set
  type: dict
lock_released:
  description: Whether O(release_lock) gave the lock back.
  returned: when O(release_lock) is set and not in check mode
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import diagnose_module_spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._diagnosis import run_probes
from ansible_collections.beatsync.ops.plugins.module_utils._maintenance import read_marker
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def _transaction_modules():
    """_lock and _budget, imported only by a diagnosis that takes the lock, reads the budget or
    gives the lock back (the repair's): a plain diagnosis does not compile them (~5 ms of the
    host's CPU; AnsiballZ ships them either way)."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.beatsync.ops.plugins.module_utils import _budget, _lock
    return _budget, _lock


def _transaction_problem(params, budget_utils, lock_utils):
    """The lock and budget options' own checks (their modules make the same ones)."""
    lock, budget = params["lock"], params["budget"]
    try:
        if lock:
            lock_utils.validate(lock["owner"], lock["wait"], lock["stale_after"], lock["owner_pid"])
    except ValueError as exc:
        return "lock: %s" % exc
    try:
        if budget:
            budget_utils.validate(budget["limit"], budget["window"])
    except ValueError as exc:
        return "budget: %s" % exc
    return None


def _begin_transaction(module, params, budget_utils, lock_utils):
    """Take the repair lock and read the restart budget (the repair's first diagnosis)."""
    problem = _transaction_problem(params, budget_utils, lock_utils)
    if problem:
        module.fail_json(msg=problem)
    transaction = {}
    if params["lock"]:
        lock = params["lock"]
        transaction["lock"], problem = lock_utils.take(lock["path"], lock["owner"], lock["wait"], lock["stale_after"],
                                                       owner_pid=lock["owner_pid"], check_mode=module.check_mode)
        if problem:
            module.fail_json(msg=problem, **transaction)
    if params["budget"]:
        budget = params["budget"]
        transaction["restart_budget"] = budget_utils.check(budget["path"], budget["limit"], budget["window"])
    return transaction


def _release_lock(module, release, lock_utils, transaction):
    """Give the repair lock back (the repair's last diagnosis, when no rollback can follow)."""
    try:
        transaction["lock_released"], dummy = lock_utils.release(release["path"], release["owner"])
    except (lock_utils.LockError, OSError) as exc:
        transaction["lock_released"] = False
        module.warn("the repair lock %s was not given back: %s" % (release["path"], exc))


def main():
    module = AnsibleModule(argument_spec=diagnose_module_spec(), supports_check_mode=True)
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    utils = _transaction_modules() if params["lock"] or params["budget"] or params["release_lock"] else None
    transaction = _begin_transaction(module, params, *utils) if utils else {}
    bins = {name: module.get_bin_path(name) for name in ("systemctl", "journalctl", "ufw")}
    try:
        facts = run_probes(params, bins)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc), **transaction)
    facts["probes"]["maintenance"] = read_marker()
    if params["release_lock"] and not module.check_mode:
        _release_lock(module, params["release_lock"], utils[1], transaction)
    module.exit_json(changed=False, **dict(facts, **transaction))


if __name__ == "__main__":
    main()
