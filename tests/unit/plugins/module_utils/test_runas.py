# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_runas on this machine: real processes started as another user (needs root for the
switching tests), both ways of dropping privileges, -I for Python."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _runas

MODULE = Path(_runas.__file__)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
SHOW = ("import json, os, sys; print(json.dumps({'uid': os.getuid(), 'euid': os.geteuid(), 'gid': os.getgid(), "
        "'groups': sorted(os.getgroups()), 'isolated': sys.flags.isolated, 'path0': sys.path[0], "
        "'home': os.environ.get('HOME'), 'user': os.environ.get('USER'), 'cwd': os.getcwd(), "
        "'secret': os.environ.get('ROOT_ONLY_SECRET')}))")


# The test venv's interpreter may live where nobody cannot read; the system one does not.
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable


@pytest.fixture
def shared_dir():
    """A directory every user can enter (pytest's tmp_path is 0700 root's)."""
    path = tempfile.mkdtemp(prefix="beatsync-runas-", dir="/tmp")
    os.chmod(path, 0o755)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody here")


def test_resolve_identity_names_numbers_and_defaults():
    root = _runas.resolve_identity()
    assert (root["user"], root["uid"], root["gid"], root["error"]) == ("root", 0, 0, None)
    entry = nobody()
    by_name = _runas.resolve_identity("nobody")
    assert (by_name["uid"], by_name["gid"], by_name["home"]) == (entry.pw_uid, entry.pw_gid, entry.pw_dir)
    assert by_name["group"] == grp.getgrgid(entry.pw_gid).gr_name
    assert by_name["gid"] in by_name["groups"]
    assert _runas.resolve_identity(str(entry.pw_uid))["user"] == "nobody"
    assert _runas.resolve_identity(entry.pw_uid, "0")["gid"] == 0
    assert _runas.resolve_identity("root", "root")["group"] == "root"


def test_resolve_identity_errors_and_numeric_without_entry():
    assert "user 'no-such-user-x' does not exist" in _runas.resolve_identity("no-such-user-x")["error"]
    assert "group 'no-such-group-x' does not exist" in _runas.resolve_identity("root", "no-such-group-x")["error"]
    orphan = _runas.resolve_identity("54321")
    assert orphan["uid"] == 54321 and "Group= must be given" in orphan["error"]
    both = _runas.resolve_identity("54321", "54322")
    assert (both["uid"], both["gid"], both["groups"], both["error"]) == (54321, 54322, [54322], None)


def test_isolated_argv():
    assert _runas.isolated_argv(["/opt/venv/bin/python", "-c", "x"]) == ["/opt/venv/bin/python", "-I", "-c", "x"]
    assert _runas.isolated_argv(["python3.11", "-I", "x.py"]) == ["python3.11", "-I", "x.py"]
    assert _runas.isolated_argv(["/usr/bin/env", "python3"]) == ["/usr/bin/env", "python3"]
    assert _runas.is_python("/usr/bin/pypy3") and not _runas.is_python("/usr/bin/pythonista-tool")
    assert not _runas.is_python("")


def test_run_as_current_user_needs_nothing(tmp_path):
    result = _runas.run_as([sys.executable, "-c", SHOW], user=pwd.getpwuid(os.geteuid()).pw_name,
                           group=grp.getgrgid(os.getegid()).gr_name, cwd=str(tmp_path), env={"EXTRA": "1"})
    assert result["error"] is None and result["rc"] == 0, result
    seen = json.loads(result["stdout"])
    assert seen["uid"] == os.geteuid() and seen["isolated"] == 1 and seen["cwd"] == str(tmp_path)
    assert result["argv"][1] == "-I"
    assert result["switched"] in (False, True)


@needs_root
@pytest.mark.parametrize("method", ["auto", "subprocess", "preexec"])
def test_run_as_nobody(method, shared_dir, monkeypatch):
    entry = nobody()
    monkeypatch.setenv("ROOT_ONLY_SECRET", "do-not-pass")
    result = _runas.run_as([SYSTEM_PYTHON, "-c", SHOW], user="nobody", cwd=str(shared_dir), method=method)
    assert result["error"] is None and result["rc"] == 0, result
    seen = json.loads(result["stdout"])
    assert (seen["uid"], seen["euid"], seen["gid"]) == (entry.pw_uid, entry.pw_uid, entry.pw_gid)
    assert 0 not in seen["groups"]
    assert seen["isolated"] == 1 and seen["user"] == "nobody" and seen["home"] == entry.pw_dir
    assert seen["cwd"] == str(shared_dir)
    assert seen["secret"] is None                     # root's environment stays behind
    assert result["switched"] is True and result["uid"] == entry.pw_uid


@needs_root
def test_run_as_group_override_and_no_python_flag():
    result = _runas.run_as(["id", "-g"], user="nobody", group="root", python_isolated=False)
    assert result["rc"] == 0 and result["argv"] == ["id", "-g"] and result["stdout"].strip() == "0"
    result = _runas.run_as(["sh", "-c", "id -u; id -g"], user="nobody", group="0")
    assert result["stdout"].split() == [str(nobody().pw_uid), "0"]


@needs_root
@pytest.mark.parametrize("method", ["subprocess", "preexec"])
def test_unreadable_cwd_and_timeout(shared_dir, method):
    """WorkingDirectory= is entered as the user (as systemd does), so root's access does not count."""
    private = shared_dir / "private"
    private.mkdir(mode=0o700)
    result = _runas.run_as(["true"], user="nobody", cwd=str(private), method=method)
    assert result["rc"] is None and "cannot start true as nobody in %s" % private in result["error"]
    slow = _runas.run_as([SYSTEM_PYTHON, "-c", "import time; time.sleep(30)"], user="nobody", timeout=0.5)
    assert slow["timed_out"] and "timed out" in slow["error"] and slow["rc"] is not None


def test_errors_never_raise():
    assert _runas.run_as([], user="root")["error"] == "argv must be a non-empty list"
    assert "does not exist" in _runas.run_as(["true"], user="no-such-user-x")["error"]
    assert "method must be" in _runas.run_as(["true"], method="sudo")["error"]
    missing = _runas.run_as(["/nonexistent/binary"])
    assert missing["rc"] is None and "cannot start /nonexistent/binary" in missing["error"]
    assert _runas.run_as(["cat"], stdin="hello")["stdout"] == "hello"


@needs_root
def test_non_root_cannot_switch(shared_dir):
    """A process that is not root asks to run as root: refused with the reason."""
    shutil.copy(MODULE, shared_dir / "_runas.py")
    os.chmod(shared_dir / "_runas.py", 0o644)
    code = ("import json, sys; sys.path.insert(0, %r); import _runas; "
            "print(json.dumps(_runas.run_as(['true'], user='root')))" % str(shared_dir))
    result = _runas.run_as([SYSTEM_PYTHON, "-c", code], user="nobody")
    assert result["rc"] == 0, result
    inner = json.loads(result["stdout"])
    assert inner["rc"] is None and "not root" in inner["error"]
