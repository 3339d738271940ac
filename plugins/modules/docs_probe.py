#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: docs_probe
short_description: Check the BeatSync API docs page and its OpenAPI document over HTTP
version_added: 0.1.0
description:
  - Sends a bounded HTTP GET to O(base_url) + O(docs_path) (the runbook's C(curl http://localhost:8000/docs)),
    recognises a Swagger UI page, lists the asset URLs it loads, then fetches the OpenAPI document it references
    and checks that it is valid JSON with an C(openapi) version.
  - The asset URLs (Swagger UI's JavaScript and CSS, usually on a CDN) are only reported, never fetched, so that
    a blank page caused by an unreachable CDN is visible without sending traffic anywhere else.
  - The OpenAPI URL is O(openapi_path) when given, else the C(url) of the page's C(SwaggerUIBundle) call when it is
    on the same scheme, host and port as O(base_url), else C(/openapi.json).
  - RV(problem) tells the incidents apart, for example a 503 on C(/docs) (V(docs_unavailable)), a page that
    never answers (V(docs_timeout)), docs turned off in the app (V(docs_disabled)) and a failing OpenAPI
    generation (V(openapi_broken)).
  - At most two requests are made, each bounded by O(timeout) seconds in total and O(max_bytes) of body.
    Failures are reported in the result, never as a module failure; only invalid options make the module fail.
author:
  - BeatSync operations (@beatsync)
options:
  base_url:
    description:
      - The service's base URL, C(http://) or C(https://), with a host and an optional port from 1 to 65535.
    type: str
    default: http://127.0.0.1:8000
  docs_path:
    description:
      - The path of the docs page, starting with C(/).
    type: str
    default: /docs
  openapi_path:
    description:
      - The path of the OpenAPI document, starting with C(/).
      - When not set, the URL the Swagger UI page references is used, or C(/openapi.json).
    type: str
  max_bytes:
    description:
      - The most bytes of body to read from each URL; a longer OpenAPI document is reported as not valid.
    type: int
    default: 1048576
  validate_certs:
    description:
      - Whether to validate the server certificate for an C(https://) O(base_url).
    type: bool
    default: true
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.timeout
seealso:
  - module: beatsync.ops.health_probe
"""

EXAMPLES = r"""
- name: Does /docs work
  beatsync.ops.docs_probe:
    base_url: http://127.0.0.1:8000
    timeout: 5
  register: docs

- name: Report why the API docs do not open
  ansible.builtin.debug:
    msg: "/docs problem: {{ docs.problem }} (HTTP {{ docs.docs.status }}, server {{ docs.docs.server }})"
  when: not docs.docs_ok

- name: Show the CDN assets the browser must be able to load
  ansible.builtin.debug:
    var: docs.docs.asset_urls
"""

RETURN = r"""
base_url:
  description: The base URL probed.
  returned: always
  type: str
  sample: http://127.0.0.1:8000
docs:
  description: What O(base_url) + O(docs_path) answered.
  returned: always
  type: dict
  contains:
    url:
      description: The docs URL requested.
      type: str
      sample: http://127.0.0.1:8000/docs
    status:
      description: The HTTP status, or V(null) when no response arrived.
      type: int
      sample: 503
    elapsed:
      description: Seconds the request took.
      type: float
      sample: 0.0031
    reachable:
      description: Whether an HTTP response arrived (any status).
      type: bool
      sample: true
    error:
      description: What went wrong with the docs page, or V(null).
      type: str
      sample: HTTP 503 Service Unavailable
    error_class:
      description:
        - V(null), or one of V(refused), V(timeout), V(reset), V(dns), V(tls), V(http_error) (status 400 or more),
          V(other) (another status, a page that is not Swagger UI, or another network error).
      type: str
      sample: http_error
    server:
      description: The C(Server) response header (C(uvicorn), or a proxy or another server), or V(null).
      type: str
      sample: uvicorn
    is_swagger_ui:
      description: Whether the page is a Swagger UI page (a C(SwaggerUIBundle) call and its container or script).
      type: bool
      sample: true
    asset_urls:
      description: Absolute URLs of the scripts, stylesheets and icons the page loads (never fetched).
      type: list
      elements: str
      sample:
        - https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css
        - https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js
    body_excerpt:
      description: The first 512 characters of the body when there is an RV(docs.error), else V(null).
      type: str
      sample: '{"detail":"Service Unavailable"}'
openapi:
  description: What the OpenAPI URL answered (it is requested whatever happened to the docs page).
  returned: always
  type: dict
  contains:
    url:
      description: The OpenAPI URL requested.
      type: str
      sample: http://127.0.0.1:8000/openapi.json
    status:
      description: The HTTP status, or V(null) when no response arrived.
      type: int
      sample: 200
    elapsed:
      description: Seconds the request took.
      type: float
      sample: 0.0102
    reachable:
      description: Whether an HTTP response arrived (any status).
      type: bool
      sample: true
    error:
      description: What went wrong with the OpenAPI document, or V(null).
      type: str
      sample: HTTP 500 Internal Server Error
    error_class:
      description:
        - V(null), or one of V(refused), V(timeout), V(reset), V(dns), V(tls), V(http_error), V(other), or
          V(bad_json) (HTTP 200 but not a JSON object with an C(openapi) version, or larger than O(max_bytes)).
      type: str
      sample: http_error
    valid_json:
      description: Whether the HTTP 200 body parsed as JSON.
      type: bool
      sample: true
    openapi_version:
      description: The document's C(openapi) field, or V(null).
      type: str
      sample: 3.1.0
    path_count:
      description: How many entries the document's C(paths) object has, or V(null).
      type: int
      sample: 4
    body_excerpt:
      description: The first 512 characters of the body when there is an RV(openapi.error), else V(null).
      type: str
      sample: Internal Server Error
docs_ok:
  description: True when the docs page is a Swagger UI page answered with 200 and its OpenAPI document is valid.
  returned: always
  type: bool
  sample: false
problem:
  description:
    - V(null) when RV(docs_ok), otherwise the first thing that is wrong.
    - V(unreachable) no HTTP answer on C(/docs) (refused, reset, DNS, TLS).
    - V(docs_timeout) C(/docs) did not answer within O(timeout).
    - V(docs_unavailable) C(/docs) answered 5xx (see RV(docs.status)), the runbook's 503.
    - V(docs_disabled) C(/docs) answered 404 from the app itself (JSON C(detail) body or C(uvicorn) server).
    - V(not_swagger_ui) C(/docs) answered something that is not a Swagger UI page, such as a 404 from another
      server on the port, a redirect or another page.
    - V(openapi_broken) the docs page is fine but the OpenAPI document is not (non-200, timeout, not JSON, no
      C(openapi) version).
  returned: always
  type: str
  sample: docs_unavailable
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import TIMEOUT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_docs
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=spec(TIMEOUT, dict(
            base_url=dict(type="str", default="http://127.0.0.1:8000"),
            docs_path=dict(type="str", default="/docs"),
            openapi_path=dict(type="str"),
            max_bytes=dict(type="int", default=1048576),
            validate_certs=dict(type="bool", default=True),
        )),
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_docs(**params)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
