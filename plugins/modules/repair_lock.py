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
  - Creates a lock file atomically (C(O_EXCL)) with an owner and a time, and removes it again.
  - A second repair of the same host waits up to O(wait) seconds, then fails naming the holder.
  - A lock older than O(stale_after) seconds (a repair that died) is taken over.
author:
  - BeatSync operations (@beatsync)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the lock is only inspected, never taken or removed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  path:
    description: The lock file.
    type: path
    default: /run/lock/beatsync-repair.lock
  state:
    description: C(present) takes the lock, C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description: Who holds it; releasing needs the same owner (or O(force)).
    type: str
    required: true
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
    owner: "{{ ansible_run_tags | join(',') }}-{{ lookup('ansible.builtin.pipe', 'date +%s%N') }}"
  register: lock

- name: Release the repair lock
  beatsync.ops.repair_lock:
    owner: "{{ lock.holder.owner }}"
    state: absent
"""

RETURN = r"""
acquired:
  description: Whether this owner holds the lock now (always false in check mode for a free lock).
  returned: state is present
  type: bool
released:
  description: Whether the lock was removed.
  returned: state is absent
  type: bool
holder:
  description: The lock's owner, pid and time as read or written.
  returned: always
  type: dict
took_over:
  description: The abandoned holder whose stale lock was taken over, if any.
  returned: state is present
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils import _lock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/run/lock/beatsync-repair.lock"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            owner=dict(type="str", required=True),
            wait=dict(type="float", default=60),
            stale_after=dict(type="float", default=3600),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["wait"] < 0 or params["stale_after"] <= 0:
        module.fail_json(msg="wait must be >= 0 and stale_after > 0, got wait=%s stale_after=%s" % (params["wait"], params["stale_after"]))
    if not params["owner"].strip():
        module.fail_json(msg="owner must not be empty")
    if module.check_mode:
        holder = _lock.read_lock(params["path"])
        module.exit_json(changed=False, acquired=holder.get("owner") == params["owner"], released=False, holder=holder)
    if params["state"] == "absent":
        released, holder = _lock.release(params["path"], params["owner"], params["force"])
        module.exit_json(changed=released, released=released, holder=holder)
    directory = params["path"].rsplit("/", 1)[0] or "/"
    try:
        acquired, info = _lock.acquire(params["path"], params["owner"], params["wait"], params["stale_after"])
    except OSError as exc:
        module.fail_json(msg="cannot create the lock file %s in %s: %s" % (params["path"], directory, exc.strerror or exc))
    if not acquired:
        holder = info["holder"]
        module.fail_json(
            msg="another repair holds %s (owner %s, pid %s, since %s); waited %ss. Try again later, or release it with "
                "state=absent force=true if that repair is known dead." % (
                    params["path"], holder.get("owner"), holder.get("pid"), holder.get("since"), params["wait"]),
            acquired=False, holder=holder)
    module.exit_json(changed=not info["already_held"], acquired=True, holder=info["holder"], took_over=info["took_over"])


if __name__ == "__main__":
    main()
