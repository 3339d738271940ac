"""beatsync.ops.restart on a real systemd host (podman container of the test bed).

The module runs through `ansible` with the podman connection, as the repair role runs it; what
it did is read in the host independently of the collection (systemctl show, the budget's file,
the journal)."""

from __future__ import annotations

import json
import textwrap
import time
import uuid

import pytest

from testlib import run_module_on
from systemd_hosts import beatsync_host, break_host, podman_env, podman_inventory, reset_host, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers


# A unit that ignores SIGTERM (a hung request holding uvicorn's stop) and answers /api/health.
STUBBORN_PORT = 18200
STUBBORN_APP = textwrap.dedent(r"""
    import json, signal, http.server
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "healthy"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", %d), Health).serve_forever()
""" % STUBBORN_PORT)
STUBBORN_UNIT = textwrap.dedent("""
    [Unit]
    Description=A service that ignores SIGTERM (beatsync.ops restart test)
    [Service]
    ExecStart=/usr/bin/python3 /usr/local/share/restart-test/stubborn.py
    TimeoutStopSec=120
""")


@pytest.fixture(scope="module")
def host(beatsync_host):  # noqa: F811
    return beatsync_host


@pytest.fixture
def inventory(tmp_path, host):
    return podman_inventory(tmp_path / "inventory.json", host)


@pytest.fixture
def budget_path(host):
    """A fresh budget state file in the host for each test (its directory is removed after)."""
    directory = "/root/restart-test-%s" % uuid.uuid4().hex[:8]
    yield directory + "/restarts.json"
    host.exec(["rm", "-rf", directory], check=False)


def run_restart(inventory, args, check=False):
    return run_module_on("bed", inventory, "beatsync.ops.restart", args, check=check, env=podman_env())


def run_budget(inventory, args):
    return run_module_on("bed", inventory, "beatsync.ops.restart_budget", args, env=podman_env())


def unit(host, service="beatsync.service"):
    out = host.exec(["systemctl", "show", "-p", "ActiveState,MainPID,UnitFileState", service]).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def budget_file(host, path):
    proc = host.exec(["cat", path], check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def assert_no_traceback(result):
    assert "Traceback" not in str(result.get("exception", "")) and "module_stderr" not in result, result


def test_stopped_unit_is_started_enabled_and_healthy(host, inventory, budget_path):
    break_host(host, "service_stopped")
    host.exec(["systemctl", "disable", "--quiet", "beatsync.service"])
    try:
        result = run_restart(inventory, {"run_id": "t-stopped", "source": "cli", "path": budget_path})
        assert result.get("failed") is not True, result
        assert result["changed"] is True and result["stopped"] is None and result["started"] is True
        assert result["enabled"] is True and result["before"]["unit_file_state"] == "disabled"
        assert result["before"]["active_state"] == "inactive" and result["after"]["active_state"] == "active"
        assert result["health"]["healthy"] is True and result["docs"] is None
        assert result["budget"]["used"] == 1 and result["budget"]["left"] == 2 and result["budget"]["consumed"] is True
        assert result["elapsed"]["stop"] is None and result["elapsed"]["health"] is not None and result["elapsed"]["total"] > 0
        seen = unit(host)
        assert seen["ActiveState"] == "active" and seen["UnitFileState"] == "enabled"
        assert [entry["run_id"] for entry in budget_file(host, budget_path)["restarts"]] == ["t-stopped"]
        assert host.http_status("/api/health") == 200
    finally:
        reset_host(host)


def test_active_unit_is_restarted_with_a_new_main_pid_and_docs_looked_at(host, inventory, budget_path):
    old = unit(host)
    assert old["ActiveState"] == "active"
    result = run_restart(inventory, {"run_id": "t-active", "path": budget_path, "docs_recheck": True,
                                     "base_url": "http://127.0.0.1:8000"})
    assert result.get("failed") is not True, result
    assert result["stopped"] == "stopped" and result["started"] is True and result["enabled"] is False
    assert result["before"]["main_pid"] == int(old["MainPID"])
    new = unit(host)
    assert new["ActiveState"] == "active" and new["MainPID"] != old["MainPID"]
    assert result["after"]["main_pid"] == int(new["MainPID"])
    assert result["health"]["healthy"] is True and result["docs"]["docs_ok"] is True and result["docs"]["problem"] is None
    assert result["elapsed"]["stop"] is not None and result["elapsed"]["docs"] is not None
    assert "stopped beatsync.service" in result["actions"] and "healthy" in result["msg"]


def test_unit_ignoring_sigterm_is_killed_after_the_grace(host, inventory, budget_path):
    host.exec(["mkdir", "-p", "/usr/local/share/restart-test"])
    host.exec("cat > /usr/local/share/restart-test/stubborn.py", input=STUBBORN_APP)
    host.exec("cat > /etc/systemd/system/beatsync-stubborn.service", input=STUBBORN_UNIT)
    host.exec("systemctl daemon-reload && systemctl start beatsync-stubborn.service")
    try:
        old = unit(host, "beatsync-stubborn.service")
        assert old["ActiveState"] == "active"
        since = host.exec(["date", "+%s"]).stdout.strip()
        result = run_restart(inventory, {"service": "beatsync-stubborn", "run_id": "t-kill", "path": budget_path,
                                         "stop_grace": 1, "url": "http://127.0.0.1:%d/api/health" % STUBBORN_PORT})
        assert result.get("failed") is not True, result
        assert result["service"] == "beatsync-stubborn.service"
        assert result["stopped"] == "killed" and result["started"] is True and result["health"]["healthy"] is True
        assert "killed beatsync-stubborn.service (SIGKILL after 1s)" in result["actions"]
        new = unit(host, "beatsync-stubborn.service")
        assert new["ActiveState"] == "active" and new["MainPID"] != old["MainPID"]
        logged = host.exec(["journalctl", "-t", "beatsync-ops", "--since", "@" + since, "--no-pager", "-o", "cat"]).stdout
        assert "beatsync-stubborn.service did not stop within 1s, SIGKILL through systemd" in logged
    finally:
        host.exec("systemctl kill --signal=SIGKILL beatsync-stubborn.service; systemctl disable --now beatsync-stubborn.service; "
                  "rm -f /etc/systemd/system/beatsync-stubborn.service; systemctl daemon-reload; systemctl reset-failed", check=False)


def test_spent_budget_refuses_with_restart_budgets_code_and_touches_nothing(host, inventory, budget_path):
    directory = budget_path.rsplit("/", 1)[0]
    now = time.time()
    state = {"version": 1, "restarts": [{"at": now - 60 * number, "run_id": "old-%d" % number, "source": "cli"}
                                        for number in range(3)]}
    host.exec("install -d -m 0700 %s && cat > %s && chmod 0600 %s" % (directory, budget_path, budget_path), input=json.dumps(state))
    before_bytes = host.exec(["cat", budget_path]).stdout
    old = unit(host)
    result = run_restart(inventory, {"run_id": "t-spent", "path": budget_path})
    assert_no_traceback(result)
    assert result["failed"] is True and result["code"] == "restart_budget_exhausted" and result["changed"] is False
    assert result["consumed"] is False and result["left"] == 0 and result["budget"]["frees_at"]
    assert result["stopped"] is None and result["started"] is False
    reference = run_budget(inventory, {"action": "consume", "run_id": "t-spent", "path": budget_path})
    assert reference["code"] == result["code"]
    assert reference["msg"].split(" (in ")[0] == result["msg"].split(" (in ")[0]
    assert unit(host) == old
    assert host.exec(["cat", budget_path]).stdout == before_bytes


def test_check_mode_changes_nothing_and_says_what_would_be_done(host, inventory, budget_path):
    old = unit(host)
    result = run_restart(inventory, {"run_id": "t-check", "path": budget_path, "reset_failed": True, "docs_recheck": True},
                         check=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["stopped"] is None and result["health"] is None and result["docs"] is None
    assert result["budget"]["consumed"] is False and result["budget"]["left"] == 3
    assert result["actions"][0].startswith("would count the restart")
    assert any(text.startswith("would stop beatsync.service (active)") for text in result["actions"])
    assert "would start beatsync.service" in result["actions"] and result["msg"].startswith("check mode: ")
    assert unit(host) == old
    assert host.exec(["test", "-e", budget_path.rsplit("/", 1)[0]], check=False).returncode != 0


def test_stale_copy_path_stop_then_start_in_two_runs(host, inventory, budget_path):
    old = unit(host)
    first = run_restart(inventory, {"run_id": "t-two", "path": budget_path, "start": False})
    assert first.get("failed") is not True, first
    assert first["stopped"] == "stopped" and first["started"] is False and first["health"] is None
    assert unit(host)["ActiveState"] in ("inactive", "failed")
    second = run_restart(inventory, {"count": False, "stop": False, "reset_failed": True})
    assert second.get("failed") is not True, second
    assert second["budget"] is None and second["stopped"] is None and second["reset_failed"] is True
    assert second["started"] is True and second["health"]["healthy"] is True
    assert unit(host)["MainPID"] != old["MainPID"]
    assert len(budget_file(host, budget_path)["restarts"]) == 1


def test_unit_not_loaded_is_refused_before_anything_is_counted(host, inventory, budget_path):
    result = run_restart(inventory, {"service": "no-such-beatsync", "run_id": "t-missing", "path": budget_path})
    assert_no_traceback(result)
    assert result["failed"] is True and result["code"] == "restart_unit_not_loaded"
    assert "no-such-beatsync.service" in result["msg"] and "not-found" in result["msg"]
    assert result["budget"] is None
    assert host.exec(["test", "-e", budget_path.rsplit("/", 1)[0]], check=False).returncode != 0


@pytest.mark.parametrize("args, message", [
    ({"service": "beat sync", "run_id": "x"}, "service must be a systemd unit name"),
    ({"stop_grace": -1, "run_id": "x"}, "stop_grace must be from 0 to 3600"),
    ({"limit": 0, "run_id": "x"}, "limit must be an integer from 1 to 1000, got 0"),
    ({"window": 0, "run_id": "x"}, "window must be a number of seconds"),
    ({"retries": 101, "run_id": "x"}, "retries must be from 0 to 100, got 101"),
    ({"url": "ftp://x", "run_id": "x"}, "url must start with http:// or https://"),
    ({}, "run_id"),
    ({"run_id": " "}, "run_id must be a non-empty string"),
    ({"stop": False, "start": False, "run_id": "x"}, "stop and start are both false"),
])
def test_bad_input_is_named_and_nothing_runs(run_module, args, message):
    # Refused at the module's edge, before systemctl or the budget is touched (so on this machine).
    result = run_module("restart", dict(args, path="/nonexistent-restart-test/restarts.json"))
    assert result["failed"] is True and message in result["msg"], result
    assert_no_traceback(result)
