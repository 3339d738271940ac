# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ufw_ssh_guard
short_description: Tell, from UFW's own output, whether SSH ports get in and which rule decides
version_added: 0.1.0
description:
  - Parses C(ufw show added) (the stored rules, also while UFW is inactive) or C(ufw status verbose) and, for each
    port, finds the first rule that decides incoming TCP traffic to it, in UFW's first-match order.
  - V(allowed) when an C(allow) or C(limit) rule from anywhere (or from the client's network) comes first;
    V(blocked) when a C(deny) or C(reject) that can hit the client comes first (the rule is named);
    V(missing) when no rule decides (an allow appended now would).
  - Conservative both ways - an allow bound to an interface or one destination address does not count as allowing,
    a deny bound to one counts as blocking.
  - The parsing is plugins/module_utils/_ufw.py, shared with M(beatsync.ops.firewall_probe).
author:
  - BeatSync operations (@beatsync)
options:
  _input:
    description: The stdout of C(ufw show added) or C(ufw status verbose), run with C(LC_ALL=C).
    type: str
    required: true
  ports:
    description: TCP ports to evaluate.
    type: list
    elements: int
    required: true
  client_ip:
    description:
      - Address of the client (the operator's SSH connection as the server sees it). With it, only rules for its
        address family and rules whose source contains it count; without it, only rules from anywhere.
    type: str
"""

EXAMPLES = r"""
- name: Read the stored rules
  ansible.builtin.command:
    argv: [ufw, show, added]
  register: added
  changed_when: false

- name: Refuse when a deny rule comes before SSH
  ansible.builtin.assert:
    that: (added.stdout | beatsync.ops.ufw_ssh_guard([22, 2222])).blocked | length == 0
"""

RETURN = r"""
_value:
  description:
    - C(ports) (one dict per port - port, verdict, action, family, rule, and add for missing ports), C(allowed),
      C(missing) (lists of ports), C(add) (list of port and rule - V(allow), or V(limit) when a limit already covers one
      address family), C(blocked) (list of port and rule), C(source) and C(active).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.module_utils._ufw import ssh_guard


def ufw_ssh_guard(text, ports, client_ip=None):
    """UFW output + ports -> which ports get in, which are missing, which a rule blocks."""
    if not isinstance(text, str):
        raise AnsibleFilterError("beatsync.ops.ufw_ssh_guard expects the text of `ufw show added` or `ufw status verbose`")
    if isinstance(ports, (str, bytes)) or not hasattr(ports, "__iter__"):
        raise AnsibleFilterError("beatsync.ops.ufw_ssh_guard: ports must be a list of TCP ports, got %r" % (ports,))
    checked = []
    for port in ports:
        try:
            number = int(port)
        except (TypeError, ValueError):
            raise AnsibleFilterError("beatsync.ops.ufw_ssh_guard: ports must be TCP ports, got %r" % (port,))
        if not 1 <= number <= 65535:
            raise AnsibleFilterError("beatsync.ops.ufw_ssh_guard: ports must be 1-65535, got %d" % number)
        checked.append(number)
    return ssh_guard(text, checked, client_ip=client_ip or None)


class FilterModule:
    """beatsync.ops UFW filters."""

    def filters(self):
        return {"ufw_ssh_guard": ufw_ssh_guard}
