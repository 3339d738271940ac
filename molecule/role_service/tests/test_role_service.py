"""beatsync.ops.service on a real systemd host: after converge (fresh host, the three roles),
then the drifted unit, check mode, a service that dies on start, and recovery."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rolerun import CANONICAL_UNIT, role, run_play  # noqa: E402

UNIT = "/etc/systemd/system/beatsync.service"
FAULTS = "/etc/beatsync-fixture/faults"


def http_code(host, path):
    return host.check_output("curl -s -o /dev/null -m 10 -w '%%{http_code}' http://127.0.0.1:8000%s", path)


def backups(host):
    return sorted(host.check_output("ls -1 /etc/systemd/system/ | grep '^beatsync.service\\..*~$' || true").split())


def test_unit_is_the_runbook_canonical_unit(host):
    unit = host.file(UNIT)
    assert unit.exists and unit.user == "root" and unit.mode == 0o644
    assert unit.content.decode() == CANONICAL_UNIT


def test_service_running_enabled_and_docs_200(host):
    service = host.service("beatsync")
    assert service.is_running
    assert service.is_enabled
    assert host.socket("tcp://0.0.0.0:8000").is_listening
    assert '"healthy"' in host.check_output("curl -s -m 10 http://127.0.0.1:8000/api/health")
    assert http_code(host, "/docs") == "200"
    assert "swagger-ui" in host.check_output("curl -s -m 10 http://127.0.0.1:8000/docs")


def test_firewall_rule_added_while_ufw_stays_inactive(host):
    assert "Status: inactive" in host.check_output("ufw status")
    assert "ufw allow 8000/tcp" in host.check_output("ufw show added")
    assert "8000" in host.file("/etc/ufw/user6.rules").content.decode()


def test_check_mode_on_converged_host_changes_nothing(host):
    result = run_play(role("service") + "\n" + role("requirements", requirements_break_system_packages=True)
                      + "\n" + role("firewall"), check=True, diff=True)
    assert not result.failed, result
    assert result.changed == 0, result


def test_drifted_unit_is_backed_up_and_replaced(host):
    drifted = CANONICAL_UNIT.replace("RestartSec=10", "RestartSec=3").replace(
        "--port 8000", "--port 8000 --log-level debug")
    host.run("rm -f /etc/systemd/system/beatsync.service.*~")
    host.run("printf '%%s' %s > %s && systemctl daemon-reload && systemctl restart beatsync",
             drifted, UNIT)   # testinfra quotes the arguments
    assert host.file(UNIT).content.decode() == drifted
    pid_before = host.check_output("systemctl show -p MainPID --value beatsync")

    # --check --diff: reports the change and the diff, writes nothing.
    dry = run_play(role("service"), check=True, diff=True)
    assert not dry.failed, dry
    assert "Install the unit file /etc/systemd/system/beatsync.service" in " ".join(dry.changed_tasks()), dry
    assert "--log-level debug" in dry.stdout
    assert host.file(UNIT).content.decode() == drifted
    assert backups(host) == []

    real = run_play(role("service"))
    assert not real.failed, real
    assert host.file(UNIT).content.decode() == CANONICAL_UNIT
    saved = backups(host)
    assert len(saved) == 1, saved
    assert host.file("/etc/systemd/system/" + saved[0]).content.decode() == drifted
    assert host.check_output("systemctl show -p MainPID --value beatsync") != pid_before
    assert "--log-level" not in host.check_output("ps -o args= -p $(systemctl show -p MainPID --value beatsync)")
    assert http_code(host, "/docs") == "200"


def test_service_dying_after_start_fails_with_the_journal(host):
    host.run("mkdir -p /etc/beatsync-fixture && echo startup_crash > %s" % FAULTS)
    try:
        result = run_play(role("service", service_state="restarted", service_settle_seconds=2,
                               service_health_retries=2, service_health_delay=1))
        assert result.failed, result
        message = "\n".join(result.failure_messages())
        assert "beatsync.service did not come up healthy" in message
        assert "journalctl -u beatsync" in message
        assert "startup_crash" in message   # the app's own traceback, from the journal
    finally:
        host.run("rm -f %s" % FAULTS)
    recovered = run_play(role("service", service_state="restarted"))
    assert not recovered.failed, recovered
    assert http_code(host, "/docs") == "200"
