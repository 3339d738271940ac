# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A per-host lock file that outlives one process: two repairs of one host never interleave.

The lock is a file created with O_EXCL holding its owner and time. Each Ansible task is its
own process, so flock() would be released at once; an O_EXCL file is held until removed.
A lock older than stale_after seconds (a repair that died) is taken over.
"""

from __future__ import annotations

import json
import os
import time


def read_lock(path):
    """The lock's content as a dict, {} when absent, {"unreadable": True} when garbage."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.loads(handle.read(4096) or "{}")
        return data if isinstance(data, dict) else {"unreadable": True}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {"unreadable": True}


def _age(path):
    try:
        return time.time() - os.stat(path).st_mtime
    except OSError:
        return None


def acquire(path, owner, wait=60.0, stale_after=3600.0, poll=0.5):
    """Take the lock; returns (acquired, info). Waits up to `wait` seconds for a holder."""
    deadline = time.monotonic() + wait
    took_over = None
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = read_lock(path)
            if holder.get("owner") == owner:
                return True, {"holder": holder, "already_held": True, "took_over": None}
            age = _age(path)
            if age is not None and age > stale_after:
                took_over = holder
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                continue
            if time.monotonic() >= deadline:
                return False, {"holder": holder, "age": age, "already_held": False, "took_over": None}
            time.sleep(poll)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            holder = {"owner": owner, "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            handle.write(json.dumps(holder))
        return True, {"holder": holder, "already_held": False, "took_over": took_over}


def release(path, owner, force=False):
    """Remove the lock if this owner holds it (or force); returns (released, holder)."""
    holder = read_lock(path)
    if not holder:
        return False, holder
    if holder.get("owner") != owner and not force:
        return False, holder
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False, holder
    return True, holder
