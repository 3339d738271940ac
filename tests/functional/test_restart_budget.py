"""beatsync.ops.restart_budget through real `ansible` runs on localhost, on a real state file."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testlib import ansible_env

ANSIBLE = str(Path(sys.executable).parent / "ansible")


def budget(run_module, path, action="check", check=False, **extra):
    return run_module("restart_budget", {"path": str(path), "action": action, **extra}, check=check)


def state(path):
    return json.loads(Path(path).read_text())


def write_state(path, ats):
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "restarts": [
        {"at": at, "run_id": "old-%d" % number, "source": "cli"} for number, at in enumerate(ats)]}))
    path.chmod(0o600)


def test_budget_spent_across_separate_runs(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "restarts.json"
    fresh = budget(run_module, path)
    assert fresh["used"] == 0 and fresh["left"] == 3 and fresh["window"] == 1800 and fresh["frees_at"] is None
    assert not path.parent.exists()  # check never creates anything
    for number in range(3):  # three runs (CLI, AWX, EDA), each its own ansible process
        done = budget(run_module, path, "consume", run_id="run-%d" % number, source=["cli", "awx", "eda"][number])
        assert done["changed"] is True and done["consumed"] is True and done["used"] == number + 1
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry["source"] for entry in state(path)["restarts"]] == ["cli", "awx", "eda"]
    refused = budget(run_module, path, "consume", run_id="run-4")
    assert refused["failed"] is True and refused["code"] == "restart_budget_exhausted"
    assert refused["left"] == 0 and refused["consumed"] is False and refused["frees_at"]
    assert refused["frees_at"] in refused["msg"] and "restart budget spent" in refused["msg"]
    first = state(path)["restarts"][0]["at"]
    assert refused["frees_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first + 1800))
    assert len(state(path)["restarts"]) == 3
    seen = budget(run_module, path)
    assert seen["left"] == 0 and seen["frees_in"] > 0 and [entry["run_id"] for entry in seen["restarts"]] == ["run-0", "run-1", "run-2"]


def test_window_expiry_from_the_timestamps_in_the_file(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "restarts.json"
    now = time.time()
    write_state(path, [now - 4000, now - 1000, now - 10])  # the first is outside the 1800 s window
    seen = budget(run_module, path)
    assert seen["used"] == 2 and seen["left"] == 1
    assert budget(run_module, path, "consume", run_id="r")["used"] == 3
    refused = budget(run_module, path, "consume", run_id="r2")
    assert refused["code"] == "restart_budget_exhausted"
    assert refused["frees_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(round(now - 1000, 3) + 1800))
    # a shorter window: the entry from 1000 s ago no longer counts
    assert budget(run_module, path, window=600)["used"] == 2
    assert budget(run_module, path, "consume", run_id="r3", window=600, limit=3)["consumed"] is True


def test_check_mode_never_writes(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "restarts.json"
    would = budget(run_module, path, "consume", check=True, run_id="x")
    assert would["changed"] is True and would["consumed"] is False and would["left"] == 3
    assert not path.parent.exists()
    write_state(path, [time.time()] * 3)
    before = path.read_bytes()
    refused = budget(run_module, path, "consume", check=True, run_id="x")
    assert refused["code"] == "restart_budget_exhausted"
    assert path.read_bytes() == before and sorted(os.listdir(path.parent)) == ["restarts.json"]


@pytest.mark.parametrize("content", [b"\xff not json", b"[]", b'{"version": 1, "restarts": [{"at": "yesterday"}]}'])
def test_corrupt_state_counts_as_spent_and_is_left_for_an_operator(run_module, tmp_path, content):
    path = tmp_path / "beatsync-ops" / "restarts.json"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(content)
    path.chmod(0o600)
    seen = budget(run_module, path)
    assert seen.get("failed") is not True and seen["left"] == 0 and str(path) in seen["state_error"]
    refused = budget(run_module, path, "consume", run_id="x")
    assert refused["failed"] is True and refused["code"] == "restart_budget_state_invalid"
    assert "until an operator" in refused["msg"] and "Traceback" not in refused["msg"]
    assert path.read_bytes() == content


def test_untrusted_state_is_refused(run_module, tmp_path):
    path = tmp_path / "beatsync-ops" / "restarts.json"
    write_state(path, [])
    path.chmod(0o666)
    assert "writable by group or others" in budget(run_module, path)["state_error"]
    path.chmod(0o600)
    path.parent.chmod(0o777)
    refused = budget(run_module, path, "consume", run_id="x")
    assert refused["code"] == "restart_budget_state_invalid" and "state directory" in refused["msg"]
    path.parent.chmod(0o700)
    target = tmp_path / "elsewhere.json"
    target.write_text('{"version": 1, "restarts": []}')
    path.unlink()
    path.symlink_to(target)
    assert "symlink" in budget(run_module, path)["state_error"]


def test_bad_input(run_module, tmp_path):
    path = tmp_path / "s" / "restarts.json"
    assert "limit must be an integer from 1 to 1000, got 0" in budget(run_module, path, limit=0)["msg"]
    assert "window must be a number of seconds" in budget(run_module, path, window=0)["msg"]
    assert "run_id" in budget(run_module, path, "consume")["msg"]
    assert "run_id must be a non-empty string" in budget(run_module, path, "consume", run_id="  ")["msg"]


def test_concurrent_ansible_runs_never_exceed_the_budget(tmp_path):
    path = tmp_path / "beatsync-ops" / "restarts.json"
    procs = []
    for number in range(5):
        args = {"path": str(path), "action": "consume", "limit": 2, "run_id": "ansible-%d" % number}
        procs.append(subprocess.Popen([ANSIBLE, "localhost", "-c", "local", "-m", "beatsync.ops.restart_budget",
                                       "-a", json.dumps(args)], env=ansible_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, _err = proc.communicate(timeout=300)
        results.append(json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"])
    assert sum(1 for result in results if result.get("consumed")) == 2
    assert sorted(result.get("code") for result in results if not result.get("consumed")) == ["restart_budget_exhausted"] * 3
    assert len(state(path)["restarts"]) == 2


def _consume(path, barrier, queue):
    # pylint: disable=import-outside-toplevel
    from ansible_collections.beatsync.ops.plugins.module_utils import _budget
    barrier.wait()
    try:
        _budget.consume(path, 3, 1800, "proc-%d" % os.getpid())
        queue.put("consumed")
    except _budget.BudgetError as exc:
        queue.put(exc.code)


def test_many_processes_consuming_at_once(tmp_path):
    path = str(tmp_path / "beatsync-ops" / "restarts.json")
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(12), context.Queue()
    workers = [context.Process(target=_consume, args=(path, barrier, queue)) for _number in range(12)]
    for worker in workers:
        worker.start()
    outcomes = sorted(queue.get(timeout=120) for _worker in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == ["consumed"] * 3 + ["restart_budget_exhausted"] * 9
    assert len(state(path)["restarts"]) == 3
