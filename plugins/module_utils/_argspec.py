# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The options the beatsync.ops modules and action plugins share, defined once.

Each dict here is paired with the section of the doc fragment plugins/doc_fragments/probe.py
of the same concern (PORT <-> beatsync.ops.probe.port, ...); tests/unit/plugins/module_utils/
test_argspec.py fails when the two disagree. `validate()` is the one place the values are
checked beyond their Ansible type (port range, timeout > 0, absolute paths, URL paths, unit
name): modules and action plugins call it at their edge, and what they call below trusts it.
Standard library only.
"""

from __future__ import annotations

from ansible_collections.beatsync.ops.plugins.module_utils._validate import (
    normalize_service,
    validate_abs_path,
    validate_host,
    validate_port,
    validate_positive_int,
    validate_timeout,
    validate_url_path,
)

DEFAULT_PORT = 8000
DEFAULT_SERVICE = "beatsync.service"
DEFAULT_TIMEOUT = 5
DEFAULT_APP_DIR = "/opt/beatsync/web_service/backend"
DEFAULT_APP_SPEC = "main:app"

# The group options `module_defaults: group/beatsync.ops.probes` sets once (meta/runtime.yml).
PORT = dict(port=dict(type="int", default=DEFAULT_PORT))
SERVICE = dict(service=dict(type="str", default=DEFAULT_SERVICE))
TIMEOUT = dict(timeout=dict(type="float", default=DEFAULT_TIMEOUT))

HTTP_PATHS = dict(
    health_path=dict(type="str", default="/api/health"),
    docs_path=dict(type="str", default="/docs"),
    openapi_path=dict(type="str"),
    expected_status=dict(type="str", default="healthy"),
)

APP = dict(
    host=dict(type="str", default="127.0.0.1"),
    app_dir=dict(type="path", default=DEFAULT_APP_DIR),
    app_spec=dict(type="str", default=DEFAULT_APP_SPEC),
)

ALL_PROBES = ("unit", "journal", "port", "process", "health", "docs", "deps", "firewall")

# The host side of beatsync.ops.diagnose (the module): everything the probes need.
DIAGNOSE_HOST = dict(
    app_module=dict(type="str", default="main.py"),
    process_pattern=dict(type="str", default="uvicorn"),
    python=dict(type="path"),
    requirements_file=dict(type="str", default="requirements.txt"),
    modules=dict(type="list", elements="str", default=["fastapi", "uvicorn"]),
    canonical_unit=dict(type="str", no_log=True),
    journal_lines=dict(type="int", default=50),
    ssh_port=dict(type="int"),
    probes=dict(type="list", elements="str", choices=list(ALL_PROBES), default=list(ALL_PROBES)),
)


# What the diagnose action does on the controller; the module accepts (and ignores) them so
# one argument spec documents and checks the whole task.
DIAGNOSE_CONTROLLER = dict(
    check_drift=dict(type="bool", default=True),
    external_check=dict(type="bool", default=True),
    external_address=dict(type="str"),
    external_timeout=dict(type="float"),
    external=dict(type="dict"),
    before=dict(type="dict"),
    actions=dict(type="list", elements="str", default=[]),
    show=dict(type="bool", default=False),
)


def spec(*parts):
    """One argument_spec out of the dicts above (deep enough a copy to hand to AnsibleModule)."""
    merged = {}
    for part in parts:
        for name, option in part.items():
            merged[name] = dict(option)
    return merged


def diagnose_module_spec():
    return spec(PORT, SERVICE, TIMEOUT, HTTP_PATHS, APP, DIAGNOSE_HOST, DIAGNOSE_CONTROLLER)


def validate(params):
    """Check the shared options present in params; returns a copy with normalised values
    (port int, timeout float, service with its .service suffix). Raises ProbeInputError."""
    checked = dict(params)
    if "port" in checked:
        checked["port"] = validate_port(checked["port"])
    if checked.get("ssh_port") is not None:
        checked["ssh_port"] = validate_port(checked["ssh_port"], "ssh_port")
    for name in ("timeout", "external_timeout"):
        if checked.get(name) is not None:
            checked[name] = validate_timeout(checked[name], name)
    if "service" in checked:
        checked["service"] = normalize_service(checked["service"])
    if "host" in checked:
        checked["host"] = validate_host(checked["host"])
    if "app_dir" in checked:
        checked["app_dir"] = validate_abs_path(checked["app_dir"], "app_dir")
    if "journal_lines" in checked:
        checked["journal_lines"] = validate_positive_int(checked["journal_lines"], "journal_lines", 1, 1000)
    for name in ("health_path", "docs_path", "openapi_path"):
        if checked.get(name) is not None:
            checked[name] = validate_url_path(checked[name], name)
    return checked
