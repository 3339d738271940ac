# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The findings engine: probe facts in, root causes with evidence and remedies out.

Pure functions over plain dicts (the shapes in docs/architecture.md), so unit tests feed
recorded facts. Each rule looks at the facts and may return one finding; a finding names
the symptom codes it explains, and explained symptoms are not reported again: a port held by
a stale copy explains a crash loop that explains a failed health check, said once.
"""

from __future__ import annotations

import os

from ansible_collections.beatsync.ops.plugins.module_utils import _bind
from ansible_collections.beatsync.ops.plugins.module_utils._remedies import plan, remedy
from ansible_collections.beatsync.ops.plugins.module_utils._serving import unit_serves

# Rank of every code: lower is closer to the root cause. (The order in which the repair applies
# remedies is the remedy registry's, _remedies.REMEDIES.)
CODES = (
    "syntax_error",
    "port_conflict_foreign",
    "port_conflict_stale",
    "port_owner_unknown",
    "service_missing",
    "bind_address",
    "unit_drift",
    "missing_dependency",
    "crash_loop",
    "service_failed",
    "service_inactive",
    "health_failed",
    "docs_unavailable",
    "docs_timeout",
    "openapi_broken",
    "firewall_blocks_port",
    "external_unreachable",
    "port_conflict_possible",
    "requirements_mismatch",
)

SEVERITIES = ("critical", "error", "warning", "info")

# Symptoms that follow from the service not serving; a root cause below explains them.
SERVICE_SYMPTOMS = ("crash_loop", "service_failed", "service_inactive")
HTTP_SYMPTOMS = ("health_failed", "docs_unavailable", "docs_timeout", "openapi_broken")

# A unit that restarted this often since it was last started is crash-looping.
CRASH_LOOP_RESTARTS = 3

# How many evidence lines one finding carries at most.
MAX_EVIDENCE = 12


def _finding(code, severity, summary, evidence, runbook_step, remedy, explains=()):
    return {
        "code": code,
        "severity": severity,
        "summary": summary,
        "evidence": [str(item) for item in evidence if item not in (None, "")][:MAX_EVIDENCE],
        "runbook_step": runbook_step,
        "remedy": remedy,
        "explains": list(explains),
    }


def _get(facts, name):
    value = facts.get(name)
    return value if isinstance(value, dict) else {}


def _journal_lines(facts, kind):
    return [c for c in _get(facts, "journal").get("classifications") or [] if isinstance(c, dict) and c.get("kind") == kind]


def _unit_state(unit):
    return "ActiveState=%s SubState=%s Result=%s NRestarts=%s ExecMainStatus=%s" % (
        unit.get("active_state"), unit.get("sub_state"), unit.get("result"),
        unit.get("n_restarts"), unit.get("exec_main_status"))


def _service_down(unit):
    """True when systemd says the unit is not serving (or cannot say)."""
    return unit.get("present") is not False and unit.get("active_state") not in ("active", "reloading", None)


def _health_ok(facts):
    return bool(_get(facts, "health").get("healthy"))


# ---------------------------------------------------------------------------------------
# Rules: each takes (facts, context) and returns a finding or None.
# ---------------------------------------------------------------------------------------

def rule_syntax_error(facts, ctx):
    syntax = _get(_get(facts, "deps"), "syntax")
    journal = _journal_lines(facts, "syntax_error")
    if syntax.get("checked") and syntax.get("ok") is False:
        where = "%s:%s" % (syntax.get("file"), syntax.get("line"))
        evidence = ["py_compile %s: %s" % (where, syntax.get("message"))] + [j.get("line") for j in journal[:3]]
        fix = remedy("fix_code", file=syntax.get("file"), line=syntax.get("line"), message=syntax.get("message"))
    elif journal and _service_down(ctx["unit"]):
        first = journal[0]
        where = "%s:%s" % (first.get("file"), first.get("lineno"))
        evidence = [j.get("line") for j in journal[:3]]
        fix = remedy("fix_code", file=first.get("file"), line=first.get("lineno"), message=first.get("line"))
    else:
        return None
    return _finding(
        "syntax_error", "critical",
        "The application code has a syntax error at %s: restarting cannot help, the code must be fixed." % where,
        evidence, "Q3: check the code for syntax errors", fix,
        explains=SERVICE_SYMPTOMS + HTTP_SYMPTOMS)


def _port_conflict(facts, ctx):
    """The listeners on the port that do not belong to the service and can be in its way.

    Returns (stale, foreign, unknown, possible). With the unit's bind known (the address its
    ExecStart says uvicorn binds), a listener counts only when its address overlaps that bind
    (_bind.overlap): [::1]:8000 is no conflict for a unit on 0.0.0.0. A possible overlap (a
    foreign :: socket whose IPV6_V6ONLY /proc cannot show) is `possible`, not a blocking
    conflict, unless the journal says the unit's bind failed with "address already in use"."""
    port = _get(facts, "port")
    service = ctx["service"]
    stray = set(_get(facts, "process").get("stray") or [])
    bind = ctx.get("bind") or {}
    known = bind.get("kind") == "tcp" and bool(bind.get("addresses"))
    bind_failed = bool(_journal_lines(facts, "address_in_use")) and _service_down(ctx["unit"])
    stale, foreign, unknown, possible = [], [], [], []
    for listener in port.get("listeners") or []:
        if not isinstance(listener, dict):
            continue
        if listener.get("unit") == service:
            continue
        if known:
            meets = _bind.overlap(listener, bind)
            if not meets["conflict"]:
                continue
            if not meets["certain"] and not bind_failed:
                possible.append(dict(listener, overlap=meets["reason"]))
                continue
        pid = listener.get("pid")
        if pid is None:
            unknown.append(listener)
        elif pid in stray or _looks_like_beatsync(listener, ctx):
            stale.append(listener)
        else:
            foreign.append(listener)
    return stale, foreign, unknown, possible


def _looks_like_beatsync(listener, ctx):
    cmdline = listener.get("cmdline") or []
    if isinstance(cmdline, str):
        cmdline = cmdline.split()
    text = " ".join(cmdline)
    return "uvicorn" in text and ctx["app_spec"] in cmdline and (
        not ctx["app_dir"] or not listener.get("cwd") or listener.get("cwd") == ctx["app_dir"])


def _describe(listener):
    cmdline = listener.get("cmdline")
    if isinstance(cmdline, list):
        cmdline = " ".join(cmdline)
    return "pid %s (%s) user %s cwd %s unit %s listens on %s:%s: %s" % (
        listener.get("pid"), listener.get("name"), listener.get("user"), listener.get("cwd"),
        listener.get("unit") or "-", listener.get("address"), listener.get("port"), cmdline)


def _address_in_use_evidence(facts):
    return [j.get("line") for j in _journal_lines(facts, "address_in_use")[:2]]


def rule_port_conflict_foreign(facts, ctx):
    _stale, foreign, _unknown, _possible = _port_conflict(facts, ctx)
    if not foreign:
        return None
    first = foreign[0]
    return _finding(
        "port_conflict_foreign", "critical",
        "Port %s is held by another program (%s, pid %s), not BeatSync: it is never stopped without the operator's consent."
        % (ctx["port"], first.get("name"), first.get("pid")),
        [_describe(item) for item in foreign] + _address_in_use_evidence(facts),
        "diagnosis step 3: port owner (netstat -tlnp | grep 8000; lsof -i :8000)",
        remedy("refuse_foreign_listener", port=ctx["port"], pids=[item.get("pid") for item in foreign],
               names=[item.get("name") for item in foreign], cmdlines=[item.get("cmdline") for item in foreign]),
        explains=SERVICE_SYMPTOMS + HTTP_SYMPTOMS)


def rule_port_conflict_stale(facts, ctx):
    stale, foreign, _unknown, _possible = _port_conflict(facts, ctx)
    if not stale or foreign:
        return None
    return _finding(
        "port_conflict_stale", "error",
        "A BeatSync/uvicorn copy outside %s (pid %s, started by hand?) holds port %s, so the service cannot bind it."
        % (ctx["service"], ", ".join(str(item.get("pid")) for item in stale), ctx["port"]),
        [_describe(item) for item in stale] + _address_in_use_evidence(facts) + [_unit_state(ctx["unit"])],
        "diagnosis step 3 and repair option 3: stop the copy started by hand",
        remedy("stop_stale_copy", port=ctx["port"], pids=[item.get("pid") for item in stale], service=ctx["service"],
               app_spec=ctx["app_spec"], app_dir=ctx["app_dir"]),
        explains=SERVICE_SYMPTOMS + HTTP_SYMPTOMS)


def rule_port_owner_unknown(facts, ctx):
    _stale, foreign, unknown, _possible = _port_conflict(facts, ctx)
    if not unknown or foreign or ctx["unit"].get("active_state") == "active":
        return None
    return _finding(
        "port_owner_unknown", "error",
        "Something listens on port %s but its owner cannot be seen (run the probe with become)." % ctx["port"],
        ["inode %s on %s:%s" % (item.get("inode"), item.get("address"), item.get("port")) for item in unknown],
        "diagnosis step 3: port owner (sudo netstat -tlnp)",
        remedy("report"),
        explains=SERVICE_SYMPTOMS + HTTP_SYMPTOMS)


def rule_port_conflict_possible(facts, ctx):
    _stale, _foreign, _unknown, possible = _port_conflict(facts, ctx)
    if not possible:
        return None
    return _finding(
        "port_conflict_possible", "warning",
        "Another program listens on port %s at an address that may overlap the unit's bind (%s); it blocks nothing now "
        "and is never stopped." % (ctx["port"], _bind_text(ctx.get("bind"))),
        [_describe(item) + " (%s)" % item.get("overlap") for item in possible],
        "diagnosis step 3: port owner (netstat -tlnp | grep 8000; lsof -i :8000)",
        remedy("report"))


def _bind_text(bind):
    bind = bind or {}
    if bind.get("kind") == "uds":
        return "unix:%s" % bind.get("path")
    addresses = [item.get("address") for item in bind.get("addresses") or []]
    return ", ".join("%s:%s" % (_bind.show_address(address), bind.get("port")) for address in addresses) or "unknown"


def _declared(bind):
    return ["%s line %s: %s" % (item.get("path"), item.get("line"), item.get("text"))
            for item in (bind or {}).get("declared_by") or []]


def _movable_dropins(paths, service):
    """The drop-ins repair may move aside: the service's own <service>.d/*.conf under /etc or
    /run (never a vendor drop-in in /usr, never a directory shared by every service)."""
    chosen = []
    for path in paths:
        path = str(path or "")
        if (os.path.basename(os.path.dirname(path)) == service + ".d" and path.endswith(".conf")
                and path.startswith(("/etc/systemd/", "/run/systemd/")) and path not in chosen):
            chosen.append(path)
    return sorted(chosen)


def _outside_fails(facts):
    external = _get(facts, "external")
    if not external:
        return False
    return (_health_ok(facts) and not _get(external, "health").get("healthy")) or (
        bool(_get(facts, "docs").get("docs_ok")) and not _get(external, "docs").get("docs_ok"))


def rule_bind_address(facts, ctx):
    """The host itself shows why nothing outside connects: the unit binds loopback only, or an
    address other than the canonical unit's."""
    unit = ctx["unit"]
    bind = unit.get("bind") if isinstance(unit.get("bind"), dict) else {}
    canonical = unit.get("canonical_bind") if isinstance(unit.get("canonical_bind"), dict) else {}
    if bind.get("kind") not in ("tcp", "uds") or unit.get("present") is False:
        return None
    ours = sorted(item.get("address") for item in bind.get("addresses") or [])
    theirs = sorted(item.get("address") for item in canonical.get("addresses") or [])
    differs = canonical.get("kind") is not None and (
        bind.get("kind") != canonical.get("kind") or ours != theirs or bind.get("port") != canonical.get("port"))
    own = [item for item in _get(facts, "port").get("listeners") or []
           if isinstance(item, dict) and item.get("unit") == ctx["service"]]
    loopback = bool(bind.get("loopback_only")) or (not bind.get("addresses") and _bind.listens_only_on_loopback(own))
    outside = _outside_fails(facts)
    if not (differs or (loopback and outside)):
        return None
    if loopback and not (canonical.get("loopback_only")):
        what = "listens only on loopback (%s): nothing outside this host can connect" % _bind_text(bind)
    else:
        what = "listens on %s, not on the canonical %s" % (_bind_text(bind), _bind_text(canonical))
    declared = _declared(bind)
    dropins = [item.get("path") for item in bind.get("declared_by") or [] if item.get("kind") == "dropin"]
    evidence = ["bind declared by " + line for line in declared]
    evidence += ["pid %s listens on %s:%s" % (item.get("pid"), _bind.show_address(item.get("address")), item.get("port"))
                 for item in own]
    if outside:
        external = _get(facts, "external")
        evidence.append("from the controller: GET %s -> %s %s" % (
            _get(external, "health").get("url"), _get(external, "health").get("status"),
            _get(external, "health").get("error") or ""))
    return _finding(
        "bind_address", "error" if outside or loopback else "warning",
        "%s %s, as %s says." % (ctx["service"], what, "the drop-in " + dropins[-1] if dropins else "its ExecStart"),
        evidence,
        "repair option 2: the canonical unit (--host 0.0.0.0), daemon-reload, restart",
        _install_unit(ctx, dropins) if differs else remedy("report"),
        explains=("external_unreachable",))


def rule_service_missing(facts, ctx):
    unit = ctx["unit"]
    if unit.get("systemd") is False or unit.get("present") is not False:
        return None
    return _finding(
        "service_missing", "critical",
        "The unit %s does not exist on this host." % ctx["service"],
        ["LoadState=%s" % unit.get("load_state"), unit.get("error")],
        "repair option 2: create /etc/systemd/system/beatsync.service, daemon-reload",
        _install_unit(ctx),
        explains=SERVICE_SYMPTOMS + HTTP_SYMPTOMS)


def _install_unit(ctx, dropins=()):
    return remedy("install_unit", service=ctx["service"], port=ctx["port"], app_dir=ctx["app_dir"], app_spec=ctx["app_spec"],
                  dropins=_movable_dropins(dropins, ctx["service"]))


def rule_unit_drift(facts, ctx):
    unit = ctx["unit"]
    if unit.get("drift") is not True:
        return None
    items = [item for item in unit.get("drift_items") or [] if isinstance(item, dict)]
    diff = (unit.get("diff") or "").splitlines()
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    evidence = []
    dropins = []
    for item in items:
        evidence.append(item.get("describe") or "%s= differs" % item.get("key"))
        for source in item.get("sources") or []:
            if source.get("kind") == "dropin":
                dropins.append(source.get("path"))
                evidence += ["  %s:%s %s" % (source.get("path"), line, text)
                             for line, text in zip(source.get("lines") or [], source.get("text") or [])]
    # Serving healthy (health and /docs fine): the operator's customised unit is a warning only;
    # the repair leaves it alone unless beatsync_repair_drift_when_serving is true.
    docs = _get(facts, "docs")
    serving = unit_serves(facts, ctx["service"]) and (not docs or bool(docs.get("docs_ok")))
    where = sorted(set(dropins))
    summary = "The effective unit %s differs from the canonical unit" % (unit.get("fragment_path") or ctx["service"])
    if where:
        summary += " through the drop-in%s %s" % ("s" if len(where) > 1 else "", ", ".join(where))
    if items:
        summary += " (%s)" % ", ".join("%s=" % item.get("key") for item in items)
    return _finding(
        "unit_drift", "warning" if serving else "error",
        summary + ".",
        evidence + (changed or diff),
        "repair option 2: make sure the unit matches the canonical text (drop-ins moved aside), daemon-reload, restart",
        _install_unit(ctx, where),
        explains=() if serving else SERVICE_SYMPTOMS + HTTP_SYMPTOMS)


def _requirement_problems(deps):
    problems = []
    for req in deps.get("requirements") or []:
        if isinstance(req, dict) and req.get("satisfied") is False:
            where = "%s:%s" % (req.get("file"), req.get("line")) if req.get("file") else "line %s" % req.get("line")
            problems.append((req.get("name"), "requirement %s%s (%s): installed %s" % (
                req.get("name"), req.get("specifier") or "", where, req.get("installed"))))
    return problems


def rule_missing_dependency(facts, ctx):
    deps = _get(facts, "deps")
    journal = _journal_lines(facts, "missing_module")
    down = _service_down(ctx["unit"])
    broken_imports = [(name, result) for name, result in sorted((deps.get("imports") or {}).items())
                      if isinstance(result, dict) and result.get("ok") is False]
    # A unit that serves healthy has just proved its imports: a requirement line it does not
    # satisfy is a warning (requirements_mismatch), never a reason to reinstall and restart.
    # A stale copy that answers healthy proves nothing about the unit's environment.
    if unit_serves(facts, ctx["service"]) and not broken_imports:
        return None
    missing = [name for name in deps.get("missing") or [] if isinstance(name, str)]
    evidence = []
    for name, result in broken_imports:
        evidence.append("import %s with %s: %s" % (name, deps.get("interpreter"), result.get("error")))
        if name not in missing:
            missing.append(name)
    for name, line in _requirement_problems(deps):
        evidence.append(line)
        if name not in missing:
            missing.append(name)
    if journal and down:
        for item in journal[:3]:
            evidence.append(item.get("line"))
            if item.get("module") and item.get("module") not in missing:
                missing.append(item.get("module"))
    if not missing:
        return None
    return _finding(
        "missing_dependency", "critical" if down else "error",
        "Python dependencies are missing or do not satisfy requirements.txt for %s: %s."
        % (deps.get("interpreter") or "the service's interpreter", ", ".join(str(m) for m in missing)),
        evidence,
        "diagnosis step 6 and repair option 5: pip3 install -r requirements.txt",
        remedy("install_requirements", missing=missing, python=deps.get("interpreter"), app_dir=ctx["app_dir"]),
        explains=SERVICE_SYMPTOMS + HTTP_SYMPTOMS)


def rule_requirements_mismatch(facts, ctx):
    deps = _get(facts, "deps")
    if not unit_serves(facts, ctx["service"]):
        return None
    if any(isinstance(r, dict) and r.get("ok") is False for r in (deps.get("imports") or {}).values()):
        return None
    problems = _requirement_problems(deps)
    if not problems:
        return None
    return _finding(
        "requirements_mismatch", "warning",
        "%s serves healthy, but its interpreter %s does not satisfy requirements.txt for %s: nothing is reinstalled "
        "or restarted for that; update the environment in a maintenance window."
        % (ctx["service"], deps.get("interpreter"), ", ".join(str(name) for name, _line in problems)),
        [line for _name, line in problems],
        "diagnosis step 6: pip3 install -r requirements.txt (when convenient)",
        remedy("report"))


def rule_service_state(facts, ctx):
    unit = ctx["unit"]
    if unit.get("present") is False or unit.get("systemd") is False:
        return None
    active = unit.get("active_state")
    sub = unit.get("sub_state")
    restarts = unit.get("n_restarts") or 0
    limit_hit = bool(_journal_lines(facts, "start_limit_hit")) or unit.get("result") == "start-limit-hit"
    evidence = [_unit_state(unit)]
    evidence += [c.get("line") for c in (_get(facts, "journal").get("classifications") or [])[:4] if isinstance(c, dict)]
    if sub == "auto-restart" or (restarts >= CRASH_LOOP_RESTARTS and active != "active"):
        return _finding(
            "crash_loop", "critical",
            "%s is crash-looping (%s restarts, now %s/%s)." % (ctx["service"], restarts, active, sub),
            evidence, "Q3: the service keeps restarting; repair option 1",
            remedy("restart_service", service=ctx["service"], reset_failed=True), explains=("service_failed",) + HTTP_SYMPTOMS)
    if active == "failed":
        return _finding(
            "service_failed", "critical",
            "%s has failed (result %s)." % (ctx["service"], unit.get("result")),
            evidence, "diagnosis step 1 and repair option 1: systemctl restart beatsync",
            remedy("restart_service", service=ctx["service"], reset_failed=limit_hit), explains=HTTP_SYMPTOMS)
    if active in ("inactive", "deactivating") or (active == "activating" and not _health_ok(facts)):
        return _finding(
            "service_inactive", "critical",
            "%s is not running (%s/%s)." % (ctx["service"], active, sub),
            evidence, "diagnosis step 1: systemctl start beatsync; systemctl enable beatsync",
            remedy("restart_service", service=ctx["service"], reset_failed=False), explains=HTTP_SYMPTOMS)
    return None


def rule_health(facts, ctx):
    health = _get(facts, "health")
    if not health or health.get("healthy"):
        return None
    seen = "status %s" % health.get("status") if health.get("reachable") else "no answer (%s)" % health.get("error_class")
    return _finding(
        "health_failed", "critical",
        "%s is not healthy: %s." % (health.get("url"), seen),
        ["GET %s -> %s %s" % (health.get("url"), health.get("status"), health.get("error") or ""),
         health.get("body_excerpt")],
        "diagnosis step 4: curl http://localhost:8000/api/health; repair option 1",
        remedy("restart_service", service=ctx["service"], reset_failed=False), explains=HTTP_SYMPTOMS[1:])


def rule_docs(facts, ctx):
    docs = _get(facts, "docs")
    problem = docs.get("problem")
    if not docs or docs.get("docs_ok") or not problem:
        return None
    page = _get(docs, "docs")
    openapi = _get(docs, "openapi")
    evidence = ["GET %s -> %s %s (%ss)" % (page.get("url"), page.get("status"), page.get("error") or "", page.get("elapsed")),
                page.get("body_excerpt")]
    if openapi.get("url"):
        evidence.append("GET %s -> %s %s" % (openapi.get("url"), openapi.get("status"), openapi.get("error") or ""))
        evidence.append(openapi.get("body_excerpt"))
    step = "diagnosis step 4: curl http://localhost:8000/docs; repair option 1 (restart)"
    restart = remedy("restart_for_docs", service=ctx["service"])
    if problem == "docs_timeout":
        return _finding("docs_timeout", "error", "%s did not answer in time." % page.get("url"), evidence, step, restart)
    if problem == "openapi_broken":
        return _finding("openapi_broken", "error",
                        "The OpenAPI document %s is broken (status %s): Swagger UI cannot render."
                        % (openapi.get("url"), openapi.get("status")), evidence, step, restart)
    if problem == "unreachable" and not _health_ok(facts):
        return None  # the health check failing already says the app does not answer
    return _finding(
        "docs_unavailable", "error",
        "%s answers %s (%s) while /api/health is %s." % (
            page.get("url"), page.get("status"), problem, "healthy" if _health_ok(facts) else "not healthy"),
        evidence, step, restart if problem != "docs_disabled" else remedy("report"))


def rule_firewall(facts, ctx):
    firewall = _get(facts, "firewall")
    if not firewall.get("active"):
        return None
    if firewall.get("default_incoming") not in ("deny", "reject"):
        return None
    if firewall.get("port_allowed_v4") or firewall.get("port_allowed_v6"):
        return None
    return _finding(
        "firewall_blocks_port", "error",
        "UFW is active with default incoming %s and no rule allows TCP %s: users cannot reach the service."
        % (firewall.get("default_incoming"), ctx["port"]),
        ["ufw: active, default incoming %s, %d rule(s), none for %s/tcp"
         % (firewall.get("default_incoming"), len(firewall.get("rules") or []), ctx["port"])],
        "repair option 4: ufw allow 8000/tcp",
        remedy("open_firewall", port=ctx["port"]))


def rule_external(facts, ctx):
    external = _get(facts, "external")
    if not external:
        return None
    health = _get(external, "health")
    docs = _get(external, "docs")
    # Only what fails outside but works inside is an outside problem.
    health_worse = _health_ok(facts) and not health.get("healthy")
    docs_worse = bool(_get(facts, "docs").get("docs_ok")) and docs and not docs.get("docs_ok")
    if not (health_worse or docs_worse):
        return None
    blocked = rule_firewall(facts, ctx) is not None
    own = [item for item in _get(facts, "port").get("listeners") or []
           if isinstance(item, dict) and item.get("unit") == ctx["service"]]
    if not blocked and _bind.listens_only_on_loopback(own):
        return _finding(
            "external_unreachable", "error",
            "The service answers on the host but not from outside (%s): it listens only on loopback (%s)."
            % (health.get("url"), ", ".join("%s:%s" % (_bind.show_address(item.get("address")), item.get("port"))
                                            for item in own)),
            ["from the controller: GET %s -> %s %s" % (health.get("url"), health.get("status"), health.get("error") or "")],
            "verification step 3: test external access", remedy("report"))
    return _finding(
        "external_unreachable", "error",
        "The service answers on the host but not from outside (%s): %s." % (
            health.get("url"),
            "UFW blocks the port" if blocked else
            "not UFW; check the cloud firewall / security group for TCP %s, which this collection cannot open" % ctx["port"]),
        ["from the controller: GET %s -> %s %s" % (health.get("url"), health.get("status"), health.get("error") or "")],
        "verification step 3: test external access",
        remedy("open_firewall", port=ctx["port"]) if blocked else remedy("report"))


RULES = (
    rule_syntax_error,
    rule_port_conflict_foreign,
    rule_port_conflict_stale,
    rule_port_owner_unknown,
    rule_port_conflict_possible,
    rule_service_missing,
    rule_bind_address,
    rule_unit_drift,
    rule_missing_dependency,
    rule_requirements_mismatch,
    rule_service_state,
    rule_health,
    rule_docs,
    rule_firewall,
    rule_external,
)


def build_findings(facts, service="beatsync.service", port=8000, app_spec="main:app", app_dir=None):
    """Facts of one host -> {"verdict", "root_cause", "findings", "plan"} (root cause first).

    service must be normalised already (_validate.normalize_service, at the caller's edge)."""
    facts = facts if isinstance(facts, dict) else {}
    unit = _get(facts, "unit")
    ctx = {"service": service, "port": port, "app_spec": app_spec, "app_dir": app_dir, "unit": unit,
           "bind": unit.get("bind") if isinstance(unit.get("bind"), dict) else None}
    raw = [finding for finding in (rule(facts, ctx) for rule in RULES) if finding]
    raw.sort(key=lambda f: CODES.index(f["code"]))
    explained = set()
    findings = []
    for finding in raw:
        if finding["code"] in explained:
            continue
        findings.append(finding)
        explained.update(finding["explains"])
    # What a root cause explains is only what is actually seen.
    seen = {f["code"] for f in raw}
    for finding in findings:
        finding["explains"] = [code for code in finding["explains"] if code in seen]
    maintenance = _get(facts, "maintenance")
    outcome = {
        "verdict": verdict(facts, findings),
        "root_cause": findings[0]["code"] if findings else None,
        "findings": findings,
        "plan": [] if maintenance.get("active") else plan(findings),
    }
    if maintenance.get("active"):
        outcome["maintenance"] = {"reason": maintenance.get("reason") or "", "source": maintenance.get("source")}
    return outcome


def verdict(facts, findings):
    """maintenance: an operator marked the host (nothing is repaired); healthy: nothing found, or
    only warnings while /api/health is healthy; down: /api/health not healthy; degraded: anything else."""
    if _get(facts, "maintenance").get("active"):
        return "maintenance"
    if not findings or (_health_ok(facts) and all(f["severity"] in ("warning", "info") for f in findings)):
        return "healthy"
    return "degraded" if _health_ok(facts) else "down"


# ---------------------------------------------------------------------------------------
# The run as a whole (controller side, once per play).
# ---------------------------------------------------------------------------------------

# A run's outside failures are blamed on the controller's own network path when MORE than
# this share of its diagnosed hosts (and at least FLEET_MIN_HOSTS of them) fail only from
# outside (external_unreachable is their only finding) while /api/health is healthy on each.
FLEET_OUTSIDE_SHARE = 0.5
FLEET_MIN_HOSTS = 2


def _outside_only(report):
    findings = [f for f in (report or {}).get("findings") or [] if isinstance(f, dict)]
    health = ((report or {}).get("probes") or {}).get("health") or {}
    return bool(findings) and all(f.get("code") == "external_unreachable" for f in findings) and bool(health.get("healthy"))


def fleet_findings(reports, share=FLEET_OUTSIDE_SHARE, min_hosts=FLEET_MIN_HOSTS):
    """Reports of one run (diagnose's `report` per host) -> [] or [one `controller_network`
    finding] naming the hosts it explains (`hosts`): when most hosts fail only from outside
    while every one of them is healthy inside, the common cause is between the controller and
    the hosts, said once for the run instead of once per host."""
    reports = [item for item in reports or [] if isinstance(item, dict)]
    hosts = [item.get("host") for item in reports if _outside_only(item)]
    if not reports or len(hosts) < min_hosts or len(hosts) <= share * len(reports):
        return []
    evidence = []
    for item in reports:
        if item.get("host") in hosts:
            first = (item.get("findings") or [{}])[0]
            evidence.append("%s: healthy on the host; %s" % (item.get("host"), (first.get("evidence") or [""])[0]))
    finding = _finding(
        "controller_network", "error",
        "%d of %d hosts answer healthy on the host but not from the controller: the controller's own network path "
        "(proxy, VPN, routing, egress firewall, DNS) is the likely cause, not each host." % (len(hosts), len(reports)),
        evidence, "verification step 3: test external access (from another machine too)", remedy("report"),
        explains=("external_unreachable",))
    finding["hosts"] = hosts
    return [finding]
