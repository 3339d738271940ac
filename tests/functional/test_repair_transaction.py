"""Repair as a transaction (issue 14), end to end on a real systemd host of the test bed.

Each case asserts the host afterwards from the outside: a fingerprint (MainPID, InvocationID,
NRestarts, ActiveState, the listeners on 8000 with their owners, unit files and drop-ins, UFW,
the app files) for what must not change, and, after a repair, checks independent of the
collection's report (the listener is in the unit's cgroup, /openapi.json 200, the unit enabled).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import REPO, ansible_env
from systemd_hosts import BROKEN_STATES, beatsync_host, break_host, podman_env, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
UNIT = "/etc/systemd/system/beatsync.service"
APP = "/opt/beatsync/web_service/backend"

FINGERPRINT = r"""
systemctl show -p MainPID -p InvocationID -p NRestarts -p ActiveState -p UnitFileState -p DropInPaths beatsync.service
ss -Hltnp 'sport = :8000' | sed -E 's/fd=[0-9]+//g' | sort
sha256sum /etc/systemd/system/beatsync.service /etc/systemd/system/beatsync.service.d/* 2>&1
ls -la /etc/systemd/system/ | grep -i beatsync
sha256sum APP/main.py APP/requirements.txt
ufw status verbose 2>&1
""".replace("APP", APP)


# States where systemd itself restarts the unit (Restart=always against a held port or a
# missing module): its runtime properties move without anyone acting.
SELF_RESTARTING = ("stale_copy", "foreign_listener", "unit_failed", "crash_loop_missing_dependency", "unit_drifted", "syntax_error")


def fingerprint(host, runtime=True):
    text = host.exec(["bash", "-c", FINGERPRINT], check=False).stdout
    if not runtime:
        text = re.sub(r"^(MainPID|InvocationID|NRestarts|ActiveState)=.*\n", "", text, flags=re.M)
    return text


def write_inventory(tmp_path, host, **hostvars):
    hostvars = {
        "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
        "ansible_python_interpreter": "/usr/bin/python3", "beatsync_become": False,
        "beatsync_external_address": host.ip, "beatsync_break_system_packages": True, "beatsync_timeout": 3,
        "beatsync_report_dir": str(tmp_path / "reports"), **hostvars,
    }
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"beatsync": {"hosts": {"bed": hostvars}}}))
    return path


def playbook(name, inventory, *args, timeout=400, wait=True):
    env = dict(ansible_env(), **podman_env())
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORCE_COLOR="0", ANSIBLE_PIPELINING="1")
    argv = [ANSIBLE_PLAYBOOK, "-i", str(inventory), str(REPO / "playbooks" / name), *args]
    if not wait:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def report(tmp_path):
    return json.loads((tmp_path / "reports" / "bed.json").read_text())


def prop(host, name):
    return host.unit_property(name)


def assert_served_by_the_unit(host):
    """Independent of the collection: the listener on 8000 is in the unit's cgroup, /openapi.json
    answers 200 from outside, the unit is enabled."""
    pids = set(re.findall(r"pid=(\d+)", host.exec("ss -Hltnp 'sport = :8000'").stdout))
    assert pids, "nothing listens on 8000"
    for pid in pids:
        assert "beatsync.service" in host.exec(["cat", "/proc/%s/cgroup" % pid]).stdout
    assert host.http_status("/openapi.json") == 200
    assert host.exec(["systemctl", "is-enabled", "beatsync.service"], check=False).stdout.strip() == "enabled"


@pytest.fixture
def bed(beatsync_host):
    beatsync_host.exec("rm -rf /etc/beatsync /var/lib/beatsync-ops /run/beatsync-ops /etc/beatsync-fixture/faults "
                       "/etc/systemd/system/beatsync.service.d; systemctl daemon-reload")
    reset_host(beatsync_host)
    beatsync_host.exec("journalctl --rotate >/dev/null 2>&1; journalctl --vacuum-time=1s >/dev/null 2>&1; true")
    return beatsync_host


CUSTOM_UNIT_SED = r"s|^Environment=.*|&\nEnvironment=\"BEATSYNC_FAULT_FILE=/etc/beatsync/custom-faults\"|"


def test_customised_healthy_unit_left_alone_and_rolled_back_when_opted_in(bed, tmp_path):
    # The operator's unit reads its own fault file; the canonical unit reads the default one,
    # which makes the app crash at start: the canonical unit cannot run the app here.
    bed.exec("mkdir -p /etc/beatsync /etc/beatsync-fixture && : > /etc/beatsync/custom-faults"
             " && echo startup_crash > /etc/beatsync-fixture/faults && sed -i '%s' %s"
             " && systemctl daemon-reload && systemctl restart beatsync.service" % (CUSTOM_UNIT_SED, UNIT))
    assert bed.exec("for i in $(seq 40); do curl -sf -o /dev/null http://127.0.0.1:8000/api/health && exit 0; sleep 0.5; done; exit 1",
                    check=False).returncode == 0
    custom = bed.exec(["sha256sum", UNIT]).stdout
    inventory = write_inventory(tmp_path, bed)
    before = fingerprint(bed)

    for args in (["--check"], []):
        proc = playbook("repair.yml", inventory, *args)
        assert proc.returncode == 0, proc.stdout[-5000:]
        assert "the customised unit is left alone" in proc.stdout
        assert fingerprint(bed) == before
    seen = report(tmp_path)
    assert seen["verdict"] == "healthy" and [f["code"] for f in seen["findings"]] == ["unit_drift"]

    inventory = write_inventory(tmp_path, bed, beatsync_repair_drift_when_serving=True, beatsync_stop_grace=5)
    proc = playbook("repair.yml", inventory)
    assert proc.returncode != 0, proc.stdout[-6000:]
    assert "rolled_back" in proc.stdout
    seen = report(tmp_path)
    assert seen["repair"]["status"] == "rolled_back" and seen["repair"]["rolled_back"] is True
    assert seen["repair"]["diagnoses"]["after_change"]["verdict"] != "healthy"
    assert seen["before"] == "healthy" and seen["verdict"] == "healthy"
    assert bed.exec(["sha256sum", UNIT]).stdout == custom
    assert_served_by_the_unit(bed)


def test_serving_stale_copy_with_uninstallable_requirement_keeps_serving(bed, tmp_path):
    break_host(bed, "stale_copy")
    bed.exec("echo 'beatsync-no-such-package==9.9.9' >> %s/requirements.txt" % APP)
    inventory = write_inventory(tmp_path, bed, beatsync_pip_timeout=60)
    assert bed.http_status("/api/health") == 200  # the stale copy serves
    before = fingerprint(bed, runtime=False)  # the unit restarts itself against the held port
    check = playbook("repair.yml", inventory, "--check")
    assert fingerprint(bed, runtime=False) == before, check.stdout[-3000:]
    proc = playbook("repair.yml", inventory)
    assert proc.returncode != 0, proc.stdout[-6000:]
    assert "preflight_failed" in proc.stdout and "not installable" in proc.stdout
    assert fingerprint(bed, runtime=False) == before, "a refused repair changed the host"
    assert bed.http_status("/api/health") == 200
    seen = report(tmp_path)
    assert seen["repair"]["code"] == "preflight_failed" and seen["repair"]["status"] == "refused"


def test_two_repairs_started_together_restart_once(bed, tmp_path):
    break_host(bed, "docs_503")
    inventory = write_inventory(tmp_path, bed)
    procs = [playbook("repair.yml", inventory, wait=False) for dummy in range(2)]
    outputs = [proc.communicate(timeout=400)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    budget = json.loads(bed.exec(["cat", "/var/lib/beatsync-ops/restarts.json"]).stdout)
    restarts = budget.get("restarts", budget) if isinstance(budget, dict) else budget
    assert len(restarts) == 1, budget
    assert sum("Start BeatSync right away" in out and "changed: [bed]" in out.split("Start BeatSync right away", 1)[1][:300]
               for out in outputs) == 1
    assert_served_by_the_unit(bed)


def test_maintenance_host_is_left_untouched(bed, tmp_path):
    bed.exec("systemctl stop beatsync.service && mkdir -p /etc/beatsync && printf 'disk swap until 14:00\\nmore\\n' > /etc/beatsync/maintenance")
    inventory = write_inventory(tmp_path, bed, beatsync_smoke_wait=2, beatsync_smoke_delay=1)
    before = fingerprint(bed)
    for args in (["--check"], []):
        proc = playbook("repair.yml", inventory, *args)
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert "left untouched, neither repaired nor failed" in proc.stdout
        assert fingerprint(bed) == before
    seen = report(tmp_path)
    assert seen["verdict"] == "maintenance" and seen["maintenance"]["reason"] == "disk swap until 14:00"
    assert seen["repair"]["status"] == "maintenance" and seen["actions"] == []
    smoke = playbook("smoke.yml", inventory)
    assert smoke.returncode == 0, smoke.stdout[-3000:]
    assert "not smoke-tested" in smoke.stdout
    assert "<skipped" in (tmp_path / "reports" / "smoke-junit.xml").read_text()
    assert fingerprint(bed) == before


def test_restart_budget_spent_across_two_runs(bed, tmp_path):
    inventory = write_inventory(tmp_path, bed, beatsync_restart_budget=1)
    break_host(bed, "docs_503")
    first = playbook("repair.yml", inventory)
    assert first.returncode == 0, first.stdout[-4000:]
    assert report(tmp_path)["repair"]["restarts"] == {"used": 1, "left": 0, "limit": 1, "window": 1800}
    break_host(bed, "docs_503")
    before = fingerprint(bed)
    second = playbook("repair.yml", inventory)
    assert second.returncode != 0
    assert "restart_budget_exhausted" in second.stdout and "next restart is allowed at" in second.stdout
    assert fingerprint(bed) == before
    assert report(tmp_path)["repair"]["code"] == "restart_budget_exhausted"


def test_hung_docs_request_is_stopped_with_sigkill(bed, tmp_path):
    break_host(bed, "docs_hang")
    # A request that hangs holds uvicorn's graceful stop.
    bed.exec("(setsid curl -s -m 300 http://127.0.0.1:8000/docs >/dev/null 2>&1 &); sleep 1")
    inventory = write_inventory(tmp_path, bed, beatsync_stop_grace=3)
    proc = playbook("repair.yml", inventory, timeout=110)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "SIGKILL through systemd" in bed.exec(["journalctl", "-t", "beatsync-ops", "--no-pager", "-o", "cat"]).stdout
    assert any("SIGKILL" in action for action in report(tmp_path)["actions"])
    assert_served_by_the_unit(bed)


@pytest.mark.parametrize("state", BROKEN_STATES)
def test_check_mode_changes_nothing(bed, tmp_path, state):
    break_host(bed, state)
    inventory = write_inventory(tmp_path, bed)
    runtime = state not in SELF_RESTARTING
    before = fingerprint(bed, runtime)
    proc = playbook("repair.yml", inventory, "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "check mode: nothing will be changed" in proc.stdout
    assert fingerprint(bed, runtime) == before
