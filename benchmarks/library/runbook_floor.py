# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# A benchmark, not part of the collection: benchmarks/host_floor.py runs it beside
# ansible.builtin.ping and beatsync.ops.diagnose.

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_floor
short_description: The runbook's inside diagnosis steps in the least code (a benchmark's floor)
description:
  - What the host's CPU must at least pay for the runbook's inside steps when an Ansible module
    takes them with the standard library: C(systemctl show) (step 1), C(journalctl -n 50)
    (step 2), the port's listener from C(/proc/net/tcp*) (step 3), C(/api/health) and C(/docs)
    with C(http.client) and the page read by C(html.parser) (step 4), the uvicorn process from
    C(/proc) (step 5), the installed fastapi and uvicorn (step 6) and UFW's rules (option 4).
  - No validation, no redaction, no findings, no error handling beyond what keeps it running:
    the floor under M(beatsync.ops.diagnose), for C(benchmarks/host_floor.py) only.
options:
  port:
    description: The app's port.
    type: int
    default: 8000
  service:
    description: The unit.
    type: str
    default: beatsync.service
author:
  - BeatSync operations (@beatsync)
"""

import glob
import http.client
import os
import subprocess
import sys
from html.parser import HTMLParser

from ansible.module_utils.basic import AnsibleModule


class _Title(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))


def _get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _listeners(port):
    wanted = ":%04X" % port
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name, encoding="ascii") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(wanted) and fields[3] == "0A":
                    found.append(fields[9])
    return found


def _uvicorn_processes():
    found = []
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if b"uvicorn" in argv:
            found.append(path.split("/")[2])
    return found


def main():
    module = AnsibleModule(argument_spec=dict(port=dict(type="int", default=8000),
                                              service=dict(type="str", default="beatsync.service")),
                           supports_check_mode=True)
    port, service = module.params["port"], module.params["service"]
    env = dict(os.environ, LC_ALL="C")
    show = subprocess.run(["systemctl", "show", service, "-p", "ActiveState,SubState,ExecStart,User,MainPID"],
                          capture_output=True, text=True, env=env, check=False).stdout
    journal = subprocess.run(["journalctl", "-u", service, "-n", "50", "--no-pager"],
                             capture_output=True, text=True, env=env, check=False).stdout
    health = _get(port, "/api/health")
    docs = _get(port, "/docs")
    page = _Title()
    page.feed(docs[1].decode("utf-8", "replace"))
    installed = sorted(os.path.basename(path) for directory in sys.path if os.path.isdir(directory)
                       for path in glob.glob(os.path.join(directory, "*.dist-info"))
                       if os.path.basename(path).lower().startswith(("fastapi-", "uvicorn-")))
    rules = []
    for name in ("/etc/ufw/ufw.conf", "/etc/ufw/user.rules", "/etc/ufw/user6.rules"):
        if os.path.exists(name):
            with open(name, encoding="utf-8") as handle:
                rules.append(handle.read())
    module.exit_json(changed=False, unit=show.splitlines(), journal_lines=len(journal.splitlines()),
                     listeners=_listeners(port), processes=_uvicorn_processes(), health_status=health[0],
                     health_body=health[1].decode("utf-8", "replace"), docs_status=docs[0], docs_scripts=page.scripts,
                     installed=installed, ufw_files=len(rules))


if __name__ == "__main__":
    main()
