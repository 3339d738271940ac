# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""`ufw status verbose` and `ufw show added` parsing (LC_ALL=C output), port and SSH evaluation.

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


# --------------------------------------------------------------------------- ufw show added

_ACTIONS = ("allow", "deny", "reject", "limit")


def parse_added(text):
    """Parse `ufw show added` (the stored rules, also while UFW is inactive), in order.

    Every `ufw ...` line becomes a rule dict shaped like parse_rule's (action, direction, ports,
    app, interface, to_address, from_address, v6, comment) plus raw (the line) and index
    (1-based position). `ufw route ...` and lines that are not rules are skipped.
    """
    rules = []
    if not isinstance(text, str):
        return rules
    for line in text[:MAX_STATUS_CHARS].splitlines():
        line = line.strip()
        if not line.startswith("ufw "):
            continue
        if len(rules) >= MAX_RULES:
            break
        rule = parse_added_rule(line)
        if rule is not None:
            rule["index"] = len(rules) + 1
            rules.append(rule)
    return rules


def _split_words(text):
    """Split like a shell for the quoting ufw prints (comment '...', app names "...")."""
    words, current, quote, started = [], [], None, False
    for char in text:
        if quote:
            if char == quote:
                quote = None
            else:
                current.append(char)
        elif char in "'\"":
            quote, started = char, True
        elif char.isspace():
            if current or started:
                words.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
    if current or started:
        words.append("".join(current))
    return words


def parse_added_rule(line):
    """One `ufw ...` line of `ufw show added` -> rule dict, or None (route rules, garbage)."""
    words = _split_words(line[:1024])
    if len(words) < 3 or words[0] != "ufw" or words[1] not in _ACTIONS:
        return None
    rule = {"raw": line[:1024], "action": words[1], "direction": "in", "ports": None, "app": None,
            "interface": None, "to_address": "Anywhere", "from_address": "Anywhere", "v6": False,
            "comment": None}
    rest = words[2:]
    if "comment" in rest:
        at = rest.index("comment")
        rule["comment"] = " ".join(rest[at + 1:]) or None
        rest = rest[:at]
    if rest and rest[0] in ("in", "out"):
        rule["direction"] = rest.pop(0)
    if rest and rest[0] in ("log", "log-all"):
        rest.pop(0)
    if not rest:
        return None
    keywords = ("on", "from", "to", "port", "proto", "app")
    if rest[0] not in keywords:
        # simple form: 'ufw allow 22/tcp' or 'ufw allow OpenSSH'
        spec = " ".join(rest)
        ports = _ports(spec)
        if ports is None:
            rule["app"] = spec
            ports = KNOWN_APPS.get(spec.lower())
        rule["ports"] = ports
        return rule
    proto, to_port, to_app, side, index = "any", None, None, None, 0
    while index < len(rest):
        word = rest[index]
        value = rest[index + 1] if index + 1 < len(rest) else None
        if word in keywords and value is None:
            return None
        if word == "on":
            rule["interface"] = value
        elif word in ("from", "to"):
            side = word
            address = "Anywhere" if value == "any" else value
            rule[side + "_address"] = address
            if address != "Anywhere" and ":" in address:
                rule["v6"] = True
        elif word == "port" and side != "from":
            to_port = value
        elif word == "app" and side != "from":
            to_app = value
        elif word == "proto":
            proto = value
        elif word not in ("port", "app"):
            return None
        index += 2
    if to_port is not None:
        ports = _ports(to_port)
        if ports is None:
            return None
        rule["ports"] = [(low, high, proto) for low, high, _proto in ports]
    elif to_app is not None:
        rule["app"] = to_app
        rule["ports"] = KNOWN_APPS.get(to_app.lower())
    return rule


# --------------------------------------------------------------------------- SSH guard

def _client(client_ip):
    """client_ip as an ip_address (v4-mapped IPv6 -> IPv4), or None."""
    if not client_ip:
        return None
    try:
        address = ipaddress.ip_address(str(client_ip).strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _in_network(address, network):
    try:
        return address in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _family_of(rule, added):
    """The address families a rule applies to: 'ufw show added' rules without an address
    apply to both; a `ufw status` row is one family."""
    if added:
        return ("ipv6",) if rule["v6"] else (("ipv4",) if _has_v4_address(rule) else ("ipv4", "ipv6"))
    return ("ipv6",) if rule["v6"] else ("ipv4",)


def _has_v4_address(rule):
    return any(addr not in (None, "Anywhere") and ":" not in addr
               for addr in (rule["to_address"], rule["from_address"]))


def _port_verdict(rules, port, family, client, added):
    """First rule that decides incoming TCP `port` for `family` (and the client, when known).

    Returns (verdict, rule): ("allow"|"limit", rule) when an allow/limit from Anywhere (or
    from the client's network) comes first; ("deny"|"reject", rule) when a DENY/REJECT that
    could hit the client comes first; (None, None) when no rule decides.
    Conservative both ways: an allow bound to an interface or to one destination address does
    not count as allowing; a deny bound to one does count as blocking.
    """
    for rule in rules:
        if family not in _family_of(rule, added) or not rule_covers(rule, port, "tcp"):
            continue
        source = rule["from_address"] or "Anywhere"
        if source == "Anywhere":
            hits_client = True
        elif client is None:
            hits_client = False
        else:
            hits_client = _in_network(client, source)
        if rule["action"] in ("deny", "reject"):
            if hits_client:
                return rule["action"], rule
            continue
        bound = rule["interface"] is not None or rule["to_address"] not in ("Anywhere", None)
        if hits_client and not bound:
            return rule["action"], rule
    return None, None


def ssh_guard(text, ports, client_ip=None):
    """Can these SSH ports get in, according to `ufw show added` or `ufw status verbose` text?

    For each port, the first rule that decides it (UFW's first-match order) is found, for the
    client's address family when client_ip is known, else for IPv4 and (when any rule is IPv6
    or the text is `ufw show added`) IPv6. add says which rule (allow, or limit when a limit
    already covers one family) makes a missing port allowed. Returns {source, active, ports: [{port, verdict,
    action, rule}], allowed, missing, add: [{port, rule}], blocked: [{port, rule}]}: verdict
    "allowed" (an allow or
    limit comes first; action tells which), "blocked" (a deny/reject comes first: rule is its
    text) or "missing" (no rule decides; an allow appended now would).
    """
    added = isinstance(text, str) and "Added user rules" in text[:4096]
    if added:
        rules = parse_added(text)
        active = None
    else:
        parsed = parse_status(text)
        rules = parsed["rules"]
        active = parsed["active"]
    client = _client(client_ip)
    if client is not None:
        families = ("ipv6",) if client.version == 6 else ("ipv4",)
    elif added or any(rule["v6"] for rule in rules):
        families = ("ipv4", "ipv6")
    else:
        families = ("ipv4",)
    result = {"source": "ufw show added" if added else "ufw status", "active": active, "ports": [],
              "allowed": [], "missing": [], "add": [], "blocked": []}
    for port in sorted({int(item) for item in ports}):
        verdicts = [(family,) + _port_verdict(rules, port, family, client, added) for family in families]
        blocked = [item for item in verdicts if item[1] in ("deny", "reject")]
        if blocked:
            family, action, rule = blocked[0]
            text_rule = rule.get("raw") or ("%s  %s %s  %s" % (rule["to"], rule["action"].upper(),
                                                               rule["direction"].upper(), rule["from"]))
            entry = {"port": port, "verdict": "blocked", "action": action, "family": family, "rule": text_rule}
            result["blocked"].append({"port": port, "rule": text_rule})
        elif all(item[1] in ("allow", "limit") for item in verdicts):
            actions = sorted({item[1] for item in verdicts})
            entry = {"port": port, "verdict": "allowed", "action": actions[-1] if len(actions) == 1 else "/".join(actions),
                     "family": ",".join(families), "rule": verdicts[0][2].get("raw") or verdicts[0][2].get("to")}
            result["allowed"].append(port)
        else:
            # Partly allowed (say IPv4 only): add the same kind of rule, so a limit stays a limit.
            kind = "limit" if any(item[1] == "limit" for item in verdicts) else "allow"
            entry = {"port": port, "verdict": "missing", "action": None, "family": ",".join(families), "rule": None,
                     "add": kind}
            result["missing"].append(port)
            result["add"].append({"port": port, "rule": kind})
        result["ports"].append(entry)
    return result
