"""pytest-testinfra checks shared by the Molecule scenarios' verifiers (tests/molecule/<scenario>/).

    import bedcheck
    def test_healthy(host):
        bedcheck.assert_beatsync_healthy(host)
"""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CANONICAL_UNIT = REPO / "molecule" / "shared" / "files" / "beatsync.service"
UNIT_PATH = "/etc/systemd/system/beatsync.service"
APP_DIR = "/opt/beatsync/web_service/backend"
SERVICE = "beatsync"
PORT = 8000


def canonical_unit_text():
    """The runbook's beatsync.service, byte for byte."""
    return CANONICAL_UNIT.read_text(encoding="utf-8")


def http_get(host, path, port=PORT, timeout=5):
    """GET http://127.0.0.1:<port><path> inside the host -> (status int, body str); 0 = no answer."""
    marker = "\n__STATUS__"
    out = host.run("curl -s -m %d -w '%s%%{http_code}' http://127.0.0.1:%d%s"
                   % (timeout, marker.replace("\n", "\\n"), port, path)).stdout
    body, _marker, status = out.rpartition(marker)
    return int(status or 0), body


def assert_unit_canonical(host):
    unit = host.file(UNIT_PATH)
    assert unit.exists and unit.is_file
    assert unit.content_string == canonical_unit_text()


def assert_service_running(host):
    service = host.service(SERVICE)
    assert service.is_running
    assert service.is_enabled


def assert_listening(host, port=PORT):
    assert host.socket("tcp://0.0.0.0:%d" % port).is_listening


def assert_health_healthy(host):
    status, body = http_get(host, "/api/health")
    assert status == 200, (status, body)
    assert json.loads(body) == {"status": "healthy"}


def assert_docs_ok(host):
    status, body = http_get(host, "/docs")
    assert status == 200, (status, body[:300])
    assert "swagger-ui" in body.lower()
    status, body = http_get(host, "/openapi.json")
    assert status == 200 and json.loads(body)["paths"]


def assert_beatsync_healthy(host):
    """The runbook's '验证修复': unit canonical, active (running) + enabled, 8000 listening,
    /api/health {"status":"healthy"}, /docs 200 Swagger UI."""
    assert_unit_canonical(host)
    assert_service_running(host)
    assert_listening(host)
    assert_health_healthy(host)
    assert_docs_ok(host)
