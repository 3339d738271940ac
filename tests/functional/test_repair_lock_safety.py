"""beatsync.ops.repair_lock: the root-only directory, takeover that cannot remove a fresh lock,
waiting, owner_pid; with real concurrent processes (ansible runs and forked workers)."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from testlib import ansible_env

ANSIBLE = str(Path(sys.executable).parent / "ansible")


def lock(run_module, path, owner, check=False, **extra):
    return run_module("repair_lock", {"path": str(path), "owner": owner, **extra}, check=check)


def spawn_lock(path, owner, **extra):
    args = {"path": str(path), "owner": owner, **extra}
    return subprocess.Popen([ANSIBLE, "localhost", "-c", "local", "-m", "beatsync.ops.repair_lock", "-a", json.dumps(args)],
                            env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result_of(proc):
    out, err = proc.communicate(timeout=300)
    try:
        return json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("no JSON from ansible (rc=%s)\n%s\n%s" % (proc.returncode, out[-3000:], err[-3000:]))


def stale_lock(path, owner="dead-run"):
    path.write_text(json.dumps({"owner": owner, "pid": 1}))
    old = time.time() - 7200
    os.utime(path, (old, old))


def test_directory_is_created_root_only(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "repair.lock"
    taken = lock(run_module, path, "run-1")
    assert taken["acquired"] is True and taken["holder"]["owner"] == "run-1" and taken["holder"]["boot_id"]
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and path.parent.stat().st_uid == os.geteuid()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert lock(run_module, path, "run-1", state="absent")["released"] is True and not path.exists()


def test_unsafe_directories_are_refused(run_module, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /run/lock
    refused = lock(run_module, shared / "repair.lock", "run-1", wait=0)
    assert refused["failed"] is True and "writable by group or others (mode 1777)" in refused["msg"]
    assert not (shared / "repair.lock").exists()
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    os.chown(other, 65534, 65534)
    refused = lock(run_module, other / "repair.lock", "run-1", wait=0)
    assert refused["failed"] is True and "owned by uid 65534" in refused["msg"]
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    refused = lock(run_module, tmp_path / "link" / "repair.lock", "run-1", wait=0)
    assert refused["failed"] is True and "not a directory" in refused["msg"]
    checked = lock(run_module, shared / "repair.lock", "run-1", check=True)
    assert checked["failed"] is True and "refusing the lock" in checked["msg"]


def test_check_mode_creates_nothing_and_names_a_stale_lock(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "repair.lock"
    assert lock(run_module, path, "run-1", check=True)["acquired"] is False
    assert not path.parent.exists()
    path.parent.mkdir(mode=0o700)
    stale_lock(path)
    before = path.read_bytes()
    checked = lock(run_module, path, "run-1", check=True)
    assert checked["changed"] is False and checked["holder"]["owner"] == "dead-run"
    assert "older than" in checked["stale_reason"] and path.read_bytes() == before


def test_concurrent_ansible_runs_one_winner(tmp_path):
    path = tmp_path / "beatsync-ops" / "repair.lock"
    procs = [spawn_lock(path, "run-%d" % number, wait=0) for number in range(4)]
    results = [result_of(proc) for proc in procs]
    winners = [result for result in results if result.get("acquired")]
    assert len(winners) == 1
    assert all("another repair holds" in result["msg"] for result in results if not result.get("acquired"))
    assert json.loads(path.read_text())["owner"] == winners[0]["holder"]["owner"]


def test_concurrent_ansible_runs_take_over_a_stale_lock_once(tmp_path):
    path = tmp_path / "beatsync-ops" / "repair.lock"
    path.parent.mkdir(mode=0o700)
    stale_lock(path)
    procs = [spawn_lock(path, "run-%d" % number, wait=0) for number in range(4)]
    results = [result_of(proc) for proc in procs]
    winners = [result for result in results if result.get("acquired")]
    assert len(winners) == 1 and winners[0]["took_over"]["owner"] == "dead-run"
    assert json.loads(path.read_text())["owner"] == winners[0]["holder"]["owner"]


def _race(path, owner, barrier, queue):
    # pylint: disable=import-outside-toplevel
    from ansible_collections.beatsync.ops.plugins.module_utils import _lock
    barrier.wait()
    acquired, info = _lock.acquire(path, owner, wait=0, stale_after=3600)
    queue.put((owner, acquired, (info["took_over"] or {}).get("owner")))


def test_stale_takeover_never_removes_a_fresh_lock(tmp_path):
    """Many processes find the same stale lock at once: exactly one takes it over, and the
    lock on disk is the winner's (no waiter removed the fresh lock another had just made).

    A property check on real processes: the window of the old race (stat, then unlink) is
    microseconds wide and does not show reliably on a small machine; the guarantee itself is
    the guard flock under which every takeover decides and unlinks (see _lock's docstring)."""
    directory = tmp_path / "beatsync-ops"
    directory.mkdir(mode=0o700)
    path = directory / "repair.lock"
    context = multiprocessing.get_context("fork")
    for round_number in range(10):
        stale_lock(path, "dead-%d" % round_number)
        barrier, queue = context.Barrier(8), context.Queue()
        workers = [context.Process(target=_race, args=(str(path), "w%d-%d" % (round_number, number), barrier, queue))
                   for number in range(8)]
        for worker in workers:
            worker.start()
        outcomes = [queue.get(timeout=60) for _worker in workers]
        for worker in workers:
            worker.join(timeout=60)
        winners = [outcome for outcome in outcomes if outcome[1]]
        assert len(winners) == 1, outcomes
        assert winners[0][2] == "dead-%d" % round_number
        assert json.loads(path.read_text())["owner"] == winners[0][0]
        path.unlink()


def test_a_waiter_gets_the_lock_when_the_holder_releases(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "repair.lock"
    assert lock(run_module, path, "first")["acquired"] is True
    assert lock(run_module, path, "third", wait=0)["failed"] is True
    waiter = spawn_lock(path, "second", wait=120)
    assert lock(run_module, path, "first", state="absent")["released"] is True
    second = result_of(waiter)
    assert second["acquired"] is True and second["took_over"] is None
    assert json.loads(path.read_text())["owner"] == "second"


def test_lock_of_an_exited_owner_pid_is_taken_over_at_once(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "repair.lock"
    owner = subprocess.Popen(["sleep", "600"])
    try:
        taken = lock(run_module, path, "with-owner", owner_pid=owner.pid)
        assert taken["acquired"] is True and taken["holder"]["owner_pid"] == owner.pid
        held = lock(run_module, path, "other", wait=0)
        assert held["failed"] is True and "with-owner" in held["msg"]
    finally:
        owner.kill()
        owner.wait()
    after = lock(run_module, path, "other", wait=0)
    assert after["acquired"] is True and after["took_over"]["owner"] == "with-owner"
    assert "exited" in after["took_over"]["stale_reason"]
    assert "not a running process" in lock(run_module, path, "x", owner_pid=owner.pid)["msg"]
