# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-rulebook event source: BeatSync health and docs, with edge detection."""

from __future__ import annotations

DOCUMENTATION = r"""
---
short_description: Watch BeatSync's /api/health and /docs and emit an event when a host changes state
description:
  - Polls C(/api/health) and C(/docs) (plus the OpenAPI document it names) on every host every
    O(interval) seconds with the collection's own probes (the same code as the
    M(beatsync.ops.health_probe) and M(beatsync.ops.docs_probe) modules), each request bounded by O(timeout).
  - Emits an event only when a host changes state, never while it stays the same.
    C(failing) when a host that was healthy (or not yet seen) has failed O(threshold) polls in a row;
    C(healthy) when a failing host answers healthy again. A host that is healthy at start emits nothing.
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
notes:
  - The probes block, so they run in a thread pool (one thread per host, at most 32).
  - Event keys (top level) C(host), C(state) (C(failing) or C(healthy)), C(previous_state)
    (C(healthy), C(failing) or C(unknown)), C(check) (C(health), C(docs) or null when healthy),
    C(status), C(problem), C(error), C(error_class), C(url), C(consecutive_failures), C(flaps),
    C(failing_since), C(down_seconds), C(time), C(source) (C(beatsync.ops.beatsync_probe)).
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
import json
import os
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

_DEFAULTS = {
    "port": 8000, "interval": 5.0, "timeout": 3.0, "retries": 0, "threshold": 1,
    "check_docs": True, "health_path": "/api/health", "docs_path": "/docs",
    "expected_status": "healthy", "flap_window": 600.0, "emit_initial_healthy": False,
    "max_polls": 0, "group": "beatsync", "inventory_timeout": 60.0,
}


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


def _target(item, default_port):
    """One watched host as {"name", "base_url"}."""
    if isinstance(item, str):
        text = item.strip()
        if not text:
            raise ArgumentError("hosts: empty host name")
        if "://" in text:
            parts = urlsplit(text)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ArgumentError("hosts: %r is not an http(s) URL" % item)
            return {"name": parts.hostname, "base_url": text.rstrip("/")}
        name, port = text, default_port
        if text.count(":") == 1:
            name, port_text = text.split(":")
            try:
                port = int(port_text)
            except ValueError:
                raise ArgumentError("hosts: bad port in %r" % item)
        item = {"name": name, "port": port}
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise ArgumentError("hosts: each item must be a string or a dictionary with a name, got %r" % (item,))
    if item.get("base_url"):
        return {"name": item["name"], "base_url": str(item["base_url"]).rstrip("/")}
    address = str(item.get("address") or item["name"])
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
    """Validate the source's arguments; returns the settings dict or raises ArgumentError."""
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
    }
    expected = args.get("expected_status", _DEFAULTS["expected_status"])
    if not isinstance(expected, str) or not expected:
        raise ArgumentError("expected_status must be a non-empty string, got %r" % (expected,))
    settings["expected_status"] = expected
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
    targets = [_target(item, settings["port"]) for item in hosts]
    names = [target["name"] for target in targets]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        raise ArgumentError("hosts: duplicate names %s (give each a distinct name)" % ", ".join(duplicates))
    settings["hosts"] = targets
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


class HostState:
    """Edge detector for one host: feed it poll results, it returns an event on a state change."""

    def __init__(self, name, threshold, flap_window, emit_initial_healthy=False):
        self.name = name
        self.threshold = threshold
        self.flap_window = flap_window
        self.emit_initial_healthy = emit_initial_healthy
        self.state = "unknown"
        self.consecutive_failures = 0
        self.failing_since = None
        self.first_failure_at = None
        self.went_failing = []

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
            return self._event(result, previous, now, down_since)
        self.consecutive_failures += 1
        if self.first_failure_at is None:
            self.first_failure_at = now
        if self.state == "failing" or self.consecutive_failures < self.threshold:
            return None
        previous = self.state
        self.state = "failing"
        self.failing_since = self.first_failure_at
        self.went_failing = [at for at in self.went_failing if now - at <= self.flap_window] + [now]
        return self._event(result, previous, now, self.failing_since)

    def _event(self, result, previous, now, since):
        return {
            "host": self.name,
            "state": self.state,
            "previous_state": previous,
            "check": result["check"],
            "status": result["status"],
            "problem": result["problem"],
            "error": result["error"],
            "error_class": result["error_class"],
            "url": result["url"],
            "consecutive_failures": self.consecutive_failures,
            "flaps": len([at for at in self.went_failing if now - at <= self.flap_window]),
            "failing_since": since,
            "down_seconds": round(now - since, 3) if since is not None else None,
            "time": now,
            "source": SOURCE,
        }


async def main(queue, args):
    """Entry point of ansible-rulebook: poll forever (or max_polls times), put events on queue."""
    settings = parse_args(args)
    states = {target["name"]: HostState(target["name"], settings["threshold"], settings["flap_window"],
                                        settings["emit_initial_healthy"]) for target in settings["hosts"]}
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
            for target, result in zip(settings["hosts"], results):
                if target.get("maintenance"):
                    continue  # the operator's maintenance: watched, never a repair event
                event = states[target["name"]].update(result)
                if event is not None:
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
