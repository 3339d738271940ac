"""meta/runtime.yml's action group: `module_defaults: {group/beatsync.ops.beatsync: {port, service,
timeout}}` sets the shared options once for every member, against a real uvicorn on loopback.

With module_defaults for a group, ansible-core hands every key to every member (a member without
one of the options fails "Unsupported parameters"), so a member must take all three shared
options; test_members_take_every_shared_option checks that, and the playbook runs each member
with no port argument."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from testlib import REPO, ansible_doc_json, ansible_env

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
GROUP = "beatsync"
SHARED = ("port", "service", "timeout")

# The arguments each member runs with in the playbook, none of them a shared option. A new member
# of the group needs an entry here (test_every_member_is_exercised).
MEMBER_ARGS = {
    "diagnose": {"probes": ["port", "process", "health", "docs"], "check_drift": False,
                 "external_address": "127.0.0.1"},
}


def members():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    return runtime["action_groups"][GROUP]


def test_every_member_is_exercised():
    assert sorted(members()) == sorted(MEMBER_ARGS)


def test_members_take_every_shared_option():
    for name in members():
        options = ansible_doc_json(name)["doc"]["options"]
        assert set(SHARED) <= set(options), name


def run_play(tmp_path, defaults, tasks):
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False, "connection": "local",
        "module_defaults": {"group/beatsync.ops.%s" % GROUP: defaults},
        "tasks": tasks,
    }]))
    env = ansible_env()
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", str(play)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook did not return JSON (rc=%s)\n%s\n%s"
                             % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])) from None
    return proc, {task["task"]["name"]: task["hosts"]["localhost"] for task in data["plays"][0]["tasks"]}


def test_group_defaults_reach_every_member(start_server, tmp_path):
    server = start_server()
    tasks = [{"name": name, "beatsync.ops." + name: dict(args)} for name, args in MEMBER_ARGS.items()]
    # Not a member: the group's keys never reach it, it keeps its own default port.
    tasks.append({"name": "outside the group", "beatsync.ops.port_probe": {}})
    proc, results = run_play(tmp_path, {"port": server.port, "service": "beatsync-group", "timeout": 4}, tasks)
    assert proc.returncode == 0, proc.stdout[-3000:]

    out = results["diagnose"]
    assert out.get("failed", False) is False, out.get("msg")
    assert out["urls"]["health"] == "http://127.0.0.1:%d/api/health" % server.port
    assert out["probes"]["port"]["port"] == server.port and out["probes"]["port"]["listening"] is True
    assert out["probes"]["health"]["healthy"] is True
    assert out["probes"]["docs"]["docs_ok"] is True
    # The service from the group, normalised once at the edge.
    assert out["probes"]["process"]["service"] == "beatsync-group.service"
    # The outside check (controller side) used the group's port too.
    assert out["external"]["health"]["url"] == "http://127.0.0.1:%d/api/health" % server.port

    assert results["outside the group"]["port"] == 8000


def test_group_defaults_are_checked_at_the_edge_and_task_args_win(start_server, tmp_path):
    server = start_server()
    tasks = [
        # The group's timeout 0 reaches the member's edge and is refused there, naming the option.
        {"name": "bad group timeout", "beatsync.ops.diagnose": dict(MEMBER_ARGS["diagnose"]), "ignore_errors": True},
        # A task argument beats the group's value.
        {"name": "task args win", "beatsync.ops.diagnose": dict(MEMBER_ARGS["diagnose"], timeout=3, port=server.port)},
    ]
    proc, results = run_play(tmp_path, {"port": 1, "service": "beatsync", "timeout": 0}, tasks)
    assert proc.returncode == 0, proc.stdout[-3000:]
    bad = results["bad group timeout"]
    assert bad["failed"] is True
    assert bad["msg"] == "timeout must be greater than 0 and at most 600.0 seconds, got 0.0"
    good = results["task args win"]
    assert good.get("failed", False) is False, good.get("msg")
    assert good["probes"]["health"]["healthy"] is True
