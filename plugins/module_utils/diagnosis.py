# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One diagnosis: every probe once, then the findings engine. Used by the diagnose module."""

from __future__ import annotations

import os
import time

from ansible_collections.beatsync.ops.plugins.module_utils._common import (
    ProbeInputError,
    elapsed_since,
    validate_port,
    validate_positive_int,
    validate_timeout,
)
from ansible_collections.beatsync.ops.plugins.module_utils._journal import classify, since_last_start
from ansible_collections.beatsync.ops.plugins.module_utils.findings import build_findings
from ansible_collections.beatsync.ops.plugins.module_utils.probe_firewall import probe_firewall
from ansible_collections.beatsync.ops.plugins.module_utils.probe_host import normalize_service, probe_port, probe_process
from ansible_collections.beatsync.ops.plugins.module_utils.probe_http import probe_docs, probe_health
from ansible_collections.beatsync.ops.plugins.module_utils.probe_python import probe_deps
from ansible_collections.beatsync.ops.plugins.module_utils.probe_systemd import probe_journal, probe_unit

ALL_PROBES = ("unit", "journal", "port", "process", "health", "docs", "deps", "firewall")

DEFAULT_PYTHON = "/usr/bin/python3"


def base_url(host, port):
    """http://host:port, with brackets around an IPv6 address."""
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "http://%s:%d" % (host, port)


def _guarded(name, func, timings, **kwargs):
    """Run one probe; a probe's own bug becomes an error field, never a traceback."""
    started = time.monotonic()
    try:
        return func(**kwargs)
    except ProbeInputError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return {"error": "the %s probe failed: %s: %s" % (name, type(exc).__name__, exc), "error_class": "probe_error"}
    finally:
        timings[name] = elapsed_since(started)


def _serving(facts, service):
    """True when the unit is active and its own process answers /api/health healthy."""
    unit = facts.get("unit") or {}
    health = facts.get("health") or {}
    listeners = (facts.get("port") or {}).get("listeners") or []
    return (unit.get("active_state") == "active" and bool(health.get("healthy"))
            and any(isinstance(item, dict) and item.get("unit") == service for item in listeners))


def validate(params):
    """Check the options the probes share before any probe runs."""
    port = validate_port(params["port"])
    timeout = validate_timeout(params["timeout"])
    lines = validate_positive_int(params["journal_lines"], "journal_lines", 1, 1000)
    if params.get("ssh_port") is not None:
        validate_port(params["ssh_port"], "ssh_port")
    if not str(params["app_dir"]).startswith("/"):
        raise ProbeInputError("app_dir must be an absolute path, got %r" % params["app_dir"])
    for name in ("health_path", "docs_path", "openapi_path"):
        if params.get(name) is not None and not str(params[name]).startswith("/"):
            raise ProbeInputError("%s must start with /, got %r" % (name, params[name]))
    return port, timeout, lines


def diagnose(params, bins=None):
    """Run the selected probes and the findings engine; returns the module's result."""
    bins = bins or {}
    port, timeout, lines = validate(params)
    selected = set(params.get("probes") or ALL_PROBES)
    service = normalize_service(params["service"])
    url = base_url(params["host"], port)
    started = time.monotonic()
    timings = {}
    facts = {}

    if "unit" in selected:
        facts["unit"] = _guarded("unit", probe_unit, timings, service=service, canonical_unit=params.get("canonical_unit"),
                                 systemctl_path=bins.get("systemctl"), timeout=timeout * 2)
    if "journal" in selected:
        facts["journal"] = _guarded("journal", probe_journal, timings, service=service, lines=lines,
                                    journalctl_path=bins.get("journalctl"), timeout=timeout * 2)
        if facts["journal"].get("lines"):
            # Findings judge the latest start attempt only; the full classification stays visible.
            facts["journal"]["classifications_all"] = facts["journal"].get("classifications")
            facts["journal"]["classifications"] = classify(since_last_start(facts["journal"]["lines"]))
    if "port" in selected:
        facts["port"] = _guarded("port", probe_port, timings, port=port)
    if "process" in selected:
        facts["process"] = _guarded("process", probe_process, timings, pattern=params["process_pattern"],
                                    app_spec=params["app_spec"], service=service)
    if "health" in selected:
        facts["health"] = _guarded("health", probe_health, timings, url=url + params["health_path"], timeout=timeout,
                                   expected_status=params["expected_status"])
    if "docs" in selected:
        facts["docs"] = _guarded("docs", probe_docs, timings, base_url=url, docs_path=params["docs_path"],
                                 openapi_path=params.get("openapi_path"), timeout=timeout)
    if "deps" in selected:
        python = params.get("python") or (facts.get("unit") or {}).get("interpreter") or DEFAULT_PYTHON
        requirements = params["requirements_file"]
        if not os.path.isabs(requirements):
            requirements = os.path.join(params["app_dir"], requirements)
        # Importing fastapi costs most of a diagnosis; a unit that serves a healthy answer has
        # just proved its interpreter imports it, so then only versions are read.
        serving = _serving(facts, service)
        facts["deps"] = _guarded("deps", probe_deps, timings, python=python, app_dir=params["app_dir"],
                                 requirements_file=requirements, app_module=params["app_module"],
                                 modules=[] if serving else params["modules"], timeout=max(timeout * 6, 30))
        facts["deps"]["imports_skipped"] = serving
    if "firewall" in selected:
        facts["firewall"] = _guarded("firewall", probe_firewall, timings, port=port, ssh_port=params.get("ssh_port"),
                                     ufw_path=bins.get("ufw"), timeout=timeout * 2)

    outcome = build_findings(facts, service=service, port=port, app_spec=params["app_spec"], app_dir=params["app_dir"])
    outcome.update(probes=facts, elapsed=elapsed_since(started), elapsed_by_probe=timings)
    return outcome
