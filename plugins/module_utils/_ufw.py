# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""`ufw status verbose` parsing (LC_ALL=C output) and port/SSH evaluation.

Standard library only; pure; every input bounded.
"""

from __future__ import annotations

import ipaddress
import re

MAX_STATUS_CHARS = 256 * 1024
MAX_RULES = 500

# Application profiles whose ports are known without reading /etc/ufw/applications.d.
KNOWN_APPS = {
    "openssh": [(22, 22, "tcp")],
    "ssh": [(22, 22, "tcp")],
}

_RULE = re.compile(
    r"^(?P<to>\S.*?)\s{2,}(?P<action>ALLOW|DENY|REJECT|LIMIT)(?: (?P<direction>IN|OUT|FWD))?\s+(?P<from>\S.*?)"
    r"(?:\s+#\s?(?P<comment>.*?))?\s*$"
)
_PORTS = re.compile(r"^(?P<ports>\d{1,5}(?::\d{1,5})?(?:,\d{1,5}(?::\d{1,5})?)*)(?:/(?P<proto>tcp|udp|any|\w+))?$")
_DEFAULT = re.compile(r"(?P<policy>allow|deny|reject|disabled) \((?P<chain>incoming|outgoing|routed)\)")


def _ports(spec):
    """'8000' / '8000:8010/tcp' / '80,443/tcp' -> [(low, high, proto)], or None if not a port spec."""
    match = _PORTS.match(spec)
    if not match:
        return None
    proto = match.group("proto") or "any"
    ranges = []
    for part in match.group("ports").split(","):
        low, _sep, high = part.partition(":")
        low, high = int(low), int(high or low)
        if not (0 < low <= 65535 and 0 < high <= 65535):
            return None
        ranges.append((min(low, high), max(low, high), proto))
    return ranges


def _strip_v6(text):
    """Remove ' (v6)' and return (text, had_v6)."""
    if " (v6)" in text:
        return text.replace(" (v6)", ""), True
    return text, False


def _parse_endpoint(text):
    """Parse the To or From column: {raw, address, ports, app, interface, v6}."""
    raw = text
    interface = None
    match = re.search(r" on (\S+)$", text)
    if match:
        interface = match.group(1)
        text = text[:match.start()]
    text, v6 = _strip_v6(text)
    app = None
    # verbose form of an app profile: '22/tcp (OpenSSH)' or '22/tcp (OpenSSH (v6))'
    match = re.match(r"^(?P<spec>.*?) \((?P<app>[^()]+?)(?: \(v6\))?\)$", text)
    if match:
        app = match.group("app")
        text = match.group("spec")
        v6 = v6 or raw.endswith("(v6))") or "(v6))" in raw
    address = None
    ports = None
    words = text.split()
    if not words:
        return {"raw": raw, "address": None, "ports": None, "app": app, "interface": interface, "v6": v6}
    if words[0] == "Anywhere":
        address = "Anywhere"
        rest = words[1:]
    elif _looks_like_address(words[0]):
        address = words[0]
        rest = words[1:]
    else:
        rest = words
    if rest:
        spec = " ".join(rest)
        ports = _ports(spec)
        if ports is None and app is None:
            app = spec  # a profile name such as 'OpenSSH' or 'Apache Full'
    if app is not None and ports is None:
        ports = KNOWN_APPS.get(app.lower())
    if address is None:
        address = "Anywhere"
    if ":" in address and address != "Anywhere":
        v6 = True
    return {"raw": raw, "address": address, "ports": ports, "app": app, "interface": interface, "v6": v6}


def _looks_like_address(word):
    try:
        ipaddress.ip_network(word, strict=False)
    except ValueError:
        return False
    return True


def parse_status(text):
    """Parse `ufw status verbose` output.

    Returns {active, status_seen, logging, default_incoming, default_outgoing, default_routed,
    rules: [{to, action, direction, from, comment, v6, ports, app, interface, to_address,
    from_address}]}. Unknown lines are ignored; garbage gives active None and no rules.
    """
    result = {"active": None, "status_seen": False, "logging": None, "default_incoming": None,
              "default_outgoing": None, "default_routed": None, "rules": []}
    if not isinstance(text, str):
        return result
    in_table = False
    for line in text[:MAX_STATUS_CHARS].splitlines():
        stripped = line.strip()
        if stripped.startswith("Status:"):
            value = stripped.split(":", 1)[1].strip()
            result["status_seen"] = value in ("active", "inactive")
            result["active"] = {"active": True, "inactive": False}.get(value)
            continue
        if stripped.startswith("Logging:"):
            result["logging"] = stripped.split(":", 1)[1].strip()[:100]
            continue
        if stripped.startswith("Default:"):
            for match in _DEFAULT.finditer(stripped):
                result["default_" + match.group("chain")] = match.group("policy")
            continue
        if re.match(r"^To\s+Action\s+From$", stripped):
            in_table = True
            continue
        if not in_table or not stripped or set(stripped) <= set("- "):
            continue
        if len(result["rules"]) >= MAX_RULES:
            break
        rule = parse_rule(stripped)
        if rule is not None:
            result["rules"].append(rule)
    return result


def parse_rule(line):
    """One rule line of the status table -> dict, or None when it is not a rule."""
    match = _RULE.match(line[:1024])
    if not match:
        return None
    dest = _parse_endpoint(match.group("to"))
    src = _parse_endpoint(match.group("from"))
    return {
        "to": match.group("to"),
        "action": match.group("action").lower(),
        "direction": (match.group("direction") or "IN").lower(),
        "from": match.group("from"),
        "comment": match.group("comment"),
        "v6": bool(dest["v6"] or src["v6"]),
        "ports": [list(item) for item in dest["ports"]] if dest["ports"] else None,
        "app": dest["app"],
        "interface": dest["interface"],
        "to_address": dest["address"],
        "from_address": src["address"],
    }


def rule_covers(rule, port, proto="tcp"):
    """True when an incoming rule applies to port/proto (ports None = every port)."""
    if rule["direction"] != "in":
        return False
    if rule["ports"] is None:
        return rule["app"] is None  # 'Anywhere' as destination: all ports; unknown app: no
    for low, high, rule_proto in rule["ports"]:
        if low <= port <= high and rule_proto in ("any", proto):
            return True
    return False


def _source_contains(source, client_ip):
    if source == "Anywhere":
        return True
    if not client_ip:
        return False
    try:
        return ipaddress.ip_address(client_ip) in ipaddress.ip_network(source, strict=False)
    except ValueError:
        return False


def evaluate_port(parsed, port, v6=False, client_ip=None, proto="tcp"):
    """Whether ufw lets `port`/tcp in for one family, first matching rule wins like ufw.

    Returns (allowed, sources): allowed True when the traffic is let in from Anywhere (or,
    with client_ip, from that client); False when it is not; None when ufw is not active.
    sources lists the From of every allowing rule for the port (so a rule that only allows
    10.0.0.0/8 is visible). A deny rule for a specific source does not block Anywhere.
    """
    if parsed.get("active") is not True:
        return None, []
    sources = []
    verdict = None
    for rule in parsed.get("rules") or []:
        if rule["v6"] != v6 or not rule_covers(rule, port, proto):
            continue
        if rule["interface"] is not None:
            continue  # interface-bound rules do not say anything about every interface
        if rule["action"] in ("allow", "limit"):
            sources.append(rule["from_address"])
        if verdict is not None or rule["to_address"] not in ("Anywhere", None):
            continue  # decided already, or a rule for one local address only
        if _source_contains(rule["from_address"], client_ip):
            verdict = rule["action"] in ("allow", "limit")
    if verdict is None:
        verdict = parsed.get("default_incoming") == "allow"
    return verdict, sources
