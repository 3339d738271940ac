#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: stop_listeners
short_description: Stop the diagnosed stale processes that hold a TCP port, re-checked at the moment of the kill
version_added: 0.1.0
description:
  - Stops a stale copy of BeatSync (for example one started by hand, runbook option 3) that holds the
    service's port, in one module run instead of a chain of C(kill) tasks.
  - At the moment it acts it looks again at every process that holds O(port). A process is signalled only when
    it is one of O(processes) as diagnosed (same start time, command line, working directory, and it still
    holds the diagnosed socket inode), or it holds the socket of such a process (a forked worker of the same copy).
  - A process in a systemd service's cgroup is never signalled, nor one in a scope other than a login
    session's C(session-N.scope) (a process of another unit is foreign, never stale; the O(service)'s own
    process is not a stale copy either), nor one in a mount namespace other than PID 1's (a container).
    When PID 1's mount namespace cannot be read, nothing is signalled.
  - Every holder that passes is signalled through a pidfd opened before the re-check (C(pidfd_open),
    C(pidfd_send_signal)), so a PID reused after the check cannot be hit. Where pidfds are not available
    the start time is read again right before each C(kill).
  - SIGTERM, then up to O(term_timeout) seconds for all of them to exit, then SIGKILL to those still running
    and up to O(kill_timeout) seconds more. The module fails only when a signalled process survives SIGKILL.
  - Processes that are skipped are reported with a code and a reason; skipping is not a failure. Whether the
    port is free afterwards is in RV(port_free).
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode every process is re-checked and reported as C(would_stop) or C(skipped); no signal is sent.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  port:
    description: The TCP port (1-65535) whose holders are looked at.
    type: int
    required: true
  processes:
    description:
      - The processes the diagnosis found holding O(port) and decided are stale, as seen then.
      - A process listed here that is gone, replaced by another process under the same PID, or no longer
        listening is skipped, never signalled.
    type: list
    elements: dict
    required: true
    suboptions:
      pid:
        description: Its process ID.
        type: int
        required: true
      start_time:
        description:
          - When it started, as the integer clock ticks since boot of field 22 of C(/proc/PID/stat) (exact),
            or the ISO 8601 UTC time the probes report as C(started_at) (to the second).
        type: raw
        required: true
      cmdline:
        description: Its command line, as a list of arguments or as one string joined by single spaces.
        type: raw
        required: true
      cwd:
        description: Its working directory (absolute path).
        type: str
        required: true
      inode:
        description: The inode of its listening socket on O(port).
        type: int
        required: true
  service:
    description:
      - The service whose own processes are never a stale copy (named in the refusal). A name without a
        unit type gets C(.service).
    type: str
    default: beatsync.service
  term_timeout:
    description: Seconds to wait after SIGTERM for every signalled process to exit before SIGKILL (0-600).
    type: float
    default: 10
  kill_timeout:
    description: Seconds to wait after SIGKILL before the module fails naming the survivors (0-600).
    type: float
    default: 5
notes:
  - Needs root to read other users' processes and to signal them.
  - The input for O(processes) is what a diagnosis saw; feeding a fresh reading of the same moment defeats the
    purpose of the re-check.
seealso:
  - module: beatsync.ops.port_probe
  - module: beatsync.ops.process_probe
"""

EXAMPLES = r"""
- name: Stop the stale copy the diagnosis found on port 8000
  beatsync.ops.stop_listeners:
    port: 8000
    service: beatsync.service
    processes:
      - pid: 4242
        start_time: 1234567
        cmdline: [/usr/bin/python3, -m, uvicorn, main:app, --host, 0.0.0.0, --port, "8000"]
        cwd: /opt/beatsync/web_service/backend
        inode: 987654
    term_timeout: 10
  register: stopped

- name: Fail when the port is still held
  ansible.builtin.assert:
    that: stopped.port_free
    fail_msg: "port 8000 still held: {{ stopped.processes | selectattr('action', 'equalto', 'skipped') | map(attribute='reason') | list }}"
"""

RETURN = r"""
port:
  description: The port looked at.
  returned: always
  type: int
  sample: 8000
processes:
  description:
    - One entry per diagnosed process and per process holding O(port) at the moment of the action.
    - C(action) is C(stopped) (it exited after the signals in C(signals)), C(would_stop) (check mode),
      C(skipped) (not signalled; C(code) and C(reason) say why), C(gone) (no longer running), or C(failed)
      (still running after SIGKILL).
    - C(code) of a skipped process is one of C(replaced) (another process has its PID), C(not_listening),
      C(not_diagnosed), C(service) (the service's own), C(foreign) (another unit's), C(namespace)
      (another mount namespace, or PID 1's unreadable), C(unreadable), C(protected).
    - C(seen) is what was read at the re-check (start_time in clock ticks, started_at, cmdline, cwd, inodes,
      cgroup (the v2 and v1 name=systemd paths), unit, mnt_ns); C(method) is C(pidfd) or C(kill).
  returned: always
  type: list
  elements: dict
  sample:
    - pid: 4242
      diagnosed: true
      holds_port: true
      action: stopped
      code: null
      reason: "the diagnosed process: same start time, command line, working directory and socket inode 987654"
      signals: [SIGTERM]
      method: pidfd
      seen: {start_time: 1234567, cwd: /opt/beatsync/web_service/backend, unit: null, cgroup: [/user.slice/user-0.slice/session-3.scope]}
stopped:
  description: PIDs that were signalled and exited.
  returned: always
  type: list
  elements: int
skipped:
  description: PIDs that were not signalled (see their C(reason)).
  returned: always
  type: list
  elements: int
not_stopped:
  description:
    - PIDs that still ran after SIGKILL (the module then fails).
    - Returned as C(failed) in 0.1.0, the key Ansible reserves for the task's own state (it warned "must be of type bool").
  returned: always
  type: list
  elements: int
port_free:
  description: Whether nothing listens on O(port) after the action (in check mode, before it).
  returned: always
  type: bool
listeners_after:
  description: The processes holding O(port) after the action, each C({pid, inodes}).
  returned: always
  type: list
  elements: dict
pidfd:
  description: Whether pidfds were available (otherwise the start time was re-read before each kill).
  returned: always
  type: bool
unowned_inodes:
  description: Listening socket inodes on O(port) whose process could not be found.
  returned: always
  type: list
  elements: int
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils import _stop
from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            port=dict(type="int", required=True),
            processes=dict(type="list", elements="dict", required=True, options=dict(
                pid=dict(type="int", required=True),
                start_time=dict(type="raw", required=True),
                cmdline=dict(type="raw", required=True),
                cwd=dict(type="str", required=True),
                inode=dict(type="int", required=True),
            )),
            service=dict(type="str", default="beatsync.service"),
            term_timeout=dict(type="float", default=10),
            kill_timeout=dict(type="float", default=5),
        ),
        supports_check_mode=True,
    )
    os.environ["LC_ALL"] = "C"
    params = module.params
    try:
        result = _stop.stop_listeners(params["port"], params["processes"], params["service"],
                                      params["term_timeout"], params["kill_timeout"], module.check_mode)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="cannot read who listens on port %s: %s" % (params["port"], exc))
    if result["not_stopped"]:
        module.fail_json(msg="pid(s) %s still run %ss after SIGKILL; port %d is still held"
                             % (", ".join(map(str, result["not_stopped"])), params["kill_timeout"], result["port"]), **result)
    verb = "would stop" if module.check_mode else "stopped"
    acted = [entry["pid"] for entry in result["processes"] if entry["action"] in ("stopped", "would_stop")]
    result["msg"] = "%s %s; skipped %s; port %d %s" % (
        verb, ", ".join(map(str, acted)) or "nothing",
        ", ".join("%d (%s)" % (entry["pid"], entry["code"]) for entry in result["processes"] if entry["action"] == "skipped") or "nothing",
        result["port"], "free" if result["port_free"] else "still held")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
