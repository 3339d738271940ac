# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.process_probe against real uvicorn and http.server processes started here."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from testlib import FIXTURE_APP, ansible_doc_json

from ansible_collections.beatsync.ops.plugins.module_utils import _procfs
from ansible_collections.beatsync.ops.plugins.module_utils._probe_host import probe_process

ME = pwd.getpwuid(os.geteuid()).pw_name
PYTHON_NAME = Path(sys.executable).name[:15]


def own_unit():
    with open("/proc/self/cgroup", encoding="utf-8") as handle:
        return _procfs.parse_cgroup_unit(handle.read())


def by_pid(facts, pid):
    matches = [item for item in facts["processes"] if item["pid"] == pid]
    assert len(matches) <= 1
    return matches[0] if matches else None


def test_finds_uvicorn_started_by_hand(start_server):
    before = time.time()
    server = start_server()
    after = time.time()
    facts = probe_process()
    assert facts["pattern"] == "uvicorn"
    assert facts["app_spec"] == "main:app"
    assert facts["service"] == "beatsync.service"
    assert facts["error"] is None
    assert facts["count"] == len(facts["processes"]) >= 1
    info = by_pid(facts, server.pid)
    assert info is not None, facts
    assert info["ppid"] == os.getpid()
    assert info["cmdline"] == server.argv
    assert info["cwd"] == str(FIXTURE_APP)
    assert info["user"] == ME
    assert info["uid"] == os.geteuid()
    assert info["name"] == PYTHON_NAME
    assert info["rss_bytes"] > 1024 * 1024
    assert info["unit"] == own_unit()
    assert info["under_service"] is False
    assert server.pid in facts["stray"]
    assert os.getpid() not in [item["pid"] for item in facts["processes"]]
    # start time and uptime agree with when this test started it (btime is whole seconds)
    started = datetime.strptime(info["started_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert before - 2 <= started <= after + 2
    assert 0 <= info["uptime"] <= time.time() - before + 2


def test_several_copies_are_all_listed(start_server):
    first, second = start_server(), start_server(host="::1")
    facts = probe_process()
    assert by_pid(facts, first.pid) is not None
    assert by_pid(facts, second.pid)["cmdline"] == second.argv
    assert {first.pid, second.pid} <= set(facts["stray"])
    assert facts["processes"] == sorted(facts["processes"], key=lambda item: item["pid"])


def test_pattern_and_app_spec_are_configurable(start_server):
    uvicorn = start_server()
    web = start_server(kind="http.server")
    assert probe_process(app_spec="no_such_module_%s:app" % uuid.uuid4().hex)["count"] == 0
    assert by_pid(probe_process(pattern="gunicorn"), uvicorn.pid) is None
    facts = probe_process(pattern="http.server", app_spec=str(web.port))
    assert [item["pid"] for item in facts["processes"]] == [web.pid]
    assert facts["processes"][0]["cmdline"] == web.argv
    assert facts["stray"] == [web.pid]
    assert by_pid(probe_process(app_spec=""), uvicorn.pid) is not None
    assert by_pid(probe_process(pattern="uvicorn", app_spec=str(uvicorn.port)), uvicorn.pid) is not None


def test_does_not_match_itself_or_greps(start_server):
    server = start_server()
    tag = "main:app"
    lookers = [
        subprocess.Popen(["grep", "-e", "uvicorn", "-e", tag], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL),
        subprocess.Popen(["sh", "-c", "read line; true uvicorn main:app"], stdin=subprocess.PIPE),
        subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", "uvicorn", "main:app"], stdin=subprocess.PIPE),
    ]
    try:
        time.sleep(0.2)
        facts = probe_process()
        pids = [item["pid"] for item in facts["processes"]]
        assert server.pid in pids
        for proc in lookers:
            assert proc.pid not in pids
        # The probe never lists the process it runs in, even when it matches.
        mine = probe_process(pattern=Path(sys.argv[0]).name, app_spec="")
        assert os.getpid() not in [item["pid"] for item in mine["processes"]]
    finally:
        for proc in lookers:
            proc.communicate(b"\n", timeout=10)


def test_process_gone_is_not_listed(start_server):
    server = start_server()
    server.stop()
    assert by_pid(probe_process(), server.pid) is None


# --------------------------------------------------------------------------- under a service cgroup

def _cgroup2_root():
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            left, _sep, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                return left.split()[4]
    return None


@pytest.fixture
def service_cgroup():
    """Put a process into a real cgroup v2 named like a systemd service; skip where that is impossible."""
    root = _cgroup2_root()
    if os.geteuid() != 0 or not root:
        pytest.skip("needs root and a cgroup v2 hierarchy")
    unit = "bspt-%s.service" % uuid.uuid4().hex[:12]
    slice_dir = os.path.join(root, "bspt-pytest.slice")
    unit_dir = os.path.join(slice_dir, unit)
    try:
        os.makedirs(unit_dir)
    except OSError as exc:
        pytest.skip("cannot create a cgroup: %s" % exc)
    moved = []

    def _enter(pid):
        try:
            with open(os.path.join(unit_dir, "cgroup.procs"), "w", encoding="ascii") as handle:
                handle.write(str(pid))
        except OSError as exc:
            pytest.skip("cannot move a process into a cgroup: %s" % exc)
        moved.append(pid)
        return unit

    yield _enter
    for pid in moved:                          # back where they came from, if still alive
        try:
            with open(os.path.join(root, "cgroup.procs"), "w", encoding="ascii") as handle:
                handle.write(str(pid))
        except OSError:
            pass
    for path in (unit_dir, slice_dir):
        for _attempt in range(50):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


def test_process_under_the_service_is_not_stray(start_server, service_cgroup):
    in_service = start_server()
    by_hand = start_server()
    unit = service_cgroup(in_service.pid)
    facts = probe_process(service=unit)
    assert facts["service"] == unit
    inside = by_pid(facts, in_service.pid)
    assert inside["unit"] == unit
    assert inside["under_service"] is True
    assert in_service.pid not in facts["stray"]
    outside = by_pid(facts, by_hand.pid)
    assert outside["under_service"] is False
    assert by_hand.pid in facts["stray"]
    # The same process seen with the default service name is a stray.
    assert in_service.pid in probe_process()["stray"]


# --------------------------------------------------------------------------- through Ansible

def test_module_through_ansible(start_server, run_module, run_module_through_ansible):
    server = start_server()
    for check in (False, True):
        # The real `ansible` CLI for the real run, the module in-process for --check.
        runner = run_module if check else run_module_through_ansible
        result = runner("process_probe", {"pattern": "uvicorn", "app_spec": "main:app", "service": "beatsync"}, check=check)
        assert result.get("failed") is not True, result
        assert result["changed"] is False
        assert result["service"] == "beatsync.service"
        info = by_pid(result, server.pid)
        assert info is not None, result
        assert info["cmdline"] == server.argv
        assert info["cwd"] == str(FIXTURE_APP)
        assert info["under_service"] is False
        assert server.pid in result["stray"]


def test_module_defaults_and_no_match(run_module):
    result = run_module("process_probe", {"app_spec": "no_such_module_%s:app" % uuid.uuid4().hex}, check=True)
    assert result["changed"] is False
    assert result["pattern"] == "uvicorn"
    assert result["count"] == 0
    assert result["processes"] == []
    assert result["stray"] == []


@pytest.mark.parametrize("args,option", [({"pattern": ""}, "pattern"), ({"service": "a/b"}, "service"),
                                         ({"service": ""}, "service")])
def test_module_bad_input(run_module, args, option):
    result = run_module("process_probe", args)
    assert result["failed"] is True
    assert option in result["msg"]
    assert "Traceback" not in json.dumps(result)


def test_ansible_doc_renders():
    data = ansible_doc_json("process_probe")
    assert data["doc"]["version_added"] == "0.1.0"
    assert set(data["doc"]["options"]) == {"pattern", "app_spec", "service"}
    assert {"processes", "stray", "count"} <= set(data["return"])
    import yaml
    examples = yaml.safe_load(data["examples"])
    assert examples[0]["beatsync.ops.process_probe"]["app_spec"] == "main:app"
