#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: process_probe
short_description: Find the uvicorn processes serving BeatSync and the ones outside its systemd unit
version_added: 0.1.0
description:
  - Scans C(/proc) for processes that run O(pattern) (by default C(uvicorn)) with O(app_spec) (by default
    C(main:app)) as an argument, such as C(python3 -m uvicorn main:app --port 8000) or
    C(/venv/bin/uvicorn main:app).
  - The pattern must be the program itself (the executable, the C(-m) module or the script a Python
    interpreter runs), so shells and C(grep) commands that merely mention it, and the probe itself, never match.
  - For each process reports pid, parent pid, user, command line, working directory, start time, uptime,
    resident memory and the systemd unit whose cgroup holds it.
  - Lists as RV(stray) the matching processes that are not in O(service)'s cgroup, for example a copy started by
    hand (runbook option 3) and left running.
  - Replaces the runbook's C(ps aux | grep uvicorn).
author:
  - BeatSync operations (@beatsync)
options:
  pattern:
    description:
      - The program to look for, as an executable or script name (C(uvicorn)), a path, or a Python module run with C(-m).
    type: str
    default: uvicorn
  app_spec:
    description:
      - The application argument the program must also have, for example C(main:app).
      - An empty string matches any arguments.
    type: str
    default: main:app
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.service
"""

EXAMPLES = r"""
- name: Find the uvicorn processes serving main:app
  beatsync.ops.process_probe:
    pattern: uvicorn
    app_spec: main:app
    service: beatsync.service
  register: process_facts

- name: Warn about copies started by hand
  ansible.builtin.debug:
    msg: "uvicorn outside beatsync.service: {{ process_facts.stray }}"
  when: process_facts.stray | length > 0
"""

RETURN = r"""
pattern:
  description: The program looked for.
  returned: always
  type: str
  sample: uvicorn
app_spec:
  description: The application argument looked for.
  returned: always
  type: str
  sample: main:app
service:
  description: The unit name compared with each process's cgroup (C(.service) is added when no unit type is given).
  returned: always
  type: str
  sample: beatsync.service
count:
  description: How many matching processes were found.
  returned: always
  type: int
  sample: 1
stray:
  description: Pids of matching processes that are not in the cgroup of O(service).
  returned: always
  type: list
  elements: int
  sample: [5151]
error:
  description: Why no process could be looked at, or V(null).
  returned: always
  type: str
  sample: null
processes:
  description: The matching processes, by pid.
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: Process id.
      type: int
      sample: 4242
    ppid:
      description: Parent process id.
      type: int
      sample: 1
    uid:
      description: Effective uid.
      type: int
      sample: 0
    user:
      description: Effective user name (the uid as a string when it has no passwd entry).
      type: str
      sample: root
    name:
      description: Process name (C(/proc/<pid>/stat) comm).
      type: str
      sample: python3
    cmdline:
      description: The arguments.
      type: list
      elements: str
      sample: [/usr/bin/python3, -m, uvicorn, main:app, --host, 0.0.0.0, --port, '8000']
    cwd:
      description: Working directory, or V(null) when it cannot be read.
      type: str
      sample: /opt/beatsync/web_service/backend
    started_at:
      description: Start time, ISO 8601 UTC.
      type: str
      sample: '2026-01-02T03:04:05Z'
    uptime:
      description: Seconds since the process started.
      type: float
      sample: 3600.5
    rss_bytes:
      description: Resident memory in bytes.
      type: int
      sample: 52428800
    unit:
      description: The systemd service whose cgroup holds the process, or V(null).
      type: str
      sample: beatsync.service
    under_service:
      description: Whether RV(processes[].unit) is O(service).
      type: bool
      sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import SERVICE, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._probe_host import probe_process
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=spec(SERVICE, dict(
            pattern=dict(type="str", default="uvicorn"),
            app_spec=dict(type="str", default="main:app"),
        )),
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_process(pattern=params["pattern"], app_spec=params["app_spec"], service=params["service"])
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
