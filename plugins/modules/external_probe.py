#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the action plugin of the same name does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: external_probe
short_description: Request a host's /api/health and /docs from the controller, in the controller's own process
version_added: 0.1.0
description:
  - The runbook's "test external access" check (C(curl http://SERVER_IP:8000/docs) from another
    machine), done by the controller for each host.
  - Runs as an action plugin inside the controller's worker process, with the same probe code
    as M(beatsync.ops.diagnose) (health and docs probes, bounded timeouts). Unlike a task
    delegated to C(localhost), it starts no module process, so the outside check adds almost
    nothing to a fleet run.
  - Delegated (C(delegate_to)) to a host other than the controller, it runs
    M(beatsync.ops.diagnose) with the health and docs probes there instead, so the requests
    leave from that machine (a bastion, a monitoring host).
  - Returns facts only (the C(health) and C(docs) probes); M(beatsync.ops.diagnose) takes them as its
    O(beatsync.ops.diagnose#module:external) option and names the root cause. M(beatsync.ops.diagnose)
    makes the same check from the controller by itself; this module is for a bastion.
  - Changes nothing anywhere.
author:
  - BeatSync operations (@beatsync)
extends_documentation_fragment:
  - beatsync.ops.probe.timeout
  - beatsync.ops.probe.port
  - beatsync.ops.probe.http_paths
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  action:
    support: full
    description: Runs on the controller as an action plugin; delegated elsewhere it runs a module there.
options:
  host:
    description:
      - Address of the managed host as seen from the controller (its public or fleet address).
    type: str
    required: true
notes:
  - Not delegated, or delegated to C(localhost), the requests leave from the controller (or the
    AWX execution environment). The P(beatsync.ops.diagnose#role) role delegates it to
    C(beatsync_external_probe_host) when that is not the controller.
seealso:
  - module: beatsync.ops.diagnose
"""

EXAMPLES = r"""
- name: Request /api/health and /docs from outside the host
  beatsync.ops.external_probe:
    host: "{{ ansible_host | default(inventory_hostname) }}"
    port: 8000
    timeout: 5
  register: beatsync_external

- name: The same check from a bastion (runs beatsync.ops.diagnose there)
  beatsync.ops.external_probe:
    host: "{{ ansible_host | default(inventory_hostname) }}"
  delegate_to: bastion.example.com
  register: beatsync_external

- name: Name the root cause with what the bastion saw
  beatsync.ops.diagnose:
    external: "{{ beatsync_external.probes }}"
"""

RETURN = r"""
probes:
  description: The raw results of the C(health) and C(docs) probes (C(reachable), C(status), C(error), C(elapsed) ...).
  returned: always
  type: dict
  sample:
    health: {reachable: true, status: 200, healthy: true, error: null, elapsed: 0.004}
    docs: {reachable: true, status: 503, ok: false, error: "HTTP 503", elapsed: 0.003}
elapsed:
  description: Seconds both probes took.
  returned: always
  type: float
probed_from:
  description: C(controller), or the host the task was delegated to.
  returned: always
  type: str
  sample: controller
"""
