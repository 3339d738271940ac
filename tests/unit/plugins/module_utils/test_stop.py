"""Pure parts of _stop: cgroup placement, identity comparison, input validation."""

from __future__ import annotations

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _stop
from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError

HYBRID = ("9:name=systemd:/system.slice/other.service\n4:memory:/system.slice/other.service\n"
          "0::/libpod_parent/libpod-abc\n")


def test_cgroup_paths_keep_v2_and_name_systemd():
    assert _stop.cgroup_paths(HYBRID) == ["/system.slice/other.service", "/libpod_parent/libpod-abc"]
    assert _stop.cgroup_paths("0::/\n") == ["/"]
    assert _stop.cgroup_paths("garbage") == []


@pytest.mark.parametrize("path, unit", [
    ("/system.slice/beatsync.service", "beatsync.service"),
    ("/user.slice/user-0.slice/session-3.scope", None),
    ("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service", "x.service"),
    ("/system.slice/docker-0123.scope", "docker-0123.scope"),
    ("/machine.slice/libpod-1.scope/container", "libpod-1.scope"),
    ("/", None),
    ("/libpod_parent/libpod-abc", None),
])
def test_unit_of_cgroup(path, unit):
    assert _stop.unit_of_cgroup(path) == unit


def test_unit_of_cgroups_any_path_naming_a_unit_wins():
    assert _stop.unit_of_cgroups(_stop.cgroup_paths(HYBRID)) == "other.service"
    assert _stop.unit_of_cgroups([]) is None


def seen(**extra):
    base = {"start_time": 500, "started_at": "2026-01-01T00:00:05Z", "cmdline": ["python3", "-m", "uvicorn"],
            "cwd": "/opt/app"}
    base.update(extra)
    return base


def test_identity_mismatches():
    diag = {"start_time": 500, "cmdline": ["python3", "-m", "uvicorn"], "cwd": "/opt/app"}
    assert _stop.identity_mismatches(diag, seen()) == []
    assert _stop.identity_mismatches(dict(diag, cmdline="python3 -m uvicorn"), seen()) == []
    assert _stop.identity_mismatches(dict(diag, start_time="2026-01-01T00:00:05Z"), seen()) == []
    differs = _stop.identity_mismatches(diag, seen(start_time=501, cwd="/tmp"))
    assert len(differs) == 2 and "start time 501 ticks, diagnosed 500" in differs[0]
    assert "started at" in _stop.identity_mismatches(dict(diag, start_time="2026-01-01T00:00:04Z"), seen())[0]


def test_validate_processes():
    good = {"pid": "42", "start_time": "17", "cmdline": ["a"], "cwd": "/", "inode": 9}
    assert _stop._validate_processes([good])[42]["start_time"] == 17
    with pytest.raises(ProbeInputError, match="twice"):
        _stop._validate_processes([good, good])
    with pytest.raises(ProbeInputError, match="processes must be a list"):
        _stop._validate_processes("42")
    with pytest.raises(ProbeInputError, match=r"processes\[0\] is missing cwd"):
        _stop._validate_processes([dict(good, cwd="")])
    with pytest.raises(ProbeInputError, match="cmdline must be a list of strings"):
        _stop._validate_processes([dict(good, cmdline=[1])])
