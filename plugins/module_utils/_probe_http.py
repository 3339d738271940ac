# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""HTTP probes of BeatSync: the health endpoint and the API docs (runbook step 4).

Standard library only: this code runs on the managed host and in the EDA event source.
Both probes trust their keyword arguments: the caller's edge checked them once (the modules'
argument spec and _argspec.validate, the EDA source's parse_args). They never raise: what went
wrong is in ``error``/``error_class``/``problem``.
"""

from __future__ import annotations

import json
import re
import time

from html.parser import HTMLParser
from urllib.parse import urljoin

from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError
from ansible_collections.beatsync.ops.plugins.module_utils._http import (
    EXCERPT_CHARS,
    http_get,
    parse_url,
    text_excerpt,
)

DEFAULT_HEALTH_URL = "http://127.0.0.1:8000/api/health"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_OPENAPI_PATH = "/openapi.json"
HEALTH_MAX_BYTES = 65536
DOCS_MAX_BYTES = 1024 * 1024
MAX_ASSETS = 50
MAX_ASSET_URL = 2048

# Values of the docs probe's ``problem``.
DOCS_PROBLEMS = (None, "docs_unavailable", "docs_timeout", "docs_disabled", "openapi_broken", "unreachable", "not_swagger_ui")

# The OpenAPI URL inside the SwaggerUIBundle({...}) call: FastAPI writes `url: '/openapi.json'`,
# other generators write `"url": "..."`; with `urls: [{url: ...}, ...]` (several specs) the first is taken,
# as Swagger UI shows it first.
_SWAGGER_CALL = re.compile(r"SwaggerUIBundle\s*\(\s*\{")
_SWAGGER_URL = re.compile(r"""(?:^|[\s,{])["']?url["']?\s*:\s*(["'])([^"'\n]{1,2048})\1""")


def _strict_json(data):
    """Parse bytes as strict JSON (UTF-8, no NaN/Infinity); (value, None) or (None, reason)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, "body is not valid UTF-8 (byte %d)" % exc.start

    def _reject(constant):
        raise ValueError("%s is not valid JSON" % constant)

    try:
        return json.loads(text, parse_constant=_reject), None
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:
        return None, "body is not valid JSON: %s" % str(exc)[:200]


# ---------------------------------------------------------------------------------------
# health


def probe_health(url=DEFAULT_HEALTH_URL, timeout=5, retries=0, delay=1, expected_status="healthy",
                 max_bytes=HEALTH_MAX_BYTES, validate_certs=True):
    """GET the health URL, retrying (after ``delay`` seconds) while it is not healthy.

    Returns url, reachable, status, json, healthy, expected_status, elapsed (of the whole
    probe), server, error, error_class, attempts, body_excerpt (only when not healthy).
    error_class: refused, timeout, reset, dns, tls, other (transport), http_error (status
    400 or more), bad_json (200 but not JSON), unhealthy (200 JSON whose ``status`` is not
    the expected value). The whole wait is bounded: no attempt starts after retries * delay +
    timeout seconds, so a server that hangs every request costs about that plus one timeout,
    not (retries + 1) timeouts (many fine-grained retries stay safe against a hung app).
    Trusts its arguments (checked at the caller's edge, _argspec.validate).
    """
    started = time.monotonic()
    last_start = started + retries * delay + timeout
    result = None
    for attempt in range(1, retries + 2):
        if attempt > 1:
            if time.monotonic() + delay > last_start:
                break
            if delay:
                time.sleep(delay)
        result = _health_once(url, timeout, expected_status, max_bytes, validate_certs)
        result["attempts"] = attempt
        if result["healthy"]:
            break
    result["elapsed"] = round(time.monotonic() - started, 4)
    return result


def _health_once(url, timeout, expected_status, max_bytes, validate_certs):
    answer = http_get(url, timeout, max_bytes=max_bytes, validate_certs=validate_certs,
                      headers={"Accept": "application/json"})
    result = {
        "url": answer["url"], "reachable": answer["reachable"], "status": answer["status"], "json": None,
        "healthy": False, "expected_status": expected_status, "elapsed": answer["elapsed"],
        "server": answer["server"], "error": answer["error"], "error_class": answer["error_class"],
        "attempts": 1, "body_excerpt": None,
    }
    body = answer["body"]
    parse_error = None
    if answer["reachable"] and body:
        if answer["truncated"]:
            parse_error = "body is larger than max_bytes (%d), not parsed" % max_bytes
        else:
            result["json"], parse_error = _strict_json(body)
    if result["error"] is None and answer["status"] == 200:
        if answer["truncated"] or parse_error or not body:
            result["error"] = "HTTP 200 but %s" % (parse_error or "the body is empty")
            result["error_class"] = "bad_json"
        else:
            seen = result["json"].get("status") if isinstance(result["json"], dict) else None
            if seen == expected_status:
                result["healthy"] = True
            else:
                result["error"] = "health status is %s, expected %r" % (
                    "missing" if seen is None else repr(seen)[:100], expected_status)
                result["error_class"] = "unhealthy"
    elif result["error"] is None:
        result["error"] = "HTTP %s, expected 200" % answer["status"]
        result["error_class"] = "other"
    if not result["healthy"]:
        result["body_excerpt"] = text_excerpt(body, EXCERPT_CHARS)
    return result


# ---------------------------------------------------------------------------------------
# docs


class _AssetParser(HTMLParser):
    """Collects script src and link href (stylesheet/icon/preload) from an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.assets = []
        self.swagger_div = False
        self.title = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        values = dict((key, value or "") for key, value in attrs)
        if tag == "script" and values.get("src"):
            self.assets.append(values["src"])
        elif tag == "link" and values.get("href"):
            rel = values.get("rel", "").lower()
            if any(word in rel.split() for word in ("stylesheet", "icon", "preload", "modulepreload")):
                self.assets.append(values["href"])
        elif tag == "div" and values.get("id") == "swagger-ui":
            self.swagger_div = True
        elif tag == "title" and self.title is None:
            self._in_title = True

    def handle_data(self, data):
        if self._in_title:
            self.title = (data or "").strip()[:200]
            self._in_title = False


def _join(page_url, reference):
    """reference made absolute against page_url (bounded), or None when it is not a valid URL."""
    try:
        return urljoin(page_url, reference.strip())[:MAX_ASSET_URL]
    except ValueError:
        return None


def parse_swagger_page(html, page_url):
    """Read a /docs page: is it Swagger UI, which assets it loads, which OpenAPI URL it names.

    ``html`` is text (or bytes, decoded as UTF-8 with replacement); ``page_url`` is the URL
    it came from, used to make asset and OpenAPI URLs absolute. Returns a dict:
    is_swagger_ui (bool), asset_urls (absolute, in page order, unique, at most 50),
    openapi_url (absolute URL from the SwaggerUIBundle call, or None).
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    html = html or ""
    parser = _AssetParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # pylint: disable=broad-exception-caught
        pass  # HTMLParser is lenient; keep whatever it collected before giving up.
    assets = []
    for raw in parser.assets:
        absolute = _join(page_url, raw)
        if absolute and absolute not in assets:
            assets.append(absolute)
        if len(assets) >= MAX_ASSETS:
            break
    call = _SWAGGER_CALL.search(html)
    openapi_url = None
    if call:
        match = _SWAGGER_URL.search(html, call.end() - 1)
        if match:
            openapi_url = _join(page_url, match.group(2))
    has_bundle_js = any("swagger-ui-bundle" in asset.lower() for asset in assets)
    is_swagger_ui = bool(call) and (parser.swagger_div or has_bundle_js)
    return {"is_swagger_ui": is_swagger_ui, "asset_urls": assets, "openapi_url": openapi_url}


def _same_origin(url, origin):
    try:
        return parse_url(url, name="openapi url")["origin"] == origin
    except ProbeInputError:
        return False


def _looks_like_app_404(answer):
    """A 404 from the FastAPI/Starlette app itself (JSON {"detail": ...} or uvicorn server)."""
    if "uvicorn" in (answer["server"] or "").lower():
        return True
    value, dummy = _strict_json(answer["body"][:4096]) if not answer["truncated"] else (None, None)
    return isinstance(value, dict) and "detail" in value


def probe_docs(base_url=DEFAULT_BASE_URL, docs_path="/docs", openapi_path=None, timeout=5,
               max_bytes=DOCS_MAX_BYTES, validate_certs=True):
    """GET base_url + docs_path, then the OpenAPI document it references (or openapi_path).

    The OpenAPI URL is, in order: ``openapi_path`` when given; the ``url`` of the page's
    SwaggerUIBundle call when it is on the same origin as base_url; ``/openapi.json``.
    Asset URLs (the CDN's JS/CSS) are only reported, never fetched. At most two requests,
    so the probe takes at most 2 * timeout.

    problem: None when docs_ok; else docs_unavailable (/docs 5xx), docs_timeout,
    unreachable (refused, reset, dns, tls, other), docs_disabled (404 from the app),
    not_swagger_ui (any other answer that is not a Swagger UI page, e.g. a 404 from another
    server), openapi_broken (/docs fine but the OpenAPI document is not a 200 valid JSON
    document with an ``openapi`` version).
    Trusts its arguments (checked at the caller's edge, _argspec.validate): base_url a valid
    http(s) URL, docs_path and openapi_path URL paths (openapi_path None or "": not given).
    """
    origin = parse_url(base_url, name="base_url")["origin"]
    base = base_url.strip().rstrip("/")

    answer = http_get(base + docs_path, timeout, max_bytes=max_bytes, validate_certs=validate_certs,
                      headers={"Accept": "text/html,*/*"}, name="base_url")
    docs = {
        "url": answer["url"], "status": answer["status"], "elapsed": answer["elapsed"],
        "reachable": answer["reachable"], "error": answer["error"], "error_class": answer["error_class"],
        "server": answer["server"], "is_swagger_ui": False, "asset_urls": [], "body_excerpt": None,
    }
    page = {"openapi_url": None}
    if answer["status"] == 200:
        page = parse_swagger_page(answer["body"], answer["url"])
        docs["is_swagger_ui"] = page["is_swagger_ui"]
        docs["asset_urls"] = page["asset_urls"]
        if answer["error"] is None and not page["is_swagger_ui"]:
            docs["error"] = "%s answered 200 but is not a Swagger UI page" % docs_path
            if answer["truncated"]:
                docs["error"] += " (page larger than max_bytes %d)" % max_bytes
            docs["error_class"] = "other"
    elif answer["status"] is not None and answer["error"] is None:
        docs["error"] = "HTTP %s, expected 200" % answer["status"]
        docs["error_class"] = "other"
    if docs["error"] is not None:
        docs["body_excerpt"] = text_excerpt(answer["body"], EXCERPT_CHARS)

    if openapi_path:
        openapi_url = base + openapi_path
    elif page["openapi_url"] and _same_origin(page["openapi_url"], origin):
        openapi_url = page["openapi_url"]
    else:
        openapi_url = base + DEFAULT_OPENAPI_PATH
    openapi = _probe_openapi(openapi_url, timeout, max_bytes, validate_certs)

    docs_ok = bool(docs["status"] == 200 and docs["is_swagger_ui"] and openapi["status"] == 200
                   and openapi["valid_json"] and openapi["openapi_version"])
    return {
        "base_url": base_url.strip(),
        "docs": docs,
        "openapi": openapi,
        "docs_ok": docs_ok,
        "problem": None if docs_ok else _docs_problem(docs, answer),
    }


def _docs_problem(docs, answer):
    status = docs["status"]
    if status is None:
        return "docs_timeout" if docs["error_class"] == "timeout" else "unreachable"
    if status >= 500:
        return "docs_unavailable"
    if status == 404:
        return "docs_disabled" if _looks_like_app_404(answer) else "not_swagger_ui"
    if status != 200 or not docs["is_swagger_ui"]:
        return "not_swagger_ui"
    if docs["error_class"] == "timeout":
        return "docs_timeout"  # the page started but did not finish in time
    if docs["error_class"] is not None:
        return "unreachable"
    return "openapi_broken"


def _probe_openapi(url, timeout, max_bytes, validate_certs):
    answer = http_get(url, timeout, max_bytes=max_bytes, validate_certs=validate_certs,
                      headers={"Accept": "application/json"}, name="openapi_path")
    openapi = {
        "url": answer["url"], "status": answer["status"], "elapsed": answer["elapsed"],
        "reachable": answer["reachable"], "error": answer["error"], "error_class": answer["error_class"],
        "valid_json": False, "openapi_version": None, "path_count": None, "body_excerpt": None,
    }
    if answer["status"] == 200 and answer["error"] is None:
        if answer["truncated"]:
            document, reason = None, "the OpenAPI document is larger than max_bytes (%d); raise max_bytes" % max_bytes
        else:
            document, reason = _strict_json(answer["body"])
        if reason is None:
            openapi["valid_json"] = True
            if not isinstance(document, dict):
                reason = "the OpenAPI document is JSON but not an object"
            else:
                version = document.get("openapi")
                if isinstance(version, str) and version:
                    openapi["openapi_version"] = version[:50]
                else:
                    reason = "the OpenAPI document has no 'openapi' version"
                paths = document.get("paths")
                if isinstance(paths, dict):
                    openapi["path_count"] = len(paths)
        if reason is not None:
            openapi["error"] = reason
            openapi["error_class"] = "bad_json"
    elif answer["status"] is not None and answer["error"] is None:
        openapi["error"] = "HTTP %s, expected 200" % answer["status"]
        openapi["error_class"] = "other"
    if openapi["error"] is not None:
        openapi["body_excerpt"] = text_excerpt(answer["body"], EXCERPT_CHARS)
    return openapi
