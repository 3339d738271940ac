"""The systemd test bed itself: a real systemd host in a container, the fixture BeatSync app
deployed as the runbook sets it up, and every broken state showing its real symptom.

One container for the whole module; each test starts from `healthy_beatsync_host` (reset).
Skips when podman or the image is unavailable (scripts/build-image.sh builds it).
"""

import json
import os
from pathlib import Path

import pytest

# Fixtures are used by name.
from systemd_hosts import (  # noqa: F401  pylint: disable=unused-import
    APP_DIR, BROKEN_STATES, CANONICAL_UNIT, REPO, UNIT_PATH, beatsync_host, break_host,
    deploy_fixture, healthy_beatsync_host, reset_host, systemd_image,
)

RUNBOOK = Path(os.environ.get("BEATSYNC_RUNBOOK",
                              REPO.parent / "shared" / "runbook" / "fix-503-docs.md"))


def listener_on(host, port=8000):
    """(pid, cmdline, cgroup) of the process listening on port inside the host, or None."""
    out = host.exec("pid=$(ss -Hltnp 'sport = :%d' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2);"
                    " [ -n \"$pid\" ] || exit 0; echo $pid; tr '\\0' ' ' < /proc/$pid/cmdline; echo;"
                    " cat /proc/$pid/cgroup" % port, check=False).stdout
    if not out.strip():
        return None
    pid, cmdline, cgroup = (out.split("\n", 2) + ["", ""])[:3]
    return int(pid), cmdline.strip(), cgroup


def unit_state(host):
    """(ActiveState, SubState, Result) of beatsync.service, in one exec."""
    out = host.exec(["systemctl", "show", "-p", "ActiveState", "-p", "SubState", "-p", "Result",
                     "beatsync.service"], check=False).stdout
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return props.get("ActiveState"), props.get("SubState"), props.get("Result")


def assert_healthy(host):
    status, body = host.http_get("/api/health")
    assert status == 200 and json.loads(body) == {"status": "healthy"}, (status, body)
    status, body = host.http_get("/docs")
    assert status == 200 and "swagger-ui" in body.lower(), (status, body[:300])


def test_canonical_unit_is_the_runbooks():
    """molecule/shared/files/beatsync.service is the unit text of the runbook (方案2)."""
    if not RUNBOOK.is_file():
        pytest.skip("runbook not found at %s (set BEATSYNC_RUNBOOK)" % RUNBOOK)
    text = RUNBOOK.read_text(encoding="utf-8")
    assert CANONICAL_UNIT.read_text(encoding="utf-8").strip() in text


def test_fresh_host_is_deployed_like_the_runbook(healthy_beatsync_host):
    host = healthy_beatsync_host
    assert host.exec(["systemctl", "is-system-running"], check=False).stdout.strip() in ("running", "degraded")
    assert host.exec(["cat", UNIT_PATH]).stdout == CANONICAL_UNIT.read_text()
    assert host.exec(["test", "-f", APP_DIR + "/main.py"]).returncode == 0
    assert host.exec(["test", "-f", APP_DIR + "/requirements.txt"]).returncode == 0
    assert unit_state(host)[:2] == ("active", "running")
    assert host.unit_property("UnitFileState") == "enabled"
    pid, cmdline, cgroup = listener_on(host)
    assert "uvicorn main:app" in cmdline and "beatsync.service" in cgroup
    assert_healthy(host)
    assert deploy_fixture(host) is False, "a second deploy must change nothing"
    # pip installs come from the baked wheelhouse, offline.
    pip = host.exec("python3 -m pip download --no-deps -d /tmp/wh fastapi", check=False)
    assert pip.returncode == 0, pip.stderr


@pytest.mark.parametrize("state", BROKEN_STATES)
def test_broken_state_shows_its_symptom(healthy_beatsync_host, state):
    host = healthy_beatsync_host
    break_host(host, state)
    active, sub, result = unit_state(host)
    journal = host.journal(lines=200)

    if state == "service_stopped":
        assert active == "inactive" and host.unit_property("UnitFileState") == "enabled"
        assert host.http_status("/api/health") is None and listener_on(host) is None
    elif state == "unit_failed":
        assert (active, result) == ("failed", "start-limit-hit")
        assert host.http_status("/api/health") is None
    elif state == "unit_missing":
        assert host.unit_property("LoadState") == "not-found"
        assert host.exec(["test", "-e", UNIT_PATH], check=False).returncode != 0
        assert host.exec(["test", "-f", APP_DIR + "/main.py"]).returncode == 0
        assert host.http_status("/api/health") is None
    elif state == "unit_drifted":
        assert host.exec(["cat", UNIT_PATH]).stdout != CANONICAL_UNIT.read_text()
        assert host.unit_property("WorkingDirectory") == "/opt/beatsync/web_service"
        assert "Could not import module" in journal or "No module named 'main'" in journal
        assert active != "active" or sub != "running"
    elif state == "crash_loop_missing_dependency":
        assert host.exec("python3 -c 'import fastapi'", check=False).returncode != 0
        assert "ModuleNotFoundError: No module named 'fastapi'" in journal
        assert (active, sub) == ("activating", "auto-restart") and result == "exit-code"
    elif state == "syntax_error":
        assert host.exec(["python3", "-m", "py_compile", APP_DIR + "/main.py"], check=False).returncode != 0
        assert "SyntaxError" in journal and sub == "auto-restart"
    elif state == "stale_copy":
        assert active in ("activating", "failed"), (active, sub)
        assert "address already in use" in journal
        pid, cmdline, cgroup = listener_on(host)
        assert "uvicorn main:app" in cmdline and "beatsync.service" not in cgroup
        assert host.http_status("/api/health") == 200  # the stray copy answers
    elif state == "foreign_listener":
        assert active in ("activating", "failed") and "address already in use" in journal
        pid, cmdline, cgroup = listener_on(host)
        assert "http.server" in cmdline and "beatsync.service" not in cgroup
        assert host.http_status("/api/health") == 404  # not BeatSync
    elif state == "docs_503":
        assert_incident(host)
        host.exec("systemctl restart beatsync && sleep 0.2")
        wait_health(host)
        assert_healthy(host)  # the runbook's fix: a restart clears the one-shot fault
    elif state == "docs_hang":
        assert host.http_status("/api/health") == 200
        assert host.http_status("/docs", timeout=2) is None
    elif state == "openapi_500":
        assert host.http_status("/api/health") == 200
        assert host.http_status("/openapi.json") == 500
        host.exec("systemctl restart beatsync")
        wait_health(host)
        assert host.http_status("/openapi.json") == 500  # persistent: survives a restart
    elif state == "ufw_blocking":
        status = host.exec("ufw status verbose").stdout
        assert "Status: active" in status and "deny (incoming)" in status and "22/tcp" in status
        assert "8000" not in status
        assert host.http_status_inside("/api/health") == "200"
        assert host.http_status("/api/health", timeout=3) is None  # filtered from this machine
    else:  # pragma: no cover - a state was added without a symptom check
        pytest.fail("no symptom check for %s" % state)


def assert_incident(host):
    status, body = host.http_get("/api/health")
    assert status == 200 and json.loads(body)["status"] == "healthy"
    assert host.http_status("/docs") == 503
    assert host.unit_property("ActiveState") == "active"


def wait_health(host, timeout=30):
    host.exec("for i in $(seq %d); do curl -sf -m 2 -o /dev/null http://127.0.0.1:8000/api/health && exit 0;"
              " sleep 0.2; done; exit 1" % (timeout * 5), timeout=timeout + 60)


def test_drift_variant_execstart(healthy_beatsync_host):
    host = healthy_beatsync_host
    break_host(host, "unit_drifted", drift="execstart")
    assert "--port 8080" in host.unit_property("ExecStart")
    assert host.http_status("/api/health") is None
    assert host.http_status("/api/health", port=8080) == 200


def test_missing_uvicorn_variant(healthy_beatsync_host):
    host = healthy_beatsync_host
    break_host(host, "crash_loop_missing_dependency", missing="uvicorn")
    assert "No module named uvicorn" in host.journal()


def test_reset_after_everything_is_healthy(healthy_beatsync_host):
    host = healthy_beatsync_host
    for state in ("openapi_500", "ufw_blocking", "crash_loop_missing_dependency"):
        break_host(host, state)  # stacked on purpose
    reset_host(host)
    assert_healthy(host)
    assert "Status: inactive" in host.exec("ufw status").stdout
