# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""probe_firewall(...): the runbook's `ufw status | grep 8000`, as facts.

Standard library only: this code runs on the managed host. Read-only: runs `ufw status
verbose` (a Python program, ~50 ms of CPU), or, when ufw would only answer "Status: inactive",
the one `iptables -L ufw-user-input -n` that ufw itself asks (see _inactive_without_ufw).
"""

from __future__ import annotations

import os
import re

from ansible_collections.beatsync.ops.plugins.module_utils._common import find_bin, run_cmd

DEFAULT_SSH_PORT = 22

# The Debian/Ubuntu ufw package's layout (ufw/common.py: config_dir /etc, state_dir /lib/ufw,
# iptables_dir /usr/sbin) and the files its backend refuses to start without
# (ufw/backend.py _do_checks, ufw/backend_iptables.py __init__).
PACKAGED_UFW = "/usr/sbin/ufw"
UFW_CONF = "/etc/ufw/ufw.conf"
UFW_DEFAULTS = "/etc/default/ufw"
UFW_REQUIRED_FILES = (UFW_DEFAULTS, UFW_CONF, "/etc/ufw/user.rules", "/etc/ufw/before.rules", "/etc/ufw/after.rules",
                      "/etc/ufw/user6.rules", "/etc/ufw/before6.rules", "/etc/ufw/after6.rules", "/lib/ufw/ufw-init")
UFW_IPTABLES = "/usr/sbin/iptables"


def ssh_from_environment(environ=None):
    """(ssh_port, client_ip, source) from SSH_CONNECTION ('client_ip client_port server_ip server_port')."""
    environ = os.environ if environ is None else environ
    fields = (environ.get("SSH_CONNECTION") or "").split()
    if len(fields) == 4:
        try:
            port = int(fields[3])
        except ValueError:
            port = None
        if port is not None and 1 <= port <= 65535:
            return port, fields[0][:64], "ssh_connection"
    return DEFAULT_SSH_PORT, None, "default"


def probe_firewall(port=8000, ssh_port=None, ufw_path=None, timeout=10, environ=None):
    """UFW facts for the BeatSync port and the SSH port in use (docs/architecture.md `firewall`).

    port_allowed_v4/v6: True when ufw lets TCP `port` in from Anywhere, False when it does not,
    None when ufw is not installed or not active (it filters nothing). port_sources lists the
    From of every rule allowing the port per family. ssh_allowed says the same for the SSH
    port, accepting a rule for the connecting client's own address (SSH_CONNECTION).
    Trusts its arguments: the module's edge (_argspec.validate) checked port, ssh_port, timeout.
    """
    seconds = timeout
    client_ip = None
    if ssh_port is None:
        ssh_port, client_ip, ssh_source = ssh_from_environment(environ)
    else:
        ssh_source = "given"
        client_ip = ssh_from_environment(environ)[1]
    facts = {
        "installed": False, "active": None, "default_incoming": None, "port": port,
        "port_allowed_v4": None, "port_allowed_v6": None, "port_sources": {"v4": [], "v6": []},
        "ssh_port": ssh_port, "ssh_port_source": ssh_source, "ssh_client": client_ip, "ssh_allowed": None,
        "rules": [], "ufw": None, "error": None,
    }
    ufw = find_bin("ufw", ufw_path)
    if not ufw:
        facts["error"] = "ufw not found%s: UFW is not installed on this host" % (" at %s" % ufw_path if ufw_path else "")
        return facts
    facts["installed"] = True
    facts["ufw"] = ufw
    if _inactive_without_ufw(ufw, seconds):
        # What parsing "Status: inactive" gives (tests compare it with _ufw.parse_status):
        # nothing is filtered, so no verdict on any port.
        facts["active"] = False
        return facts
    from ansible_collections.beatsync.ops.plugins.module_utils import _ufw  # pylint: disable=import-outside-toplevel
    cmd = run_cmd([ufw, "status", "verbose"], timeout=seconds, max_bytes=_ufw.MAX_STATUS_CHARS)
    if cmd["rc"] != 0:
        message = (cmd["stderr"] or cmd["stdout"] or "").strip()
        if "need to be root" in message.lower():
            facts["error"] = "ufw status needs root: run the probe with become (%s)" % message[:200]
        else:
            facts["error"] = cmd["error"] or "ufw status verbose exited %s: %s" % (cmd["rc"], message[:500])
        return facts
    parsed = _ufw.parse_status(cmd["stdout"])
    if not parsed["status_seen"]:
        facts["error"] = "could not parse `ufw status verbose` output: %r" % cmd["stdout"][:200]
        return facts
    facts["active"] = parsed["active"]
    facts["default_incoming"] = parsed["default_incoming"]
    facts["rules"] = parsed["rules"]
    facts["port_allowed_v4"], facts["port_sources"]["v4"] = _ufw.evaluate_port(parsed, port, v6=False)
    facts["port_allowed_v6"], facts["port_sources"]["v6"] = _ufw.evaluate_port(parsed, port, v6=True)
    ssh_v6 = client_ip is not None and ":" in client_ip and not client_ip.startswith("::ffff:")
    if client_ip and client_ip.startswith("::ffff:"):
        client_ip = client_ip[len("::ffff:"):]
    facts["ssh_allowed"] = _ufw.evaluate_port(parsed, ssh_port, v6=ssh_v6, client_ip=client_ip)[0]
    return facts


def ufw_enabled_setting(paths=(UFW_DEFAULTS, UFW_CONF)):
    """ENABLED as ufw reads it (ufw/backend.py _get_defaults: /etc/default/ufw, then
    /etc/ufw/ufw.conf, lines matching ^\\w+="?\\w+"?, lowercased, quotes stripped), or None."""
    settings = {}
    for path in paths:
        try:
            with open(path, "r", encoding="utf-8", errors="replace") as handle:
                lines = handle.readlines()
        except OSError:
            return None
        for line in lines:
            if re.search(r'^\w+="?\w+"?', line):
                parts = re.split(r"=", line.strip())
                settings[parts[0].lower()] = parts[1].lower().strip("\"'")
    return settings.get("enabled")


def _inactive_without_ufw(ufw, seconds):
    """True when `ufw status verbose` would print only "Status: inactive", found without
    running ufw (a Python program: ~50 ms of CPU in every diagnosis).

    ufw 0.36 (Debian 12, Ubuntu 22.04/24.04), /usr/lib/python3/dist-packages/ufw/:
    backend_iptables.py get_status() answers "Status: inactive" when `iptables -L
    ufw-user-input -n` exits 1 (ufw's chains are not loaded), before it reads any rule; it
    does not read ENABLED. ENABLED (ufw.conf) only says whether ufw-init loads the chains at
    boot, so it is a hint here, never the answer: when it is yes, ufw runs as before. Before
    get_status, ufw refuses to run as non-root and without its files (backend.py
    _do_checks): then ufw runs too, so its own error is reported. Only the packaged ufw, whose
    paths these are, takes this path.
    """
    if os.geteuid() != 0 or os.path.realpath(ufw) != os.path.realpath(PACKAGED_UFW):
        return False
    if not all(os.path.isfile(path) for path in UFW_REQUIRED_FILES):
        return False
    if ufw_enabled_setting() in (None, "yes"):
        return False
    cmd = run_cmd([UFW_IPTABLES, "-L", "ufw-user-input", "-n"], timeout=seconds, max_bytes=4096)
    return cmd["rc"] == 1
