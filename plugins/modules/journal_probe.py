#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: journal_probe
short_description: Read and classify the last journal lines of the BeatSync unit
version_added: 0.1.0
description:
  - Runs C(journalctl -u <service> -n <lines> --no-pager -o short-iso) - the runbook's
    C(journalctl -u beatsync -n 50 --no-pager) - and returns the lines (each at most 2048 characters, control
    characters replaced) and what they say went wrong.
  - Each telling line becomes a classification with a C(kind), the C(line), and details. Kinds are
    V(missing_module) (C(ModuleNotFoundError), C(No module named uvicorn); with C(module)),
    V(syntax_error) (with C(file) and C(lineno) taken from the traceback), V(address_in_use) (C([Errno 98])),
    V(permission_denied), V(startup_failed) (uvicorn's C(Application startup failed) or C(Error loading ASGI app)),
    V(oom_killed), V(start_limit_hit), V(exec_failed) (C(status=203/EXEC)), V(chdir_failed)
    (C(status=200/CHDIR), the working directory is missing) and V(exception) (the last line of any other
    Python traceback).
  - On a host without a readable journal it returns RV(available=false) with an RV(error) instead of failing.
author:
  - BeatSync operations (@beatsync)
options:
  lines:
    description:
      - How many of the newest journal lines to read, from 1 to 1000.
    type: int
    default: 50
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.service
  - beatsync.ops.probe.timeout
seealso:
  - module: beatsync.ops.unit_probe
"""

EXAMPLES = r"""
- name: Why does beatsync.service keep restarting
  beatsync.ops.journal_probe:
    service: beatsync.service
    lines: 100
  register: journal
  become: true

- name: Name the missing modules
  ansible.builtin.debug:
    msg: "{{ journal.classifications | selectattr('kind', '==', 'missing_module') | map(attribute='module') | unique }}"
"""

RETURN = r"""
service:
  description: The unit name probed.
  returned: always
  type: str
  sample: beatsync.service
available:
  description: Whether the journal could be read.
  returned: always
  type: bool
  sample: true
lines:
  description: The journal lines read, oldest first (C(-- No entries --) style marker lines left out).
  returned: always
  type: list
  elements: str
  sample: ["2026-11-30T04:19:05+0000 vm python3[102]: /usr/bin/python3: No module named uvicorn"]
classifications:
  description:
    - One entry per telling line, in log order (at most 200). Keys C(kind) and C(line) always; C(module), C(package)
      and C(name) for V(missing_module); C(file) and C(lineno) for V(syntax_error) (and, when known, for
      V(missing_module) and V(exception)); C(exception) and C(message) for V(syntax_error) and V(exception).
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "missing_module", "module": "uvicorn", "package": "uvicorn", "line": "... No module named uvicorn"}]
kinds:
  description: How many classifications of each kind.
  returned: always
  type: dict
  sample: {"missing_module": 3}
hint:
  description: A hint journalctl printed (for example that the user cannot see system messages), or V(null).
  returned: always
  type: str
  sample: null
error:
  description: Why the journal could not be read, or V(null).
  returned: always
  type: str
  sample: "no readable systemd journal on this host: No journal files were found. (journald is not running)"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import SERVICE, TIMEOUT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._journal import probe_journal
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=spec(SERVICE, TIMEOUT, dict(lines=dict(type="int", default=50))),
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_journal(journalctl_path=module.get_bin_path("journalctl"), **params)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
