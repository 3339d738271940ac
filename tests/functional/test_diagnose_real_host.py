# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host really runs, on one real systemd host (the test bed, reset between cases):
a drop-in that moves ExecStart to loopback is named with its path and repaired (drop-in moved
aside with a backup, healthy from outside, a second repair changes nothing); a foreign listener
on [::1]:8000 does not block a repair of a unit bound to 0.0.0.0; a requirement whose marker
does not apply changes nothing; the dependency probe runs as the unit's User= (the uid the
interpreter sees) and secrets from Environment= stay out of -vvv output and the 0600 reports."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import REPO, ansible_env
from systemd_hosts import APP_DIR, SERVICE, beatsync_host, break_host, podman_env, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

BIN = Path(sys.executable).parent
DROPIN_DIR = "/etc/systemd/system/%s.d" % SERVICE
OVERRIDE = DROPIN_DIR + "/override.conf"
SECRET = "s3cr3t-T0ken-4711"


def inventory(tmp_path, host):
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"beatsync": {"hosts": {"bed": {
        "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
        "ansible_python_interpreter": "/usr/bin/python3", "beatsync_become": False,
        "beatsync_external_address": host.ip, "beatsync_timeout": 3, "beatsync_break_system_packages": True,
        "beatsync_report_dir": str(tmp_path / "reports")}}}}))
    return path


def playbook(name, inv, *args):
    env = ansible_env()
    env.update(podman_env())
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORCE_COLOR="0", ANSIBLE_PIPELINING="1")
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inv), str(REPO / "playbooks" / name), *args],
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def recap(proc):
    match = re.search(r"^bed\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M)
    assert match, proc.stdout[-4000:] + proc.stderr[-2000:]
    return {"changed": int(match[2]), "failed": int(match[4])}


def report(tmp_path):
    return json.loads((tmp_path / "reports" / "bed.json").read_text())


def dropin(host, text, path=OVERRIDE):
    host.exec(["mkdir", "-p", os.path.dirname(path)])
    host.exec(["bash", "-c", "cat > %s" % path], input=text)
    host.exec("systemctl daemon-reload && systemctl restart %s" % SERVICE)
    host.exec(["bash", "-c", "for i in $(seq 50); do curl -fsS http://127.0.0.1:8000/api/health && exit 0; sleep 0.2; done; exit 1"])


@pytest.fixture
def bed(beatsync_host):  # noqa: F811
    reset_host(beatsync_host)
    yield beatsync_host


def test_loopback_dropin_is_named_and_repaired(bed, tmp_path):
    dropin(bed, "[Service]\nExecStart=\nExecStart=/usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port 8000\n")
    inv = inventory(tmp_path, bed)
    assert bed.http_status("/api/health", timeout=3) is None           # nothing answers from outside

    diag = playbook("diagnose.yml", inv)
    assert diag.returncode == 0, diag.stdout[-4000:]
    before = report(tmp_path)
    codes = [finding["code"] for finding in before["findings"]]
    assert before["root_cause"] == "bind_address", json.dumps(before["findings"], indent=1)[:3000]
    assert "unit_drift" in codes and "external_unreachable" not in codes
    bind = before["findings"][0]
    assert "loopback" in bind["summary"] and OVERRIDE in bind["summary"]
    assert any("%s line 3" % OVERRIDE in line for line in bind["evidence"])
    drift = before["findings"][codes.index("unit_drift")]
    assert OVERRIDE in drift["summary"] and drift["remedy"]["dropins"] == [OVERRIDE]

    repair = playbook("repair.yml", inv)
    assert repair.returncode == 0, repair.stdout[-6000:]
    assert report(tmp_path)["verdict"] == "healthy"
    assert bed.http_status("/api/health") == 200 and bed.http_status("/docs") == 200   # from outside
    left = bed.exec(["ls", DROPIN_DIR]).stdout.split()
    assert "override.conf" not in left and any(name.startswith("override.conf.beatsync-ops-") for name in left)
    assert bed.unit_property("DropInPaths") == ""

    again = playbook("repair.yml", inv)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0


FOREIGN_V6 = ("import socket, time\n"
              "s = socket.socket(socket.AF_INET6)\n"
              "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n"
              "s.bind(('::1', 8000)); s.listen(); time.sleep(3600)\n")


def test_foreign_listener_on_another_address_does_not_block_repair(bed, tmp_path):
    bed.exec(["systemd-run", "--unit=foreign-v6", "/usr/bin/python3", "-c", FOREIGN_V6])
    bed.exec(["bash", "-c", "for i in $(seq 50); do ss -Hltn 'sport = :8000' | grep -q '\\[::1\\]' && exit 0; sleep 0.2; done; exit 1"])
    break_host(bed, "docs_503")
    inv = inventory(tmp_path, bed)
    diag = playbook("diagnose.yml", inv)
    assert diag.returncode == 0, diag.stdout[-4000:]
    seen = report(tmp_path)
    assert any(item.get("address") == "::1" for item in seen["probes"]["port"]["listeners"])
    assert "port_conflict_foreign" not in [finding["code"] for finding in seen["findings"]]

    repair = playbook("repair.yml", inv)
    assert repair.returncode == 0, repair.stdout[-6000:]
    assert report(tmp_path)["verdict"] == "healthy"
    assert bed.exec(["systemctl", "is-active", "foreign-v6"], check=False).stdout.strip() == "active"
    bed.exec(["systemctl", "stop", "foreign-v6"], check=False)


def test_marker_that_does_not_apply_changes_nothing(bed, tmp_path):
    bed.exec(["bash", "-c", "echo 'numpy==1.26.4; python_version < \"3.0\"' >> %s/requirements.txt" % APP_DIR])
    inv = inventory(tmp_path, bed)
    repair = playbook("repair.yml", inv)
    assert repair.returncode == 0, repair.stdout[-4000:]
    assert recap(repair)["changed"] == 0
    seen = report(tmp_path)
    assert seen["verdict"] == "healthy", json.dumps(seen["findings"], indent=1)[:2000]
    numpy = [req for req in seen["probes"]["deps"]["requirements"] if req["name"] == "numpy"]
    assert numpy and numpy[0]["status"] == "not_applicable"


def test_deps_probe_runs_as_the_units_user_and_secrets_stay_out(bed, tmp_path):
    bed.exec("id beatsync-app >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin beatsync-app")
    dropin(bed, '[Service]\nUser=beatsync-app\nGroup=nogroup\nEnvironment="API_TOKEN=%s"\n' % SECRET,
           path=DROPIN_DIR + "/50-user.conf")
    uid = int(bed.exec(["id", "-u", "beatsync-app"]).stdout)
    inv = inventory(tmp_path, bed)
    diag = playbook("diagnose.yml", inv, "-vvv")
    assert diag.returncode == 0, diag.stdout[-4000:]
    assert SECRET not in diag.stdout and SECRET not in diag.stderr

    seen = report(tmp_path)
    run_as = seen["probes"]["deps"]["run_as"]
    assert (run_as["user"], run_as["group"], run_as["uid_seen"]) == ("beatsync-app", "nogroup", uid), run_as
    assert run_as["switched"] is True
    drift = [finding for finding in seen["findings"] if finding["code"] == "unit_drift"][0]
    assert DROPIN_DIR + "/50-user.conf" in drift["summary"]
    reports = tmp_path / "reports"
    assert stat.S_IMODE(reports.stat().st_mode) == 0o700
    for path in reports.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert SECRET not in path.read_text()
