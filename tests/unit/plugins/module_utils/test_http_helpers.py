# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the HTTP probes: URL validation, text excerpts, Swagger UI page parsing,
strict JSON and the docs problem classification. No network."""

from __future__ import annotations

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _probe_http as probe_http
from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError
from ansible_collections.beatsync.ops.plugins.module_utils._http import parse_url, text_excerpt

# What FastAPI's get_swagger_ui_html(openapi_url="/openapi.json") renders.
FASTAPI_PAGE = """
    <!DOCTYPE html>
    <html>
    <head>
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link type="text/css" rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
    <link rel="shortcut icon" href="https://fastapi.tiangolo.com/img/favicon.png">
    <title>BeatSync - Swagger UI</title>
    </head>
    <body>
    <div id="swagger-ui">
    </div>
    <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
    <!-- `SwaggerUIBundle` is now available on the page -->
    <script>
    const ui = SwaggerUIBundle({
        url: '/openapi.json',
    "dom_id": "#swagger-ui",
"layout": "BaseLayout",
"deepLinking": true,
"showExtensions": true,
"showCommonExtensions": true,
"oauth2RedirectUrl": window.location.origin + '/docs/oauth2-redirect',
    presets: [
        SwaggerUIBundle.presets.apis,
        SwaggerUIBundle.SwaggerUIStandalonePreset
        ],
    })
    </script>
    </body>
    </html>
"""


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8000/api/health", ("http", "127.0.0.1", 8000, "/api/health", "http://127.0.0.1:8000")),
    ("https://example.test/x?y=1", ("https", "example.test", 443, "/x?y=1", "https://example.test:443")),
    ("http://localhost", ("http", "localhost", 80, "/", "http://localhost:80")),
    ("HTTP://[::1]:8000/docs", ("http", "::1", 8000, "/docs", "http://[::1]:8000")),
    ("http://user:pw@127.0.0.1:65535/", ("http", "127.0.0.1", 65535, "/", "http://127.0.0.1:65535")),
    ("  http://127.0.0.1:1/  ", ("http", "127.0.0.1", 1, "/", "http://127.0.0.1:1")),
])
def test_parse_url_accepts(url, expected):
    parts = parse_url(url)
    assert (parts["scheme"], parts["host"], parts["port"], parts["path"], parts["origin"]) == expected


@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1:0/", "the port in url must be from 1 to 65535, got 0"),
    ("http://127.0.0.1:70000/", "the port in url must be from 1 to 65535, got 70000"),
    ("http://127.0.0.1:abc/", "the port in url must be an integer from 1 to 65535, got 'abc'"),
    ("http://[::1]:-1/", "the port in url must be from 1 to 65535, got -1"),
    ("127.0.0.1:8000/api/health", "url must start with http:// or https://, got '127.0.0.1:8000/api/health'"),
    ("/api/health", "url must start with http:// or https://, got '/api/health'"),
    ("ftp://127.0.0.1/", "url must start with http:// or https://, got 'ftp://127.0.0.1/'"),
    ("http:127.0.0.1/", "url must start with http:// or https://, got 'http:127.0.0.1/'"),
    ("http:///x", "url has no host name, got 'http:///x'"),
    ("http://:8000/", "url has no host name, got 'http://:8000/'"),
    ("http://[::1/", "url is not a valid URL (Invalid IPv6 URL), got 'http://[::1/'"),
    ("http://[abc]/", "url is not a valid URL ('abc' does not appear to be an IPv4 or IPv6 address), got 'http://[abc]/'"),
    ("http://[::1]x/", "url has a malformed IPv6 address in 'http://[::1]x/'"),
    ("http://127.0.0.1/a b", "url must not contain spaces or control characters, got 'http://127.0.0.1/a b'"),
    ("", "url must be a non-empty http:// or https:// URL, got ''"),
    (None, "url must be a non-empty http:// or https:// URL, got None"),
    (8000, "url must be a non-empty http:// or https:// URL, got 8000"),
])
def test_parse_url_rejects_naming_the_option(url, message):
    with pytest.raises(ProbeInputError) as info:
        parse_url(url)
    assert str(info.value) == message


def test_parse_url_names_the_given_option():
    with pytest.raises(ProbeInputError, match="^the port in base_url must be from 1 to 65535, got 0$"):
        parse_url("http://h:0", name="base_url")


def test_text_excerpt_is_bounded_and_printable():
    assert text_excerpt(b"") is None
    assert text_excerpt(None) is None
    assert text_excerpt(b"hello\n\tworld") == "hello\n\tworld"
    assert text_excerpt(b"ok\xff\x00\x1b") == "ok\ufffd\ufffd\ufffd"
    long = text_excerpt(b"x" * (5 * 1024 * 1024))
    assert long == "x" * 512 + " [...]"
    assert text_excerpt("é" * 600, limit=10) == "é" * 10 + " [...]"
    assert text_excerpt(b"abc", limit=3) == "abc"
    # a multi-byte character cut in half by the byte bound is replaced, never an error
    assert text_excerpt("€".encode("utf-8") * 1000, limit=4) == "€€€€ [...]"


def test_parse_fastapi_swagger_page():
    page = probe_http.parse_swagger_page(FASTAPI_PAGE, "http://127.0.0.1:8000/docs")
    assert page == {
        "is_swagger_ui": True,
        "asset_urls": [
            "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
            "https://fastapi.tiangolo.com/img/favicon.png",
            "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js",
        ],
        "openapi_url": "http://127.0.0.1:8000/openapi.json",
    }


def test_parse_swagger_page_variants():
    page = FASTAPI_PAGE.replace("url: '/openapi.json'", '"url": "api/v1/openapi.json"').replace(
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/", "/static/")
    parsed = probe_http.parse_swagger_page(page.encode("utf-8"), "http://[::1]:8000/docs/")
    assert parsed["is_swagger_ui"] is True
    assert parsed["openapi_url"] == "http://[::1]:8000/docs/api/v1/openapi.json"
    assert parsed["asset_urls"][0] == "http://[::1]:8000/static/swagger-ui.css"
    # several specs (urls: [...]): the first one, which Swagger UI shows first
    multi = FASTAPI_PAGE.replace("url: '/openapi.json',", "urls: [{url: '/a.json', name: 'a'}, {url: '/b.json'}],")
    assert probe_http.parse_swagger_page(multi, "http://h/docs")["openapi_url"] == "http://h/a.json"
    # references that are not valid URLs are skipped, never an error
    odd = FASTAPI_PAGE.replace("/openapi.json", "http://[bad/openapi.json").replace(
        "https://fastapi.tiangolo.com/img/favicon.png", "http://[::1/x.png")
    parsed = probe_http.parse_swagger_page(odd, "http://h/docs")
    assert parsed["openapi_url"] is None
    assert len(parsed["asset_urls"]) == 2


@pytest.mark.parametrize("html", [
    "",
    "<html><body>Welcome to nginx!</body></html>",
    '{"detail": "Not Found"}',
    "<div id='swagger-ui'></div> no bundle call",
    "\x00\xff<<<script src=>>>",
    "<script>SwaggerUIBundle({url: '/x'})",   # the call without container or bundle script
])
def test_parse_pages_that_are_not_swagger_ui(html):
    page = probe_http.parse_swagger_page(html, "http://127.0.0.1:8000/docs")
    assert page["is_swagger_ui"] is False


def test_asset_urls_are_unique_and_bounded():
    html = "".join('<script src="/s%d.js"></script><script src="/s%d.js"></script>' % (i, i) for i in range(200))
    page = probe_http.parse_swagger_page(html, "http://h/docs")
    assert len(page["asset_urls"]) == probe_http.MAX_ASSETS
    assert page["asset_urls"][:2] == ["http://h/s0.js", "http://h/s1.js"]


@pytest.mark.parametrize("data, value, reason", [
    (b'{"status": "healthy"}', {"status": "healthy"}, None),
    (b"[1, 2]", [1, 2], None),
    (b"NaN", None, "body is not valid JSON: NaN is not valid JSON"),
    (b"\xff", None, "body is not valid UTF-8 (byte 0)"),
    (b"[" * 100000, None, "JSON nested too deeply"),
])
def test_strict_json(data, value, reason):
    parsed, why = probe_http._strict_json(data)  # pylint: disable=protected-access
    assert parsed == value
    if reason is None:
        assert why is None
    else:
        assert why.startswith(reason)


def _docs(status, error_class=None, is_swagger_ui=False):
    return {"status": status, "error_class": error_class, "is_swagger_ui": is_swagger_ui}


def _answer(server="uvicorn", body=b'{"detail":"Not Found"}'):
    return {"server": server, "body": body, "truncated": False}


@pytest.mark.parametrize("docs, answer, problem", [
    (_docs(None, "refused"), _answer(None, b""), "unreachable"),
    (_docs(None, "reset"), _answer(None, b""), "unreachable"),
    (_docs(None, "timeout"), _answer(None, b""), "docs_timeout"),
    (_docs(503, "http_error"), _answer(), "docs_unavailable"),
    (_docs(502, "http_error"), _answer("nginx", b"<html>Bad Gateway</html>"), "docs_unavailable"),
    (_docs(404, "http_error"), _answer(), "docs_disabled"),
    (_docs(404, "http_error"), _answer("nginx", b'{"detail": "Not Found"}'), "docs_disabled"),
    (_docs(404, "http_error"), _answer("SimpleHTTP/0.6 Python/3.12", b"<html>404</html>"), "not_swagger_ui"),
    (_docs(200, "other"), _answer(), "not_swagger_ui"),
    (_docs(307, "other"), _answer(), "not_swagger_ui"),
    (_docs(200, "timeout", True), _answer(), "docs_timeout"),
    (_docs(200, None, True), _answer(), "openapi_broken"),
])
def test_docs_problem(docs, answer, problem):
    assert probe_http._docs_problem(docs, answer) == problem  # pylint: disable=protected-access


@pytest.mark.parametrize("host,expected", [
    ("127.0.0.1", "http://127.0.0.1:8000"), ("::1", "http://[::1]:8000"), ("[::1]", "http://[::1]:8000"),
    ("beatsync.example", "http://beatsync.example:8000"),
])
def test_base_url_brackets_ipv6(host, expected):
    from ansible_collections.beatsync.ops.plugins.module_utils._http import base_url
    assert base_url(host, 8000) == expected
