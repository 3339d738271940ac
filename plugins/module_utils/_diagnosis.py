# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Every probe of one diagnosis, once, on the host: facts only. Used by the diagnose module;
the findings engine runs once, in the diagnose action on the controller.

The parameters come from _argspec.validate() (the module's edge): nothing here re-checks them.
"""

from __future__ import annotations

import os
import time

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import ALL_PROBES
from ansible_collections.beatsync.ops.plugins.module_utils._common import elapsed_since
from ansible_collections.beatsync.ops.plugins.module_utils._journal import probe_journal
from ansible_collections.beatsync.ops.plugins.module_utils._outside import urls
from ansible_collections.beatsync.ops.plugins.module_utils._probe_firewall import probe_firewall
from ansible_collections.beatsync.ops.plugins.module_utils._probe_host import probe_port, probe_process
from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_docs, probe_health
from ansible_collections.beatsync.ops.plugins.module_utils._probe_python import probe_deps
from ansible_collections.beatsync.ops.plugins.module_utils._probe_systemd import probe_unit
from ansible_collections.beatsync.ops.plugins.module_utils._serving import unit_serves
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError

DEFAULT_PYTHON = "/usr/bin/python3"


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


def run_probes(params, bins=None):
    """The selected probes -> {"probes": facts, "urls", "elapsed", "elapsed_by_probe"}."""
    bins = bins or {}
    selected = set(params.get("probes") or ALL_PROBES)
    service, port, timeout = params["service"], params["port"], params["timeout"]
    where = urls(params["host"], port, params["health_path"], params["docs_path"])
    started = time.monotonic()
    timings = {}
    facts = {}

    if "unit" in selected:
        facts["unit"] = _guarded("unit", probe_unit, timings, service=service, canonical_unit=params.get("canonical_unit"),
                                 systemctl_path=bins.get("systemctl"), timeout=timeout * 2)
    if "journal" in selected:
        facts["journal"] = _guarded("journal", probe_journal, timings, service=service, lines=params["journal_lines"],
                                    journalctl_path=bins.get("journalctl"), timeout=timeout * 2, latest_start=True)
    if "port" in selected:
        facts["port"] = _guarded("port", probe_port, timings, port=port)
    if "process" in selected:
        facts["process"] = _guarded("process", probe_process, timings, pattern=params["process_pattern"],
                                    app_spec=params["app_spec"], service=service)
    if "health" in selected:
        facts["health"] = _guarded("health", probe_health, timings, url=where["health"], timeout=timeout,
                                   expected_status=params["expected_status"])
    if "docs" in selected:
        facts["docs"] = _guarded("docs", probe_docs, timings, base_url=where["base"], docs_path=params["docs_path"],
                                 openapi_path=params.get("openapi_path"), timeout=timeout)
    if "deps" in selected:
        python = params.get("python") or (facts.get("unit") or {}).get("interpreter") or DEFAULT_PYTHON
        requirements = params["requirements_file"]
        if not os.path.isabs(requirements):
            requirements = os.path.join(params["app_dir"], requirements)
        # Importing fastapi costs most of a diagnosis; a unit that serves a healthy answer has
        # just proved its interpreter imports it, so then only versions are read, and compared
        # by _pyreq's own PEP 440/508 subset rather than by importing pip's vendored packaging
        # (~80 ms of the host's CPU): a mismatch there is a warning, not a repair.
        serving = unit_serves(facts, service)
        # The interpreter runs the app's code: as the unit's User=/Group=, never as more.
        unit = facts.get("unit") or {}
        facts["deps"] = _guarded("deps", probe_deps, timings, python=python, app_dir=params["app_dir"],
                                 requirements_file=requirements, app_module=params["app_module"],
                                 modules=[] if serving else params["modules"], timeout=max(timeout * 6, 30),
                                 user=unit.get("user"), group=unit.get("group"),
                                 requirements_backend="stdlib" if serving else "auto")
        facts["deps"]["imports_skipped"] = serving
    if "firewall" in selected:
        facts["firewall"] = _guarded("firewall", probe_firewall, timings, port=port, ssh_port=params.get("ssh_port"),
                                     ufw_path=bins.get("ufw"), timeout=timeout * 2)
    return {"probes": facts, "urls": where, "elapsed": elapsed_since(started), "elapsed_by_probe": timings}
