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
