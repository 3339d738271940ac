#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: repair_lock
short_description: Hold a per-host lock so two BeatSync repairs of one host cannot interleave
version_added: 0.1.0
description:
  - Takes a lock file with an owner and a time, and removes it again. A second repair of the same host waits up
    to O(wait) seconds, then fails naming the holder.
  - The lock lives in a root-only directory (default C(/run/beatsync-ops/), created mode 0700). The directory must
    be owned by the user running the module and not writable by group or others; a directory such as the
    world-writable C(/run/lock) is refused, since anyone could remove or forge a lock there.
  - A lock is taken over when it is stale, older than O(stale_after) seconds, taken before the host's last
    boot, or when the process it names as O(owner_pid) has exited. The takeover cannot remove a fresh lock another
    waiter has just made, every change happens under an exclusive C(flock) on a guard file next to the lock, and
    the lock's inode is compared again before it is removed.
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the lock is only inspected, never taken or removed, and no directory is created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  path:
    description: The lock file. Its directory is created (mode 0700) when missing; the directory's parent must exist.
    type: path
    default: /run/beatsync-ops/repair.lock
  state:
    description: C(present) takes the lock, C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description: Who holds it; releasing needs the same owner (or O(force)).
    type: str
    required: true
  owner_pid:
    description:
      - A process on the host that owns the lock while it runs (for example the C(ansible-playbook) process with a
        local connection, or an event-driven worker). When it has exited, the lock is stale and is taken over at
        once instead of after O(stale_after).
    type: int
  wait:
    description: Seconds to wait for another holder to finish.
    type: float
    default: 60
  stale_after:
    description: Seconds after which a held lock is considered abandoned.
    type: float
    default: 3600
  force:
    description: Release the lock even when another owner holds it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Take the repair lock
  beatsync.ops.repair_lock:
    owner: "repair-{{ tower_job_id | default(lookup('ansible.builtin.pipe', 'date +%s%N')) }}"
    wait: 120
  register: lock

- name: Release the repair lock
  beatsync.ops.repair_lock:
    owner: "{{ lock.holder.owner }}"
    state: absent
"""

RETURN = r"""
acquired:
  description: Whether this owner holds the lock now (in check mode, whether it already held it).
  returned: state is present
  type: bool
released:
  description: Whether the lock was removed.
  returned: state is absent
  type: bool
holder:
  description:
    - Who holds the lock, as read or written, C({owner, pid, since, since_epoch, boot_id}) and C(owner_pid),
      C(owner_start) when O(owner_pid) was given; C(unreadable=true) for a lock file that is not valid.
  returned: always
  type: dict
  sample: {owner: awx-4242, pid: 3121, since: "2026-12-01T10:00:00Z", since_epoch: 1796119200.0, boot_id: 0c5e...}
took_over:
  description: The abandoned holder whose stale lock was taken over, with its C(stale_reason), if any.
  returned: state is present
  type: dict
age:
  description: Seconds since the lock (this one or the holder's) was taken.
  returned: state is present
  type: float
waited:
  description: Seconds spent waiting for the lock.
  returned: state is present and not in check mode
  type: float
stale_reason:
  description: In check mode, why the current lock would be taken over (null when it is live or absent).
  returned: in check mode
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils import _lock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default=_lock.DEFAULT_PATH),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            owner=dict(type="str", required=True),
            owner_pid=dict(type="int"),
            wait=dict(type="float", default=60),
            stale_after=dict(type="float", default=3600),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        _lock.validate(params["owner"], params["wait"], params["stale_after"], params["owner_pid"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    path = params["path"]
    if params["state"] == "absent":
        if module.check_mode:
            module.exit_json(changed=False, released=False, holder=_lock.inspect(path, params["owner"])["holder"])
        try:
            released, holder = _lock.release(path, params["owner"], params["force"])
        except (_lock.LockError, OSError) as exc:
            module.fail_json(msg="cannot release the lock %s: %s" % (path, exc))
        module.exit_json(changed=released, released=released, holder=holder)
    result, problem = _lock.take(path, params["owner"], params["wait"], params["stale_after"],
                                 owner_pid=params["owner_pid"], check_mode=module.check_mode)
    if problem:
        module.fail_json(msg=problem, **result)
    result.setdefault("changed", False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
