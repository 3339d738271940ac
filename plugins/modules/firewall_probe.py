#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: firewall_probe
short_description: Report whether UFW lets the BeatSync port and the SSH port in
version_added: 0.1.0
description:
  - Runs C(ufw status verbose) with C(LC_ALL=C) - the runbook's C(ufw status | grep 8000) - and reports whether UFW
    is installed and active, its default incoming policy, its rules, and whether TCP O(port) and the SSH port are
    allowed in, for IPv4 and IPv6 separately.
  - Rules are evaluated in order as UFW does (the first matching rule wins), including port ranges
    (C(8000:8010/tcp)), port lists, protocol-less rules, application profiles (C(OpenSSH) is port 22/tcp) and
    sources. A port counts as allowed when traffic from C(Anywhere) is let in; rules allowing only some sources are
    listed in RV(port_sources).
  - Changes nothing; C(ufw status) needs root, so run it with C(become).
author:
  - BeatSync operations (@beatsync)
options:
  ssh_port:
    description:
      - The SSH port that must stay reachable.
      - When omitted, the server port of the C(SSH_CONNECTION) the module runs under, else 22.
    type: int
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.port
  - beatsync.ops.probe.timeout
"""

EXAMPLES = r"""
- name: Is TCP 8000 open in UFW
  beatsync.ops.firewall_probe:
    port: 8000
  become: true
  register: fw

- name: Report a closed port
  ansible.builtin.debug:
    msg: "UFW blocks {{ fw.port }}/tcp (default {{ fw.default_incoming }})"
  when: fw.active and not fw.port_allowed_v4
"""

RETURN = r"""
installed:
  description: Whether the C(ufw) command exists.
  returned: always
  type: bool
  sample: true
active:
  description: Whether UFW is active; V(null) when not installed or its status could not be read.
  returned: always
  type: bool
  sample: true
default_incoming:
  description: Default incoming policy, V(deny), V(allow) or V(reject); V(null) when inactive or unknown.
  returned: always
  type: str
  sample: deny
port:
  description: The TCP port checked.
  returned: always
  type: int
  sample: 8000
port_allowed_v4:
  description: True when UFW lets TCP O(port) in over IPv4 from anywhere; false when not; V(null) when UFW is not installed or not active.
  returned: always
  type: bool
  sample: false
port_allowed_v6:
  description: The same as RV(port_allowed_v4) for IPv6.
  returned: always
  type: bool
  sample: false
port_sources:
  description: The sources (C(Anywhere) or a network) of every rule allowing O(port), by family (C(v4), C(v6)).
  returned: always
  type: dict
  sample: {"v4": ["10.0.0.0/8"], "v6": []}
ssh_port:
  description: The SSH port checked.
  returned: always
  type: int
  sample: 22
ssh_port_source:
  description: Where RV(ssh_port) came from, V(given), V(ssh_connection) or V(default).
  returned: always
  type: str
  sample: ssh_connection
ssh_client:
  description: The client address of C(SSH_CONNECTION), or V(null).
  returned: always
  type: str
  sample: 192.0.2.10
ssh_allowed:
  description: Whether UFW lets the SSH port in (from anywhere or from RV(ssh_client)); V(null) when UFW is not active.
  returned: always
  type: bool
  sample: true
rules:
  description:
    - The rules of C(ufw status verbose), in order, each with C(to), C(action) (allow, deny, reject, limit),
      C(direction) (in, out, fwd), C(from), C(comment), C(v6), C(ports) (list of [low, high, proto] or V(null) for
      every port), C(app), C(interface), C(to_address) and C(from_address).
  returned: always
  type: list
  elements: dict
  sample: [{"to": "8000/tcp", "action": "allow", "direction": "in", "from": "Anywhere", "v6": false, "ports": [[8000, 8000, "tcp"]]}]
ufw:
  description: Path of the C(ufw) command used, or V(null).
  returned: always
  type: str
  sample: /usr/sbin/ufw
error:
  description: Why the status could not be read (not installed, not root), or V(null).
  returned: always
  type: str
  sample: "ufw not found: UFW is not installed on this host"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import PORT, TIMEOUT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._probe_firewall import probe_firewall
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=spec(PORT, TIMEOUT, dict(ssh_port=dict(type="int"))),
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_firewall(ufw_path=module.get_bin_path("ufw"), **params)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
