"""The beatsync.ops.findings filter: the module's diagnosis plus the outside view."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.beatsync.ops.plugins.filter.findings import FilterModule

findings = FilterModule().filters()["findings"]


def diagnosis(docs_ok=True):
    return {"probes": {
        "health": {"url": "http://127.0.0.1:8000/api/health", "healthy": True, "status": 200},
        "docs": {"docs_ok": docs_ok, "problem": None if docs_ok else "docs_unavailable", "docs": {"status": 503}, "openapi": {}},
    }}


def test_outside_failure_becomes_external_unreachable():
    outside = {"health": {"url": "http://192.0.2.1:8000/api/health", "healthy": False, "error_class": "timeout"},
               "docs": {"docs_ok": False}}
    result = findings(diagnosis(), external=outside)
    assert result["verdict"] == "degraded" and result["root_cause"] == "external_unreachable"


def test_without_outside_view_it_is_the_module_verdict():
    assert findings(diagnosis())["verdict"] == "healthy"
    assert findings(diagnosis(docs_ok=False))["root_cause"] == "docs_unavailable"


@pytest.mark.parametrize("bad", [None, "text", {"no": "probes"}])
def test_not_a_diagnosis_is_a_clear_error(bad):
    with pytest.raises(AnsibleFilterError, match="expects the registered result"):
        findings(bad)


def test_external_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="external must be a dict"):
        findings(diagnosis(), external=["x"])
