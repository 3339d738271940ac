"""Verifier of molecule/repair: the incident host after playbooks/repair.yml."""

import bedcheck


def test_health_healthy(host):
    bedcheck.assert_health_healthy(host)


def test_docs_200_swagger_ui(host):
    bedcheck.assert_docs_ok(host)


def test_unit_is_canonical_and_running(host):
    bedcheck.assert_unit_canonical(host)
    bedcheck.assert_service_running(host)


def test_no_repair_lock_left_behind(host):
    assert not host.file("/run/beatsync-ops/repair.lock").exists
