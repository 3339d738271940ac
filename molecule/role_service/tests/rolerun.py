"""Run a playbook against the host(s) of the current Molecule scenario, from a testinfra test.

Shared by the role_* scenarios' verifiers (they add this directory to sys.path). Uses the
inventory Molecule wrote (MOLECULE_INVENTORY_FILE) and the JSON callback, so a test can look
at every task result, the failure messages and the changed count.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CANONICAL_UNIT = (REPO / "tests" / "fixtures" / "runbook_canonical_unit.service").read_text(encoding="utf-8")


class PlayResult:
    def __init__(self, proc, data):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.data = data or {}

    @property
    def stats(self):
        return next(iter(self.data.get("stats", {}).values()), {})

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    @property
    def failed(self):
        return self.rc != 0

    def tasks(self):
        for play in self.data.get("plays", []):
            for task in play.get("tasks", []):
                for result in task.get("hosts", {}).values():
                    yield task["task"]["name"], result

    def failure_messages(self):
        return [str(result.get("msg", "")) for dummy, result in self.tasks() if result.get("failed")]

    def changed_tasks(self):
        return [name for name, result in self.tasks() if result.get("changed")]

    def __repr__(self):
        return "PlayResult(rc=%s, changed=%s, failures=%s, stderr=%s)" % (
            self.rc, self.changed_tasks(), self.failure_messages(), self.stderr[-2000:])


def run_play(tasks_yaml: str, extra_vars: dict | None = None, check=False, diff=False, timeout=600):
    """Run a one-play playbook (`hosts: all`, no facts) whose task list is tasks_yaml."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp) / "play.yml"
        playbook.write_text("---\n- hosts: all\n  gather_facts: false\n  tasks:\n"
                            + "\n".join("    " + line for line in tasks_yaml.strip("\n").splitlines()) + "\n",
                            encoding="utf-8")
        argv = ["ansible-playbook", "-i", inventory, str(playbook)]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
            "ANSIBLE_NOCOLOR": "1",
        })
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    return PlayResult(proc, data)


def role(name, tasks_from=None, **role_vars):
    """The YAML of one include_role task."""
    lines = ["- name: Run beatsync.ops.%s" % name,
             "  ansible.builtin.include_role:",
             "    name: beatsync.ops.%s" % name]
    if tasks_from:
        lines.append("    tasks_from: %s" % tasks_from)
    if role_vars:
        lines.append("  vars:")
        for key, value in role_vars.items():
            lines.append("    %s: %s" % (key, json.dumps(value)))
    return "\n".join(lines)
