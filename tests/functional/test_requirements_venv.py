"""beatsync.ops.requirements in venv mode on a real systemd host: it installs into the venv
the unit's ExecStart runs, refuses (changing nothing) for a venv the unit does not run, and
asks `pip install --dry-run` in check mode as the venv's owner, not root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testlib import ansible_env
from systemd_hosts import APP_DIR, SystemdHost, deploy_fixture, podman_env, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

UNIT_VENV = "/opt/beatsync/venv-unit"
OTHER_VENV = "/opt/beatsync/venv-other"
DEFAULT_VENV = APP_DIR + "/venv"
DROPIN = "/etc/systemd/system/beatsync.service.d/50-venv.conf"
PLAY = """
- name: The requirements role
  hosts: bed
  gather_facts: false
  roles:
    - role: beatsync.ops.requirements
"""


@pytest.fixture(scope="module")
def venv_host(systemd_image):  # noqa: F811
    """The unit runs UNIT_VENV's python (owned by `ops`, empty: the unit crash-loops on the
    missing fastapi); OTHER_VENV exists beside it."""
    host = SystemdHost(image=systemd_image)
    try:
        deploy_fixture(host)
        host.exec("python3 -m venv %s && chown -R ops: %s && python3 -m venv %s" % (UNIT_VENV, UNIT_VENV, OTHER_VENV))
        host.exec(["bash", "-c", "mkdir -p %s && cat > %s" % (Path(DROPIN).parent, DROPIN)],
                  input="[Service]\nExecStart=\nExecStart=%s/bin/python -m uvicorn main:app --host 0.0.0.0 --port 8000\n"
                  % UNIT_VENV)
        host.exec("systemctl daemon-reload")
        yield host
    finally:
        host.remove()


def run_role(tmp_path, host, *args, **role_vars):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"bed": {
        "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
        "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    env = ansible_env()
    env.update(podman_env())
    env.update({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_PIPELINING": "1",
                "ANSIBLE_FORCE_COLOR": "0"})
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(play),
            "-e", json.dumps({"requirements_mode": "venv", **role_vars}), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)


def freeze(host, venv):
    return host.exec("%s/bin/python -m pip freeze --all 2>&1 | sha256sum" % venv, check=False).stdout


def test_unit_runs_a_venv(venv_host):
    exec_start = venv_host.unit_property("ExecStart")
    assert UNIT_VENV + "/bin/python" in exec_start, exec_start


def test_check_mode_asks_pip_as_the_venv_owner(venv_host, tmp_path):
    before = freeze(venv_host, UNIT_VENV)
    run = run_role(tmp_path, venv_host, "--check", "-vvv")
    assert run.returncode == 0, run.stdout[-5000:]
    assert freeze(venv_host, UNIT_VENV) == before
    # The dry run went through sudo to the venv's owner, ops.
    dry_run = run.stdout[run.stdout.index("Ask pip what it would install"):]
    assert "sudo -H -S -n  -u ops" in dry_run or "-u ops" in dry_run.split("TASK [")[0], dry_run[:3000]
    assert "changed: [bed]" in dry_run.split("TASK [")[0]    # pip would install fastapi
    assert venv_host.exec("test -e %s" % DEFAULT_VENV, check=False).returncode != 0


STALLED_INDEX = ("import socket, time\n"
                 "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                 "s.bind(('127.0.0.1', 9999)); s.listen()\n"
                 "conns = []\n"
                 "while True: conns.append(s.accept())   # accept, never answer\n")


def test_a_stalled_index_is_stopped_by_requirements_timeout(venv_host, tmp_path):
    """One pip attempt is bounded as a whole: pip's own --timeout (600 s here) would wait."""
    before = freeze(venv_host, UNIT_VENV)
    venv_host.exec(["bash", "-c", "cat > /tmp/stalled_index.py && (setsid python3 /tmp/stalled_index.py >/dev/null 2>&1 &)"],
                   input=STALLED_INDEX)
    try:
        run = run_role(tmp_path, venv_host, requirements_timeout=5, requirements_retries=1,
                       requirements_extra_args="--find-links http://127.0.0.1:9999/ --timeout 600 --retries 0")
        assert run.returncode != 0, run.stdout[-3000:]
        assert "did not finish within requirements_timeout=5 seconds" in run.stdout, run.stdout[-3000:]
    finally:
        venv_host.exec("pkill -f stalled_index.py", check=False)
    assert freeze(venv_host, UNIT_VENV) == before


def test_a_venv_the_unit_does_not_run_is_refused(venv_host, tmp_path):
    before_other, before_unit = freeze(venv_host, OTHER_VENV), freeze(venv_host, UNIT_VENV)
    run = run_role(tmp_path, venv_host, requirements_venv=OTHER_VENV)
    assert run.returncode != 0
    assert "Installing there would not fix the unit" in run.stdout and UNIT_VENV in run.stdout, run.stdout[-3000:]
    assert freeze(venv_host, OTHER_VENV) == before_other and freeze(venv_host, UNIT_VENV) == before_unit


def test_installs_into_the_venv_the_unit_runs(venv_host, tmp_path):
    run = run_role(tmp_path, venv_host)
    assert run.returncode == 0, run.stdout[-5000:]
    assert venv_host.exec("%s/bin/python -c 'import fastapi, uvicorn'" % UNIT_VENV, check=False).returncode == 0
    assert venv_host.exec("test -e %s" % DEFAULT_VENV, check=False).returncode != 0   # not the default venv
    assert venv_host.exec("%s/bin/python -c 'import fastapi'" % OTHER_VENV, check=False).returncode != 0


def test_unit_without_a_venv_is_refused(venv_host, tmp_path):
    venv_host.exec("rm -f %s && systemctl daemon-reload" % DROPIN)
    run = run_role(tmp_path, venv_host)
    assert run.returncode != 0
    assert "not a virtualenv" in run.stdout and "requirements_venv_unit_pending" in run.stdout, run.stdout[-3000:]
    assert venv_host.exec("test -e %s" % DEFAULT_VENV, check=False).returncode != 0
