# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: findings
short_description: Re-run the BeatSync findings engine on a diagnosis, with facts seen from outside
version_added: 0.1.0
description:
  - Takes the result of M(beatsync.ops.diagnose) and, optionally, what the controller saw when it
    requested C(/api/health) and C(/docs) on the host's public address, and returns the verdict,
    root cause and findings again, now including C(external_unreachable).
  - The same engine as the module's (plugins/module_utils/findings.py), run on the controller.
author:
  - BeatSync operations (@beatsync)
options:
  _input:
    description: The registered result of M(beatsync.ops.diagnose).
    type: dict
    required: true
  external:
    description: C(health) and C(docs) results of M(beatsync.ops.health_probe) and M(beatsync.ops.docs_probe) run from outside.
    type: dict
  service:
    description: The unit name the diagnosis used.
    type: str
    default: beatsync.service
  port:
    description: The port the diagnosis used.
    type: int
    default: 8000
  app_spec:
    description: The ASGI app spec the diagnosis used.
    type: str
    default: main:app
  app_dir:
    description: The app directory the diagnosis used.
    type: str
"""

EXAMPLES = r"""
- name: Combine the host's diagnosis with the controller's view
  ansible.builtin.set_fact:
    beatsync_outcome: "{{ beatsync_diagnosis | beatsync.ops.findings(external={'health': outside_health, 'docs': outside_docs}) }}"
"""

RETURN = r"""
_value:
  description: A dict with C(verdict), C(root_cause) and C(findings), as M(beatsync.ops.diagnose) returns them.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.module_utils.findings import build_findings


def findings(diagnosis, external=None, service="beatsync.service", port=8000, app_spec="main:app", app_dir=None):
    """The diagnosis's facts plus the outside view -> verdict, root_cause, findings."""
    if not isinstance(diagnosis, dict) or not isinstance(diagnosis.get("probes"), dict):
        raise AnsibleFilterError("beatsync.ops.findings expects the registered result of beatsync.ops.diagnose")
    facts = dict(diagnosis["probes"])
    if external:
        if not isinstance(external, dict):
            raise AnsibleFilterError("beatsync.ops.findings: external must be a dict with health and docs results")
        facts["external"] = external
    return build_findings(facts, service=service, port=int(port), app_spec=app_spec, app_dir=app_dir)


class FilterModule:
    """beatsync.ops filters."""

    def filters(self):
        return {"findings": findings}
