"""_argspec.py and its doc fragment (plugins/doc_fragments/probe.py) describe the same options."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.beatsync.ops.plugins.doc_fragments.probe import ModuleDocFragment
from ansible_collections.beatsync.ops.plugins.module_utils import _argspec
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


@pytest.mark.parametrize("name", ["PORT", "SERVICE", "TIMEOUT", "HTTP_PATHS", "APP"])
def test_fragment_section_matches_the_argspec(name):
    documented = yaml.safe_load(getattr(ModuleDocFragment, name))["options"]
    spec = getattr(_argspec, name)
    assert set(documented) == set(spec)
    for option, arg in spec.items():
        assert documented[option]["type"] == arg["type"], option
        assert documented[option].get("default") == arg.get("default"), option


def test_validate_normalises_once():
    checked = _argspec.validate({"port": "8080", "timeout": "2", "service": "beatsync", "host": "[::1]",
                                 "app_dir": "/srv", "docs_path": "/docs"})
    assert checked["port"] == 8080 and checked["timeout"] == 2.0
    assert checked["service"] == "beatsync.service" and checked["host"] == "::1"


@pytest.mark.parametrize("params,option", [
    ({"port": 0}, "port"), ({"timeout": 0}, "timeout"), ({"service": "a b"}, "service"), ({"host": ""}, "host"),
    ({"app_dir": "rel"}, "app_dir"), ({"health_path": "x"}, "health_path"), ({"journal_lines": 0}, "journal_lines"),
    ({"ssh_port": 70000}, "ssh_port"), ({"external_timeout": -1}, "external_timeout"),
])
def test_validate_names_the_bad_option(params, option):
    with pytest.raises(ProbeInputError, match=option):
        _argspec.validate(params)


# ------------------------------------------------------------------ each module's edge
# The probes below the modules trust their inputs; bad input is refused here, once, by the
# module's argument spec or _argspec.validate, with a message naming the option and nothing run.
# (Wrong types the argument spec converts, e.g. app_spec=5 -> "5", are not bad input here.)
EDGE_BAD_INPUT = [
    # port_probe (was test_procfs.test_probe_port_bad_input)
    ("port_probe", {"port": 0}, "port must be from 1 to 65535, got 0"),
    ("port_probe", {"port": 70000}, "port must be from 1 to 65535, got 70000"),
    ("port_probe", {"port": -1}, "port must be from 1 to 65535, got -1"),
    ("port_probe", {"port": True}, "port must be an integer from 1 to 65535, got True"),
    ("port_probe", {"port": "abc"}, "argument 'port'"),
    ("port_probe", {"port": None}, "argument 'port'"),
    ("port_probe", {"port": 8000.5}, "argument 'port'"),
    ("port_probe", {"port": ""}, "argument 'port'"),
    # process_probe (was test_procfs.test_probe_process_bad_input)
    ("process_probe", {"pattern": ""}, "pattern must be a non-empty string"),
    ("process_probe", {"pattern": None}, "pattern must be a non-empty string"),
    ("process_probe", {"pattern": " uvicorn"}, "pattern must be a non-empty string without surrounding spaces"),
    ("process_probe", {"app_spec": " main:app"}, "app_spec must be"),
    ("process_probe", {"service": ""}, "service must be a systemd unit name"),
    ("process_probe", {"service": "a/b"}, "service must be a systemd unit name"),
    ("process_probe", {"service": "beat sync"}, "service must be a systemd unit name"),
    # unit_probe (was test_systemd.test_probe_unit_bad_input)
    ("unit_probe", {"service": "-H evil"}, "service must be a systemd unit name"),
    ("unit_probe", {"service": ""}, "service must be a systemd unit name"),
    ("unit_probe", {"timeout": 0}, "timeout must be greater than 0"),
    ("unit_probe", {"canonical_unit": "x" * 70000}, "canonical_unit must be at most 65536 characters, got 70000"),
    # journal_probe (was test_systemd.test_probe_journal_bad_input)
    ("journal_probe", {"lines": 0}, "lines must be from 1 to 1000, got 0"),
    ("journal_probe", {"lines": 1001}, "lines must be from 1 to 1000, got 1001"),
    ("journal_probe", {"lines": "many"}, "argument 'lines'"),
    ("journal_probe", {"service": "a b"}, "service must be a systemd unit name"),
    ("journal_probe", {"timeout": -1}, "timeout must be greater than 0"),
    # firewall_probe (was test_ufw.test_probe_firewall_bad_input)
    ("firewall_probe", {"port": 0}, "port must be from 1 to 65535, got 0"),
    ("firewall_probe", {"port": "http"}, "argument 'port'"),
    ("firewall_probe", {"ssh_port": 70000}, "ssh_port must be from 1 to 65535, got 70000"),
    ("firewall_probe", {"timeout": 0}, "timeout must be greater than 0"),
    # deps_probe (was test_probe_python.test_bad_input)
    ("deps_probe", {"app_dir": "relative/dir"}, "app_dir must be an absolute path"),
    ("deps_probe", {"app_dir": None}, "app_dir must be an absolute path"),
    ("deps_probe", {"python": ""}, "python must be a non-empty path string"),
    # A NUL byte: ansible-core 2.20+'s AnsibleModule refuses it itself (it logs its arguments)
    # before _argspec.validate; 2.19 lets it through to the edge's own check.
    ("deps_probe", {"python": "/usr/bin/python3\x00"}, ("embedded null character", "python must be a non-empty path string")),
    ("deps_probe", {"modules": ["fastapi", "os; import x"]}, "modules must be Python module names"),
    ("deps_probe", {"modules": ["m%d" % i for i in range(60)]}, "modules must list at most 50 modules, got 60"),
    ("deps_probe", {"modules": 5}, "modules must be Python module names"),
    ("deps_probe", {"requirements_file": " "}, "requirements_file must be a non-empty path string"),
    ("deps_probe", {"timeout": "soon"}, "argument 'timeout'"),
    ("deps_probe", {"timeout": 0}, "timeout must be greater than 0"),
]


@pytest.mark.parametrize("name, args, message", EDGE_BAD_INPUT,
                         ids=["%s-%s" % (case[0], "-".join(case[1])) for case in EDGE_BAD_INPUT])
def test_module_edge_refuses_bad_input(run_module, name, args, message):
    result = run_module(name, args)
    assert result["failed"] is True, result
    messages = message if isinstance(message, tuple) else (message,)
    assert any(text in result["msg"] for text in messages), result["msg"]
    assert "Traceback" not in str(result.get("exception", ""))
    assert "module_stderr" not in result


@pytest.mark.parametrize("name", ["process_probe", "journal_probe"])
def test_module_edge_normalises_the_service_name(run_module, tmp_path, name):
    # "beatsync" -> "beatsync.service" happens once, at the edge; the probe gets the unit name.
    args = {"service": "beatsync"}
    if name == "process_probe":
        args["pattern"] = "no-such-program-%s" % tmp_path.name
    result = run_module(name, args)
    assert result.get("failed", False) is False, result
    assert result["service"] == "beatsync.service"


def test_validate_checks_every_option_the_probes_trust():
    # The options whose checks moved up from the probes to the edge.
    for params, option in [({"retries": 101}, "retries"), ({"delay": -1}, "delay"), ({"max_bytes": 0}, "max_bytes"),
                           ({"expected_status": ""}, "expected_status"), ({"url": "ftp://x"}, "url"),
                           ({"base_url": "http://h:0"}, "base_url"), ({"process_pattern": ""}, "process_pattern"),
                           ({"lines": 0}, "lines"), ({"app_module": None, "python": 5}, "python")]:
        with pytest.raises(ProbeInputError, match=option):
            _argspec.validate(params)
    checked = _argspec.validate({"openapi_path": "", "modules": "fastapi, uvicorn", "app_spec": "", "ssh_port": None})
    assert checked["openapi_path"] is None and checked["modules"] == ["fastapi", "uvicorn"] and checked["app_spec"] == ""


@pytest.mark.parametrize("value", [True, 3, [1], 2.5])
def test_an_option_with_suboptions_that_cannot_be_a_dict_is_named(value):
    with pytest.raises(ProbeInputError, match=r"^budget must be a dict \(path, limit, window\), got "):
        _argspec.check_option_dicts(_argspec.diagnose_module_spec(), {"budget": value})


@pytest.mark.parametrize("value", [None, {}, {"path": "/run/x", "limit": 3, "window": 60}, "path=/run/x"])
def test_a_dict_a_string_or_nothing_is_left_to_ansible(value):
    _argspec.check_option_dicts(_argspec.diagnose_module_spec(), {"budget": value})
