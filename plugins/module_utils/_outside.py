# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The probe URLs of a host and the two HTTP requests of the outside check.

Kept apart from _diagnosis (every probe) so that the controller-side actions (diagnose,
external_probe) import only the HTTP probes: the collection loader compiles each imported
file from source in every ansible-playbook run, and the host-side probes are not needed there.
"""

from __future__ import annotations

from ansible_collections.beatsync.ops.plugins.module_utils._http import base_url
from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_docs, probe_health


def urls(host, port, health_path="/api/health", docs_path="/docs"):
    """The probe URLs of a host: base, health, docs (IPv6 in brackets)."""
    base = base_url(host, port)
    return {"base": base, "health": base + health_path, "docs": base + docs_path}


def http_facts(params):
    """Only /api/health and /docs (the outside check): {health, docs}."""
    where = urls(params["host"], params["port"], params["health_path"], params["docs_path"])
    return {
        "health": probe_health(url=where["health"], timeout=params["timeout"], expected_status=params["expected_status"]),
        "docs": probe_docs(base_url=where["base"], docs_path=params["docs_path"], openapi_path=params.get("openapi_path"),
                           timeout=params["timeout"]),
    }
