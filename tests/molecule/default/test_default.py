"""Verifier of molecule/default: the fixture BeatSync deployed as the runbook sets it up."""

import bedcheck


def test_app_files(host):
    for name in ("main.py", "requirements.txt"):
        assert host.file("%s/%s" % (bedcheck.APP_DIR, name)).is_file


def test_unit_is_canonical(host):
    bedcheck.assert_unit_canonical(host)


def test_service_running_and_enabled(host):
    bedcheck.assert_service_running(host)


def test_port_8000_listening(host):
    bedcheck.assert_listening(host)


def test_health_healthy(host):
    bedcheck.assert_health_healthy(host)


def test_docs_200(host):
    bedcheck.assert_docs_ok(host)


def test_uvicorn_runs_under_the_unit(host):
    pid = host.run("systemctl show -p MainPID --value beatsync").stdout.strip()
    assert pid not in ("", "0")
    assert "uvicorn main:app" in host.file("/proc/%s/cmdline" % pid).content_string.replace("\0", " ")
