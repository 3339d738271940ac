"""beatsync.ops.repair_lock on a real lock file: the module in-process, and once through `ansible`."""

from __future__ import annotations

import json
import os
import time


def lock(run_module, path, owner, check=False, **extra):
    return run_module("repair_lock", {"path": str(path), "owner": owner, **extra}, check=check)


def test_take_hold_and_release(run_module, run_module_through_ansible, tmp_path):
    path = tmp_path / "repair.lock"
    # The real `ansible` CLI takes it (a module process that ends while the lock stays held).
    taken = lock(run_module_through_ansible, path, "run-1")
    assert taken["changed"] is True and taken["acquired"] is True
    assert json.loads(path.read_text())["owner"] == "run-1"
    again = lock(run_module, path, "run-1")
    assert again["changed"] is False and again["acquired"] is True
    released = lock(run_module, path, "run-1", state="absent")
    assert released["changed"] is True and released["released"] is True
    assert not path.exists()


def test_second_repair_waits_then_fails_naming_the_holder(run_module, tmp_path):
    path = tmp_path / "repair.lock"
    lock(run_module, path, "run-1")
    started = time.monotonic()
    other = lock(run_module, path, "run-2", wait=1.5)
    assert other["failed"] is True and other["acquired"] is False
    assert "another repair holds" in other["msg"] and "run-1" in other["msg"]
    assert time.monotonic() - started >= 1.5
    refused = lock(run_module, path, "run-2", state="absent")
    assert refused["changed"] is False and path.exists()


def test_stale_lock_is_taken_over(run_module, tmp_path):
    path = tmp_path / "repair.lock"
    path.write_text(json.dumps({"owner": "dead-run", "pid": 1}))
    old = time.time() - 7200
    os.utime(path, (old, old))
    taken = lock(run_module, path, "run-3", stale_after=3600, wait=0)
    assert taken["acquired"] is True and taken["took_over"]["owner"] == "dead-run"


def test_garbage_lock_file_is_a_held_lock_not_a_crash(run_module, tmp_path):
    path = tmp_path / "repair.lock"
    path.write_bytes(b"\xff\xfe not json")
    result = lock(run_module, path, "run-4", wait=0)
    assert result["failed"] is True and "another repair holds" in result["msg"]


def test_check_mode_takes_nothing(run_module, tmp_path):
    path = tmp_path / "repair.lock"
    result = lock(run_module, path, "run-5", check=True)
    assert result["changed"] is False and result["acquired"] is False
    assert not path.exists()


def test_bad_input(run_module, tmp_path):
    assert "wait must be >= 0" in lock(run_module, tmp_path / "l", "x", wait=-1)["msg"]
    assert "owner must not be empty" in lock(run_module, tmp_path / "l", "  ")["msg"]
    missing_dir = lock(run_module, tmp_path / "no" / "such" / "dir" / "l", "x")
    assert missing_dir["failed"] is True and "cannot create the lock file" in missing_dir["msg"]
