#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ssh_ports
short_description: Find the TCP ports sshd listens on and the port of the current SSH connection, from /proc
version_added: 0.1.0
description:
  - Reads C(/proc/net/tcp) and C(/proc/net/tcp6) and the C(socket:[inode]) links in C(/proc/<pid>/fd).
  - RV(listen_ports) are the ports of every LISTEN socket held by an sshd process, whatever configured
    them (C(Port), C(ListenAddress host:port), C(Include)d files, command-line options).
  - RV(connection_port) is the local port of the SSH connection this module runs in. The module walks
    the parent chain of its own process (C(/proc/<pid>/stat)) up to the first sshd process holding an
    ESTABLISHED TCP socket; that socket is the operator's connection. Unlike C(SSH_CONNECTION) this
    survives C(become) (sudo's C(env_reset) drops the environment, not the process tree).
  - When the ancestor's descriptors cannot be read (sshd sessions are not dumpable, so this needs
    C(CAP_SYS_PTRACE), which root may lack inside a container), the port is taken from the established
    connections to the ports sshd listens on when they all share one port, else from C(SSH_CONNECTION) of the
    module's own environment (without become); otherwise RV(connection_port) stays V(null).
  - Read-only; the beatsync.ops.firewall role uses it to keep every way in open before enabling UFW.
  - Needs root (C(become)) to see other users' and root's sockets; without it, RV(denied) counts the
    processes it could not inspect and the lists may be incomplete.
  - An sshd started by systemd socket activation (C(ssh.socket)) has its listening socket held by
    systemd, not sshd, so it is not in RV(listen_ports); the live connection is still found.
author:
  - BeatSync operations (@beatsync)
options:
  process_names:
    description: Process names (C(/proc/<pid>/stat) comm) that count as the SSH server.
    type: list
    elements: str
    default: [sshd, sshd-session]
notes:
  - Supports check mode (it never changes anything).
  - Linux only (C(/proc)). Standard library only on the host.
"""

EXAMPLES = r"""
- name: Which ports must stay open for SSH
  beatsync.ops.ssh_ports:
  become: true
  register: ssh

- name: Show the port this play came in on
  ansible.builtin.debug:
    msg: "connected on {{ ssh.connection_port }}, sshd listens on {{ ssh.listen_ports }}"
"""

RETURN = r"""
listen_ports:
  description: Sorted TCP ports with a LISTEN socket held by an sshd process (IPv4 or IPv6).
  returned: always
  type: list
  elements: int
  sample: [2222]
listeners:
  description: One entry per sshd listening socket.
  returned: always
  type: list
  elements: dict
  contains:
    family:
      description: V(ipv4) or V(ipv6).
      type: str
    address:
      description: The bind address.
      type: str
      sample: 0.0.0.0
    port:
      description: The port.
      type: int
      sample: 2222
    pid:
      description: The sshd process holding the socket.
      type: int
    name:
      description: Its process name.
      type: str
      sample: sshd
connection_port:
  description: Local port of the SSH connection this module runs in, or V(null) when it does not run in one.
  returned: always
  type: int
  sample: 2222
connection:
  description: The SSH connection this module runs in, or V(null).
  returned: always
  type: dict
  contains:
    pid:
      description: The sshd process (an ancestor of the module) holding the connection.
      type: int
    name:
      description: Its process name.
      type: str
    family:
      description: V(ipv4) or V(ipv6).
      type: str
    local_address:
      description: Server address the client connected to.
      type: str
    local_port:
      description: Server port the client connected to (= RV(connection_port)).
      type: int
    remote_address:
      description: The client's address as the server sees it.
      type: str
    remote_port:
      description: The client's port.
      type: int
    method:
      description:
        - How the connection was found - V(the socket of the sshd ancestor) (exact); V(the only port with established
          connections to sshd) when the ancestor hides its descriptors (no C(CAP_SYS_PTRACE); the client is then
          unknown); V(SSH_CONNECTION of this process) (no become).
      type: str
ancestry:
  description: The module's process and its ancestors, nearest first (pid, ppid, name).
  returned: always
  type: list
  elements: dict
denied:
  description: Processes that did not show their file descriptors (run with become to see all).
  returned: always
  type: int
  sample: 0
errors:
  description: Files under C(/proc) that could not be read.
  returned: always
  type: list
  elements: str
evidence:
  description: What was read, in words (listeners, the session found, or why none).
  returned: always
  type: list
  elements: str
  sample:
    - sshd (pid 41) listens on 0.0.0.0 port 2222 (ipv4)
    - "this process (pid 900) runs in the SSH session of sshd (pid 812, ancestor): connection 10.88.0.1 port 51234 -> 10.88.0.5 port 2222"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._sshd import SSHD_NAMES, probe_ssh_ports


def main():
    module = AnsibleModule(
        argument_spec=dict(process_names=dict(type="list", elements="str", default=list(SSHD_NAMES))),
        supports_check_mode=True,
    )
    names = [name.strip() for name in module.params["process_names"] if name and name.strip()]
    if not names:
        module.fail_json(msg="process_names must name at least one process, got %r" % (module.params["process_names"],))
    bad = [name for name in names if len(name) > 15 or "/" in name]
    if bad:
        module.fail_json(msg="process_names must be process names (comm, at most 15 characters, no '/'), got %s"
                         % ", ".join(bad))
    facts = probe_ssh_ports(names=names)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
