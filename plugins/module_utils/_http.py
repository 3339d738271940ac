# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""One bounded HTTP GET with http.client, for the beatsync.ops HTTP probes.

Standard library only: this code runs on the managed host and in the EDA event source.

Every request has one overall deadline (name resolution, connect, TLS, headers and body
together): a watchdog shuts the socket down when it passes, so even a server that trickles
bytes forever is cut off. The body is read up to ``max_bytes``. Failures never raise: they
are reported as ``error`` and ``error_class`` in the result.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time

from urllib.parse import urlsplit

from ansible_collections.beatsync.ops.plugins.module_utils._common import elapsed_since
from ansible_collections.beatsync.ops.plugins.module_utils._validate import (
    ProbeInputError,
    validate_port,
    validate_positive_int,
    validate_timeout,
)

# Error classes http_get() reports; probes may add their own (bad_json, unhealthy).
ERROR_CLASSES = ("refused", "timeout", "reset", "dns", "tls", "http_error", "bad_url", "other")

USER_AGENT = "beatsync.ops-probe/0.1"
MAX_HEADERS = 64
MAX_HEADER_VALUE = 1024
EXCERPT_CHARS = 512
READ_CHUNK = 65536
# Largest body any probe may ask for.
MAX_BODY_BYTES = 64 * 1024 * 1024


def base_url(host, port, scheme="http"):
    """scheme://host:port for a probe, with brackets around an IPv6 address (the one place
    probe URLs are built; the diagnose module returns them for later steps)."""
    host = str(host)
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s://%s:%d" % (scheme, host, int(port))


def parse_url(url, name="url"):
    """Validate an http(s) URL and split it.

    Returns a dict: scheme, host (no brackets), port (int), path (path plus query, at least
    "/"), origin ("scheme://host:port" with IPv6 in brackets). Raises ProbeInputError naming
    the option when the URL is not usable.
    """
    if not isinstance(url, str) or not url.strip():
        raise ProbeInputError("%s must be a non-empty http:// or https:// URL, got %r" % (name, url))
    url = url.strip()
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise ProbeInputError("%s must not contain spaces or control characters, got %r" % (name, url))
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        # Python 3.11 already rejects "[::1]x" here, 3.12 only below: one message on both.
        netloc = url.partition("://")[2]
        for sep in "/?#":
            netloc = netloc.partition(sep)[0]
        rest = netloc.rpartition("@")[2].partition("]")[2]
        if netloc.rpartition("@")[2].startswith("[") and rest and not rest.startswith(":"):
            raise ProbeInputError("%s has a malformed IPv6 address in %r" % (name, url))
        raise ProbeInputError("%s is not a valid URL (%s), got %r" % (name, exc, url))
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url.lower().startswith(scheme + "://"):
        raise ProbeInputError("%s must start with http:// or https://, got %r" % (name, url))
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.startswith("["):
        host, bracket, rest = netloc[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ProbeInputError("%s has a malformed IPv6 address in %r" % (name, url))
        raw_port = rest[1:] if rest else None
        if ":" not in host:
            raise ProbeInputError("%s has brackets around %r, which is not an IPv6 address" % (name, host))
    else:
        host, colon, raw_port = netloc.partition(":")
        if not colon:
            raw_port = None
    if not host:
        raise ProbeInputError("%s has no host name, got %r" % (name, url))
    if raw_port is None or raw_port == "":
        port = 443 if scheme == "https" else 80
    else:
        port = validate_port(raw_port, name="the port in %s" % name)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    shown_host = "[%s]" % host if ":" in host else host
    return {
        "scheme": scheme,
        "host": host,
        "port": port,
        "path": path,
        "origin": "%s://%s:%d" % (scheme, shown_host, port),
    }


def text_excerpt(body, limit=EXCERPT_CHARS):
    """A bounded, printable text excerpt of a body (bytes or str).

    Invalid UTF-8 is replaced, control characters other than newline and tab become
    U+FFFD, and the text is cut at ``limit`` characters with " [...]" appended when cut.
    Returns None for an empty or missing body.
    """
    if not body:
        return None
    if isinstance(body, bytes):
        text = body[:limit * 4].decode("utf-8", errors="replace")
    else:
        text = str(body)[:limit * 4]
    cleaned = "".join(
        char if char in "\n\t" or (ord(char) >= 32 and ord(char) != 127) else "\ufffd"
        for char in text[:limit + 1]
    )
    if len(cleaned) > limit or len(body) > limit * 4:
        return cleaned[:limit] + " [...]"
    return cleaned


def _classify(exc):
    """(error_class, message) for an exception raised by a request."""
    if isinstance(exc, socket.gaierror):
        return "dns", "cannot resolve host name: %s" % (exc.strerror or exc)
    if isinstance(exc, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout", "timed out"
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return "tls", "TLS error: %s" % (getattr(exc, "reason", None) or exc)
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset", "connection closed by the server: %s" % (exc.__class__.__name__,)
    if isinstance(exc, http.client.HTTPException):
        return "other", "malformed HTTP response: %s: %s" % (exc.__class__.__name__, str(exc)[:200])
    if isinstance(exc, OSError):
        return "other", "network error: %s" % (exc.strerror or exc)
    return "other", "unexpected error: %s: %s" % (exc.__class__.__name__, str(exc)[:200])


class _Deadline:
    """Overall deadline for one request, with a watchdog that cuts the socket off."""

    def __init__(self, seconds):
        self.started = time.monotonic()
        self.end = self.started + seconds
        self.expired = False
        self.sockets = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline passed")
        return left

    def watch(self, sock):
        with self._lock:
            self.sockets.append(sock)
            if not self.expired:
                return
        self._cut(sock)

    def _expire(self):
        with self._lock:
            self.expired = True
            sockets = list(self.sockets)
        for sock in sockets:
            self._cut(sock)

    @staticmethod
    def _cut(sock):
        try:
            # socket.socket.shutdown, not SSLSocket.shutdown: only wake the blocked reader.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, ValueError, TypeError):
            pass

    def cancel(self):
        self._timer.cancel()


def _resolve(host, port, deadline):
    """getaddrinfo bounded by the deadline (it runs in a helper thread)."""
    box = {}

    def _run():
        try:
            box["infos"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            box["error"] = exc

    worker = threading.Thread(target=_run, name="beatsync-resolve", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if worker.is_alive():
        raise socket.timeout("name resolution did not finish")
    if "error" in box:
        raise box["error"]
    return box["infos"]


def _connector(deadline, state):
    """A replacement for socket.create_connection that honours the overall deadline."""
    def _create_connection(address, timeout=None, source_address=None):  # pylint: disable=unused-argument
        host, port = address[0], address[1]
        state["phase"] = "resolve"
        infos = _resolve(host, port, deadline)
        state["phase"] = "connect"
        last_exc = OSError("no addresses for %s" % host)
        for family, socktype, proto, dummy, addr in infos:
            sock = socket.socket(family, socktype, proto)
            deadline.watch(sock)
            try:
                sock.settimeout(deadline.remaining())
                sock.connect(addr)
            except OSError as exc:
                sock.close()
                last_exc = exc
                if isinstance(exc, (socket.timeout, TimeoutError)) or deadline.expired:
                    raise
                continue
            state["phase"] = "tls" if state.get("tls") else "response"
            return sock
        raise last_exc
    return _create_connection


def _collect_headers(message):
    headers = {}
    for name, value in list(message.items())[:MAX_HEADERS]:
        key = str(name).lower()[:MAX_HEADER_VALUE]
        value = str(value)[:MAX_HEADER_VALUE]
        headers[key] = headers[key] + ", " + value if key in headers else value
        headers[key] = headers[key][:MAX_HEADER_VALUE]
    return headers


def http_get(url, timeout, max_bytes=65536, headers=None, validate_certs=True, name="url"):
    """One GET of url, bounded by timeout seconds overall and max_bytes of body.

    Raises ProbeInputError (naming ``name``) for a bad url, timeout or max_bytes; never
    raises otherwise. Returns a dict:
    url, reachable (an HTTP response arrived), status, reason, headers (lower-cased names,
    bounded), server, body (bytes, at most max_bytes), truncated (the body was longer),
    elapsed, error (None or a message), error_class (None or one of ERROR_CLASSES;
    ``http_error`` when the status is 400 or more).
    """
    target = parse_url(url, name=name)
    timeout = validate_timeout(timeout)
    max_bytes = validate_positive_int(max_bytes, "max_bytes", minimum=1, maximum=MAX_BODY_BYTES)
    result = {
        "url": url.strip(), "reachable": False, "status": None, "reason": None, "headers": {},
        "server": None, "body": b"", "truncated": False, "elapsed": 0.0, "error": None,
        "error_class": None,
    }
    deadline = _Deadline(timeout)
    state = {"phase": "resolve", "tls": target["scheme"] == "https"}
    conn = None
    chunks = []
    try:
        conn = _open(target, timeout, validate_certs)
        conn._create_connection = _connector(deadline, state)  # pylint: disable=protected-access
        request_headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
        request_headers.update(headers or {})
        conn.request("GET", target["path"], headers=request_headers)
        deadline.watch(conn.sock)
        state["phase"] = "response"
        conn.sock.settimeout(deadline.remaining())
        response = conn.getresponse()
        if deadline.expired:
            # The watchdog cut the headers short; what http.client parsed is not the answer.
            raise socket.timeout("deadline passed")
        result.update({
            "reachable": True, "status": response.status, "reason": str(response.reason or "")[:200],
            "headers": _collect_headers(response.msg),
        })
        result["server"] = result["headers"].get("server")
        state["phase"] = "body"
        _read_body(response, conn, deadline, max_bytes, chunks)
        if deadline.expired:
            raise socket.timeout("deadline passed")
    except Exception as exc:  # pylint: disable=broad-exception-caught
        _record_failure(result, exc, state["phase"], deadline, timeout)
    finally:
        deadline.cancel()
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-exception-caught
                pass
    body = b"".join(chunks)
    result["body"], result["truncated"] = body[:max_bytes], len(body) > max_bytes
    if result["error"] is None and result["status"] is not None and result["status"] >= 400:
        result["error"] = "HTTP %s %s" % (result["status"], result["reason"] or "")
        result["error"] = result["error"].strip()
        result["error_class"] = "http_error"
    result["elapsed"] = elapsed_since(deadline.started)
    return result


def _open(target, timeout, validate_certs):
    if target["scheme"] == "https":
        context = ssl.create_default_context()
        if not validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(target["host"], target["port"], timeout=timeout, context=context)
    return http.client.HTTPConnection(target["host"], target["port"], timeout=timeout)


def _read_body(response, conn, deadline, max_bytes, chunks):
    """Read at most max_bytes (+1 to detect truncation) of the body into chunks."""
    size = 0
    while size <= max_bytes:
        if conn.sock is not None:
            conn.sock.settimeout(deadline.remaining())
        try:
            chunk = response.read(min(READ_CHUNK, max_bytes + 1 - size))
        except http.client.IncompleteRead as exc:
            chunks.append(exc.partial)
            raise ConnectionResetError("connection closed after %d bytes of body" % (size + len(exc.partial))) from exc
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)


def _record_failure(result, exc, phase, deadline, timeout):
    if deadline.expired or isinstance(exc, (socket.timeout, TimeoutError)):
        result["error_class"] = "timeout"
        where = {
            "resolve": "resolving the host name",
            "connect": "connecting",
            "tls": "the TLS handshake",
            "response": "waiting for the response headers",
            "body": "reading the body",
        }.get(phase, "the request")
        result["error"] = "no complete answer within %ss (timed out while %s)" % (_fmt(timeout), where)
        return
    error_class, message = _classify(exc)
    result["error_class"] = error_class
    result["error"] = message


def _fmt(seconds):
    return ("%.3f" % seconds).rstrip("0").rstrip(".")
