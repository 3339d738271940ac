# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.diagnose's repair-transaction options on a real systemd host: the repair lock
taken before the probes in the same run (and refused, with nothing probed, when another repair
holds it), the restart budget read under it, the lock given back after the probes; check mode
only looks."""

from __future__ import annotations

import json

import pytest

from testlib import run_module_on
from systemd_hosts import beatsync_host, podman_env, podman_inventory, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

LOCK = "/run/beatsync-ops/repair.lock"
BUDGET = "/var/lib/beatsync-ops/restarts.json"


def _inventory(tmp_path, host):
    return podman_inventory(tmp_path / "inventory.json", host, beatsync_external_address=host.ip, beatsync_timeout=3)


def diagnose(tmp_path, host, args, *extra):
    return run_module_on("bed", _inventory(tmp_path, host), "beatsync.ops.diagnose", args, extra_args=extra,
                         env=podman_env())


def lock_args(owner, wait=0.5):
    return {"path": LOCK, "owner": owner, "wait": wait, "stale_after": 3600}


def holder(host):
    proc = host.exec(["cat", LOCK], check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


@pytest.fixture
def bed(beatsync_host):  # noqa: F811
    reset_host(beatsync_host)
    beatsync_host.exec(["rm", "-f", LOCK, BUDGET])
    yield beatsync_host
    beatsync_host.exec(["rm", "-f", LOCK])


def test_lock_and_budget_in_the_diagnosis_run_then_released(bed, tmp_path):
    taken = diagnose(tmp_path, bed, {"lock": lock_args("run-1"), "budget": {"path": BUDGET, "limit": 3, "window": 1800}})
    assert taken["verdict"] == "healthy", taken["msg"]
    assert taken["lock"]["acquired"] is True and taken["changed"] is False
    assert holder(bed)["owner"] == "run-1"                      # held after the run, for the repair's steps
    assert (taken["restart_budget"]["used"], taken["restart_budget"]["left"]) == (0, 3)
    assert "lock_released" not in taken

    released = diagnose(tmp_path, bed, {"release_lock": {"path": LOCK, "owner": "run-1"}})
    assert released["lock_released"] is True and released["verdict"] == "healthy"
    assert holder(bed) is None


def test_a_held_lock_refuses_before_any_probe(bed, tmp_path):
    assert diagnose(tmp_path, bed, {"lock": lock_args("run-1")})["lock"]["acquired"] is True
    refused = diagnose(tmp_path, bed, {"lock": lock_args("run-2", wait=0.3)})
    assert refused.get("failed") is True
    assert refused["msg"].startswith("another repair holds %s (owner run-1" % LOCK), refused["msg"]
    assert refused["lock"]["acquired"] is False and "probes" not in refused
    # Another owner's release_lock leaves the first run's lock alone.
    other = diagnose(tmp_path, bed, {"release_lock": {"path": LOCK, "owner": "run-2"}})
    assert other["lock_released"] is False and holder(bed)["owner"] == "run-1"


def test_check_mode_only_looks_at_the_lock(bed, tmp_path):
    looked = diagnose(tmp_path, bed, {"lock": lock_args("run-3")}, "--check")
    assert looked["lock"]["acquired"] is False and looked["verdict"] == "healthy"
    assert holder(bed) is None


@pytest.mark.parametrize("args, message", [
    ({"lock": {"path": LOCK, "owner": " ", "wait": 1, "stale_after": 60}}, "lock: owner must not be empty"),
    ({"lock": {"path": LOCK, "owner": "x", "wait": -1, "stale_after": 60}}, "lock: wait must be >= 0"),
    ({"budget": {"path": BUDGET, "limit": 0, "window": 60}}, "budget: limit must be"),
    ({"lock": {"path": LOCK, "owner": "x"}}, "wait"),
])
def test_bad_transaction_options_are_named_and_change_nothing(bed, tmp_path, args, message):
    result = diagnose(tmp_path, bed, args)
    assert result.get("failed") is True and message in result["msg"], result["msg"]
    assert holder(bed) is None
