# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to the collection: a per-host lock that outlives one process, so two repairs of
one host never interleave.

- The lock is a file holding its owner and time. Each Ansible task is its own process, so a
  flock() on the lock itself would be released at once; the file is held until removed.
- It lives in a root-only directory (default /run/beatsync-ops/, created 0700). The directory
  must be a real directory owned by the user running this and not writable by group or others;
  anything else (for example the world-writable /run/lock) is refused.
- The file appears with its whole content at once: it is written to a temporary file and
  hard-linked into place (link() fails when the lock exists).
- Every change (take, take over, release) happens under an exclusive flock() on a guard file
  next to the lock (``.<name>.guard``, never removed), held for milliseconds. So a waiter that
  decided a lock is stale cannot remove a FRESH lock another waiter has just made: the decision
  and the unlink happen under the guard, and the inode is compared again before the unlink.
- A lock is stale (taken over) when it is older than stale_after seconds, when it was taken
  before the host's last boot, or when the process it names as owner_pid has exited.

Standard library only.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import tempfile
import time

DEFAULT_PATH = "/run/beatsync-ops/repair.lock"
MAX_LOCK_BYTES = 4096
BOOT_ID = "/proc/sys/kernel/random/boot_id"


class LockError(Exception):
    """The lock cannot be used safely (directory, guard); the message says why."""


def boot_id():
    try:
        with open(BOOT_ID, encoding="ascii") as handle:
            return handle.read(64).strip() or None
    except OSError:
        return None


def process_start(pid):
    """Start time (clock ticks since boot) of a live process, None when gone or a zombie."""
    try:
        with open("/proc/%d/stat" % int(pid), encoding="utf-8", errors="replace") as handle:
            text = handle.read(4096)
    except (OSError, ValueError):
        return None
    fields = text[text.rfind(")") + 2:].split()
    if len(fields) < 20 or fields[0] in ("Z", "X") or not fields[19].isdigit():
        return None
    return int(fields[19])


def check_directory(directory, create=True):
    """Make sure directory is a safe lock directory (created 0700 when missing and create).

    Raises LockError naming the problem. Only the last component is created.
    """
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        if not create:
            return False
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise LockError("cannot create the lock directory %s: %s" % (directory, exc.strerror or exc))
        st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise LockError("the lock directory %s is not a directory (a symlink or a file)" % directory)
    if st.st_uid != os.geteuid():
        raise LockError("the lock directory %s is owned by uid %d, not by uid %d who runs this; use a root-only "
                        "directory such as /run/beatsync-ops" % (directory, st.st_uid, os.geteuid()))
    if st.st_mode & 0o022:
        raise LockError("the lock directory %s is writable by group or others (mode %04o), so anyone could remove "
                        "or forge the lock; use a root-only directory such as /run/beatsync-ops"
                        % (directory, stat.S_IMODE(st.st_mode)))
    return True


def _read(path):
    """(content, stat) of the lock: ({}, None) when absent; content {"unreadable": True} when garbage."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return {"unreadable": True, "problem": "the lock is a symlink"}, os.lstat(path)
        raise
    try:
        st = os.fstat(fd)
        data = os.read(fd, MAX_LOCK_BYTES)
    finally:
        os.close(fd)
    try:
        content = json.loads(data.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        content = None
    if not isinstance(content, dict):
        content = {"unreadable": True}
    return content, st


def read_lock(path):
    """The lock's content as a dict, {} when absent, {"unreadable": True} when garbage."""
    try:
        return _read(path)[0]
    except OSError:
        return {"unreadable": True}


def stale_reason(holder, st, stale_after, now=None):
    """Why a held lock is abandoned, or None when it is live."""
    now = time.time() if now is None else now
    age = now - st.st_mtime
    if age > stale_after:
        return "older than %ss (%ds)" % (stale_after, age)
    current_boot = boot_id()
    if holder.get("boot_id") and current_boot and holder["boot_id"] != current_boot:
        return "taken before the host's last boot"
    owner_pid = holder.get("owner_pid")
    if isinstance(owner_pid, int) and not isinstance(owner_pid, bool) and owner_pid > 0:
        start = process_start(owner_pid)
        if start is None:
            return "its owner process %d has exited" % owner_pid
        if isinstance(holder.get("owner_start"), int) and holder["owner_start"] != start:
            return "its owner process %d has exited (the pid now belongs to another process)" % owner_pid
    return None


class _Guard:
    def __init__(self, path):
        directory, name = os.path.split(path)
        self.path = os.path.join(directory, ".%s.guard" % name)
        self.fd = None

    def __enter__(self):
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(self.path, flags, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)  # held for milliseconds by whoever has it
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def _create(path, holder):
    """Link a complete lock file into place; False when a lock exists already."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".lock.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(json.dumps(holder, sort_keys=True))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def _holder(owner, owner_pid):
    now = time.time()
    holder = {"owner": owner, "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
              "since_epoch": round(now, 3), "boot_id": boot_id()}
    if owner_pid:
        holder["owner_pid"] = int(owner_pid)
        holder["owner_start"] = process_start(owner_pid)
    return holder


def _same_file(path, st):
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    return (now.st_ino, now.st_dev, now.st_mtime_ns) == (st.st_ino, st.st_dev, st.st_mtime_ns)


def acquire(path, owner, wait=60.0, stale_after=3600.0, poll=0.2, owner_pid=None):
    """Take the lock; returns (acquired, info). Waits up to `wait` seconds for a holder.

    info: {holder, already_held, took_over (the stale holder with its stale_reason, or None),
    age, waited}. Raises LockError for an unsafe directory, OSError when it cannot be created.
    """
    check_directory(os.path.dirname(path) or ".", create=True)
    if owner_pid and process_start(owner_pid) is None:
        raise LockError("owner_pid %s is not a running process" % owner_pid)
    started = time.monotonic()
    deadline = started + wait
    while True:
        with _Guard(path):
            holder, st = _read(path)
            if st is None:
                mine = _holder(owner, owner_pid)
                if _create(path, mine):
                    return True, {"holder": mine, "already_held": False, "took_over": None, "age": 0,
                                  "waited": round(time.monotonic() - started, 2)}
                continue  # a lock appeared without the guard (an older client): look again
            if holder.get("owner") == owner:
                return True, {"holder": holder, "already_held": True, "took_over": None,
                              "age": round(time.time() - st.st_mtime, 2), "waited": round(time.monotonic() - started, 2)}
            reason = stale_reason(holder, st, stale_after)
            if reason is not None and _same_file(path, st):
                os.unlink(path)
                mine = _holder(owner, owner_pid)
                if _create(path, mine):
                    took_over = dict(holder, stale_reason=reason)
                    return True, {"holder": mine, "already_held": False, "took_over": took_over, "age": 0,
                                  "waited": round(time.monotonic() - started, 2)}
                continue
        if time.monotonic() >= deadline:
            return False, {"holder": holder, "already_held": False, "took_over": None,
                           "age": round(time.time() - st.st_mtime, 2), "waited": round(time.monotonic() - started, 2)}
        time.sleep(min(poll, max(deadline - time.monotonic(), 0.01)))


def inspect(path, owner, stale_after=3600.0):
    """Read-only view for check mode: {holder, acquired, stale_reason, age, directory_ok}."""
    directory = os.path.dirname(path) or "."
    info = {"holder": {}, "acquired": False, "stale_reason": None, "age": None, "directory_problem": None}
    try:
        check_directory(directory, create=False)
    except LockError as exc:
        info["directory_problem"] = str(exc)
        return info
    try:
        holder, st = _read(path)
    except OSError:
        holder, st = {"unreadable": True}, None
    info["holder"] = holder
    if st is not None:
        info["acquired"] = holder.get("owner") == owner
        info["age"] = round(time.time() - st.st_mtime, 2)
        info["stale_reason"] = stale_reason(holder, st, stale_after)
    return info


def release(path, owner, force=False):
    """Remove the lock if this owner holds it (or force); returns (released, holder)."""
    directory = os.path.dirname(path) or "."
    if not check_directory(directory, create=False):
        return False, {}
    with _Guard(path):
        holder, st = _read(path)
        if st is None:
            return False, holder
        if holder.get("owner") != owner and not force:
            return False, holder
        if not _same_file(path, st):
            return False, holder
        os.unlink(path)
    return True, holder


def validate(owner, wait, stale_after, owner_pid=None):
    """The options of a lock task, checked once: raises ValueError naming the bad one."""
    if wait < 0 or stale_after <= 0:
        raise ValueError("wait must be >= 0 and stale_after > 0, got wait=%s stale_after=%s" % (wait, stale_after))
    if not str(owner).strip():
        raise ValueError("owner must not be empty")
    if owner_pid is not None and owner_pid < 1:
        raise ValueError("owner_pid must be a process id (>= 1), got %s" % owner_pid)


def take(path, owner, wait=60.0, stale_after=3600.0, owner_pid=None, check_mode=False):
    """What a task that takes the lock returns: (result, msg). msg is None when the lock is held
    by owner now (or, in check mode, would be taken), else the reason in a sentence, and result
    then says what was seen (holder, age, waited). Shared by beatsync.ops.repair_lock and
    beatsync.ops.diagnose (which takes it in the same run as its probes)."""
    if check_mode:
        info = inspect(path, owner, stale_after)
        if info["directory_problem"]:
            return {"acquired": False, "holder": {}}, "refusing the lock %s: %s" % (path, info["directory_problem"])
        return {"changed": False, "acquired": info["acquired"], "released": False, "holder": info["holder"],
                "stale_reason": info["stale_reason"], "age": info["age"]}, None
    try:
        acquired, info = acquire(path, owner, wait, stale_after, owner_pid=owner_pid)
    except LockError as exc:
        return {"acquired": False, "holder": {}}, (
            "cannot create the lock file %s: %s" % (path, exc) if "cannot create" in str(exc)
            else "refusing the lock %s: %s" % (path, exc))
    except OSError as exc:
        return {"acquired": False, "holder": {}}, "cannot create the lock file %s in %s: %s" % (
            path, os.path.dirname(path) or "/", exc.strerror or exc)
    if not acquired:
        holder = info["holder"]
        return {"acquired": False, "holder": holder, "age": info["age"], "waited": info["waited"]}, (
            "another repair holds %s (owner %s, pid %s, since %s); waited %ss. Try again later, or release it with "
            "state=absent force=true if that repair is known dead." % (
                path, holder.get("owner"), holder.get("pid"), holder.get("since"), wait))
    return {"changed": not info["already_held"], "acquired": True, "holder": info["holder"],
            "took_over": info["took_over"], "age": info["age"], "waited": info["waited"]}, None
