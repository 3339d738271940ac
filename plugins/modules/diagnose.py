#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: diagnose
short_description: Run every BeatSync probe in one go and name the root cause
version_added: 0.1.0
description:
  - Runs all probes of the runbook's diagnosis in one module execution (one round trip per host)
    covering the unit (C(systemctl show) and drift against the canonical unit), journal, port owner, uvicorn
    processes, C(/api/health), C(/docs) and the OpenAPI document, Python dependencies and syntax,
    and UFW.
  - Turns the facts into RV(findings), root cause first, each with evidence, the runbook step it
    corresponds to and a machine-readable remedy that C(playbooks/repair.yml) acts on.
  - Changes nothing on the host.
author:
  - BeatSync operations (@beatsync)
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.timeout
  - beatsync.ops.probe.service
  - beatsync.ops.probe.port
  - beatsync.ops.probe.http_paths
options:
  host:
    description:
      - Address the HTTP probes connect to on the managed host.
    type: str
    default: 127.0.0.1
  app_dir:
    description: The application's directory (the unit's C(WorkingDirectory)).
    type: path
    default: /opt/beatsync/web_service/backend
  app_spec:
    description: The ASGI application uvicorn serves, as on its command line.
    type: str
    default: main:app
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
      - C(playbooks/diagnose.yml) renders it from the template of the P(beatsync.ops.service#role) role.
      - When omitted, drift is not checked.
    type: str
  journal_lines:
    description: How many of the unit's last journal lines to read and classify (1 to 1000).
    type: int
    default: 50
  ssh_port:
    description: SSH port whose UFW rule is checked. By default the port of the current SSH connection, else 22.
    type: int
  probes:
    description: Which probes to run. Findings that need a skipped probe are not reported.
    type: list
    elements: str
    choices: [unit, journal, port, process, health, docs, deps, firewall]
    default: [unit, journal, port, process, health, docs, deps, firewall]
seealso:
  - module: beatsync.ops.health_probe
  - module: beatsync.ops.docs_probe
  - module: beatsync.ops.unit_probe
"""

EXAMPLES = r"""
- name: Diagnose BeatSync
  beatsync.ops.diagnose:
  become: true
  register: beatsync_diagnosis

- name: Show the root cause
  ansible.builtin.debug:
    msg: "{{ beatsync_diagnosis.verdict }}: {{ beatsync_diagnosis.findings | map(attribute='summary') | list }}"

- name: Diagnose a deployment on another port, with drift checked against the role's template
  beatsync.ops.diagnose:
    port: 8080
    service: beatsync-staging.service
    app_dir: /srv/beatsync/backend
    canonical_unit: "{{ lookup('ansible.builtin.template', 'beatsync.service.j2') }}"
  become: true
"""

RETURN = r"""
verdict:
  description: C(healthy) (no findings), C(degraded) (health fine but something is wrong) or C(down) (health not healthy).
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
      description: Machine-readable action (C(action) plus arguments) for C(playbooks/repair.yml).
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
      remedy: {action: restart_for_docs}
      explains: []
probes:
  description: The raw facts of every probe that ran, keyed C(unit), C(journal), C(port), C(process), C(health), C(docs), C(deps), C(firewall).
  returned: always
  type: dict
elapsed:
  description: Seconds the whole diagnosis took.
  returned: always
  type: float
elapsed_by_probe:
  description: Seconds each probe took.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError
from ansible_collections.beatsync.ops.plugins.module_utils.diagnosis import ALL_PROBES, diagnose


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type="str", default="beatsync.service"),
            port=dict(type="int", default=8000),
            host=dict(type="str", default="127.0.0.1"),
            health_path=dict(type="str", default="/api/health"),
            docs_path=dict(type="str", default="/docs"),
            openapi_path=dict(type="str"),
            expected_status=dict(type="str", default="healthy"),
            timeout=dict(type="float", default=5),
            app_dir=dict(type="path", default="/opt/beatsync/web_service/backend"),
            app_spec=dict(type="str", default="main:app"),
            app_module=dict(type="str", default="main.py"),
            process_pattern=dict(type="str", default="uvicorn"),
            python=dict(type="path"),
            requirements_file=dict(type="str", default="requirements.txt"),
            modules=dict(type="list", elements="str", default=["fastapi", "uvicorn"]),
            canonical_unit=dict(type="str"),
            journal_lines=dict(type="int", default=50),
            ssh_port=dict(type="int"),
            probes=dict(type="list", elements="str", choices=list(ALL_PROBES), default=list(ALL_PROBES)),
        ),
        supports_check_mode=True,
    )
    bins = {name: module.get_bin_path(name) for name in ("systemctl", "journalctl", "ufw")}
    try:
        result = diagnose(module.params, bins)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
