# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to the collection: a restart budget kept on the host, shared by every entry point.

A small JSON state file (default /var/lib/beatsync-ops/restarts.json) records each restart any
run made (CLI, AWX, EDA): ``{"version": 1, "restarts": [{"at": epoch, "at_iso": ..., "run_id":
..., "source": ...}, ...]}``. At most ``limit`` restarts count in the last ``window`` seconds.

- The directory is created 0700 and must be owned by the user running this (root) and not
  writable by group or others; the file is written 0600, atomically (temporary file, fsync,
  rename), while holding an exclusive flock() on ``<file>.lock`` next to it, so two runs that
  consume at the same time never exceed the budget.
- A state file that cannot be trusted (corrupt JSON, wrong structure, a symlink, owned by
  another user, writable by group or others, unreadable) makes the budget count as SPENT: no
  restart is allowed until an operator looks at it and removes or repairs it. Resetting it
  silently would let a host that breaks again and again be restarted forever; the state error
  is reported with the file's path instead.
- Entries dated in the future (a clock that jumped back) count as inside the window until they
  are older than it.
- Reading (``check``) never writes, never creates the directory and needs no lock (the file is
  only ever replaced whole, by rename).

Standard library only.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import stat
import tempfile
import time

DEFAULT_PATH = "/var/lib/beatsync-ops/restarts.json"
VERSION = 1
MAX_STATE_BYTES = 1024 * 1024
MAX_ENTRIES = 1000            # newest entries kept in the file
KEEP_SECONDS = 7 * 24 * 3600  # entries kept at least this long (or the window, if longer)
MAX_WINDOW = 7 * 24 * 3600
MAX_LIMIT = 1000


# The options of a task that counts restarts on the budget (beatsync.ops.restart_budget and
# beatsync.ops.restart), documented once by the beatsync.ops.budget doc fragment.
ARGUMENT_SPEC = dict(
    path=dict(type="path", default=DEFAULT_PATH),
    limit=dict(type="int", default=3),
    window=dict(type="int", default=1800),
    run_id=dict(type="str"),
    source=dict(type="str", default=""),
    lock_timeout=dict(type="float", default=30),
)


class BudgetError(Exception):
    """A refusal or a failure with a machine-readable code and the budget as seen."""

    def __init__(self, code, msg, budget=None):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.budget = budget or {}


def iso(epoch):
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def validate(limit, window, lock_timeout=30.0):
    """Raise ValueError naming the option when limit, window or lock_timeout is out of range."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError("limit must be an integer from 1 to %d, got %r" % (MAX_LIMIT, limit))
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
        raise ValueError("window must be a number of seconds from 1 to %d, got %r" % (MAX_WINDOW, window))
    if not isinstance(lock_timeout, (int, float)) or isinstance(lock_timeout, bool) or not 0 <= lock_timeout <= 600:
        raise ValueError("lock_timeout must be from 0 to 600 seconds, got %r" % (lock_timeout,))


def _trusted(st, what, path):
    """None when st is owned by this user and not writable by group/others, else why not."""
    if st.st_uid != os.geteuid():
        return "%s %s is owned by uid %d, not by uid %d who runs this" % (what, path, st.st_uid, os.geteuid())
    if st.st_mode & 0o022:
        return "%s %s is writable by group or others (mode %04o)" % (what, path, stat.S_IMODE(st.st_mode))
    return None


def check_directory(directory, create=False):
    """None when directory is a safe state directory (created 0700 when create), else why not."""
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        if not create:
            return None  # nothing recorded yet; reading is fine
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            return "cannot create the state directory %s: %s" % (directory, exc.strerror or exc)
        try:
            st = os.lstat(directory)
        except OSError as exc:
            return "cannot read the state directory %s: %s" % (directory, exc.strerror or exc)
    except OSError as exc:
        return "cannot read the state directory %s: %s" % (directory, exc.strerror or exc)
    if not stat.S_ISDIR(st.st_mode):
        return "the state directory %s is not a directory (a symlink or a file)" % directory
    return _trusted(st, "the state directory", directory)


def read_state(path):
    """(entries, error): the recorded restarts, and why the file cannot be trusted (or None)."""
    directory = os.path.dirname(path) or "."
    problem = check_directory(directory, create=False)
    if problem:
        return [], problem
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return [], None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return [], "the state file %s is a symlink" % path
        return [], "cannot read the state file %s: %s" % (path, exc.strerror or exc)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return [], "the state file %s is not a regular file" % path
        problem = _trusted(st, "the state file", path)
        if problem:
            return [], problem
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        return [], "cannot read the state file %s: %s" % (path, exc.strerror or exc)
    finally:
        os.close(fd)
    if len(data) > MAX_STATE_BYTES:
        return [], "the state file %s is larger than %d bytes" % (path, MAX_STATE_BYTES)
    try:
        state = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [], "the state file %s is not valid JSON: %s" % (path, exc)
    if not isinstance(state, dict) or state.get("version") != VERSION or not isinstance(state.get("restarts"), list):
        return [], "the state file %s does not have the expected form {\"version\": %d, \"restarts\": [...]}" % (path, VERSION)
    entries = []
    for number, entry in enumerate(state["restarts"]):
        at = entry.get("at") if isinstance(entry, dict) else None
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at) or at < 0:
            return [], "the state file %s has an entry without a valid time (restarts[%d])" % (path, number)
        entries.append({"at": float(at), "at_iso": iso(at), "run_id": str(entry.get("run_id", "")),
                        "source": str(entry.get("source", ""))})
    return entries, None


def summarize(entries, limit, window, now=None, state_error=None):
    """The budget as a result dict: used, left, limit, window, frees_at, frees_in, restarts, state_error."""
    now = time.time() if now is None else now
    inside = sorted((entry for entry in entries if entry["at"] > now - window), key=lambda entry: entry["at"])
    used = len(inside)
    frees = None
    if state_error:
        left = 0
    else:
        left = max(limit - used, 0)
        if left == 0:
            # The slot that frees first: when enough of the oldest entries have left the window.
            frees = inside[used - limit]["at"] + window
    return {
        "used": used, "left": left, "limit": limit, "window": window,
        "frees_at": iso(frees), "frees_in": int(max(frees - now, 0) + 0.999) if frees is not None else None,
        "restarts": inside, "state_error": state_error, "now": iso(now),
    }


def check(path, limit, window, now=None):
    """The budget as it stands (read-only)."""
    validate(limit, window)
    entries, error = read_state(path)
    result = summarize(entries, limit, window, now, error)
    result["path"] = path
    return result


def _refusal(result, path):
    if result["state_error"]:
        return BudgetError(
            "restart_budget_state_invalid",
            "restart budget refused: %s. The budget counts as spent until an operator checks and removes or "
            "repairs %s." % (result["state_error"], path), result)
    return BudgetError(
        "restart_budget_exhausted",
        "restart budget spent: %d restart(s) in the last %ds (limit %d); the next one is allowed at %s (in %ss)."
        % (result["used"], result["window"], result["limit"], result["frees_at"], result["frees_in"]), result)


class _Flock:
    def __init__(self, path, timeout):
        self.path, self.timeout, self.fd = path, timeout, None

    def __enter__(self):
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(self.path, flags, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    raise BudgetError("restart_budget_busy", "another run held %s for more than %ss" % (self.path, self.timeout))
                time.sleep(0.05)

    def __exit__(self, *exc):
        os.close(self.fd)  # closing releases the flock


def _write(path, entries, window, now):
    keep_after = now - max(window, KEEP_SECONDS)
    kept = [entry for entry in entries if entry["at"] > keep_after][-MAX_ENTRIES:]
    state = {"version": VERSION, "restarts": [
        {"at": round(entry["at"], 3), "at_iso": iso(entry["at"]), "run_id": entry["run_id"], "source": entry["source"]}
        for entry in kept]}
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".restarts.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(json.dumps(state, indent=1, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def consume(path, limit, window, run_id, source="", check_mode=False, lock_timeout=30.0, now=None):
    """Record one restart for run_id if the budget allows; returns the budget after it.

    Raises BudgetError with code restart_budget_exhausted (spent), restart_budget_state_invalid
    (the state file cannot be trusted), restart_budget_busy (lock wait timed out) or
    restart_budget_unwritable. In check mode nothing is written and the result says whether
    the restart would be allowed.
    """
    validate(limit, window, lock_timeout)
    if not isinstance(run_id, str) or not run_id.strip():
        raise ValueError("run_id must be a non-empty string naming the run (for example the AWX job id), got %r" % (run_id,))
    if check_mode:
        result = check(path, limit, window, now)
        if result["left"] == 0:
            raise _refusal(result, path)
        result["consumed"] = False
        return result
    directory = os.path.dirname(path) or "."
    problem = check_directory(directory, create=True)
    if problem:
        raise BudgetError("restart_budget_state_invalid", "restart budget refused: %s" % problem,
                          dict(summarize([], limit, window, now, problem), path=path))
    try:
        with _Flock(path + ".lock", lock_timeout):
            now = time.time() if now is None else now
            entries, error = read_state(path)
            result = summarize(entries, limit, window, now, error)
            result["path"] = path
            if result["left"] == 0:
                raise _refusal(result, path)
            entries.append({"at": now, "at_iso": iso(now), "run_id": run_id.strip(), "source": (source or "").strip()})
            _write(path, entries, window, now)
    except OSError as exc:
        raise BudgetError("restart_budget_unwritable", "cannot record the restart in %s: %s" % (path, exc.strerror or exc))
    result = summarize(entries, limit, window, now)
    result.update(path=path, consumed=True)
    return result
