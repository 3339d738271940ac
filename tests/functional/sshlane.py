"""Helpers of the real-SSH lane: inventories that reach a systemd test host the way operators
do (ssh as `ops` on a non-default port, become through sudo) and ansible runs over them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from testlib import REPO, ansible_env

BIN = Path(sys.executable).parent
PLAYBOOKS = REPO / "playbooks"

UFW_RESET = "ufw --force reset >/dev/null && rm -f /etc/ufw/*.rules.20* /etc/ufw/*.rules.*_20* && ufw status"
UFW_STATE = "LC_ALL=C ufw status verbose; LC_ALL=C ufw show added"


def write_inventory(directory, host, **hostvars):
    """An inventory directory of its own: hosts.json (group beatsync, host bed) and an
    ansible.cfg that turns host key checking off. Returns the hosts file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ansible.cfg").write_text("[defaults]\nhost_key_checking = False\n")
    path = directory / "hosts.json"
    path.write_text(json.dumps({"beatsync": {"hosts": {"bed": host.hostvars(**hostvars)}}}, indent=2))
    return path


def _env(inventory):
    env = ansible_env()
    env.update({
        "ANSIBLE_CONFIG": str(Path(inventory).parent / "ansible.cfg"),
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_SSH_RETRIES": "0",
        "ANSIBLE_TIMEOUT": "15",
    })
    env.pop("ANSIBLE_PYTHON_INTERPRETER", None)   # the inventory names the host's python
    return env


def playbook(path, inventory, *args, timeout=900):
    """ansible-playbook PATH over the inventory -> CompletedProcess (text)."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(path), *args]
    return subprocess.run(argv, env=_env(inventory), capture_output=True, text=True, timeout=timeout, check=False)


def adhoc(inventory, module, args="", *extra, timeout=120):
    """`ansible bed -m MODULE -a ARGS` over the inventory (a new SSH connection) -> CompletedProcess."""
    argv = [str(BIN / "ansible"), "bed", "-i", str(inventory), "-m", module, *(["-a", args] if args else []), *extra]
    env = _env(inventory)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"   # the task's result, stdout included
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def recap(proc, host="bed"):
    match = re.search(r"^%s\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % host,
                      proc.stdout, re.M)
    assert match, "no PLAY RECAP for %s:\n%s\n%s" % (host, proc.stdout[-6000:], proc.stderr[-3000:])
    return {"ok": int(match[1]), "changed": int(match[2]), "unreachable": int(match[3]), "failed": int(match[4])}


def tail(proc, chars=6000):
    return "rc=%s\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout[-chars:], proc.stderr[-3000:])
