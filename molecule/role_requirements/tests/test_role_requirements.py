"""beatsync.ops.requirements on a real Debian 12 (PEP 668) systemd host."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "role_service" / "tests"))
from rolerun import role, run_play  # noqa: E402

APP = "/opt/beatsync/web_service/backend"
VENV = APP + "/venv"


def test_host_is_pep668_externally_managed(host):
    assert host.run("ls /usr/lib/python3*/EXTERNALLY-MANAGED").rc == 0


def test_venv_has_the_requirements_and_the_unit_runs_it(host):
    assert host.file(VENV + "/bin/python").exists
    out = host.check_output(VENV + "/bin/python -c 'import fastapi, uvicorn, sys; print(sys.prefix)'")
    assert out == VENV
    unit = host.file("/etc/systemd/system/beatsync.service").content.decode()
    assert "ExecStart=%s/bin/python -m uvicorn main:app --host 0.0.0.0 --port 8000\n" % VENV in unit
    assert 'Environment="PATH=%s/bin:/usr/local/bin:/usr/bin:/bin"\n' % VENV in unit
    pid = host.check_output("systemctl show -p MainPID --value beatsync")
    assert host.check_output("readlink -f /proc/%s/exe" % pid).startswith("/usr/bin/python3")
    assert host.check_output("cat /proc/%s/cmdline | tr '\\0' ' '" % pid).startswith(VENV + "/bin/python")
    assert host.check_output("curl -s -o /dev/null -m 10 -w '%{http_code}' http://127.0.0.1:8000/docs") == "200"


def test_check_mode_on_converged_venv_changes_nothing(host):
    result = run_play(role("requirements", requirements_mode="venv"), check=True)
    assert not result.failed, result
    assert result.changed == 0, result


def test_system_mode_without_opt_in_fails_clearly_and_changes_nothing(host):
    before = host.check_output("/usr/bin/python3 -m pip freeze --all 2>/dev/null | sha256sum")
    result = run_play(role("requirements", requirements_mode="system"))
    assert result.failed, result
    message = " ".join(result.failure_messages())
    assert "externally-managed-environment" in message
    assert "requirements_mode=venv" in message and "requirements_break_system_packages=true" in message
    assert result.changed == 0
    assert host.check_output("/usr/bin/python3 -m pip freeze --all 2>/dev/null | sha256sum") == before


def test_missing_requirements_file_fails_clearly(host):
    result = run_play(role("requirements", requirements_mode="venv", requirements_file="nope.txt"))
    assert result.failed, result
    assert any("%s/nope.txt" % APP in msg and "requirements_file" in msg for msg in result.failure_messages()), result
    assert result.changed == 0


def test_missing_dependency_is_installed_and_reported_as_a_change(host):
    host.check_output(VENV + "/bin/python -m pip uninstall -y -q uvicorn")
    result = run_play(role("requirements", requirements_mode="venv"))
    assert not result.failed, result
    assert len(result.changed_tasks()) == 1, result
    assert "Install the requirements file" in result.changed_tasks()[0], result
    assert host.run(VENV + "/bin/python -c 'import uvicorn'").rc == 0
