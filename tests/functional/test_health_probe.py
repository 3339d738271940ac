# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.health_probe against real servers on loopback: the uvicorn fixture app in
its fault states, python -m http.server, a listener on ::1 only, nothing listening, and a
tiny raw-socket server that misbehaves (hangs, trickles, garbage, huge or invalid bodies)."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import yaml

from testlib import free_port, ansible_doc_json, ansible_doc_text

from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_health

HEALTH_KEYS = {"url", "reachable", "status", "json", "healthy", "expected_status", "elapsed", "server", "error",
               "error_class", "attempts", "body_excerpt"}


# ---------------------------------------------------------------------------------------
# A raw-socket HTTP server on loopback (also used by test_docs_probe.py)


def http_response(status, body, content_type="application/json", reason="X", extra_headers=b""):
    """The raw bytes of an HTTP/1.1 response with a Content-Length."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nServer: rawtest\r\nConnection: close\r\n" % (
        status, reason, content_type, len(body))
    return head.encode("ascii") + extra_headers + b"\r\n" + body


class RawServer:
    """Serves routes {path: raw response bytes | callable(conn, stop_event)} on loopback.

    Unknown paths get a 404. Every request path is recorded in ``requests``.
    """

    def __init__(self, routes, host="127.0.0.1"):
        self.routes = routes
        self.host = host
        self.requests = []
        self.stop_event = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base_url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    def _serve(self):
        while not self.stop_event.is_set():
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with conn:
            conn.settimeout(30)
            data = b""
            try:
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                path = data.split(b" ")[1].decode("ascii", "replace")
                self.requests.append(path)
                action = self.routes.get(path, http_response(404, b'{"detail":"Not Found"}', reason="Not Found"))
                if callable(action):
                    action(conn, self.stop_event)
                else:
                    conn.sendall(action)
            except OSError:
                pass

    def stop(self):
        self.stop_event.set()
        try:
            self.sock.close()
        except OSError:
            pass


@pytest.fixture
def raw_server():
    """Factory: raw_server(routes, host="127.0.0.1") -> RawServer; all are stopped at teardown."""
    servers = []

    def _start(routes, host="127.0.0.1"):
        server = RawServer(routes, host=host)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


def never_answer(conn, stop):
    """Accept the request and say nothing until the test ends."""
    stop.wait(60)


def trickle_headers(conn, stop):
    """A status line, then a header one byte every 0.1 s, forever."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.wait(0.1):
        conn.sendall(b"a")


def trickle_body(conn, stop):
    """Headers, then a body one byte every 0.1 s, forever (no Content-Length)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: trickler\r\n\r\n{")
    while not stop.wait(0.1):
        conn.sendall(b" ")


def close_at_once(conn, stop):
    """Read the request and close without a word."""


def not_http(conn, stop):
    conn.sendall(b"\x00\xff\xfeTHIS IS NOT HTTP\r\n\r\n")


def big_body(size, content_type="application/json"):
    def _send(conn, stop):
        conn.sendall(("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
            content_type, size)).encode("ascii"))
        block = b'{"status": "healthy", "pad": "' + b"x" * 65536
        sent = 0
        while sent < size and not stop.is_set():
            piece = block[:size - sent]
            conn.sendall(piece)
            sent += len(piece)
    return _send


# ---------------------------------------------------------------------------------------
# The fixture app's states


def assert_healthy(facts, url):
    assert set(facts) >= HEALTH_KEYS
    assert facts["url"] == url
    assert facts["reachable"] is True
    assert facts["status"] == 200
    assert facts["json"] == {"status": "healthy"}
    assert facts["healthy"] is True
    assert facts["expected_status"] == "healthy"
    assert 0 <= facts["elapsed"] < 5
    assert facts["server"] == "uvicorn"
    assert facts["error"] is None
    assert facts["error_class"] is None
    assert facts["attempts"] == 1
    assert facts["body_excerpt"] is None


def test_healthy(start_server):
    server = start_server()
    url = server.base_url + "/api/health"
    assert_healthy(probe_health(url=url, timeout=5), url)


@pytest.mark.parametrize("fault", ["docs_503", "docs_hang", "openapi_500", "docs_disabled"])
def test_health_is_fine_while_docs_are_broken(start_server, fault):
    server = start_server(faults=fault)
    url = server.base_url + "/api/health"
    assert_healthy(probe_health(url=url, timeout=2), url)
    if fault == "docs_hang":
        server.proc.kill()  # uvicorn would wait for the hanging request on SIGTERM


def test_health_unhealthy_503(start_server):
    server = start_server(faults="health_unhealthy")
    facts = probe_health(url=server.base_url + "/api/health", timeout=5)
    assert facts["reachable"] is True
    assert facts["status"] == 503
    assert facts["json"] == {"status": "unhealthy"}
    assert facts["healthy"] is False
    assert facts["server"] == "uvicorn"
    assert facts["error"] == "HTTP 503 Service Unavailable"
    assert facts["error_class"] == "http_error"
    assert facts["attempts"] == 1
    assert facts["body_excerpt"] == '{"status":"unhealthy"}'


def test_health_500(start_server):
    server = start_server(faults="health_500")
    facts = probe_health(url=server.base_url + "/api/health", timeout=5)
    assert facts["reachable"] is True
    assert facts["status"] == 500
    assert facts["json"] == {"detail": "health check failed"}
    assert facts["healthy"] is False
    assert facts["error"] == "HTTP 500 Internal Server Error"
    assert facts["error_class"] == "http_error"
    assert facts["body_excerpt"] == '{"detail":"health check failed"}'


def test_expected_status_is_configurable(start_server):
    server = start_server()
    facts = probe_health(url=server.base_url + "/api/health", expected_status="ok")
    assert facts["healthy"] is False
    assert facts["status"] == 200
    assert facts["json"] == {"status": "healthy"}
    assert facts["error_class"] == "unhealthy"
    assert facts["error"] == "health status is 'healthy', expected 'ok'"
    assert facts["expected_status"] == "ok"
    assert facts["body_excerpt"] == '{"status":"healthy"}'


def test_nothing_listening():
    port = free_port()
    url = "http://127.0.0.1:%d/api/health" % port
    facts = probe_health(url=url, timeout=2)
    assert facts == {
        "url": url, "reachable": False, "status": None, "json": None, "healthy": False,
        "expected_status": "healthy", "elapsed": facts["elapsed"], "server": None,
        "error": "connection refused", "error_class": "refused", "attempts": 1, "body_excerpt": None,
    }
    assert facts["elapsed"] < 1


def test_retries_with_delay_only_on_failure(start_server):
    port = free_port()
    started = time.monotonic()
    facts = probe_health(url="http://127.0.0.1:%d/api/health" % port, timeout=1, retries=2, delay=0.3)
    took = time.monotonic() - started
    assert facts["attempts"] == 3
    assert facts["error_class"] == "refused"
    # elapsed is rounded to milliseconds: it may round up past this test's own clock by 0.5 ms.
    assert 0.6 <= facts["elapsed"] <= took + 0.0005 and took < 3
    server = start_server()
    facts = probe_health(url=server.base_url + "/api/health", retries=5, delay=5)
    assert facts["healthy"] is True
    assert facts["attempts"] == 1
    assert facts["elapsed"] < 2


def test_python_http_server(start_server):
    server = start_server(kind="http.server")
    facts = probe_health(url=server.base_url + "/api/health", timeout=5)
    assert facts["reachable"] is True
    assert facts["status"] == 404
    assert facts["json"] is None
    assert facts["healthy"] is False
    assert facts["server"].startswith("SimpleHTTP/")
    assert facts["error"] == "HTTP 404 File not found"
    assert facts["error_class"] == "http_error"
    assert "<html" in facts["body_excerpt"] and "404" in facts["body_excerpt"]


def test_listener_on_ipv6_loopback_only(start_server):
    server = start_server(host="::1")
    url = "http://[::1]:%d/api/health" % server.port
    assert_healthy(probe_health(url=url), url)
    facts = probe_health(url="http://127.0.0.1:%d/api/health" % server.port, timeout=2)
    assert facts["reachable"] is False
    assert facts["error_class"] == "refused"


# ---------------------------------------------------------------------------------------
# Misbehaving servers: everything stays bounded


def test_server_that_never_answers_times_out(raw_server):
    server = raw_server({"/api/health": never_answer})
    started = time.monotonic()
    facts = probe_health(url=server.base_url + "/api/health", timeout=1)
    assert time.monotonic() - started < 2
    assert facts["reachable"] is False
    assert facts["status"] is None
    assert facts["error_class"] == "timeout"
    assert facts["error"] == "no complete answer within 1s (timed out while waiting for the response headers)"
    assert 0.9 <= facts["elapsed"] < 2


def test_many_retries_against_a_hung_server_stay_bounded(raw_server):
    """No attempt starts after retries x delay + timeout (2.5 s here): 40 retries 0.05 s apart
    against a server that never answers make about 5 attempts of 0.5 s, not 41 (22.5 s)."""
    server = raw_server({"/api/health": never_answer})
    facts = probe_health(url=server.base_url + "/api/health", timeout=0.5, retries=40, delay=0.05)
    assert facts["error_class"] == "timeout"
    assert 2 <= facts["attempts"] <= 6, facts
    # A refused port is retried for the whole window: every attempt is quick.
    refused = probe_health(url="http://127.0.0.1:%d/api/health" % free_port(), timeout=0.5, retries=10, delay=0.05)
    assert refused["attempts"] == 11 and refused["error_class"] == "refused"


def test_headers_trickling_forever_end_at_the_deadline(raw_server):
    server = raw_server({"/api/health": trickle_headers})
    started = time.monotonic()
    facts = probe_health(url=server.base_url + "/api/health", timeout=1)
    assert time.monotonic() - started < 2
    assert facts["error_class"] == "timeout"
    assert facts["status"] is None
    assert facts["healthy"] is False


def test_body_trickling_forever_ends_at_the_deadline(raw_server):
    server = raw_server({"/api/health": trickle_body})
    started = time.monotonic()
    facts = probe_health(url=server.base_url + "/api/health", timeout=1)
    assert time.monotonic() - started < 2
    assert facts["reachable"] is True
    assert facts["status"] == 200
    assert facts["server"] == "trickler"
    assert facts["error_class"] == "timeout"
    assert facts["error"].endswith("(timed out while reading the body)")
    assert facts["json"] is None
    assert facts["body_excerpt"].startswith("{")


def test_connection_closed_without_answer_is_reset(raw_server):
    server = raw_server({"/api/health": close_at_once})
    facts = probe_health(url=server.base_url + "/api/health", timeout=2)
    assert facts["reachable"] is False
    assert facts["error_class"] == "reset"
    assert facts["error"].startswith("connection closed by the server")


def test_not_http_at_all(raw_server):
    server = raw_server({"/api/health": not_http})
    facts = probe_health(url=server.base_url + "/api/health", timeout=2)
    assert facts["reachable"] is False
    assert facts["error_class"] == "other"
    assert facts["error"].startswith("malformed HTTP response: BadStatusLine")


def test_body_of_several_megabytes_is_bounded(raw_server):
    server = raw_server({"/api/health": big_body(8 * 1024 * 1024)})
    facts = probe_health(url=server.base_url + "/api/health", timeout=5)
    assert facts["status"] == 200
    assert facts["healthy"] is False
    assert facts["json"] is None
    assert facts["error_class"] == "bad_json"
    assert facts["error"] == "HTTP 200 but body is larger than max_bytes (65536), not parsed"
    assert len(facts["body_excerpt"]) <= 512 + len(" [...]")
    assert facts["body_excerpt"].endswith(" [...]")
    json.dumps(facts)


def test_invalid_utf8_body(raw_server):
    server = raw_server({"/api/health": http_response(200, b'{"status": "\xff\xfe\x00healthy"}\x80')})
    facts = probe_health(url=server.base_url + "/api/health", timeout=2)
    assert facts["status"] == 200
    assert facts["json"] is None
    assert facts["error_class"] == "bad_json"
    assert facts["error"] == "HTTP 200 but body is not valid UTF-8 (byte 12)"
    assert "\ufffd" in facts["body_excerpt"]
    assert "\x00" not in facts["body_excerpt"]
    json.dumps(facts)


@pytest.mark.parametrize("body", [b"<html>ok</html>", b'{"status": "healthy"', b"NaN", b"[" * 60000 + b"]" * 60000, b""])
def test_garbage_json_is_bad_json(raw_server, body):
    server = raw_server({"/api/health": http_response(200, body)})
    facts = probe_health(url=server.base_url + "/api/health", timeout=2, max_bytes=200000)
    assert facts["status"] == 200
    assert facts["healthy"] is False
    assert facts["json"] is None
    assert facts["error_class"] == "bad_json"
    assert facts["error"].startswith("HTTP 200 but ")
    assert facts["server"] == "rawtest"


def test_json_that_is_not_an_object(raw_server):
    server = raw_server({"/api/health": http_response(200, b'["healthy"]')})
    facts = probe_health(url=server.base_url + "/api/health", timeout=2)
    assert facts["json"] == ["healthy"]
    assert facts["error_class"] == "unhealthy"
    assert facts["error"] == "health status is missing, expected 'healthy'"


# ---------------------------------------------------------------------------------------
# Bad input


# ---------------------------------------------------------------------------------------
# Through Ansible


def test_module_healthy_and_check_mode(start_server, run_module):
    server = start_server()
    url = server.base_url + "/api/health"
    for check in (False, True):
        result = run_module("health_probe", {"url": url, "timeout": 5}, check=check)
        assert result["changed"] is False
        assert "failed" not in result or result["failed"] is False
        assert_healthy({key: result[key] for key in HEALTH_KEYS}, url)


def test_module_refused_is_a_result_not_a_failure(run_module):
    url = "http://127.0.0.1:%d/api/health" % free_port()
    result = run_module("health_probe", {"url": url, "timeout": 2, "retries": 1, "delay": 0.1})
    assert result.get("failed", False) is False
    assert result["changed"] is False
    assert result["healthy"] is False
    assert result["reachable"] is False
    assert result["error_class"] == "refused"
    assert result["attempts"] == 2


def test_module_ipv6_check_mode(start_server, run_module_through_ansible):
    server = start_server(host="::1")
    # The real `ansible` CLI once: FQCN routing, -a JSON with an IPv6 URL, --check.
    result = run_module_through_ansible("health_probe", {"url": server.base_url + "/api/health"}, check=True)
    assert result["changed"] is False
    assert result["healthy"] is True


@pytest.mark.parametrize("args, message", [
    ({"url": "http://127.0.0.1:0/api/health"}, "the port in url must be from 1 to 65535, got 0"),
    ({"url": "http://127.0.0.1:70000/api/health"}, "the port in url must be from 1 to 65535, got 70000"),
    ({"url": "http://127.0.0.1:abc/api/health"}, "the port in url must be an integer from 1 to 65535, got 'abc'"),
    ({"url": "127.0.0.1:8000/api/health"}, "url must start with http:// or https://, got '127.0.0.1:8000/api/health'"),
    ({"url": "localhost/api/health"}, "url must start with http:// or https://, got 'localhost/api/health'"),
    ({"url": "http:///api/health"}, "url has no host name, got 'http:///api/health'"),
    ({"timeout": 0}, "timeout must be greater than 0 and at most 600.0 seconds, got 0.0"),
    ({"timeout": -1}, "timeout must be greater than 0 and at most 600.0 seconds, got -1.0"),
    ({"timeout": -3}, "timeout must be greater than 0 and at most 600.0 seconds, got -3.0"),
    ({"retries": -1}, "retries must be from 0 to 100, got -1"),
    ({"retries": 101}, "retries must be from 0 to 100, got 101"),
    ({"delay": -0.5}, "delay must be from 0 to 60.0, got -0.5"),
    ({"max_bytes": 0}, "max_bytes must be from 1 to 67108864, got 0"),
    ({"expected_status": ""}, "expected_status must be a non-empty string, got ''"),
])
def test_module_bad_input_fails_cleanly(run_module, args, message):
    result = run_module("health_probe", args)
    assert result["failed"] is True
    assert result["msg"] == message
    # ansible-core 2.19+ puts a placeholder under "exception" in every failed result; no traceback though.
    assert "Traceback" not in str(result.get("exception", ""))
    assert "module_stderr" not in result


# ---------------------------------------------------------------------------------------
# ansible-doc


def ansible_doc(name):
    """Render beatsync.ops.<name> with ansible-doc (text and JSON); return the JSON doc."""
    text, stderr = ansible_doc_text(name)  # exit status 0 checked there
    assert "beatsync.ops.%s" % name in text
    assert "[WARNING]" not in stderr and "ERROR" not in stderr, stderr
    doc = ansible_doc_json(name)
    examples = yaml.safe_load(doc["examples"])
    assert isinstance(examples, list) and examples
    for task in examples:
        modules = [key for key in task if key not in ("name", "register", "when", "until", "retries", "delay")]
        assert len(modules) == 1 and modules[0].count(".") == 2, task
    assert any(key == "beatsync.ops." + name for task in examples for key in task)
    return doc


def test_ansible_doc_renders_health_probe():
    doc = ansible_doc("health_probe")
    options = doc["doc"]["options"]
    assert set(options) == {"url", "timeout", "retries", "delay", "expected_status", "max_bytes", "validate_certs"}
    assert options["timeout"]["type"] == "float"
    assert doc["doc"]["version_added"] == "0.1.0"
    assert set(doc["return"]) == HEALTH_KEYS
