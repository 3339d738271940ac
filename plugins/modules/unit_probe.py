#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: unit_probe
short_description: Report the state of the BeatSync systemd unit and its drift from the canonical unit
version_added: 0.1.0
description:
  - Reads the unit's state with C(systemctl show) (not the C(systemctl status) text) - the runbook's
    C(systemctl status beatsync) - and reports C(LoadState), C(ActiveState), C(SubState), C(Result),
    C(ExecMainStatus), C(NRestarts), C(MainPID), C(UnitFileState), C(FragmentPath), C(ActiveEnterTimestamp),
    C(ExecStart) and C(WorkingDirectory) as facts.
  - Finds the Python interpreter the unit runs from C(ExecStart) (for example C(/usr/bin/python3) in
    C(/usr/bin/python3 -m uvicorn main:app)), or from the shebang of a console script such as C(.venv/bin/uvicorn).
  - When O(canonical_unit) is given, reads the installed unit file (C(FragmentPath), at most 64 KiB) - the runbook's
    C(cat /etc/systemd/system/beatsync.service) - and compares it with O(canonical_unit), ignoring trailing
    whitespace and blank lines; RV(drift) and RV(unit_diff) say whether and how they differ.
  - On a host without systemd (no C(systemctl), or PID 1 is not systemd) it returns RV(systemd=false) with an
    RV(error) instead of failing; an unknown unit gives RV(present=false).
author:
  - BeatSync operations (@beatsync)
options:
  canonical_unit:
    description:
      - The text the unit file should have, usually rendered from the C(beatsync.ops.service) role's template.
      - When omitted, no comparison is made and RV(drift) is V(null).
      - The EFFECTIVE unit is compared (C(systemctl cat), that is the unit file and its drop-ins, merged as systemd
        merges them), see RV(drift_items).
      - Never shown in logs (no_log), because its C(Environment=) values may be secrets.
    type: str
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.service
  - beatsync.ops.probe.timeout
seealso:
  - module: beatsync.ops.journal_probe
  - module: beatsync.ops.deps_probe
"""

EXAMPLES = r"""
- name: State of beatsync.service
  beatsync.ops.unit_probe:
  register: unit

- name: Compare the installed unit with the one the service role would install
  beatsync.ops.unit_probe:
    service: beatsync.service
    canonical_unit: "{{ lookup('ansible.builtin.template', 'beatsync.service.j2') }}"
  register: unit

- name: Show what differs
  ansible.builtin.debug:
    msg: "{{ unit.unit_diff }}"
  when: unit.drift | default(false)
"""

RETURN = r"""
service:
  description: The unit name probed (C(.service) added when it had no suffix).
  returned: always
  type: str
  sample: beatsync.service
systemd:
  description: True when systemd answered; false when it is not installed or not running as PID 1; V(null) when C(systemctl) failed otherwise.
  returned: always
  type: bool
  sample: true
present:
  description: Whether systemd knows the unit (C(LoadState) is not C(not-found)); V(null) when systemd did not answer.
  returned: always
  type: bool
  sample: true
load_state:
  description: C(LoadState), for example V(loaded), V(not-found), V(masked).
  returned: always
  type: str
  sample: loaded
active_state:
  description: C(ActiveState), for example V(active), V(activating), V(failed), V(inactive).
  returned: always
  type: str
  sample: active
sub_state:
  description: C(SubState), for example V(running), V(auto-restart), V(failed), V(dead).
  returned: always
  type: str
  sample: running
result:
  description: C(Result) of the last run, for example V(success), V(exit-code), V(oom-kill), V(start-limit-hit).
  returned: always
  type: str
  sample: success
exec_main_status:
  description: C(ExecMainStatus), the exit status (or signal) of the main process.
  returned: always
  type: int
  sample: 0
exec_main_code:
  description: C(ExecMainCode) (1 exited, 2 killed, 3 dumped).
  returned: always
  type: int
  sample: 0
n_restarts:
  description: C(NRestarts), how many times systemd restarted the unit automatically.
  returned: always
  type: int
  sample: 0
main_pid:
  description: C(MainPID), 0 when no main process runs.
  returned: always
  type: int
  sample: 4242
unit_file_state:
  description: C(UnitFileState), for example V(enabled) or V(disabled).
  returned: always
  type: str
  sample: enabled
fragment_path:
  description: C(FragmentPath), the unit file systemd loaded.
  returned: always
  type: str
  sample: /etc/systemd/system/beatsync.service
drop_in_paths:
  description: C(DropInPaths), drop-in files that change the unit (not part of the drift comparison).
  returned: always
  type: list
  elements: str
  sample: []
active_enter_timestamp:
  description: C(ActiveEnterTimestamp) as systemd prints it.
  returned: always
  type: str
  sample: Mon 2026-11-30 04:19:05 UTC
user:
  description: C(User) the service runs as, V(null) when not set (root).
  returned: always
  type: str
  sample: root
exec_start:
  description: The first C(ExecStart) command line.
  returned: always
  type: str
  sample: /usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000
exec_argv:
  description: RV(exec_start) split into words.
  returned: always
  type: list
  elements: str
  sample: [/usr/bin/python3, -m, uvicorn, main:app, --host, 0.0.0.0, --port, "8000"]
unit_file_exec_start:
  description: The C(ExecStart=) value as written in the unit file.
  returned: always
  type: str
  sample: /usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000
working_directory:
  description: C(WorkingDirectory) of the unit.
  returned: always
  type: str
  sample: /opt/beatsync/web_service/backend
interpreter:
  description: The Python interpreter the unit runs, from C(ExecStart) or a console script's shebang; V(null) when not found.
  returned: always
  type: str
  sample: /usr/bin/python3
interpreter_source:
  description: Where RV(interpreter) came from, V(exec_start) or V(shebang).
  returned: always
  type: str
  sample: exec_start
unit_file_read:
  description: Whether the unit file could be read.
  returned: always
  type: bool
  sample: true
group:
  description: C(Group=) of the unit, or V(null).
  returned: always
  type: str
effective_read:
  description: Whether C(systemctl cat) answered (else only the unit file was read and drop-ins could not be merged).
  returned: always
  type: bool
dropins:
  description: The drop-ins C(systemctl cat) printed, in the order systemd applies them.
  returned: always
  type: list
  elements: str
  sample: ["/etc/systemd/system/beatsync.service.d/override.conf"]
environment_names:
  description: The names the effective C(Environment=) sets (values are never returned).
  returned: always
  type: list
  elements: str
drift_items:
  description:
    - One entry per setting (ExecStart, WorkingDirectory, User, Group, Environment, ...) whose EFFECTIVE value differs
      from O(canonical_unit), with C(section), C(key), C(expected), C(actual) (C(Environment=) values redacted),
      C(in_dropin), C(sources) (C(path), C(lines), C(text), C(kind) V(dropin) or V(unit_file)) and C(describe), the line a
      person reads.
  returned: always
  type: list
  elements: dict
  sample: [{"key": "ExecStart", "in_dropin": true,
            "describe": "ExecStart= differs from the canonical unit: /etc/systemd/system/beatsync.service.d/override.conf line 3"}]
bind:
  description:
    - Where the effective C(ExecStart)'s uvicorn listens (C(--host)/C(--port), C(UVICORN_HOST)/C(UVICORN_PORT), uvicorn's
      defaults), with C(kind) (V(tcp), V(uds), V(fd)), C(host), C(port), C(addresses), C(loopback_only), C(source) and
      C(declared_by) (C(path), C(line), C(text), C(kind) of the assignment that says so); V(null) without a unit.
  returned: always
  type: dict
canonical_bind:
  description: The same for O(canonical_unit), or V(null).
  returned: always
  type: dict
drift:
  description:
    - True when the installed unit file or the effective unit (drop-ins included) differs from O(canonical_unit), false when it matches, V(null) when there was
      nothing to compare (no O(canonical_unit), unit not installed or unreadable).
  returned: always
  type: bool
  sample: false
unit_diff:
  description:
    - Unified diff from O(canonical_unit) to the installed file (at most 200 lines), empty when there is no drift.
    - Called C(diff) in the C(unit) facts of M(beatsync.ops.diagnose); renamed here because Ansible treats a
      top-level C(diff) result specially.
  returned: always
  type: str
  sample: "--- canonical beatsync.service\n+++ /etc/systemd/system/beatsync.service\n..."
error:
  description: What went wrong while probing (no systemd, unreadable unit file), or V(null).
  returned: always
  type: str
  sample: "systemd is not running on this host (PID 1 is not systemd): System has not been booted with systemd as init system (PID 1)."
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import SERVICE, TIMEOUT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._probe_systemd import probe_unit
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=spec(SERVICE, TIMEOUT, dict(canonical_unit=dict(type="str", no_log=True))),
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_unit(systemctl_path=module.get_bin_path("systemctl"), **params)
    facts["unit_diff"] = facts.pop("diff")
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
