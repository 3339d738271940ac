# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin beatsync.ops.diagnose: one task per host, one findings pass.

In the controller's worker: render the canonical unit from the service role's own template,
run the diagnose module on the host (facts only), request /api/health and /docs from outside
in this process, run the findings engine once on inside + outside facts, and return the
outcome with the lines a person reads.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.parsing.utils.yaml import from_yaml
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from jinja2 import Environment, meta

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import (
    DIAGNOSE_CONTROLLER,
    check_option_dicts,
    diagnose_module_spec,
    validate,
)
from ansible_collections.beatsync.ops.plugins.module_utils._outside import http_facts
from ansible_collections.beatsync.ops.plugins.module_utils._findings import build_findings
from ansible_collections.beatsync.ops.plugins.module_utils._maintenance import from_variable
from ansible_collections.beatsync.ops.plugins.module_utils._redact import redact_data, remove_values, secret_values
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError
from ansible_collections.beatsync.ops.plugins.plugin_utils._variables import naming_variables, options_from_variables

try:  # ansible-core 2.19+: only trusted strings are templates
    from ansible.template import trust_as_template
except ImportError:  # older ansible-core templates every string
    def trust_as_template(value):
        return value


display = Display()


def _trusted(value):
    """Role defaults/vars as the role would see them: their strings are templates."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
SERVICE_ROLE = os.path.join(ROLES, "service")
UNIT_TEMPLATE = os.path.join(SERVICE_ROLE, "templates", "beatsync.service.j2")
EVIDENCE_LINES = 6


def _service_role_sources():
    """The service role's defaults, derived vars and unit template, as the role has them.

    Read when this module is imported: ansible-core's strategy imports an action plugin in the
    controller's main process, so every worker (one per host and task) forked from it inherits
    the parsed files instead of reading and parsing them again."""
    sources = {}
    for key, parts in (("defaults", ("defaults", "main.yml")), ("vars", ("vars", "main.yml"))):
        path = os.path.join(SERVICE_ROLE, *parts)
        with open(path, "r", encoding="utf-8") as handle:
            data = from_yaml(handle.read(), file_name=path)
        sources[key] = _trusted(dict(data)) if isinstance(data, dict) else {}
    with open(UNIT_TEMPLATE, "r", encoding="utf-8") as handle:
        sources["template"] = trust_as_template(handle.read())
    return sources


# A file that cannot be read fails the tasks that need it (canonical_unit) with its reason,
# never the import. (Two plain assignments, not one to a tuple: ansible-doc reads this file's
# top-level names and cannot name a tuple's.)
try:
    SERVICE_ROLE_SOURCES = _service_role_sources()
    SERVICE_ROLE_ERROR = None
except Exception as exc:  # pylint: disable=broad-exception-caught
    SERVICE_ROLE_SOURCES = None
    SERVICE_ROLE_ERROR = exc
TEMPLATE_MARKERS = ("{{", "{%", "{#")
# The service role's own values (defaults, then its derived vars), as the workers inherit them.
ROLE_VALUES = dict(SERVICE_ROLE_SOURCES["defaults"], **SERVICE_ROLE_SOURCES["vars"]) if SERVICE_ROLE_SOURCES else {}


def _has_template(value):
    """True when a value, or a string anywhere in it, holds Jinja syntax."""
    if isinstance(value, str):
        return any(marker in value for marker in TEMPLATE_MARKERS)
    if isinstance(value, dict):
        return any(_has_template(key) or _has_template(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_template(item) for item in value)
    return False


def _names_read(text):
    """The variable names a Jinja text reads, or None when it does not parse."""
    try:
        return set(meta.find_undeclared_variables(Environment().parse(text)))
    except Exception:  # pylint: disable=broad-exception-caught
        return None


def _unit_inputs(sources):
    """Every variable the canonical unit reads: the template's own, and through the service
    role's defaults and vars that are templates (service__python ...), theirs. None when a
    text does not parse (then nothing is shared between hosts)."""
    if sources is None:
        return None
    names, todo = set(), [sources["template"]]
    while todo:
        found = _names_read(todo.pop())
        if found is None:
            return None
        for name in found - names:
            names.add(name)
            if isinstance(ROLE_VALUES.get(name), str) and _has_template(ROLE_VALUES[name]):
                todo.append(ROLE_VALUES[name])
    return frozenset(names)


# Read with the sources, in the main process: each worker only looks the names up. The names
# are the collection's own template's (it calls no lookup), so equal values render equal text.
UNIT_INPUTS = _unit_inputs(SERVICE_ROLE_SOURCES)


def _unit_key(variables):
    """A key for the rendered unit that is the same exactly when every value it reads is: the
    raw values of UNIT_INPUTS, or None when one of them is a template of the inventory's own
    (its value depends on variables outside the set: rendered on every host)."""
    if UNIT_INPUTS is None:
        return None
    values = {}
    for name in sorted(UNIT_INPUTS):
        value = variables.get(name)
        if value is not ROLE_VALUES.get(name) and _has_template(value):
            return None
        values[name] = value
    try:
        text = json.dumps(values, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _UnitCache:
    """One rendered canonical unit, shared by the run's workers (one per host, each a fresh
    fork: compiling the template is ~15 ms of the controller's CPU per host). It lives in the
    run's own local temporary directory (mode 0700, removed when the run ends), as
    ansible.builtin.template's rendered files and AnsiballZ's cache do. The first worker
    renders under a lock while the others of the same key wait for it (the hosts of a play start
    together; as AnsiballZ's cache does). Any failure to lock, read or write only means
    rendering here."""

    def __init__(self, key):
        self.directory = os.path.join(C.DEFAULT_LOCAL_TMP, "beatsync_ops_canonical_unit")
        self.path = os.path.join(self.directory, key)

    def get(self, render):
        """The cached text, else render() once for the run (under the lock) and keep it."""
        text = self.read()
        if text is not None:
            return text
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            lock = open(self.path + ".lock", "a", encoding="utf-8")  # pylint: disable=consider-using-with
        except OSError:
            return render()
        with lock:  # closing it gives the lock back, as does the end of a worker that dies holding it
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
            except OSError:
                return render()
            text = self.read()
            if text is None:
                text = render()
                self.write(text)
        return text

    def read(self):
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError):
            return None

    def write(self, text):
        temporary = None
        try:
            handle, temporary = tempfile.mkstemp(dir=self.directory)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, self.path)  # whole or not at all for a worker reading it
        except OSError:
            if temporary:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)


# An option the task does not set falls back to the collection's inventory variable, so
# `ansible -m beatsync.ops.diagnose` sees the same deployment as playbooks/diagnose.yml.
INVENTORY_VARS = {
    "service": "beatsync_service", "port": "beatsync_port", "host": "beatsync_probe_host",
    "app_dir": "beatsync_app_dir", "app_spec": "beatsync_app_spec", "python": "beatsync_python",
    "timeout": "beatsync_timeout", "journal_lines": "beatsync_journal_lines", "check_drift": "beatsync_check_drift",
    "external_check": "beatsync_external_check", "external_address": "beatsync_external_address",
    "external_timeout": "beatsync_external_timeout",
}
# The same for the options the roles pass on (the bastion's view, the repair's transaction):
# read here only when their variable is set, so a plain diagnosis templates none of them.
# option -> (variable, the key of its value that is the option, or None for the whole value)
ROLE_VARS = {
    "external": ("beatsync_external", "probes"), "before": ("beatsync_before", None),
    "actions": ("beatsync_applied", None), "lock": ("beatsync_diagnose_lock", None),
    "budget": ("beatsync_diagnose_budget", None), "release_lock": ("beatsync_diagnose_release_lock", None),
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    # ------------------------------------------------------------------ canonical unit
    def canonical_unit(self, task_vars, params):
        """The unit text the service role installs for these options: its own template, its
        defaults, the user's service_* variables, then service/port/app_dir/app_spec, then its
        derived vars (vars/main.yml), as `import_role: beatsync.ops.service` would see them.
        The template is rendered as the role's template task renders it (it uses none of the
        template_* variables that task adds)."""
        if SERVICE_ROLE_ERROR is not None:
            raise SERVICE_ROLE_ERROR
        # Every variable of the host over the role's defaults, as for the role itself: a
        # service_* value may be a template naming another variable.
        variables = dict(SERVICE_ROLE_SOURCES["defaults"])
        variables.update(task_vars)
        variables.update(
            service_name=params["service"][:-len(".service")] if params["service"].endswith(".service") else params["service"],
            service_port=params["port"], service_app_dir=params["app_dir"], service_app=params["app_spec"])
        variables.update(SERVICE_ROLE_SOURCES["vars"])

        def render():
            templar = self._templar.copy_with_new_env(available_variables=variables)
            return templar.template(SERVICE_ROLE_SOURCES["template"])

        key = _unit_key(variables)
        return _UnitCache(key).get(render) if key else render()

    # ------------------------------------------------------------------ outside check
    @staticmethod
    def _outside_check(task_vars, params):
        """The outside check's parameters (validated here, before the host is probed), or None when
        there is none to make: a bastion gave its facts (`external`) or external_check is off."""
        if params.get("external") is not None or not params["external_check"]:
            return None
        address = params.get("external_address") or task_vars.get("ansible_host") or task_vars.get("inventory_hostname")
        outside = dict(params, host=address, timeout=params.get("external_timeout") or params["timeout"])
        return dict(params, **validate({key: outside[key] for key in ("host", "port", "timeout")}))

    # ------------------------------------------------------------------ run
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        from_variables = options_from_variables(self._task.args, task_vars, self._templar, INVENTORY_VARS)
        for option, (variable, key) in ROLE_VARS.items():
            if option in self._task.args or task_vars.get(variable) in (None, "", {}, []):
                continue
            value = self._templar.template(task_vars[variable])
            if key is not None:  # a registered result: its key, when the task ran
                value = value.get(key) if isinstance(value, dict) else None
            if value not in (None, "", {}, []):
                self._task.args[option] = value
                from_variables[option] = variable if key is None else "%s.%s" % (variable, key)
        try:
            check_option_dicts(diagnose_module_spec(), self._task.args)
            dummy, args = self.validate_argument_spec(argument_spec=diagnose_module_spec())
            params = validate(args)
        except (AnsibleActionFail, ProbeInputError) as exc:
            return dict(result, failed=True, msg=naming_variables(exc, from_variables))

        module_args = {key: value for key, value in params.items() if key not in DIAGNOSE_CONTROLLER and value is not None}
        if params["check_drift"] and params.get("canonical_unit") is None:
            try:
                module_args["canonical_unit"] = self.canonical_unit(task_vars, params)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                return dict(result, failed=True, msg="cannot render the canonical unit from %s: %s" % (UNIT_TEMPLATE, exc))
        if not params["check_drift"]:
            module_args.pop("canonical_unit", None)

        # The outside address is checked before the host is touched; the outside look itself
        # follows the module's, as close to it as it can be: the module may first wait for the
        # repair lock (another repair restarting the service), and its start on the host takes a
        # few tenths of a second; looking from outside before that would compare two moments of
        # a service that may be changing.
        try:
            outside_check = self._outside_check(task_vars, params)
        except ProbeInputError as exc:
            return dict(result, failed=True, msg="external_address: %s" % exc)
        inside = self._execute_module(module_name="beatsync.ops.diagnose", module_args=module_args, task_vars=task_vars)
        if inside.get("failed") or "probes" not in inside:
            return dict(result, **inside)
        for key in ("ansible_facts", "warnings", "deprecations"):
            if inside.get(key):
                result[key] = inside[key]

        external = http_facts(outside_check) if outside_check else params.get("external") or {}
        # Nothing a log, report or -vvv shows carries a secret: Environment= values, secret-named
        # settings and options (the host already redacted the unit diff), and the literal secret
        # values of the canonical unit wherever else they turn up (a journal line echoing one).
        secrets = secret_values(module_args.get("canonical_unit") or "")
        inside["probes"] = remove_values(redact_data(inside["probes"]), secrets)
        facts = dict(inside["probes"])
        if external:
            facts["external"] = external
        marked = from_variable(self._templar.template(task_vars.get("beatsync_maintenance")))
        if marked and not (facts.get("maintenance") or {}).get("active"):
            facts["maintenance"] = marked
        outcome = build_findings(facts, service=params["service"], port=params["port"], app_spec=params["app_spec"],
                                 app_dir=params["app_dir"])
        host = task_vars.get("inventory_hostname", "")
        lines = summary_lines(host, outcome, inside["probes"])
        result.update(outcome)
        result.update((key, inside[key]) for key in ("lock", "restart_budget", "lock_released") if key in inside)
        result.update(
            changed=False, msg=lines, probes=inside["probes"], external=external or {}, urls=inside.get("urls", {}),
            elapsed=inside.get("elapsed"), elapsed_by_probe=inside.get("elapsed_by_probe", {}),
            report=report(host, outcome, inside, external, params.get("before"), params.get("actions")))
        if params["show"]:
            display.display("\n".join(lines))
        return result


def summary_lines(host, outcome, probes):
    """The lines a person reads: verdict and root cause, then each finding with its evidence."""
    head = "%s: %s" % (host, outcome["verdict"].upper())
    if outcome.get("maintenance"):
        head += " (%s: %s; not repaired)" % (outcome["maintenance"].get("source"), outcome["maintenance"].get("reason"))
    if outcome["root_cause"]:
        head += " (root cause: %s)" % outcome["root_cause"]
    lines = [head]
    for index, finding in enumerate(outcome["findings"], 1):
        remedy = finding.get("remedy") or {}
        arguments = " ".join("%s=%s" % (key, value) for key, value in remedy.items() if key != "action")
        lines.append("[%d] %s %s: %s" % (index, finding["severity"], finding["code"], finding["summary"]))
        lines.append("    runbook: %s" % finding["runbook_step"])
        lines.append(("    remedy: %s %s" % (remedy.get("action"), arguments)).rstrip())
        if finding.get("explains"):
            lines.append("    explains: %s" % ", ".join(finding["explains"]))
        for line in finding.get("evidence", [])[:EVIDENCE_LINES]:
            line = str(line)
            lines.append("    | %s" % (line if len(line) <= 200 else line[:197] + "..."))
    if not outcome["findings"]:
        lines.append("/api/health healthy, /docs 200 Swagger UI, unit %s" % ((probes.get("unit") or {}).get("active_state") or "?"))
    return lines


def report(host, outcome, inside, external, before, actions):
    """One row of the fleet summary and the host's JSON report."""
    first = outcome["findings"][0] if outcome["findings"] else {}
    before = before or outcome
    return {
        "host": host,
        "verdict": outcome["verdict"],
        "root_cause": outcome["root_cause"],
        "remedy": (first.get("remedy") or {}).get("action", ""),
        "summary": first.get("summary", ""),
        "before": before.get("verdict"),
        "before_root_cause": before.get("root_cause"),
        "actions": list(actions or []),
        "maintenance": outcome.get("maintenance"),
        "findings": outcome["findings"],
        "probes": inside["probes"],
        "external": external or {},
        "elapsed": inside.get("elapsed"),
    }
