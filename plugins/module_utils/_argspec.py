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

from ansible_collections.beatsync.ops.plugins.module_utils._http import MAX_BODY_BYTES, parse_url
from ansible_collections.beatsync.ops.plugins.module_utils._validate import (
    MAX_JOURNAL_LINES,
    ProbeInputError,
    normalize_service,
    validate_abs_path,
    validate_host,
    validate_int_range,
    validate_module_names,
    validate_nonempty_str,
    validate_number,
    validate_path_string,
    validate_port,
    validate_positive_int,
    validate_text,
    validate_timeout,
    validate_url_path,
    validate_word,
)

DEFAULT_PORT = 8000
DEFAULT_SERVICE = "beatsync.service"
DEFAULT_TIMEOUT = 5
DEFAULT_APP_DIR = "/opt/beatsync/web_service/backend"
DEFAULT_APP_SPEC = "main:app"

# The options `module_defaults: group/beatsync.ops.beatsync` sets once for every member of the
# action group (meta/runtime.yml): each member's argument spec includes all three.
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


# repair.yml's transaction in the same run as the probes (one round trip instead of three): the
# per-host repair lock taken before them, the restart budget read under it, the lock given back
# after them. The repair role passes every value from its variables, so nothing has a default here.
DIAGNOSE_TRANSACTION = dict(
    lock=dict(type="dict", options=dict(
        path=dict(type="path", required=True), owner=dict(type="str", required=True), owner_pid=dict(type="int"),
        wait=dict(type="float", required=True), stale_after=dict(type="float", required=True))),
    budget=dict(type="dict", options=dict(
        path=dict(type="path", required=True), limit=dict(type="int", required=True),
        window=dict(type="int", required=True))),
    release_lock=dict(type="dict", options=dict(
        path=dict(type="path", required=True), owner=dict(type="str", required=True))),
)


def spec(*parts):
    """One argument_spec out of the dicts above (deep enough a copy to hand to AnsibleModule)."""
    merged = {}
    for part in parts:
        for name, option in part.items():
            merged[name] = dict(option)
    return merged


def diagnose_module_spec():
    return spec(PORT, SERVICE, TIMEOUT, HTTP_PATHS, APP, DIAGNOSE_HOST, DIAGNOSE_CONTROLLER, DIAGNOSE_TRANSACTION)


def check_option_dicts(argument_spec, params):
    """Raise ProbeInputError naming the option when an option with suboptions is given as
    something that cannot be a dict (true, 3, a list). ansible-core checks its type, but then
    reads its suboptions anyway and fails with a TypeError that names nothing ("argument of
    type 'bool' is not iterable"). A string is left to ansible-core (k=v,k=v)."""
    for name, option in argument_spec.items():
        value = params.get(name)
        if option.get("options") and value is not None and not isinstance(value, (dict, str)):
            wanted = ", ".join(option["options"])
            raise ProbeInputError("%s must be a dict (%s), got %s" % (name, wanted, type(value).__name__))


MAX_RETRIES = 100
MAX_DELAY = 60.0
MAX_CANONICAL_CHARS = 64 * 1024
MAX_STOP_GRACE = 3600.0


def _openapi_path(value, name):
    # "" means the same as not given: the page's own OpenAPI URL, else /openapi.json.
    return None if value in (None, "") else validate_url_path(value, name)


def _url(value, name):
    parse_url(value, name=name)
    return value


# Each option name of the collection's modules and action plugins -> its one check (the value
# as Ansible converted it -> the normalised value, or ProbeInputError naming the option). An
# option keeps its name and its rule in every module that has it.
CHECKS = {
    "port": validate_port,
    "ssh_port": validate_port,
    "timeout": validate_timeout,
    "external_timeout": validate_timeout,
    "service": normalize_service,
    "host": validate_host,
    "app_dir": validate_abs_path,
    "url": _url,
    "base_url": _url,
    "health_path": validate_url_path,
    "docs_path": validate_url_path,
    "openapi_path": _openapi_path,
    "expected_status": validate_nonempty_str,
    "retries": lambda value, name: validate_int_range(value, name, 0, MAX_RETRIES),
    "delay": lambda value, name: validate_number(value, name, 0, MAX_DELAY),
    "max_bytes": lambda value, name: validate_int_range(value, name, 1, MAX_BODY_BYTES),
    "journal_lines": lambda value, name: validate_positive_int(value, name, 1, MAX_JOURNAL_LINES),
    "lines": lambda value, name: validate_positive_int(value, name, 1, MAX_JOURNAL_LINES),
    "pattern": validate_word,
    "process_pattern": validate_word,
    "app_spec": lambda value, name: validate_word(value, name, allow_empty=True),
    "canonical_unit": lambda value, name: validate_text(value, name, MAX_CANONICAL_CHARS, "unit file text"),
    "python": validate_path_string,
    "requirements_file": lambda value, name: validate_path_string(value, name, allow_empty=True),
    "app_module": lambda value, name: validate_path_string(value, name, allow_empty=True),
    "modules": validate_module_names,
    "stop_grace": lambda value, name: validate_number(value, name, 0, MAX_STOP_GRACE),
}

# Options that may be None (not given): then nothing is checked.
_OPTIONAL = ("ssh_port", "timeout", "external_timeout", "health_path", "docs_path", "openapi_path", "canonical_unit",
             "python", "modules")


def validate(params):
    """The edge check of a module or action plugin: every option of CHECKS present in params is
    checked once here, and the code below (the probes) trusts what this returns. Returns a copy
    with normalised values (port int, timeout float, service with its .service suffix, ...).
    Raises ProbeInputError whose message names the option."""
    checked = dict(params)
    for name, check in CHECKS.items():
        if name not in checked or (checked[name] is None and name in _OPTIONAL):
            continue
        checked[name] = check(checked[name], name)
    return checked
