# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-rulebook event source: BeatSync health and docs, with edge detection."""

from __future__ import annotations

DOCUMENTATION = r"""
---
short_description: Watch BeatSync's /api/health and /docs; emit on state changes, while a host stays broken, and on watcher-side outages
description:
  - Polls C(/api/health) and C(/docs) (plus the OpenAPI document it names) on every host every
    O(interval) seconds with the collection's own probes (the same code as the
    M(beatsync.ops.health_probe) and M(beatsync.ops.docs_probe) modules), each request bounded by O(timeout).
  - Emits an event when a host changes state. C(failing) when a host that was healthy (or not yet
    seen) has failed O(threshold) polls in a row; C(healthy) when a failing host answers healthy
    again. A host that is healthy at start emits nothing.
  - Never silent about a host that stays broken. C(still_failing) every O(still_failing_interval)
    seconds while a host keeps failing (its repair failed, was throttled, or never ran).
    With O(report_dir), C(repair_failed) when a repair report written while the host was failing
    says the host is still not healthy, and C(restart_budget_exhausted) (once per failing episode)
    when that report says the host's restart budget is spent.
  - Circuit breaker. When more than O(watcher_network_share) of the hosts (and at least
    O(watcher_network_min_hosts)) fail in the same poll in a way that points at the watcher's own
    network (health request timed out, name not resolved, network unreachable; never an HTTP
    answer or a refused connection), it emits one C(watcher_network) event and no per-host event
    for those hosts until the breaker closes again (C(watcher_network_recovered)).
  - A bad host entry (malformed address, port, URL or a duplicate name) is reported with a
    C(bad_host) event and a warning in the log, and skipped; the other hosts are watched.
  - Each event carries the host, which check failed (C(health) or C(docs)), the HTTP status, the
    docs probe's C(problem), the error, the number of consecutive failures and how often the host went
    from healthy to failing within O(flap_window) seconds (C(flaps)), so a rulebook can escalate a
    flapping host instead of repairing it again.
  - Unlike C(ansible.eda.url_check) it has bounded timeouts, optional retries and edge detection.
options:
  hosts:
    description:
      - The hosts to watch. Each item is either a string or a dictionary.
      - A string is C(name), C(name:port) or a base URL C(http://address:port).
      - A dictionary has C(name) (required; the inventory host name put into events) and optionally
        C(address) (default C(name)), C(port) (default O(port)), C(scheme) (default C(http)) or
        C(base_url) (overrides address, port and scheme).
      - An address is a host name (letters, digits, C(-), C(_), dots) or an IPv4/IPv6 address.
        An entry that is not valid is skipped with a C(bad_host) event, never fatal; the source
        stops only when no valid host is left.
      - O(hosts), O(inventory) or both must name at least one host.
    type: list
    elements: raw
    default: []
  inventory:
    description:
      - An Ansible inventory (file, directory or plugin config) whose O(group) is watched, read
        once at start with C(ansible-inventory --list), so the rulebook watches the hosts the
        repair playbook acts on.
      - Per host, the address is C(beatsync_external_address), else C(ansible_host), else the
        inventory name, and the port is C(beatsync_port), else O(port). Values that are still
        Jinja templates in the inventory are ignored (the next fallback is used).
    type: path
  group:
    description: Inventory group to watch (its child groups included).
    type: str
    default: beatsync
  inventory_timeout:
    description: Seconds C(ansible-inventory) may take.
    type: float
    default: 60
  port:
    description: Port for hosts that do not name one.
    type: int
    default: 8000
  interval:
    description: Seconds from the start of one poll of all hosts to the start of the next.
    type: float
    default: 5
  timeout:
    description: Seconds each HTTP request may take. One poll of a host takes at most 3 x O(timeout)
      (health, docs page, OpenAPI document).
    type: float
    default: 3
  retries:
    description: Extra health requests (0.5 s apart) before a poll counts the health check as failed.
    type: int
    default: 0
  threshold:
    description: Consecutive failed polls before a host is reported as C(failing) (debounce).
    type: int
    default: 1
  check_docs:
    description: Also check C(/docs) and the OpenAPI document when health is fine (the incident of the runbook).
    type: bool
    default: true
  health_path:
    description: Path of the health endpoint.
    type: str
    default: /api/health
  docs_path:
    description: Path of the Swagger UI page.
    type: str
    default: /docs
  expected_status:
    description: Value of C(status) in the health JSON that means healthy.
    type: str
    default: healthy
  flap_window:
    description: Seconds over which healthy-to-failing transitions are counted into C(flaps).
    type: float
    default: 600
  emit_initial_healthy:
    description: Also emit a C(healthy) event for hosts that are healthy at the first poll.
    type: bool
    default: false
  max_polls:
    description: Stop after this many polls (0 means run forever). For tests and one-shot checks.
    type: int
    default: 0
  still_failing_interval:
    description:
      - Seconds between C(still_failing) events of a host that stays failing (counted from its
        C(failing) event, then from the previous C(still_failing)). 0 turns them off.
      - Make it longer than a repair takes, so a repair in progress is not reported as failed.
    type: float
    default: 300
  report_dir:
    description:
      - Directory where the repair playbook writes its per-host JSON reports (C(beatsync_report_dir)
        of the repair runs, C(<host>.json)), on the machine that runs the source.
      - When given, a report written while a host is failing is read (at most 1 MiB) and turns into
        C(repair_failed) or C(restart_budget_exhausted) events. Unset, only C(still_failing) tells.
      - The budget is spent when the report carries the code C(restart_budget_exhausted) (as
        C(repair_code), C(code), C(root_cause), a finding's code or in C(repair_error)) or says
        C(restarts_left) is 0 while the host is not healthy.
    type: path
  watcher_network_share:
    description:
      - Share of the hosts (0 to 1) that must fail from the watcher's side in the same poll, strictly
        more than this, for the circuit breaker to open. 1 turns the breaker off.
    type: float
    default: 0.5
  watcher_network_min_hosts:
    description:
      - The breaker opens only when at least this many hosts fail from the watcher's side in the same
        poll (with one host, a host that is down and a watcher that is cut off look the same).
    type: int
    default: 2
notes:
  - The probes block, so they run in a thread pool (one thread per host, at most 32).
  - Host events (C(state) C(failing), C(still_failing) or C(healthy)) have the keys C(host), C(state),
    C(previous_state) (C(healthy), C(failing) or C(unknown)), C(check) (C(health), C(docs) or null
    when healthy), C(status), C(problem), C(error), C(error_class), C(url), C(consecutive_failures),
    C(flaps), C(repeats) (how many C(still_failing) events this episode, 0 on C(failing)),
    C(failing_since), C(down_seconds), C(time), C(source) (C(beatsync.ops.beatsync_probe)).
  - C(repair_failed) and C(restart_budget_exhausted) have C(host), C(state), C(report) (its path),
    C(verdict), C(root_cause), C(repair_code), C(repair_error), C(restarts_used), C(restarts_left),
    C(failing_since), C(down_seconds), C(time), C(source).
  - C(watcher_network) and C(watcher_network_recovered) have C(host) (null), C(state), C(hosts_total),
    C(hosts_unreachable), C(share), C(hosts) (names), C(errors) (host -> error, up to 10),
    C(time), C(source). C(bad_host) has C(host) (the name when known, else null), C(state),
    C(entry), C(error), C(time), C(source).
"""

EXAMPLES = r"""
- name: Repair BeatSync when /docs or /api/health fails
  hosts: all
  sources:
    - name: beatsync
      beatsync.ops.beatsync_probe:
        hosts:
          - name: beatsync-prod-1
            address: 192.0.2.10
          - beatsync-prod-2:8000
          - http://192.0.2.12:8080
        interval: 2
        timeout: 2
        threshold: 1
  rules:
    - name: Repair the failing host
      condition: event.state == "failing"
      action:
        run_playbook:
          name: beatsync.ops.repair
          extra_vars:
            beatsync_hosts: "{{ event.host }}"

# The same, watching the hosts of an inventory's beatsync group (rules as above)
- name: Watch the hosts of the inventory's beatsync group
  hosts: all
  sources:
    - beatsync.ops.beatsync_probe:
        inventory: /etc/ansible/beatsync/hosts.yml
        group: beatsync
        interval: 2
"""

import asyncio
import concurrent.futures
import functools
import ipaddress
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit


def _collection_roots():
    """Directories that may hold ansible_collections/beatsync/ops, best first.

    ansible-rulebook runs an event source with runpy.run_path, without putting the
    collections path on sys.path; this file's own location (.../ansible_collections/beatsync/
    ops/extensions/eda/plugins/event_source/) names the root it was found in.
    """
    roots = []
    here = os.path.abspath(globals().get("__file__") or ".")
    parts = here.split(os.sep)
    if "ansible_collections" in parts:
        index = len(parts) - 1 - parts[::-1].index("ansible_collections")
        roots.append(os.sep.join(parts[:index]) or os.sep)
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        roots.extend(item for item in os.environ.get(name, "").split(os.pathsep) if item)
    roots.extend([os.path.expanduser("~/.ansible/collections"), "/usr/share/ansible/collections"])
    return roots


try:
    from ansible_collections.beatsync.ops.plugins.module_utils._http import base_url
    from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_docs, probe_health
    from ansible_collections.beatsync.ops.plugins.module_utils._validate import (
        ProbeInputError, validate_port, validate_url_path)
except ImportError:
    for _root in _collection_roots():
        if os.path.isdir(os.path.join(_root, "ansible_collections", "beatsync", "ops")) and _root not in sys.path:
            sys.path.append(_root)
    from ansible_collections.beatsync.ops.plugins.module_utils._http import base_url
    from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_docs, probe_health
    from ansible_collections.beatsync.ops.plugins.module_utils._validate import (
        ProbeInputError, validate_port, validate_url_path)

SOURCE = "beatsync.ops.beatsync_probe"
MAX_WORKERS = 32
MAX_REPORT_BYTES = 1024 * 1024
BUDGET_CODE = "restart_budget_exhausted"
LOG = logging.getLogger(SOURCE)

_DEFAULTS = {
    "port": 8000, "interval": 5.0, "timeout": 3.0, "retries": 0, "threshold": 1,
    "check_docs": True, "health_path": "/api/health", "docs_path": "/docs",
    "expected_status": "healthy", "flap_window": 600.0, "emit_initial_healthy": False,
    "max_polls": 0, "group": "beatsync", "inventory_timeout": 60.0,
    "still_failing_interval": 300.0, "watcher_network_share": 0.5, "watcher_network_min_hosts": 2,
}

# A DNS label as inventories use them (underscores allowed: /etc/hosts resolves them).
_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


class ArgumentError(ValueError):
    """A bad argument of the event source; the message names it."""


def _number(args, name, minimum, maximum, integer=False):
    value = args.get(name, _DEFAULTS[name])
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = int(value) if integer else float(value)
        if integer and float(value) != number:
            raise ValueError(value)
    except (TypeError, ValueError):
        raise ArgumentError("%s must be %s, got %r" % (name, "an integer" if integer else "a number", value))
    if not minimum <= number <= maximum:
        raise ArgumentError("%s must be from %s to %s, got %s" % (name, minimum, maximum, value))
    return number


def _flag(args, name):
    value = args.get(name, _DEFAULTS[name])
    if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.lower() in ("true", "yes", "on", "1")
    if not isinstance(value, bool):
        raise ArgumentError("%s must be a boolean, got %r" % (name, value))
    return value


def _path(args, name):
    try:
        return validate_url_path(args.get(name, _DEFAULTS[name]), name)
    except ProbeInputError as exc:
        raise ArgumentError(str(exc).replace("must be a URL path", "must be a path")) from None


def _valid_address(address):
    """A host name or an IP address (IPv6 with or without brackets)."""
    text = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    name = address[:-1] if address.endswith(".") else address
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def _split_url(text, where):
    """urlsplit() that names a bad port or a malformed [IPv6] address instead of raising ValueError."""
    try:
        parts = urlsplit(text)
        parts.port  # pylint: disable=pointless-statement
    except ValueError as exc:
        raise ArgumentError("hosts: bad URL %s (%s)" % (where, exc)) from None
    return parts


def _target(item, default_port):
    """One watched host as {"name", "base_url"}; ArgumentError names what is wrong with the entry."""
    if isinstance(item, str):
        text = item.strip()
        if not text:
            raise ArgumentError("hosts: empty host name")
        if "://" in text:
            parts = _split_url(text, "in %r" % item)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ArgumentError("hosts: %r is not an http(s) URL" % item)
            if not _valid_address(parts.hostname):
                raise ArgumentError("hosts: malformed address %r in %r" % (parts.hostname, item))
            return {"name": parts.hostname, "base_url": text.rstrip("/")}
        name, port = text, default_port
        if text.count(":") == 1:
            name, port_text = text.split(":")
            try:
                port = int(port_text)
            except ValueError:
                raise ArgumentError("hosts: bad port in %r" % item) from None
        item = {"name": name, "port": port}
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise ArgumentError("hosts: each item must be a string or a dictionary with a name, got %r" % (item,))
    if item.get("base_url"):
        parts = _split_url(str(item["base_url"]), "in the base_url of %s: %r" % (item["name"], item["base_url"]))
        if parts.scheme not in ("http", "https") or not parts.hostname or not _valid_address(parts.hostname):
            raise ArgumentError("hosts: base_url of %s is not an http(s) URL with a valid address: %r"
                                % (item["name"], item["base_url"]))
        return {"name": item["name"], "base_url": str(item["base_url"]).rstrip("/")}
    address = str(item.get("address") or item["name"]).strip()
    if not _valid_address(address):
        raise ArgumentError("hosts: malformed address of %s: %r (a host name or an IP address)" % (item["name"], address))
    try:
        port = validate_port(item.get("port") or default_port)
    except ProbeInputError as exc:
        if "must be from" in str(exc):
            raise ArgumentError("hosts: port of %s must be 1-65535, got %s" % (item["name"], item.get("port"))) from None
        raise ArgumentError("hosts: bad port for %s: %r" % (item["name"], item.get("port"))) from None
    scheme = item.get("scheme") or "http"
    if scheme not in ("http", "https"):
        raise ArgumentError("hosts: scheme of %s must be http or https, got %r" % (item["name"], scheme))
    target = {"name": item["name"], "base_url": base_url(address, port, scheme)}
    if item.get("maintenance") not in (None, False, "", "false", "no"):
        target["maintenance"] = str(item["maintenance"])  # beatsync_maintenance: no repair event
    return target


def _group_hosts(listing, group, seen=None):
    """Host names of a group and its children in `ansible-inventory --list` output, in order."""
    seen = set() if seen is None else seen
    if group in seen:
        return []
    seen.add(group)
    entry = listing.get(group) or {}
    names = list(entry.get("hosts") or [])
    for child in entry.get("children") or []:
        names.extend(name for name in _group_hosts(listing, child, seen) if name not in names)
    return names


def _literal(value):
    """An inventory value usable as is (not an unrendered Jinja template), else None."""
    if value is None or (isinstance(value, str) and ("{{" in value or "{%" in value or not value.strip())):
        return None
    return value


def inventory_hosts(path, group, timeout=60.0, ansible_inventory=None):
    """Watched host dicts (name, address, port) of `group` in an Ansible inventory."""
    if not os.path.exists(path):
        raise ArgumentError("inventory: %s does not exist" % path)
    exe = ansible_inventory or os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    if not os.path.exists(exe):
        exe = shutil.which("ansible-inventory")
    if not exe:
        raise ArgumentError("inventory: ansible-inventory is not installed next to %s or on PATH" % sys.executable)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    try:
        proc = subprocess.run([exe, "-i", path, "--list"], capture_output=True, text=True, timeout=timeout,
                              env=env, check=False)
    except subprocess.TimeoutExpired:
        raise ArgumentError("inventory: ansible-inventory -i %s took longer than %s s" % (path, timeout)) from None
    if proc.returncode != 0:
        raise ArgumentError("inventory: ansible-inventory -i %s failed: %s" % (path, proc.stderr.strip()[-500:]))
    try:
        listing = json.loads(proc.stdout)
    except ValueError:
        raise ArgumentError("inventory: ansible-inventory -i %s did not print JSON" % path) from None
    hostvars = (listing.get("_meta") or {}).get("hostvars") or {}
    hosts = []
    for name in _group_hosts(listing, group):
        variables = hostvars.get(name) or {}
        item = {"name": name,
                "address": _literal(variables.get("beatsync_external_address")) or _literal(variables.get("ansible_host"))
                or name}
        port = _literal(variables.get("beatsync_port"))
        if port is not None:
            item["port"] = port
        if _literal(variables.get("beatsync_maintenance")) not in (None, False):
            item["maintenance"] = variables["beatsync_maintenance"]
        hosts.append(item)
    if not hosts:
        raise ArgumentError("inventory: group %r of %s has no hosts" % (group, path))
    return hosts


def parse_args(args):
    """Validate the source's arguments; returns the settings dict or raises ArgumentError.

    A bad host entry does not raise: it goes into settings["bad_hosts"] ({name, entry, error})
    and is skipped. Only when no valid host is left is that an ArgumentError.
    """
    args = dict(args or {})
    settings = {
        "port": _number(args, "port", 1, 65535, integer=True),
        "interval": _number(args, "interval", 0.1, 86400),
        "timeout": _number(args, "timeout", 0.1, 300),
        "retries": _number(args, "retries", 0, 10, integer=True),
        "threshold": _number(args, "threshold", 1, 1000, integer=True),
        "check_docs": _flag(args, "check_docs"),
        "health_path": _path(args, "health_path"),
        "docs_path": _path(args, "docs_path"),
        "flap_window": _number(args, "flap_window", 0, 7 * 86400),
        "emit_initial_healthy": _flag(args, "emit_initial_healthy"),
        "max_polls": _number(args, "max_polls", 0, 10 ** 9, integer=True),
        "still_failing_interval": _number(args, "still_failing_interval", 0, 7 * 86400),
        "watcher_network_share": _number(args, "watcher_network_share", 0, 1),
        "watcher_network_min_hosts": _number(args, "watcher_network_min_hosts", 1, 10 ** 6, integer=True),
    }
    expected = args.get("expected_status", _DEFAULTS["expected_status"])
    if not isinstance(expected, str) or not expected:
        raise ArgumentError("expected_status must be a non-empty string, got %r" % (expected,))
    settings["expected_status"] = expected
    report_dir = args.get("report_dir") or None
    if report_dir is not None and (not isinstance(report_dir, str) or not os.path.isabs(report_dir)):
        raise ArgumentError("report_dir must be an absolute path (where the repair runs write their reports), "
                            "got %r" % (report_dir,))
    settings["report_dir"] = report_dir
    hosts = args.get("hosts") or []
    if isinstance(hosts, (str, dict)):
        hosts = [hosts]
    if not isinstance(hosts, list):
        raise ArgumentError("hosts must be a list, got %r" % (hosts,))
    inventory = args.get("inventory")
    if inventory:
        group = args.get("group") or _DEFAULTS["group"]
        if not isinstance(group, str):
            raise ArgumentError("group must be a string, got %r" % (group,))
        hosts = list(hosts) + inventory_hosts(str(inventory), group,
                                              timeout=_number(args, "inventory_timeout", 1, 3600))
    if not hosts:
        raise ArgumentError("hosts or inventory must name at least one host to watch")
    targets, bad, names = [], [], set()
    for item in hosts:
        name = item.get("name") if isinstance(item, dict) else None
        try:
            target = _target(item, settings["port"])
            if target["name"] in names:
                raise ArgumentError("hosts: duplicate name %s (the first entry of that name is watched)"
                                    % target["name"])
        except ArgumentError as exc:
            bad.append({"name": name if isinstance(name, str) else None, "entry": repr(item)[:300], "error": str(exc)})
            continue
        names.add(target["name"])
        targets.append(target)
    if not targets:
        raise ArgumentError("hosts: no valid host to watch: %s" % "; ".join(entry["error"] for entry in bad))
    settings["hosts"] = targets
    settings["bad_hosts"] = bad
    return settings


def check_host(target, settings):
    """One poll of one host (blocking): a result dict with ok, check, status, problem, error."""
    health = probe_health(
        url=target["base_url"] + settings["health_path"], timeout=settings["timeout"],
        retries=settings["retries"], delay=0.5, expected_status=settings["expected_status"])
    if not health["healthy"]:
        return {"ok": False, "check": "health", "status": health["status"], "url": health["url"],
                "problem": "health_" + (health["error_class"] or "failed"),
                "error": health["error"], "error_class": health["error_class"]}
    if settings["check_docs"]:
        docs = probe_docs(base_url=target["base_url"], docs_path=settings["docs_path"],
                          timeout=settings["timeout"])
        if not docs["docs_ok"]:
            failed = docs["docs"] if docs["problem"] != "openapi_broken" else docs["openapi"]
            return {"ok": False, "check": "docs", "status": failed["status"], "url": failed["url"],
                    "problem": docs["problem"], "error": failed["error"], "error_class": failed["error_class"]}
    return {"ok": True, "check": None, "status": health["status"], "url": health["url"],
            "problem": None, "error": None, "error_class": None}


_WATCHER_SIDE_ERRORS = ("unreachable", "no route to host")


def watcher_side(result):
    """True when a failed poll may be the watcher's own network: no HTTP answer at all and no
    refusal from the host (a refused or reset connection means the host's kernel answered)."""
    if result["ok"] or result["check"] != "health" or result["status"] is not None:
        return False
    if result["error_class"] in ("timeout", "dns"):
        return True
    return result["error_class"] == "other" and any(text in (result["error"] or "").lower()
                                                    for text in _WATCHER_SIDE_ERRORS)


def _budget_spent(report):
    """Does a repair report say the host's restart budget is spent?"""
    codes = [report.get("repair_code"), report.get("code"), report.get("root_cause")]
    codes.extend(finding.get("code") for finding in report.get("findings") or [] if isinstance(finding, dict))
    if BUDGET_CODE in codes or BUDGET_CODE in str(report.get("repair_error") or ""):
        return True
    left = report.get("restarts_left")
    return isinstance(left, int) and not isinstance(left, bool) and left <= 0 and report.get("verdict") != "healthy"


def read_report(report_dir, name):
    """(mtime, report dict) of <report_dir>/<name>.json, or (None, None) when absent or unreadable."""
    if "/" in name or name in (".", ".."):
        return None, None
    path = os.path.join(report_dir, name + ".json")
    try:
        mtime = os.stat(path).st_mtime
        with open(path, "rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError:
        return None, None
    if len(data) > MAX_REPORT_BYTES:
        LOG.warning("%s: report %s is larger than %d bytes, not read", SOURCE, path, MAX_REPORT_BYTES)
        return mtime, None
    try:
        report = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        LOG.warning("%s: report %s is not JSON, ignored", SOURCE, path)
        return mtime, None
    return mtime, report if isinstance(report, dict) else None


class HostState:
    """Edge detector for one host: feed it poll results, it returns an event on a state change
    (and every still_failing_interval seconds while the host stays failing)."""

    def __init__(self, name, threshold, flap_window, emit_initial_healthy=False, still_failing_interval=0):
        self.name = name
        self.threshold = threshold
        self.flap_window = flap_window
        self.emit_initial_healthy = emit_initial_healthy
        self.still_failing_interval = still_failing_interval
        self.state = "unknown"
        self.consecutive_failures = 0
        self.failing_since = None
        self.first_failure_at = None
        self.went_failing = []
        self.last_emitted = None
        self.repeats = 0
        self.report_mtime = None
        self.budget_escalated = False

    def update(self, result, now=None):
        now = time.time() if now is None else now
        if result["ok"]:
            previous, down_since = self.state, self.failing_since
            self.consecutive_failures = 0
            self.first_failure_at = None
            if previous == "healthy" or (previous == "unknown" and not self.emit_initial_healthy):
                self.state = "healthy"
                return None
            self.state = "healthy"
            self.failing_since = None
            self.repeats = 0
            self.budget_escalated = False
            return self._event(result, previous, now, down_since)
        self.consecutive_failures += 1
        if self.first_failure_at is None:
            self.first_failure_at = now
        if self.state == "failing":
            if self.still_failing_interval and now - self.last_emitted >= self.still_failing_interval:
                self.repeats += 1
                return self._event(result, "failing", now, self.failing_since, state="still_failing")
            return None
        if self.consecutive_failures < self.threshold:
            return None
        previous = self.state
        self.state = "failing"
        self.failing_since = self.first_failure_at
        self.repeats = 0
        self.went_failing = [at for at in self.went_failing if now - at <= self.flap_window] + [now]
        return self._event(result, previous, now, self.failing_since)

    def check_report(self, mtime, report, now=None):
        """A repair report of this host: repair_failed / restart_budget_exhausted, or None.

        Only reports written while the host is failing count, each report once; the budget
        escalation is emitted once per failing episode."""
        now = time.time() if now is None else now
        if (self.state != "failing" or mtime is None or mtime < self.failing_since
                or (self.report_mtime is not None and mtime <= self.report_mtime)):
            return None
        self.report_mtime = mtime
        if report is None or report.get("verdict") == "healthy":
            return None
        if _budget_spent(report):
            if self.budget_escalated:
                return None
            self.budget_escalated = True
            state = BUDGET_CODE
        else:
            state = "repair_failed"
        self.last_emitted = now
        return {
            "host": self.name, "state": state, "verdict": report.get("verdict"),
            "root_cause": report.get("root_cause"),
            "repair_code": report.get("repair_code") or (BUDGET_CODE if state == BUDGET_CODE else None),
            "repair_error": report.get("repair_error"), "restarts_used": report.get("restarts_used"),
            "restarts_left": report.get("restarts_left"), "failing_since": self.failing_since,
            "down_seconds": round(now - self.failing_since, 3), "time": now, "source": SOURCE,
        }

    def _event(self, result, previous, now, since, state=None):
        self.last_emitted = now
        return {
            "host": self.name,
            "state": state or self.state,
            "previous_state": previous,
            "check": result["check"],
            "status": result["status"],
            "problem": result["problem"],
            "error": result["error"],
            "error_class": result["error_class"],
            "url": result["url"],
            "consecutive_failures": self.consecutive_failures,
            "flaps": len([at for at in self.went_failing if now - at <= self.flap_window]),
            "repeats": self.repeats,
            "failing_since": since,
            "down_seconds": round(now - since, 3) if since is not None else None,
            "time": now,
            "source": SOURCE,
        }


class Watcher:
    """All hosts of one source: poll results in, events out (circuit breaker, reports)."""

    def __init__(self, settings):
        self.settings = settings
        self.states = {target["name"]: HostState(target["name"], settings["threshold"], settings["flap_window"],
                                                 settings["emit_initial_healthy"], settings["still_failing_interval"])
                       for target in settings["hosts"]}
        self.breaker_open = False

    def bad_host_events(self, now=None):
        now = time.time() if now is None else now
        events = []
        for entry in self.settings["bad_hosts"]:
            LOG.warning("%s: skipping a bad host entry %s: %s", SOURCE, entry["entry"], entry["error"])
            events.append({"host": entry["name"], "state": "bad_host", "entry": entry["entry"],
                           "error": entry["error"], "time": now, "source": SOURCE})
        return events

    def poll(self, results, now=None):
        """results: {host name: check_host() result} of one poll -> list of events."""
        now = time.time() if now is None else now
        cut_off = sorted(name for name, result in results.items() if watcher_side(result))
        share = float(len(cut_off)) / len(results) if results else 0.0
        tripped = (len(cut_off) >= self.settings["watcher_network_min_hosts"]
                   and share > self.settings["watcher_network_share"])
        events = []
        if tripped != self.breaker_open:
            self.breaker_open = tripped
            events.append({
                "host": None, "state": "watcher_network" if tripped else "watcher_network_recovered",
                "hosts_total": len(results), "hosts_unreachable": len(cut_off), "share": round(share, 3),
                "hosts": cut_off, "errors": {name: results[name]["error"] for name in cut_off[:10]},
                "time": now, "source": SOURCE})
            LOG.warning("%s: %s: %d of %d hosts unreachable from the watcher", SOURCE, events[-1]["state"],
                        len(cut_off), len(results))
        for name, result in results.items():
            if tripped and name in cut_off:
                continue  # the watcher cannot see this host: its state is unknown, not failing
            state = self.states[name]
            event = state.update(result, now)
            if event is not None:
                events.append(event)
            if self.settings["report_dir"] and state.state == "failing":
                mtime, report = read_report(self.settings["report_dir"], name)
                event = state.check_report(mtime, report, now)
                if event is not None:
                    events.append(event)
        return events


async def main(queue, args):
    """Entry point of ansible-rulebook: poll forever (or max_polls times), put events on queue."""
    settings = parse_args(args)
    watcher = Watcher(settings)
    for event in watcher.bad_host_events():
        await queue.put(event)
    loop = asyncio.get_running_loop()
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=min(MAX_WORKERS, len(settings["hosts"])), thread_name_prefix="beatsync-probe")
    polls = 0
    try:
        while True:
            started = loop.time()
            results = await asyncio.gather(*[
                loop.run_in_executor(executor, functools.partial(check_host, target, settings))
                for target in settings["hosts"]])
            # A host in the operator's maintenance (beatsync_maintenance) gets no events at all.
            observed = {target["name"]: result for target, result in zip(settings["hosts"], results)
                        if not target.get("maintenance")}
            for event in watcher.poll(observed):
                await queue.put(event)
            polls += 1
            if settings["max_polls"] and polls >= settings["max_polls"]:
                return
            await asyncio.sleep(max(0.0, started + settings["interval"] - loop.time()))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


if __name__ == "__main__":
    # Run by hand: python beatsync_probe.py HOST[:PORT] ... (prints events as they come)
    class _PrintQueue:
        async def put(self, event):
            print(json.dumps(event), flush=True)

    asyncio.run(main(_PrintQueue(), {"hosts": sys.argv[1:] or ["127.0.0.1"], "interval": 2, "timeout": 2}))
