"""extensions/eda/rulebooks/beatsync_repair.yml run for real by ansible-rulebook: the paths that
must never be silent and never repair blindly.

- A host whose restart budget is spent: the (stand-in) repair refuses with the code
  restart_budget_exhausted and writes its report; the rulebook escalates the budget exactly
  once while the host stays broken, and repeats the still-failing escalation.
- A watcher-side outage: ansible-rulebook and three fixture hosts run in a network namespace of
  their own; its loopback goes down (every host unreachable from the watcher) and up again: one
  watcher_network escalation, zero repairs, no per-host escalation. A malformed host entry in
  the same watch list is reported and skipped; the source keeps watching the others.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from testlib import COLLECTIONS_PATH, free_port
from test_rulebook_repair import FILES, RULEBOOK, RULEBOOK_BIN, _docs_status, _java_home, _lines, _wait, stop_process

pytestmark = pytest.mark.skipif(RULEBOOK_BIN is None or _java_home() is None,
                                reason="ansible-rulebook or Java not installed")


def _env():
    return dict(os.environ, JAVA_HOME=_java_home(), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
                ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                PATH="%s:%s" % (RULEBOOK_BIN.parent, os.environ.get("PATH", "")))


def _start_rulebook(tmp_path, hosts, variables, prefix=()):
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables))
    log = tmp_path / "rulebook.log"
    with open(log, "w") as handle:
        proc = subprocess.Popen(
            [*prefix, str(RULEBOOK_BIN), "-r", str(RULEBOOK), "-i", str(tmp_path / "inventory.yml"),
             "--vars", str(tmp_path / "vars.yml"), "-v"],
            cwd=str(tmp_path), env=_env(), stdout=handle, stderr=subprocess.STDOUT)
    assert _wait(lambda: "Waiting for events" in log.read_text() or proc.poll() is not None, 120), \
        "ansible-rulebook did not start:\n" + log.read_text()[-3000:]
    assert proc.poll() is None, log.read_text()[-3000:]
    return proc, log


def test_spent_restart_budget_is_escalated_once(tmp_path):
    port = free_port()
    base_url = "http://127.0.0.1:%d" % port
    state = tmp_path / "state"
    state.mkdir()
    supervisor = subprocess.Popen([sys.executable, str(FILES / "fixture_supervisor.py"), str(port), str(state)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rulebook = None
    try:
        assert _wait(lambda: _docs_status(base_url) == 200, 30), "fixture app did not come up"
        rulebook, log = _start_rulebook(
            tmp_path,
            {"web1": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                      "fixture_state_dir": str(state)}},
            {"beatsync_watch_hosts": [{"name": "web1", "address": "127.0.0.1", "port": port}],
             "beatsync_repair_playbook": str(FILES / "refuse_budget.yml"),
             "beatsync_watch_still_failing_interval": 4, "beatsync_watch_report_dir": str(tmp_path / "reports")})
        # the incident, persistent: only a repair could fix it, and the repair refuses
        (state / "faults").write_text("docs_503\n")
        os.kill(int((state / "supervisor.pid").read_text()), signal.SIGHUP)
        assert _wait(lambda: "ESCALATE web1: restart budget exhausted" in log.read_text(), 60), log.read_text()[-4000:]
        # keep it broken through several still_failing periods: repeated escalations, one budget escalation
        assert _wait(lambda: log.read_text().count("ESCALATE web1: still failing") >= 3, 60), log.read_text()[-4000:]
        text = log.read_text()
        assert text.count("ESCALATE web1: restart budget exhausted") == 1, text[-4000:]
        assert "left 0" in text
        assert len(_lines(state / "repairs")) == 1
        assert _docs_status(base_url) == 503
    finally:
        stop_process(rulebook)
        supervisor.terminate()
        supervisor.wait(timeout=30)


class NetNamespace:
    """A network namespace of its own (held by a `sleep`), loopback up; commands run in it
    through nsenter, and `call` runs a Python function in it on a thread of this process."""

    def __init__(self):
        self.holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"])
        self.path = "/proc/%d/ns/net" % self.holder.pid
        _wait(lambda: os.readlink(self.path) != os.readlink("/proc/self/ns/net"), 10, step=0.02)
        self.ip("link", "set", "lo", "up")

    def prefix(self):
        return ["nsenter", "--net=%s" % self.path, "--"]

    def ip(self, *args):
        subprocess.run([*self.prefix(), "ip", *args], check=True, timeout=30)

    def call(self, function):
        box = {}

        def run():
            with open(self.path) as handle:
                os.setns(handle.fileno(), os.CLONE_NEWNET)  # this thread only
            box["value"] = function()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return box.get("value")

    def close(self):
        self.holder.kill()
        self.holder.wait()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter")
                    or not shutil.which("ip"), reason="needs root, unshare, nsenter and ip")
def test_watcher_network_outage_repairs_nothing_and_bad_host_is_skipped(tmp_path):
    netns = NetNamespace()
    supervisors, rulebook = [], None
    try:
        hosts, inventory = [], {}
        for name in ("web1", "web2", "web3"):
            port = free_port()  # a port free here is as good as any in the new namespace
            state = tmp_path / name
            state.mkdir()
            supervisors.append(subprocess.Popen(
                [*netns.prefix(), sys.executable, str(FILES / "fixture_supervisor.py"), str(port), str(state)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            hosts.append({"name": name, "address": "127.0.0.1", "port": port})
            inventory[name] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                               "fixture_state_dir": str(state)}
        for host in hosts:
            url = "http://127.0.0.1:%d" % host["port"]
            assert _wait(lambda url=url: netns.call(lambda: _docs_status(url)) == 200, 30), "fixture did not start"
        hosts.append({"name": "web4", "address": "web 4.example"})  # malformed: skipped, reported
        rulebook, log = _start_rulebook(
            tmp_path, inventory,
            {"beatsync_watch_hosts": hosts, "beatsync_repair_playbook": str(FILES / "restart_fixture.yml"),
             "beatsync_watch_still_failing_interval": 4, "beatsync_watch_report_dir": str(tmp_path / "reports")},
            prefix=netns.prefix())
        assert _wait(lambda: "BAD HOST ENTRY skipped: hosts: malformed address of web4" in log.read_text(), 30), \
            log.read_text()[-3000:]
        time.sleep(5)  # healthy polls of the three good hosts: nothing happens
        assert "ESCALATE" not in log.read_text()

        netns.ip("link", "set", "lo", "down")  # the watcher is cut off from every host
        assert _wait(lambda: "ESCALATE watcher network: 3 of 3 hosts" in log.read_text(), 30), log.read_text()[-3000:]
        time.sleep(10)  # several polls with the breaker open, longer than still_failing_interval
        netns.ip("link", "set", "lo", "up")
        assert _wait(lambda: "WATCHER NETWORK RECOVERED" in log.read_text(), 30), log.read_text()[-3000:]
        time.sleep(5)

        text = log.read_text()
        assert text.count("ESCALATE watcher network") == 1, text[-4000:]
        assert "ESCALATE web" not in text and "REPAIR AGAIN" not in text and "RECOVERED web" not in text, text[-4000:]
        assert all(_lines(tmp_path / name / "repairs") == [] for name in ("web1", "web2", "web3"))
        assert not any(Path(tmp_path / name / "restarts").exists() for name in ("web1", "web2", "web3"))
        assert rulebook.poll() is None
    finally:
        stop_process(rulebook)
        for supervisor in supervisors:
            stop_process(supervisor)
        netns.close()
