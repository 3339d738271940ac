"""The service role's template against the runbook's canonical unit, and argument validation
of the three roles, without any container.

Argument validation runs against an inventory host whose SSH connection can only be refused
(127.0.0.1, port 9): validate_argument_spec and assert run on the controller, so a bad value
must fail the play *before* the first task that touches the host, which would otherwise show
up as UNREACHABLE. Nothing runs on this machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "runbook_canonical_unit.service"
# CI copies shared/ beside the clone as ../shared.
RUNBOOK = REPO.parent / "shared" / "runbook" / "fix-503-docs.md"
sys.path.insert(0, str(REPO / "tests"))
from testlib import ansible_env  # noqa: E402


def canonical_from_runbook(text):
    """The ```ini block after **确保配置正确** (option 2, the long form with blank lines)."""
    match = re.search(r"\*\*确保配置正确\*\*：\s*```ini\n(.*?)```", text, re.S)
    assert match, "canonical unit block not found in the runbook"
    return match.group(1)


def run_playbook(tmp_path, play_yaml, inventory=None, extra_vars=None, extra_vars_file=None, playbook=None):
    """play_yaml written to a temporary playbook, or the collection's own playbook (a path)."""
    if playbook is None:
        playbook = tmp_path / "play.yml"
        playbook.write_text(play_yaml, encoding="utf-8")
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook)]
    if inventory:
        inv = tmp_path / "inventory.yml"
        inv.write_text(inventory, encoding="utf-8")
        argv += ["-i", str(inv)]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if extra_vars_file:
        argv += ["-e", "@%s" % extra_vars_file]
    proc = subprocess.run(argv, env=ansible_env(), capture_output=True, text=True, timeout=180, check=False)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("no JSON (rc=%s)\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc.returncode, data


def host_results(data, host):
    for play in data["plays"]:
        for task in play["tasks"]:
            if host in task["hosts"]:
                yield task["task"]["name"], task["hosts"][host]


def test_fixture_is_the_runbook_unit_when_shared_is_present():
    if not RUNBOOK.exists():
        pytest.skip("../shared/runbook/fix-503-docs.md not present; the fixture copy is used")
    assert canonical_from_runbook(RUNBOOK.read_text(encoding="utf-8")) == FIXTURE.read_text(encoding="utf-8")


RENDER_PLAY = """---
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Render through the render_canonical entry point
      ansible.builtin.include_role:
        name: beatsync.ops.service
        tasks_from: render_canonical.yml
    - name: Render with the template module into a temp file (what the role writes)
      ansible.builtin.template:
        src: "{{ repo }}/roles/service/templates/beatsync.service.j2"
        dest: "{{ out }}"
        mode: "0644"
      vars:
        repo: %(repo)s
        out: %(out)s
        # what the role derives in vars/main.yml, from the role defaults
        service__python: "{{ service_python }}"
        service__path_env: "{{ service_path_env }}"
    - name: Show the fact
      ansible.builtin.debug:
        var: service_canonical_unit
"""


def test_default_render_is_exactly_the_canonical_unit(tmp_path):
    """Rendered for real by Ansible: the role's entry point (lookup) and the template module
    (fed the role defaults), both equal to the runbook's unit line for line and byte for byte."""
    out = tmp_path / "beatsync.service"
    rc, data = run_playbook(tmp_path, RENDER_PLAY % {"repo": json.dumps(str(REPO)), "out": json.dumps(str(out))},
                            extra_vars_file=REPO / "roles" / "service" / "defaults" / "main.yml")
    assert rc == 0, data
    results = dict(host_results(data, "localhost"))
    fact = results["Show the fact"]["service_canonical_unit"]
    want = FIXTURE.read_text(encoding="utf-8")
    assert fact.splitlines() == want.splitlines()
    assert fact == want
    written = out.read_text(encoding="utf-8")
    assert written.splitlines() == want.splitlines()
    assert written == want
    assert results["Render through the render_canonical entry point"].get("changed") is not True


def test_render_canonical_follows_the_variables(tmp_path):
    rc, data = run_playbook(tmp_path, """---
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Render with a venv, a group, extra environment and hardening
      ansible.builtin.include_role:
        name: beatsync.ops.service
        tasks_from: render_canonical.yml
      vars:
        service_venv: /opt/beatsync/venv
        service_group: beatsync
        service_user: beatsync
        service_port: 9000
        service_environment: {LOG_LEVEL: "debug info", QUOTE: 'a"b'}
        service_hardening: true
    - name: Show the fact
      ansible.builtin.debug:
        var: service_canonical_unit
""")
    assert rc == 0, data
    unit = dict(host_results(data, "localhost"))["Show the fact"]["service_canonical_unit"]
    lines = unit.splitlines()
    assert "ExecStart=/opt/beatsync/venv/bin/python -m uvicorn main:app --host 0.0.0.0 --port 9000" in lines
    assert 'Environment="PATH=/opt/beatsync/venv/bin:/usr/local/bin:/usr/bin:/bin"' in lines
    assert 'Environment="LOG_LEVEL=debug info"' in lines
    assert 'Environment="QUOTE=a\\"b"' in lines
    assert "User=beatsync" in lines and "Group=beatsync" in lines
    assert "NoNewPrivileges=yes" in lines and "ProtectSystem=full" in lines
    assert lines.index("NoNewPrivileges=yes") < lines.index("[Install]")


UNREACHABLE_INVENTORY = """---
all:
  hosts:
    target:
      ansible_host: 127.0.0.1
      ansible_port: 9
      ansible_connection: ssh
      ansible_user: nobody
      ansible_ssh_common_args: "-o ConnectTimeout=3 -o BatchMode=yes"
"""

ROLE_PLAY = """---
- hosts: all
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: beatsync.ops.%s
"""


@pytest.mark.parametrize("role, bad_vars, variable", [
    ("service", {"service_port": "abc"}, "service_port"),
    ("service", {"service_port": 70000}, "service_port"),
    ("service", {"service_app_dir": "opt/beatsync/web_service/backend"}, "service_app_dir"),
    ("service", {"service_state": "reloaded"}, "service_state"),
    ("service", {"service_python": "python3"}, "service_python"),
    ("service", {"service_extra_args": ["--log-level debug"]}, "service_extra_args"),
    ("service", {"service_environment": {"BAD-NAME": "x"}}, "service_environment"),
    ("requirements", {"requirements_app_dir": "relative/dir"}, "requirements_app_dir"),
    ("requirements", {"requirements_mode": "conda"}, "requirements_mode"),
    ("requirements", {"requirements_retries": "many"}, "requirements_retries"),
    ("firewall", {"firewall_port": "abc"}, "firewall_port"),
    ("firewall", {"firewall_port": 70000}, "firewall_port"),
    ("firewall", {"firewall_sources": ["10.0.0.0/33"]}, "firewall_sources"),
    ("firewall", {"firewall_comment": "it's"}, "firewall_comment"),
])
def test_bad_values_fail_before_any_host_task(tmp_path, role, bad_vars, variable):
    rc, data = run_playbook(tmp_path, ROLE_PLAY % role, UNREACHABLE_INVENTORY, bad_vars)
    assert rc != 0
    stats = data["stats"]["target"]
    assert stats["unreachable"] == 0, "the role reached for the host before rejecting %s" % bad_vars
    assert stats["failures"] == 1 and stats["changed"] == 0
    messages = [str(r.get("msg", "")) for dummy, r in host_results(data, "target") if r.get("failed")]
    assert any(variable in m for m in messages), messages


@pytest.mark.parametrize("role", ["service", "requirements", "firewall"])
def test_good_defaults_pass_validation_and_then_reach_for_the_host(tmp_path, role):
    rc, data = run_playbook(tmp_path, ROLE_PLAY % role, UNREACHABLE_INVENTORY)
    assert rc != 0
    assert data["stats"]["target"]["unreachable"] == 1, data["stats"]
    assert data["stats"]["target"]["failures"] == 0


@pytest.mark.parametrize("bad_vars, variable", [
    ({"beatsync_port": 70000}, "beatsync_port"),
    ({"beatsync_port": "abc"}, "beatsync_port"),
    ({"beatsync_timeout": "slow"}, "beatsync_timeout"),
    ({"beatsync_app_dir": "opt/beatsync"}, "beatsync_app_dir"),
    ({"beatsync_journal_lines": 0}, "beatsync_journal_lines"),
])
def test_diagnose_playbook_names_the_bad_variable_before_reaching_the_host(tmp_path, bad_vars, variable):
    """playbooks/diagnose.yml skips the role's own argument check (rolespec_validate: false):
    the diagnose action checks every option once, before any connection, and names the
    beatsync_* variable the bad value came from."""
    rc, data = run_playbook(tmp_path, None, UNREACHABLE_INVENTORY.replace("all:", "beatsync:", 1),
                            dict(bad_vars, beatsync_report_dir=str(tmp_path / "reports")),
                            playbook=REPO / "playbooks" / "diagnose.yml")
    assert rc != 0
    stats = data["stats"]["target"]
    assert stats["unreachable"] == 0, "diagnose.yml reached for the host before rejecting %s" % bad_vars
    assert stats["failures"] == 1 and stats["changed"] == 0
    messages = [str(r.get("msg", "")) for dummy, r in host_results(data, "target") if r.get("failed")]
    assert any(variable in m for m in messages), messages
