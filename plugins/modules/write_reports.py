#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the action plugin of the same name does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: write_reports
short_description: Write the per-host JSON reports and the fleet summary on the controller in one step
version_added: 0.1.0
description:
  - Writes one JSON file per host (C(<dir>/<host><suffix>.json)) and, when O(summary) is given,
    the Markdown fleet summary (C(<dir>/<summary_name>.md)), on the controller.
  - Runs as an action plugin in the controller's process; a fleet of any size costs one task and
    no module process, where a C(copy) delegated to C(localhost) per host costs a Python process
    per host.
  - Each file is written to a temporary file in O(dir) and renamed over the old one, so a reader
    never sees half a report.
  - Run it once per play (C(run_once=true)); it never touches a managed host.
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    support: full
    description:
      - Writes the reports in check mode too. They are the controller's output of a read-only
        diagnosis, not a change to a host; C(ansible-playbook playbooks/diagnose.yml --check) is
        expected to leave its reports behind.
  diff_mode:
    support: none
    description: Reports are output, not managed state.
  action:
    support: full
    description: Runs on the controller as an action plugin.
options:
  dir:
    description:
      - Directory on the controller for the reports; created (with parents) when missing, with O(dir_mode).
        An existing directory keeps its permissions.
    type: path
    required: true
  reports:
    description:
      - One dict per host. Each must have a C(host) key (the inventory name, used as the file name;
        it may not contain C(/) or be C(.) or C(..)). The whole dict is written as JSON.
    type: list
    elements: dict
    default: []
  suffix:
    description: Added to each host's file name before C(.json), for example C(-repair).
    type: str
    default: ""
  summary:
    description: Text of the fleet summary (Markdown). Not written when omitted.
    type: str
  summary_name:
    description: File name of the fleet summary, without C(.md).
    type: str
    default: fleet-summary
  mode:
    description:
      - Permissions of the files written, as an octal string. Reports carry host details (unit, processes,
        journal lines), so only the controller's user reads them unless the operator sets a wider mode.
    type: str
    default: "0600"
  dir_mode:
    description: Permissions of O(dir) when this task creates it, as an octal string.
    type: str
    default: "0700"
  redact:
    description:
      - Redact every report before it is written (C(Environment=) values and anything named like a password,
        token or key, in unit text, diffs, command lines and data). Diagnose results are already redacted; this
        also covers reports built by hand.
    type: bool
    default: true
notes:
  - Never reports C(changed). A report on the controller is not a change to a host, and
    C(molecule idempotence) or a scheduler would otherwise count every diagnosis as a change.
seealso:
  - module: beatsync.ops.diagnose
"""

EXAMPLES = r"""
- name: Write every host's report and the fleet summary
  beatsync.ops.write_reports:
    dir: beatsync-reports
    reports: "{{ ansible_play_hosts | map('extract', hostvars) | selectattr('beatsync_outcome.report', 'defined')
                 | map(attribute='beatsync_outcome.report') | list }}"
    summary: "# Fleet summary\n\n{{ ansible_play_hosts | join(', ') }}\n"
  run_once: true
"""

RETURN = r"""
dir:
  description: Absolute path of the report directory.
  returned: always
  type: str
  sample: /home/ops/beatsync-reports
files:
  description: Absolute paths of the files written, host reports first, then the summary.
  returned: always
  type: list
  elements: str
  sample: [/home/ops/beatsync-reports/web1.json, /home/ops/beatsync-reports/fleet-summary.md]
"""
