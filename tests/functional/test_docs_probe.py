# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.docs_probe against real servers on loopback: the uvicorn fixture app in its
fault states (503 with health fine, hang, 404, OpenAPI 500), python -m http.server, ::1
only, nothing listening, and raw-socket servers with odd pages and OpenAPI documents.

The Swagger UI page loads its JS/CSS from a CDN: the probe reports those URLs and the tests
check them, but nothing here ever requests them."""

from __future__ import annotations

import time

import pytest

from testlib import free_port
# raw_server is a fixture, used by name.
from test_health_probe import ansible_doc, big_body, http_response, never_answer, raw_server  # noqa: F401  pylint: disable=unused-import

from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_docs, probe_health

CDN_ASSETS = [
    "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
    "https://fastapi.tiangolo.com/img/favicon.png",
    "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js",
]
DOCS_KEYS = {"url", "status", "elapsed", "reachable", "error", "error_class", "server", "is_swagger_ui", "asset_urls",
             "body_excerpt"}
OPENAPI_KEYS = {"url", "status", "elapsed", "reachable", "error", "error_class", "valid_json", "openapi_version",
                "path_count", "body_excerpt"}
# The fixture app's paths: /api/health, /api/tracks, /api/sync.
FIXTURE_PATHS = 3

SWAGGER_PAGE = """<!DOCTYPE html><html><head>
<link type="text/css" rel="stylesheet" href="/static/swagger-ui.css">
<title>Test - Swagger UI</title></head><body><div id="swagger-ui"></div>
<script src="/static/swagger-ui-bundle.js"></script>
<script>
const ui = SwaggerUIBundle({
    "url": "%s",
    "dom_id": "#swagger-ui",
})
</script></body></html>"""
SPEC = b'{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {}, "/b": {}}}'


def assert_shape(facts, base_url):
    assert set(facts) == {"base_url", "docs", "openapi", "docs_ok", "problem"}
    assert set(facts["docs"]) == DOCS_KEYS
    assert set(facts["openapi"]) == OPENAPI_KEYS
    assert facts["base_url"] == base_url


def assert_docs_fine(docs, base_url):
    assert docs["url"] == base_url + "/docs"
    assert docs["status"] == 200
    assert docs["reachable"] is True
    assert docs["error"] is None
    assert docs["error_class"] is None
    assert docs["server"] == "uvicorn"
    assert docs["is_swagger_ui"] is True
    assert docs["asset_urls"] == CDN_ASSETS
    assert docs["body_excerpt"] is None
    assert 0 <= docs["elapsed"] < 5


def assert_openapi_fine(openapi, base_url):
    assert openapi["url"] == base_url + "/openapi.json"
    assert openapi["status"] == 200
    assert openapi["reachable"] is True
    assert openapi["error"] is None
    assert openapi["error_class"] is None
    assert openapi["valid_json"] is True
    assert openapi["openapi_version"].startswith("3.")
    assert openapi["path_count"] == FIXTURE_PATHS
    assert openapi["body_excerpt"] is None
    assert 0 <= openapi["elapsed"] < 5


# ---------------------------------------------------------------------------------------
# The fixture app's states


def test_healthy(start_server):
    server = start_server()
    facts = probe_docs(base_url=server.base_url, timeout=5)
    assert_shape(facts, server.base_url)
    assert_docs_fine(facts["docs"], server.base_url)
    assert_openapi_fine(facts["openapi"], server.base_url)
    assert facts["docs_ok"] is True
    assert facts["problem"] is None


def test_docs_503_while_health_is_fine(start_server):
    server = start_server(faults="docs_503")
    health = probe_health(url=server.base_url + "/api/health")
    assert health["healthy"] is True and health["status"] == 200
    facts = probe_docs(base_url=server.base_url + "/", timeout=5)
    assert_shape(facts, server.base_url + "/")
    docs = facts["docs"]
    assert docs["url"] == server.base_url + "/docs"
    assert docs["status"] == 503
    assert docs["reachable"] is True
    assert docs["error"] == "HTTP 503 Service Unavailable"
    assert docs["error_class"] == "http_error"
    assert docs["server"] == "uvicorn"
    assert docs["is_swagger_ui"] is False
    assert docs["asset_urls"] == []
    assert docs["body_excerpt"] == '{"detail":"Service Unavailable"}'
    assert_openapi_fine(facts["openapi"], server.base_url)
    assert facts["docs_ok"] is False
    assert facts["problem"] == "docs_unavailable"


def test_docs_hanging_past_the_timeout(start_server):
    server = start_server(faults="docs_hang")
    started = time.monotonic()
    facts = probe_docs(base_url=server.base_url, timeout=1)
    took = time.monotonic() - started
    server.proc.kill()  # uvicorn would wait for the hanging request on SIGTERM
    assert took < 3
    assert_shape(facts, server.base_url)
    docs = facts["docs"]
    assert docs["url"] == server.base_url + "/docs"
    assert docs["status"] is None
    assert docs["reachable"] is False
    assert docs["error"] == "no complete answer within 1s (timed out while waiting for the response headers)"
    assert docs["error_class"] == "timeout"
    assert docs["server"] is None
    assert docs["is_swagger_ui"] is False
    assert docs["asset_urls"] == []
    assert docs["body_excerpt"] is None
    assert 0.9 <= docs["elapsed"] < 2
    assert_openapi_fine(facts["openapi"], server.base_url)
    assert facts["docs_ok"] is False
    assert facts["problem"] == "docs_timeout"


def test_openapi_500(start_server):
    server = start_server(faults="openapi_500")
    facts = probe_docs(base_url=server.base_url, timeout=5)
    assert_shape(facts, server.base_url)
    assert_docs_fine(facts["docs"], server.base_url)
    openapi = facts["openapi"]
    assert openapi["url"] == server.base_url + "/openapi.json"
    assert openapi["status"] == 500
    assert openapi["reachable"] is True
    assert openapi["error"] == "HTTP 500 Internal Server Error"
    assert openapi["error_class"] == "http_error"
    assert openapi["valid_json"] is False
    assert openapi["openapi_version"] is None
    assert openapi["path_count"] is None
    assert openapi["body_excerpt"] == "Internal Server Error"
    assert facts["docs_ok"] is False
    assert facts["problem"] == "openapi_broken"


def test_docs_disabled_404(start_server):
    server = start_server(faults="docs_disabled")
    facts = probe_docs(base_url=server.base_url, timeout=5)
    assert_shape(facts, server.base_url)
    docs = facts["docs"]
    assert docs["status"] == 404
    assert docs["reachable"] is True
    assert docs["error"] == "HTTP 404 Not Found"
    assert docs["error_class"] == "http_error"
    assert docs["server"] == "uvicorn"
    assert docs["is_swagger_ui"] is False
    assert docs["asset_urls"] == []
    assert docs["body_excerpt"] == '{"detail":"Not Found"}'
    openapi = facts["openapi"]
    assert openapi["status"] == 404
    assert openapi["error_class"] == "http_error"
    assert openapi["valid_json"] is False
    assert facts["docs_ok"] is False
    assert facts["problem"] == "docs_disabled"


def test_nothing_listening():
    base_url = "http://127.0.0.1:%d" % free_port()
    facts = probe_docs(base_url=base_url, timeout=2)
    assert_shape(facts, base_url)
    for part, path in (("docs", "/docs"), ("openapi", "/openapi.json")):
        assert facts[part]["url"] == base_url + path
        assert facts[part]["status"] is None
        assert facts[part]["reachable"] is False
        assert facts[part]["error"] == "connection refused"
        assert facts[part]["error_class"] == "refused"
        assert facts[part]["body_excerpt"] is None
    assert facts["docs"]["server"] is None
    assert facts["docs"]["is_swagger_ui"] is False
    assert facts["openapi"]["valid_json"] is False
    assert facts["docs_ok"] is False
    assert facts["problem"] == "unreachable"


def test_python_http_server_is_not_swagger_ui(start_server):
    server = start_server(kind="http.server")
    facts = probe_docs(base_url=server.base_url, timeout=5)
    assert_shape(facts, server.base_url)
    docs = facts["docs"]
    assert docs["status"] == 404
    assert docs["server"].startswith("SimpleHTTP/")
    assert docs["error"] == "HTTP 404 File not found"
    assert docs["error_class"] == "http_error"
    assert docs["is_swagger_ui"] is False
    assert "<html" in docs["body_excerpt"]
    assert facts["openapi"]["status"] == 404
    assert facts["docs_ok"] is False
    assert facts["problem"] == "not_swagger_ui"


def test_listener_on_ipv6_loopback_only(start_server):
    server = start_server(host="::1")
    base_url = "http://[::1]:%d" % server.port
    facts = probe_docs(base_url=base_url, timeout=5)
    assert_shape(facts, base_url)
    assert_docs_fine(facts["docs"], base_url)
    assert_openapi_fine(facts["openapi"], base_url)
    assert facts["docs_ok"] is True
    assert facts["problem"] is None
    assert probe_docs(base_url="http://127.0.0.1:%d" % server.port, timeout=2)["problem"] == "unreachable"


def test_openapi_path_override(start_server):
    server = start_server()
    facts = probe_docs(base_url=server.base_url, openapi_path="/api/tracks", timeout=5)
    openapi = facts["openapi"]
    assert openapi["url"] == server.base_url + "/api/tracks"
    assert openapi["status"] == 200
    assert openapi["valid_json"] is True
    assert openapi["openapi_version"] is None
    assert openapi["error_class"] == "bad_json"
    assert openapi["error"] == "the OpenAPI document is JSON but not an object"
    assert facts["problem"] == "openapi_broken"


# ---------------------------------------------------------------------------------------
# Raw servers: odd pages and documents


def test_openapi_url_is_taken_from_the_page(raw_server):
    server = raw_server({
        "/docs": http_response(200, SWAGGER_PAGE % "/custom/spec.json", "text/html"),
        "/custom/spec.json": http_response(200, SPEC),
    })
    facts = probe_docs(base_url=server.base_url, timeout=2)
    assert facts["docs"]["is_swagger_ui"] is True
    assert facts["docs"]["server"] == "rawtest"
    assert facts["docs"]["asset_urls"] == [server.base_url + "/static/swagger-ui.css",
                                           server.base_url + "/static/swagger-ui-bundle.js"]
    assert facts["openapi"]["url"] == server.base_url + "/custom/spec.json"
    assert facts["openapi"]["openapi_version"] == "3.0.3"
    assert facts["openapi"]["path_count"] == 2
    assert facts["docs_ok"] is True
    assert server.requests == ["/docs", "/custom/spec.json"]


def test_openapi_url_on_another_host_is_not_followed(raw_server):
    server = raw_server({
        "/docs": http_response(200, SWAGGER_PAGE % "https://spec.example.invalid/openapi.json", "text/html"),
        "/openapi.json": http_response(200, SPEC),
    })
    facts = probe_docs(base_url=server.base_url, timeout=2)
    assert facts["openapi"]["url"] == server.base_url + "/openapi.json"
    assert facts["docs_ok"] is True
    assert server.requests == ["/docs", "/openapi.json"]


def test_page_that_is_not_swagger_ui(raw_server):
    server = raw_server({
        "/docs": http_response(200, "<html><body><h1>Welcome to nginx!</h1>\x00</body></html>", "text/html"),
        "/openapi.json": http_response(200, SPEC),
    })
    facts = probe_docs(base_url=server.base_url, timeout=2)
    docs = facts["docs"]
    assert docs["status"] == 200
    assert docs["is_swagger_ui"] is False
    assert docs["error"] == "/docs answered 200 but is not a Swagger UI page"
    assert docs["error_class"] == "other"
    assert "Welcome to nginx!" in docs["body_excerpt"]
    assert facts["openapi"]["openapi_version"] == "3.0.3"
    assert facts["docs_ok"] is False
    assert facts["problem"] == "not_swagger_ui"


def test_redirect_is_not_swagger_ui(raw_server):
    server = raw_server({"/docs": http_response(307, b"", "text/plain", reason="Temporary Redirect",
                                                extra_headers=b"Location: http://127.0.0.1:9/login\r\n")})
    facts = probe_docs(base_url=server.base_url, timeout=2)
    assert facts["docs"]["status"] == 307
    assert facts["docs"]["error"] == "HTTP 307, expected 200"
    assert facts["problem"] == "not_swagger_ui"
    assert server.requests == ["/docs", "/openapi.json"]


@pytest.mark.parametrize("body, max_bytes, error", [
    (b"{\"openapi\": \"3.1.0\", \"paths\": {", 1048576, "body is not valid JSON: "),
    (b"\xff\xfe\xfd garbage", 1048576, "body is not valid UTF-8 (byte 0)"),
    (b'{"info": {}, "paths": {}}', 1048576, "the OpenAPI document has no 'openapi' version"),
    (b'{"openapi": "3.1.0", "paths": {' + b" " * (3 * 1024 * 1024) + b"}}", 4096,
     "the OpenAPI document is larger than max_bytes (4096); raise max_bytes"),
])
def test_broken_openapi_documents(raw_server, body, max_bytes, error):
    server = raw_server({
        "/docs": http_response(200, SWAGGER_PAGE % "/openapi.json", "text/html"),
        "/openapi.json": http_response(200, body),
    })
    facts = probe_docs(base_url=server.base_url, timeout=2, max_bytes=max_bytes)
    openapi = facts["openapi"]
    assert openapi["status"] == 200
    assert openapi["error_class"] == "bad_json"
    assert openapi["error"].startswith(error)
    assert openapi["openapi_version"] is None
    assert openapi["body_excerpt"]
    assert facts["docs"]["is_swagger_ui"] is True
    assert facts["problem"] == "openapi_broken"


def test_several_megabytes_and_hanging_openapi_are_bounded(raw_server):
    server = raw_server({
        "/docs": big_body(6 * 1024 * 1024, "text/html"),
        "/openapi.json": never_answer,
    })
    started = time.monotonic()
    facts = probe_docs(base_url=server.base_url, timeout=1, max_bytes=65536)
    assert time.monotonic() - started < 4
    docs = facts["docs"]
    assert docs["status"] == 200
    assert docs["is_swagger_ui"] is False
    assert docs["error"] == "/docs answered 200 but is not a Swagger UI page (page larger than max_bytes 65536)"
    assert len(docs["body_excerpt"]) <= 512 + len(" [...]")
    assert facts["openapi"]["error_class"] == "timeout"
    assert facts["problem"] == "not_swagger_ui"


# ---------------------------------------------------------------------------------------
# Bad input


# ---------------------------------------------------------------------------------------
# Through Ansible


def test_module_states_and_check_mode(start_server, run_module, run_module_through_ansible):
    healthy = start_server()
    # The real `ansible` CLI once (check mode through the controller); the rest in-process.
    result = run_module_through_ansible("docs_probe", {"base_url": healthy.base_url, "timeout": 5}, check=True)
    assert result["changed"] is False
    assert result.get("failed", False) is False
    assert_shape({key: result[key] for key in ("base_url", "docs", "openapi", "docs_ok", "problem")}, healthy.base_url)
    assert_docs_fine(result["docs"], healthy.base_url)
    assert_openapi_fine(result["openapi"], healthy.base_url)
    assert result["docs_ok"] is True and result["problem"] is None

    broken = start_server(faults="docs_503")
    result = run_module("docs_probe", {"base_url": broken.base_url, "timeout": 5})
    assert result["changed"] is False
    assert result.get("failed", False) is False
    assert result["docs"]["status"] == 503
    assert result["docs_ok"] is False
    assert result["problem"] == "docs_unavailable"


@pytest.mark.parametrize("args, message", [
    ({"base_url": "http://127.0.0.1:0"}, "the port in base_url must be from 1 to 65535, got 0"),
    ({"base_url": "http://127.0.0.1:70000"}, "the port in base_url must be from 1 to 65535, got 70000"),
    ({"base_url": "http://127.0.0.1:abc"}, "the port in base_url must be an integer from 1 to 65535, got 'abc'"),
    ({"base_url": "localhost:8000"}, "base_url must start with http:// or https://, got 'localhost:8000'"),
    ({"base_url": "127.0.0.1:8000"}, "base_url must start with http:// or https://, got '127.0.0.1:8000'"),
    ({"base_url": "ftp://127.0.0.1"}, "base_url must start with http:// or https://, got 'ftp://127.0.0.1'"),
    ({"timeout": 0}, "timeout must be greater than 0 and at most 600.0 seconds, got 0.0"),
    ({"timeout": -1}, "timeout must be greater than 0 and at most 600.0 seconds, got -1.0"),
    ({"timeout": -2}, "timeout must be greater than 0 and at most 600.0 seconds, got -2.0"),
    ({"docs_path": "docs"}, "docs_path must be a URL path starting with '/', got 'docs'"),
    ({"openapi_path": "/open api.json"}, "openapi_path must not contain spaces or control characters, got '/open api.json'"),
    ({"max_bytes": 0}, "max_bytes must be from 1 to 67108864, got 0"),
])
def test_module_bad_input_fails_cleanly(run_module, args, message):
    result = run_module("docs_probe", args)
    assert result["failed"] is True
    assert result["msg"] == message
    assert "Traceback" not in str(result.get("exception", ""))
    assert "module_stderr" not in result


def test_ansible_doc_renders_docs_probe():
    doc = ansible_doc("docs_probe")
    options = doc["doc"]["options"]
    assert set(options) == {"base_url", "docs_path", "openapi_path", "timeout", "max_bytes", "validate_certs"}
    assert doc["doc"]["version_added"] == "0.1.0"
    assert set(doc["return"]) == {"base_url", "docs", "openapi", "docs_ok", "problem"}
    assert set(doc["return"]["docs"]["contains"]) == DOCS_KEYS
    assert set(doc["return"]["openapi"]["contains"]) == OPENAPI_KEYS
