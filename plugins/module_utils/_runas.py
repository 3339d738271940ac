# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command as a unit's User=/Group=, as systemd would start it.

PRIVATE to the collection: no compatibility promise for anything outside beatsync.ops.

Standard library only. The app's interpreter runs the app's code (``.pth`` files, imports):
it must not run as root when the unit does not.

- ``resolve_identity(user, group)``: names or numbers -> uid, gid and supplementary groups
  (systemd: Group= unset means the user's primary group; the user's group memberships are
  added, as initgroups() does).
- ``run_as(argv, user, group, ...)``: run argv with those ids (subprocess ``user=``,
  ``group=``, ``extra_groups=`` on Python 3.9+, else a preexec setgroups/setgid/setuid), in a
  small clean environment, with ``-I`` added for a Python interpreter. Never raises: the
  result says what went wrong.
"""

from __future__ import absolute_import, division, print_function

import grp
import os
import pwd
import re
import subprocess
import sys

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_OUTPUT_BYTES = 1024 * 1024
_PYTHON_RE = re.compile(r"^(python|pypy)[0-9.]*$")


def _lookup_user(user):
    text = str(user).strip()
    try:
        return pwd.getpwnam(text)
    except KeyError:
        pass
    if text.isdigit():
        try:
            return pwd.getpwuid(int(text))
        except KeyError:
            return None
    return None


def _lookup_group(group):
    text = str(group).strip()
    try:
        return grp.getgrnam(text)
    except KeyError:
        pass
    if text.isdigit():
        try:
            return grp.getgrgid(int(text))
        except KeyError:
            return None
    return None


def resolve_identity(user=None, group=None):
    """Who a unit with User=user and Group=group runs as.

    user/group: names or numeric ids (str or int); None or "" means unset (root, as systemd
    runs a system unit without User=). Returns {"user", "uid", "group", "gid", "groups"
    (supplementary gids, sorted), "home", "error"}; error names what cannot be resolved.
    """
    result = {"user": None, "uid": None, "group": None, "gid": None, "groups": [], "home": None, "error": None}
    user = None if user in (None, "") else user
    group = None if group in (None, "") else group
    entry = _lookup_user(user if user is not None else 0)
    if entry is None:
        if str(user).strip().isdigit():
            # systemd accepts a numeric User= without a passwd entry.
            result.update(user=str(user).strip(), uid=int(str(user).strip()))
        else:
            result["error"] = "user %r does not exist on this host" % (user,)
            return result
    else:
        result.update(user=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid, home=entry.pw_dir)
    if group is not None:
        gentry = _lookup_group(group)
        if gentry is None:
            if str(group).strip().isdigit():
                result.update(group=str(group).strip(), gid=int(str(group).strip()))
            else:
                result["error"] = "group %r does not exist on this host" % (group,)
                return result
        else:
            result.update(group=gentry.gr_name, gid=gentry.gr_gid)
    if result["gid"] is None:
        result["error"] = "user %r has no passwd entry, so Group= must be given" % (user,)
        return result
    if result["group"] is None:
        try:
            result["group"] = grp.getgrgid(result["gid"]).gr_name
        except KeyError:
            result["group"] = str(result["gid"])
    groups = set([result["gid"]])
    if entry is not None:
        try:
            groups.update(os.getgrouplist(entry.pw_name, entry.pw_gid))
        except (OSError, AttributeError):
            pass
    result["groups"] = sorted(groups)
    return result


def is_python(path):
    """Does argv[0] look like a Python interpreter (python3, python3.11, pypy3, venv python)?"""
    return bool(path) and bool(_PYTHON_RE.match(os.path.basename(str(path))))


def isolated_argv(argv):
    """argv with -I after a Python interpreter (unless already there): no user site, no
    PYTHON* variables, no script or current directory first on sys.path."""
    argv = [str(word) for word in argv]
    if argv and is_python(argv[0]) and "-I" not in argv[1:2]:
        return [argv[0], "-I"] + argv[1:]
    return argv


def clean_environment(identity, extra=None):
    """The environment a command gets: PATH, HOME, USER, LOGNAME, LC_ALL=C, plus extra."""
    env = {"PATH": DEFAULT_PATH, "LC_ALL": "C", "LANG": "C"}
    if identity.get("home"):
        env["HOME"] = identity["home"]
    if identity.get("user"):
        env["USER"] = env["LOGNAME"] = identity["user"]
    for key, value in (extra or {}).items():
        env[str(key)] = str(value)
    return env


def _demote(uid, gid, groups, cwd):
    def preexec():
        os.setgroups(groups)
        os.setgid(gid)
        os.setuid(uid)
        if cwd is not None:
            os.chdir(cwd)
    return preexec


def _enter(cwd):
    def preexec():
        os.chdir(cwd)
    return preexec


def run_as(argv, user=None, group=None, env=None, cwd=None, timeout=60.0, stdin=None, python_isolated=True,
           method="auto", max_bytes=MAX_OUTPUT_BYTES):
    """Run argv as User=user / Group=group (see resolve_identity) and wait for it.

    env: extra environment (on top of clean_environment). cwd: working directory (the
    unit's WorkingDirectory=). stdin: text for the command's standard input. python_isolated:
    add -I when argv[0] is a Python interpreter. method: "auto" (subprocess's user/group
    arguments on Python 3.9+, else preexec), "subprocess" or "preexec".

    Returns {"rc", "stdout", "stderr", "argv" (as run), "uid", "gid", "groups", "user",
    "group", "switched" (ids changed), "timed_out", "error"}; rc is None when it did not run.
    Switching ids needs root; running as the current user needs nothing.
    """
    result = {"rc": None, "stdout": "", "stderr": "", "argv": None, "uid": None, "gid": None, "groups": [],
              "user": None, "group": None, "switched": False, "timed_out": False, "error": None}
    if not argv or not isinstance(argv, (list, tuple)):
        result["error"] = "argv must be a non-empty list"
        return result
    identity = resolve_identity(user, group)
    result.update(uid=identity["uid"], gid=identity["gid"], groups=identity["groups"], user=identity["user"],
                  group=identity["group"])
    if identity["error"]:
        result["error"] = identity["error"]
        return result
    if method not in ("auto", "subprocess", "preexec"):
        result["error"] = "method must be auto, subprocess or preexec, not %r" % (method,)
        return result
    command = isolated_argv(argv) if python_isolated else [str(word) for word in argv]
    result["argv"] = command
    uid, gid, groups = identity["uid"], identity["gid"], identity["groups"]
    same = os.geteuid() == uid and os.getegid() == gid and sorted(set(os.getgroups()) | set([gid])) == groups
    kwargs = {}
    if not same:
        if os.geteuid() != 0:
            result["error"] = ("cannot run as %s:%s: this process runs as uid %d, not root"
                               % (identity["user"], identity["group"], os.geteuid()))
            return result
        result["switched"] = True
        if method == "subprocess" or (method == "auto" and sys.version_info >= (3, 9)):
            if sys.version_info < (3, 9):
                result["error"] = "method subprocess needs Python 3.9 or later"
                return result
            kwargs.update(user=uid, group=gid, extra_groups=groups)
            # subprocess changes directory BEFORE it drops privileges; systemd enters
            # WorkingDirectory= as the unit's user, so do that after the switch.
            if cwd is not None:
                kwargs["preexec_fn"] = _enter(cwd)
        else:
            kwargs["preexec_fn"] = _demote(uid, gid, groups, cwd)
        cwd_for_popen = None
    else:
        cwd_for_popen = cwd
    try:
        # Not AnsibleModule.run_command: it cannot change user, group or groups.
        proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
            command, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd_for_popen,
            env=clean_environment(identity, env), close_fds=True, **kwargs)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        where = (" in %s" % cwd) if cwd else ""
        result["error"] = "cannot start %s as %s%s: %s" % (command[0], identity["user"], where, exc)
        return result
    try:
        out, err = proc.communicate(input=stdin.encode("utf-8") if stdin is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        result["timed_out"] = True
        result["error"] = "timed out after %ss" % timeout
    result["rc"] = proc.returncode
    result["stdout"] = out[:max_bytes].decode("utf-8", errors="replace")
    result["stderr"] = err[:max_bytes].decode("utf-8", errors="replace")
    return result
