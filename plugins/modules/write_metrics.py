#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the action plugin of the same name does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: write_metrics
short_description: Write a run's figures as a Prometheus text file for node_exporter's textfile collector
version_added: 0.1.0
description:
  - Writes the figures of a diagnose or repair run, one set per host, in the Prometheus text
    exposition format, on the controller, for node_exporter's textfile collector
    (C(--collector.textfile.directory)).
  - "Series (all gauges, each with HELP and TYPE lines, label values escaped):
    C(beatsync_verdict{host,verdict}) (1 for the verdict of this run, 0 for the other two of
    C(healthy), C(degraded), C(down)), C(beatsync_healthy{host}),
    C(beatsync_root_cause{host,code}) (C(none) when healthy), C(beatsync_restarts_used{host}),
    C(beatsync_restarts_left{host}), C(beatsync_seconds_to_healthy{host}) (hosts repaired in this run),
    C(beatsync_last_success_timestamp_seconds{host}) and C(beatsync_run_timestamp_seconds)."
  - Restarts come from the report's C(restarts_used) and C(restarts_left) (the host's restart
    budget); without them, from the repair role's C(beatsync_restarts_used) and
    C(beatsync_restart_budget) of that host.
  - The last success of a host that is not healthy now is kept from the file this run replaces.
  - The file is written to a temporary file in the same directory (mode 0644) and renamed over
    the old one, so the collector never reads half a file.
  - Runs as an action plugin in the controller's process; run it once per play (C(run_once=true)).
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    support: full
    description:
      - Writes the file in check mode too; like the reports, it is the controller's output of a
        read-only diagnosis, not a change to a host.
  diff_mode:
    support: none
    description: Metrics are output, not managed state.
  action:
    support: full
    description: Runs on the controller as an action plugin.
options:
  path:
    description:
      - The file to write, ending in C(.prom), in a directory that exists (the textfile collector's;
        it is not created).
    type: path
    required: true
  reports:
    description:
      - One dict per host, as the diagnose role keeps them (C(beatsync_report)). Each needs C(host)
        and C(verdict) (C(healthy), C(degraded) or C(down)); C(root_cause), C(before),
        C(restarts_used), C(restarts_left), C(detected_at), C(healthy_at) and C(seconds_to_healthy)
        are used when present.
    type: list
    elements: raw
    default: []
  detected_at:
    description:
      - Unix time the failure was detected, for C(beatsync_seconds_to_healthy) of hosts that were not
        healthy before this run and are now. Event-Driven Ansible can pass the event's C(failing_since).
      - Default the start of the C(ansible-playbook) run (its first diagnosis detected the failure).
    type: raw
  restart_budget:
    description: Restart budget for hosts whose report and variables name none (for C(beatsync_restarts_left)).
    type: raw
notes:
  - Never reports C(changed).
  - A bad directory, a path not ending in C(.prom) or a malformed report fail the task with a
    message naming it; the previous file is left as it was.
seealso:
  - module: beatsync.ops.write_reports
  - name: node_exporter textfile collector
    description: How node_exporter reads *.prom files.
    link: https://github.com/prometheus/node_exporter#textfile-collector
"""

EXAMPLES = r"""
- name: Write the run's figures for node_exporter
  beatsync.ops.write_metrics:
    path: /var/lib/node_exporter/textfile_collector/beatsync.prom
    reports: "{{ ansible_play_hosts_all | map('extract', hostvars) | selectattr('beatsync_outcome.report', 'defined')
                 | map(attribute='beatsync_outcome.report') | list }}"
  run_once: true
  delegate_to: localhost

# In the collection's playbooks: set the variable, the fleet summary task writes the file
# ansible-playbook beatsync.ops.diagnose -e beatsync_metrics_file=/var/lib/node_exporter/textfile_collector/beatsync.prom
"""

RETURN = r"""
path:
  description: Absolute path of the file written.
  returned: success
  type: str
  sample: /var/lib/node_exporter/textfile_collector/beatsync.prom
series:
  description: Number of samples written.
  returned: success
  type: int
  sample: 16
"""
