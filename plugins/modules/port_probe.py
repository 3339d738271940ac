#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: port_probe
short_description: Find out who listens on a TCP port, from /proc
version_added: 0.1.0
description:
  - Reads C(/proc/net/tcp) and C(/proc/net/tcp6) for sockets in the LISTEN state on O(port), on any bind address,
    IPv4 and IPv6 (including v4-mapped addresses).
  - Maps each socket to the processes holding it by scanning the C(socket:[inode]) links in C(/proc/<pid>/fd),
    and reports the owner's pid, name, command line, user, working directory and systemd unit.
  - Replaces the runbook's C(netstat -tlnp | grep 8000) and C(lsof -i :8000); it uses neither netstat, ss nor lsof.
  - Tells "nothing listens" (RV(listening=false)) from "something listens but this probe may not see who"
    (RV(listening=true) with RV(owner_unknown=true)), which happens when it runs without the privilege to read
    other users' C(/proc/<pid>/fd).
author:
  - BeatSync operations (@beatsync)
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.port
"""

EXAMPLES = r"""
- name: Who listens on the BeatSync port
  beatsync.ops.port_probe:
    port: 8000
  register: port_facts

- name: Fail when something other than the service owns the port
  ansible.builtin.assert:
    that:
      - port_facts.listening
      - port_facts.listeners | map(attribute='unit') | select('equalto', 'beatsync.service') | list | length > 0
    fail_msg: "port 8000 is not served by beatsync.service: {{ port_facts.listeners }}"
"""

RETURN = r"""
port:
  description: The port probed.
  returned: always
  type: int
  sample: 8000
listening:
  description:
    - Whether any socket listens on O(port) (IPv4 or IPv6, any address).
    - V(null) only when C(/proc/net/tcp) could not be read at all (see RV(error)).
  returned: always
  type: bool
  sample: true
owner_unknown:
  description:
    - True when at least one listener's socket could not be traced to a process, usually because the probe
      runs without privilege to read other users' C(/proc/<pid>/fd).
  returned: always
  type: bool
  sample: false
denied:
  description: How many processes refused to show their file descriptors to the probe.
  returned: always
  type: int
  sample: 0
error:
  description: Why C(/proc/net/tcp) or C(/proc/net/tcp6) could not be read, or V(null).
  returned: always
  type: str
  sample: null
listeners:
  description: One entry per listening socket on O(port).
  returned: always
  type: list
  elements: dict
  contains:
    family:
      description: V(ipv4) (from C(/proc/net/tcp)) or V(ipv6) (from C(/proc/net/tcp6)).
      type: str
      sample: ipv4
    address:
      description: The bind address; V(0.0.0.0) or V(::) for any address, V(::ffff:a.b.c.d) for v4-mapped.
      type: str
      sample: 0.0.0.0
    port:
      description: The port.
      type: int
      sample: 8000
    inode:
      description: The socket's inode number.
      type: int
      sample: 123456
    uid:
      description: The uid that owns the socket (readable even when the process is not).
      type: int
      sample: 0
    pid:
      description: The process holding the socket (the lowest pid when several share it), or V(null) when unknown.
      type: int
      sample: 4242
    pids:
      description: Every visible process holding the socket (e.g. forked workers).
      type: list
      elements: int
      sample: [4242]
    name:
      description: The process name (C(/proc/<pid>/stat) comm), or V(null).
      type: str
      sample: python3
    cmdline:
      description: The process's arguments, or an empty list when unknown.
      type: list
      elements: str
      sample: [/usr/bin/python3, -m, uvicorn, main:app, --host, 0.0.0.0, --port, '8000']
    user:
      description: The process's effective user; when the process is unknown, the socket owner's user.
      type: str
      sample: root
    cwd:
      description: The process's working directory, or V(null) when it cannot be read.
      type: str
      sample: /opt/beatsync/web_service/backend
    unit:
      description: The systemd service whose cgroup holds the process, or V(null).
      type: str
      sample: beatsync.service
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import PORT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._probe_host import probe_port
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(argument_spec=spec(PORT), supports_check_mode=True)
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_port(port=params["port"])
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
