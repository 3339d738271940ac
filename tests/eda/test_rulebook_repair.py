"""extensions/eda/rulebooks/beatsync_repair.yml run for real by ansible-rulebook (Java 17,
drools): a loopback fixture host (uvicorn under tests/eda/files/fixture_supervisor.py, a
stand-in for systemd) gets the runbook's incident (/docs 503 after a restart with a one-shot
fault), the beatsync_probe source emits, the rule runs a repair playbook on that host, and
the host is healthy again; the time from the first 503 to healthy is measured (goal <= 15 s
with the rulebook's 2 s poll; printed, bounded at 60 s). Then a host that breaks again right
after the repair (repaired again), a third failure within the flap window (throttled:
escalated, not repaired) and the repeated escalation while it stays broken (still_failing).

Not a container host: the "repair" is tests/eda/files/restart_fixture.yml (SIGHUP to the
supervisor = systemctl restart), given to the rulebook as beatsync_repair_playbook; the
rulebook, source, throttle and escalation are the shipped ones.

ansible-rulebook is not in the toolchain venv yet: the test uses EDA_VENV (default
build/awx-eda/venv) and is skipped when ansible-rulebook or Java 17 is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from testlib import COLLECTIONS_PATH, REPO, free_port

EDA_VENV = Path(os.environ.get("EDA_VENV", str(REPO / "build" / "awx-eda" / "venv")))
RULEBOOK = REPO / "extensions" / "eda" / "rulebooks" / "beatsync_repair.yml"
FILES = Path(__file__).resolve().parent / "files"
GOAL_SECONDS = 15.0


def _rulebook_bin():
    for candidate in (Path(sys.executable).parent / "ansible-rulebook", EDA_VENV / "bin" / "ansible-rulebook"):
        if candidate.exists():
            return candidate
    return None


def _java_home():
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java:
        return str(Path(os.path.realpath(java)).parent.parent)
    return None


RULEBOOK_BIN = _rulebook_bin()
pytestmark = pytest.mark.skipif(RULEBOOK_BIN is None or _java_home() is None,
                                reason="ansible-rulebook (EDA_VENV=%s) or Java not installed" % EDA_VENV)


def _docs_status(base_url):
    try:
        with urllib.request.urlopen(base_url + "/docs", timeout=2) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _wait(predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def stop_process(proc, timeout=30):
    """SIGTERM, then SIGKILL after `timeout` seconds (ansible-rulebook, supervisors)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


def test_rulebook_repairs_throttles_and_escalates(tmp_path):
    port = free_port()
    base_url = "http://127.0.0.1:%d" % port
    state = tmp_path / "state"
    state.mkdir()
    supervisor = subprocess.Popen([sys.executable, str(FILES / "fixture_supervisor.py"), str(port), str(state)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rulebook = None
    log = tmp_path / "rulebook.log"
    try:
        assert _wait(lambda: _docs_status(base_url) == 200, 30), "fixture app did not come up"
        supervisor_pid = int((state / "supervisor.pid").read_text())

        (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"web1": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "beatsync_port": port, "fixture_state_dir": str(state)}}}}))
        (tmp_path / "vars.yml").write_text(yaml.safe_dump({
            "beatsync_watch_hosts": [{"name": "web1", "address": "127.0.0.1", "port": port}],
            "beatsync_repair_playbook": str(FILES / "restart_fixture.yml"),
            "beatsync_watch_still_failing_interval": 6, "beatsync_watch_report_dir": str(tmp_path / "reports")}))
        env = dict(os.environ, JAVA_HOME=_java_home(), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                   PATH="%s:%s" % (RULEBOOK_BIN.parent, os.environ.get("PATH", "")))
        with open(log, "w") as handle:
            rulebook = subprocess.Popen(
                [str(RULEBOOK_BIN), "-r", str(RULEBOOK), "-i", str(tmp_path / "inventory.yml"),
                 "--vars", str(tmp_path / "vars.yml"), "-v"],
                cwd=str(tmp_path), env=env, stdout=handle, stderr=subprocess.STDOUT)
        assert _wait(lambda: "Waiting for events" in log.read_text() or rulebook.poll() is not None, 120), \
            "ansible-rulebook did not start:\n" + log.read_text()[-3000:]
        assert rulebook.poll() is None, log.read_text()[-3000:]
        time.sleep(5)  # a few healthy polls: nothing happens
        assert _lines(state / "repairs") == []

        def break_host():
            """The runbook's incident: a restart that comes back with /docs 503."""
            (state / "oneshot").write_text("docs_503\n")
            os.kill(supervisor_pid, signal.SIGHUP)
            return _wait(lambda: _docs_status(base_url) == 503 and time.monotonic(), 30, step=0.05)

        # 1. broken -> event -> repair playbook -> healthy, timed
        failed_at = break_host()
        assert failed_at, "could not break the fixture host"
        healthy_at = _wait(lambda: _docs_status(base_url) == 200 and time.monotonic(), 60, step=0.1)
        assert healthy_at, "not repaired within 60 s:\n" + log.read_text()[-4000:]
        time_to_healthy = healthy_at - failed_at
        repairs = _lines(state / "repairs")
        assert len(repairs) == 1 and repairs[0].startswith("web1 "), repairs
        print("EDA time from /docs 503 to healthy: %.2f s (goal %.0f s)" % (time_to_healthy, GOAL_SECONDS))
        # The goal is measured (tests/eda/test_rulebook_container.py writes the systemd host's
        # number for docs/benchmarks.md), not asserted: only a loop that never closes fails here.
        assert time_to_healthy <= 60, time_to_healthy
        assert _wait(lambda: "RECOVERED web1" in log.read_text(), 15), log.read_text()[-3000:]

        # 2. broken again right after the repair (second failure within the flap window):
        #    repaired again, said so in the log
        assert break_host()
        assert _wait(lambda: "REPAIR AGAIN web1" in log.read_text(), 15), log.read_text()[-3000:]
        assert _wait(lambda: _docs_status(base_url) == 200, 60), log.read_text()[-4000:]
        assert _wait(lambda: log.read_text().count("RECOVERED web1") >= 2, 15), log.read_text()[-3000:]
        assert len(_lines(state / "repairs")) == 2

        # 3. a third healthy -> failing transition within the flap window: throttled, escalated,
        #    not repaired; and while it stays broken the escalation is repeated (still_failing)
        offset = len(log.read_text())
        assert break_host()
        assert _wait(lambda: "ESCALATE web1: throttled" in log.read_text()[offset:], 15), log.read_text()[-3000:]
        assert _wait(lambda: log.read_text()[offset:].count("ESCALATE web1: still failing") >= 2, 40), \
            log.read_text()[-3000:]
        assert len(_lines(state / "repairs")) == 2
        assert _docs_status(base_url) == 503
    finally:
        stop_process(rulebook)
        supervisor.terminate()
        supervisor.wait(timeout=30)
