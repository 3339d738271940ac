# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a uvicorn unit listens, and whether another listener can be in its way.

PRIVATE to the collection: no compatibility promise for anything outside beatsync.ops.

Standard library only.

- ``uvicorn_bind(argv, environment=None)``: the bind of a uvicorn command line (``--host``,
  ``--port``, ``--uds``, ``--fd``; ``UVICORN_HOST``/``UVICORN_PORT`` from the unit's
  Environment=; uvicorn's defaults 127.0.0.1:8000), expanded to the socket addresses uvicorn
  binds.
- ``overlap(listener, bind)``: can a listener (as ``_procfs.read_listeners`` reports it:
  family "ipv4"/"ipv6", address, port) conflict with the bind? Same family: a wildcard overlaps
  every address, else only the same address. Across families only a dual-stack ``::``
  (IPV6_V6ONLY=0) socket overlaps IPv4; /proc does not show IPV6_V6ONLY, so a foreign ``::``
  listener against an IPv4 bind is a *possible* conflict (``certain`` False).
- ``loopback_only(bind)`` / ``listens_only_on_loopback(listeners)``: the unit (or what the host
  shows) accepts connections from this host only.
- ``accepts(bind, address)``: would a connection to address reach this bind?
"""

from __future__ import absolute_import, division, print_function

import ipaddress
import os

UVICORN_DEFAULT_HOST = "127.0.0.1"
UVICORN_DEFAULT_PORT = 8000

IPV4_ANY = "0.0.0.0"
IPV6_ANY = "::"


def _is_uvicorn(word):
    return os.path.basename(word) in ("uvicorn", "uvicorn3")


def uvicorn_args(argv):
    """The arguments after ``uvicorn`` in argv (``uvicorn ...``, ``python -m uvicorn ...``,
    ``/usr/bin/env uvicorn ...``), or None when argv does not run uvicorn."""
    argv = list(argv or [])
    for index, word in enumerate(argv):
        if word == "-m" and index + 1 < len(argv) and argv[index + 1] == "uvicorn":
            return argv[index + 2:]
        if word == "-muvicorn":
            return argv[index + 1:]
        # uvicorn itself, maybe behind `env [NAME=value...]`
        if _is_uvicorn(word) and all(os.path.basename(before) == "env" or ("=" in before and not before.startswith("-"))
                                     for before in argv[:index]):
            return argv[index + 1:]
    return None


def _options(args):
    """{option: last value} for the bind options of uvicorn's command line (click: the last
    occurrence wins; ``--opt value`` and ``--opt=value``), plus --workers and --reload."""
    found = {}
    index = 0
    valued = ("--host", "--port", "--uds", "--fd", "--workers")
    while index < len(args):
        word = args[index]
        if word == "--":
            break
        name, sep, value = word.partition("=")
        if name in valued:
            if not sep:
                index += 1
                value = args[index] if index < len(args) else None
            found[name] = value
        elif word in ("--reload", "--no-reload"):
            found["--reload"] = word == "--reload"
        index += 1
    return found


def _parse_port(value):
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return port if 0 <= port <= 65535 else None


def _literal(host):
    """ipaddress object for an IP literal ("[::1]" accepted), else None."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def expand_host(host, v6only=True):
    """The socket addresses a uvicorn --host binds: [{family, address, v6only}], or [] for a
    host name this function cannot resolve without DNS (only "localhost" is known)."""
    if host in ("", None):
        # asyncio's create_server(host="") binds every address of both families.
        return [{"family": "ipv4", "address": IPV4_ANY, "v6only": None},
                {"family": "ipv6", "address": IPV6_ANY, "v6only": v6only}]
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return [{"family": "ipv4", "address": "127.0.0.1", "v6only": None},
                {"family": "ipv6", "address": "::1", "v6only": v6only}]
    address = _literal(host)
    if address is None:
        return []
    if address.version == 4:
        return [{"family": "ipv4", "address": str(address), "v6only": None}]
    if address.ipv4_mapped is not None:
        return [{"family": "ipv4", "address": str(address.ipv4_mapped), "v6only": None}]
    return [{"family": "ipv6", "address": str(address), "v6only": v6only}]


def uvicorn_bind(argv, environment=None):
    """The bind of a uvicorn command line.

    argv: ExecStart's argv (list). environment: the unit's effective Environment= dict
    (UVICORN_HOST / UVICORN_PORT apply when the command line does not set them).

    Returns {"server": "uvicorn" or None, "kind": "tcp" | "uds" | "fd" | None, "host", "port",
    "path" (--uds), "fd" (--fd), "addresses": [{family, address, v6only}], "source":
    {"host": "argv" | "env" | "default", "port": ...}, "loopback_only": bool, "error": None or
    why the bind cannot be told}. With one worker uvicorn binds through asyncio, which sets
    IPV6_V6ONLY on IPv6 sockets; with --workers > 1 or --reload it binds one dual-stack
    socket itself (v6only False, as Linux's default net.ipv6.bindv6only=0 gives).
    """
    result = {"server": None, "kind": None, "host": None, "port": None, "path": None, "fd": None,
              "addresses": [], "source": {"host": None, "port": None}, "loopback_only": False, "error": None}
    args = uvicorn_args(argv)
    if args is None:
        result["error"] = "not a uvicorn command line"
        return result
    result["server"] = "uvicorn"
    env = environment or {}
    options = _options(args)
    if options.get("--uds"):
        result.update(kind="uds", path=options["--uds"], loopback_only=True)
        return result
    if options.get("--fd") is not None:
        result.update(kind="fd", fd=_parse_port(options["--fd"]))
        result["error"] = "uvicorn takes its socket from file descriptor %s (socket activation)" % options["--fd"]
        return result
    if "--host" in options:
        host, host_source = options["--host"], "argv"
    elif env.get("UVICORN_HOST") is not None:
        host, host_source = env["UVICORN_HOST"], "env"
    else:
        host, host_source = UVICORN_DEFAULT_HOST, "default"
    if "--port" in options:
        port_text, port_source = options["--port"], "argv"
    elif env.get("UVICORN_PORT") is not None:
        port_text, port_source = env["UVICORN_PORT"], "env"
    else:
        port_text, port_source = UVICORN_DEFAULT_PORT, "default"
    if host is None:
        result["error"] = "--host has no value"
        return result
    port = _parse_port(port_text)
    workers = _parse_port(options.get("--workers")) or 1
    dual_stack = workers > 1 or options.get("--reload") is True
    result.update(kind="tcp", host=host, port=port, source={"host": host_source, "port": port_source})
    result["addresses"] = expand_host(host, v6only=not dual_stack)
    if port is None:
        result["error"] = "port %r is not a number from 0 to 65535" % (port_text,)
    elif not result["addresses"]:
        result["error"] = "host %r is a name; its addresses are not known without DNS" % host
    result["loopback_only"] = bool(result["addresses"]) and all(is_loopback(a["address"]) for a in result["addresses"])
    return result


# --------------------------------------------------------------------------- addresses

def _normalize(family, address):
    """(family, ipaddress) with v4-mapped IPv6 addresses as IPv4; None for garbage."""
    parsed = _literal(str(address or ""))
    if parsed is None:
        return None
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return "ipv4", parsed.ipv4_mapped
    return ("ipv4" if parsed.version == 4 else "ipv6"), parsed


def is_loopback(address):
    """127.0.0.0/8, ::1 and ::ffff:127.x.y.z; False for wildcards and garbage."""
    parsed = _literal(str(address or ""))
    if parsed is None:
        return False
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback


def is_wildcard(address):
    parsed = _literal(str(address or ""))
    return parsed is not None and parsed.is_unspecified


def loopback_only(bind):
    """True when every address of a uvicorn_bind() result is a loopback one (or it is a Unix
    socket): nothing outside the host can connect."""
    return bool(bind.get("loopback_only"))


def listens_only_on_loopback(listeners, port=None):
    """True when there are listeners (on port, if given) and all of them are on loopback."""
    chosen = [item for item in listeners or [] if port is None or item.get("port") == port]
    return bool(chosen) and all(is_loopback(item.get("address")) for item in chosen)


def _pair(first, second, first_v6only=None, second_v6only=None):
    """(overlap, certain, reason) for two socket addresses on the same port."""
    fam_a, addr_a = first
    fam_b, addr_b = second
    if fam_a == fam_b:
        if addr_a.is_unspecified or addr_b.is_unspecified:
            return True, True, "a wildcard address overlaps every %s address" % ("IPv4" if fam_a == "ipv4" else "IPv6")
        if addr_a == addr_b:
            return True, True, "the same address"
        return False, True, "different %s addresses" % ("IPv4" if fam_a == "ipv4" else "IPv6")
    # Across families only a dual-stack :: (IPV6_V6ONLY=0) socket also holds IPv4 addresses.
    for (fam, addr), v6only in (((fam_a, addr_a), first_v6only), ((fam_b, addr_b), second_v6only)):
        if fam == "ipv6" and addr.is_unspecified:
            if v6only is False:
                return True, True, ":: without IPV6_V6ONLY (dual-stack) also holds every IPv4 address"
            if v6only is None:
                return True, False, ":: overlaps IPv4 addresses unless its socket sets IPV6_V6ONLY"
    return False, True, "IPv4 and IPv6 addresses do not overlap"


def overlap(listener, bind, listener_v6only=None):
    """Can listener ({family, address, port} from /proc) conflict with bind (uvicorn_bind())?

    listener_v6only: the listener's IPV6_V6ONLY when known (/proc does not show it; None).
    Returns {"conflict": bool, "certain": bool, "reason": str, "address": the bind address it
    meets or None}. A Unix-socket or fd bind never conflicts with a TCP listener; an unknown
    bind (no addresses) conflicts on the same port, uncertainly.
    """
    if bind.get("kind") == "uds":
        return {"conflict": False, "certain": True, "reason": "the unit listens on a Unix socket", "address": None}
    port = listener.get("port")
    if bind.get("port") is not None and port != bind.get("port"):
        return {"conflict": False, "certain": True, "reason": "different ports", "address": None}
    theirs = _normalize(listener.get("family"), listener.get("address"))
    if theirs is None or not bind.get("addresses"):
        return {"conflict": True, "certain": False, "reason": "the addresses cannot be compared", "address": None}
    best = None
    for ours in bind["addresses"]:
        mine = _normalize(ours["family"], ours["address"])
        if mine is None:
            continue
        hit, certain, reason = _pair(theirs, mine, listener_v6only, ours.get("v6only"))
        if hit and (best is None or (certain and not best["certain"])):
            best = {"conflict": True, "certain": certain, "reason": reason, "address": ours["address"]}
    if best is not None:
        return best
    return {"conflict": False, "certain": True, "address": None,
            "reason": "%s does not overlap %s" % (_show(listener.get("address")),
                                                  ", ".join(_show(a["address"]) for a in bind["addresses"]))}


def show_address(address):
    """An address as it is written before ":port" (IPv6 in brackets)."""
    return "[%s]" % address if ":" in str(address) else str(address)


_show = show_address


def conflicting_listeners(listeners, bind):
    """The listeners (from /proc, on the bind's port) that overlap the bind: [(listener,
    overlap dict)], certain conflicts first."""
    found = []
    for listener in listeners or []:
        result = overlap(listener, bind)
        if result["conflict"]:
            found.append((listener, result))
    return sorted(found, key=lambda pair: not pair[1]["certain"])


def accepts(bind, address):
    """Would a TCP connection to address (on the bind's port) reach this bind?"""
    target = _normalize(None, address)
    if target is None:
        return False
    for ours in bind.get("addresses") or []:
        mine = _normalize(ours["family"], ours["address"])
        if mine is None:
            continue
        if mine[0] == target[0] and (mine[1].is_unspecified or mine[1] == target[1]):
            return True
        if mine[0] == "ipv6" and target[0] == "ipv4" and mine[1].is_unspecified and ours.get("v6only") is False:
            return True
    return False
