# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From recorded `systemctl show`/`systemctl cat` output (systemd 252, tests/unit/fixtures/systemd)
through probe_unit to the findings: drop-in drift named by path and lines, the bind address
before any outside blame, listeners that conflict only when their address overlaps the
bind, requirement results on a healthy host, redaction, and the run-wide network finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _findings as engine
from ansible_collections.beatsync.ops.plugins.module_utils import _probe_systemd as probe_systemd
from ansible_collections.beatsync.ops.plugins.module_utils._redact import PLACEHOLDER

from .test_findings import codes, healthy_facts, run

SYSTEMD = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "systemd"
REPO = Path(__file__).resolve().parents[4]
CANONICAL = (REPO / "molecule" / "shared" / "files" / "beatsync.service").read_text(encoding="utf-8")
OVERRIDE = "/etc/systemd/system/beatsync.service.d/override.conf"


def replay(tmp_path, show, cat):
    """A systemctl that answers `show` and `cat` with recorded output."""
    (tmp_path / "show.txt").write_text(show)
    (tmp_path / "cat.txt").write_text(cat)
    script = tmp_path / "systemctl"
    script.write_text('#!/bin/sh\ncase "$1" in show) cat %s;; cat) cat %s;; *) exit 1;; esac\n'
                      % (tmp_path / "show.txt", tmp_path / "cat.txt"))
    script.chmod(0o755)
    return str(script)


def unit_facts(tmp_path, name, cat=None):
    show = (SYSTEMD / ("show-merge-%s.txt" % name)).read_text()
    cat = cat if cat is not None else (SYSTEMD / ("cat-merge-%s.txt" % name)).read_text()
    return probe_systemd.probe_unit(service="beatsync.service", canonical_unit=CANONICAL, systemctl_path=replay(tmp_path, show, cat))


def test_execstart_dropin_is_drift_named_with_path_and_lines(tmp_path):
    unit = unit_facts(tmp_path, "execstart")
    assert unit["effective_read"] is True and unit["dropins"] == [OVERRIDE]
    assert unit["drift"] is True and unit["diff"] == ""          # the unit file itself is canonical
    (item,) = unit["drift_items"]
    assert item["key"] == "ExecStart" and item["in_dropin"] is True
    assert item["sources"] == [{"path": OVERRIDE, "lines": [2, 3], "kind": "dropin",
                                "text": ["ExecStart=", "ExecStart=/usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port 8000"]}]
    assert unit["bind"]["loopback_only"] is True and unit["canonical_bind"]["loopback_only"] is False
    assert unit["bind"]["declared_by"][0]["path"] == OVERRIDE and unit["bind"]["declared_by"][0]["line"] == 3

    facts = healthy_facts()
    facts["unit"].update(unit, active_state="active")
    facts["port"]["listeners"][0]["address"] = "127.0.0.1"
    facts["external"] = {"health": {"url": "http://192.0.2.10:8000/api/health", "healthy": False, "status": None,
                                    "error": "connection refused"}, "docs": {"docs_ok": False}}
    result = run(facts)
    assert codes(result) == ["bind_address", "unit_drift"]      # named on the host, never the cloud firewall
    bind = result["findings"][0]
    assert "loopback" in bind["summary"] and OVERRIDE in bind["summary"]
    assert any("%s line 3" % OVERRIDE in line for line in bind["evidence"])
    assert bind["explains"] == ["external_unreachable"]
    drift = result["findings"][1]
    assert OVERRIDE in drift["summary"] and "ExecStart=" in drift["summary"]
    assert any(line.startswith("  %s:3 ExecStart=" % OVERRIDE) for line in drift["evidence"])
    (step,) = result["plan"]
    assert step["action"] == "install_unit" and step["remedy"]["dropins"] == [OVERRIDE]
    assert step["codes"] == ["bind_address", "unit_drift"]


def test_canonical_unit_without_dropins_has_no_drift(tmp_path):
    unit = unit_facts(tmp_path, "none")
    assert unit["drift"] is False and unit["drift_items"] == [] and unit["dropins"] == []
    facts = healthy_facts()
    facts["unit"].update(unit, active_state="active")
    assert run(facts)["findings"] == []


def test_a_shared_service_dropin_is_named_but_never_moved(tmp_path):
    unit = unit_facts(tmp_path, "multi")
    facts = healthy_facts()
    facts["unit"].update(unit, active_state="active")
    drift = [f for f in run(facts)["findings"] if f["code"] == "unit_drift"][0]
    moved = drift["remedy"]["dropins"]
    assert all("/beatsync.service.d/" in path for path in moved)
    assert not any(path.startswith("/etc/systemd/system/service.d/") for path in moved)


def test_environment_values_never_leave_the_probe(tmp_path):
    cat = (SYSTEMD / "cat-merge-execstart.txt").read_text() + (
        "\n# /etc/systemd/system/beatsync.service.d/secret.conf\n[Service]\n"
        'Environment="API_TOKEN=s3cr3t-t0ken" "DB_PASSWORD=hunter2hunter2"\n')
    unit = unit_facts(tmp_path, "execstart", cat=cat)
    text = json.dumps(unit)
    assert "s3cr3t-t0ken" not in text and "hunter2hunter2" not in text
    assert "API_TOKEN" in unit["environment_names"] and PLACEHOLDER in text
    facts = healthy_facts()
    facts["unit"].update(unit)
    assert "s3cr3t" not in json.dumps(run(facts))


def bound(facts, host="0.0.0.0"):
    facts["unit"]["bind"] = {"kind": "tcp", "host": host, "port": 8000, "loopback_only": False,
                             "addresses": [{"family": "ipv4" if ":" not in host else "ipv6", "address": host, "v6only": True}]}
    return facts


def foreign(address, family):
    return {"family": family, "address": address, "port": 8000, "inode": 99, "pid": 4711, "name": "nc",
            "cmdline": ["nc", "-l", address, "8000"], "user": "nobody", "cwd": "/", "unit": None}


def test_listener_on_another_address_is_no_conflict():
    facts = bound(healthy_facts())
    facts["port"]["listeners"].append(foreign("::1", "ipv6"))
    assert run(facts)["findings"] == []


def test_listener_on_an_overlapping_address_is_a_foreign_conflict():
    facts = bound(healthy_facts())
    facts["port"]["listeners"].append(foreign("127.0.0.1", "ipv4"))
    assert codes(run(facts)) == ["port_conflict_foreign"]


def test_possible_overlap_is_a_warning_that_blocks_nothing():
    facts = bound(healthy_facts())
    facts["port"]["listeners"].append(foreign("::", "ipv6"))
    result = run(facts)
    assert codes(result) == ["port_conflict_possible"] and result["findings"][0]["severity"] == "warning"
    assert [step["action"] for step in result["plan"]] == ["report"]


def test_possible_overlap_with_the_bind_failing_is_a_conflict():
    facts = bound(healthy_facts())
    facts["unit"].update(active_state="failed", sub_state="failed")
    facts["health"].update(healthy=False, reachable=False)
    facts["port"]["listeners"] = [foreign("::", "ipv6")]
    facts["journal"]["classifications"] = [{"kind": "address_in_use", "line": "[Errno 98] Address already in use"}]
    assert codes(run(facts))[0] == "port_conflict_foreign"


def test_marker_that_does_not_apply_changes_nothing():
    facts = healthy_facts()
    facts["deps"]["requirements"] = [{"name": "numpy", "specifier": "==1.26.4", "marker": 'python_version < "3.0"',
                                      "status": "not_applicable", "applies": False, "satisfied": None, "installed": None}]
    assert run(facts) == {"verdict": "healthy", "root_cause": None, "findings": [], "plan": []}


def outside_only(host):
    facts = healthy_facts()
    facts["external"] = {"health": {"url": "http://%s:8000/api/health" % host, "healthy": False, "error": "timed out"},
                         "docs": {"docs_ok": False}}
    outcome = run(facts)
    return {"host": host, "verdict": outcome["verdict"], "findings": outcome["findings"], "probes": facts}


@pytest.mark.parametrize("failing,total,found", [(3, 4, True), (2, 2, True), (2, 4, False), (1, 1, False), (0, 3, False)])
def test_one_controller_side_finding_when_most_hosts_fail_only_from_outside(failing, total, found):
    reports = [outside_only("web%d" % i) for i in range(failing)]
    reports += [{"host": "ok%d" % i, "verdict": "healthy", "findings": [], "probes": healthy_facts()}
                for i in range(total - failing)]
    result = engine.fleet_findings(reports)
    assert bool(result) is found
    if found:
        (finding,) = result
        assert finding["code"] == "controller_network" and finding["hosts"] == ["web%d" % i for i in range(failing)]
        assert "%d of %d hosts" % (failing, total) in finding["summary"]


def test_a_host_broken_inside_is_never_blamed_on_the_controller():
    broken = outside_only("web0")
    broken["findings"] = broken["findings"] + [{"code": "docs_unavailable"}]
    assert engine.fleet_findings([broken, outside_only("web1"), outside_only("web2")])[0]["hosts"] == ["web1", "web2"]
