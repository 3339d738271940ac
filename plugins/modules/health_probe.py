#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_probe
short_description: Check the BeatSync health endpoint over HTTP
version_added: 0.1.0
description:
  - Sends one bounded HTTP GET to O(url) (by default C(http://127.0.0.1:8000/api/health)), the runbook's
    C(curl http://localhost:8000/api/health), and reports what came back as facts.
  - The service is RV(healthy) when the answer is HTTP 200 with a JSON object whose C(status) is O(expected_status).
  - When it is not healthy the probe retries up to O(retries) times, waiting O(delay) seconds between attempts.
    No attempt starts after O(retries) x O(delay) + O(timeout) seconds, so a server that hangs every request
    costs about that plus one O(timeout), however many retries are allowed.
  - Every attempt is bounded by O(timeout) seconds in total (connect, headers and body, even against a server that
    trickles bytes forever) and by O(max_bytes) of body. Failures are reported in RV(error) and RV(error_class),
    never as a module failure; only invalid options make the module fail.
author:
  - BeatSync operations (@beatsync)
options:
  url:
    description:
      - The health URL, C(http://) or C(https://), with a host and an optional port from 1 to 65535.
    type: str
    default: http://127.0.0.1:8000/api/health
  retries:
    description:
      - How many more attempts to make, from 0 to 100, when an attempt is not healthy.
    type: int
    default: 0
  delay:
    description:
      - Seconds to wait between attempts, from 0 to 60.
    type: float
    default: 1
  expected_status:
    description:
      - The value of the C(status) field of the JSON answer that means healthy.
    type: str
    default: healthy
  max_bytes:
    description:
      - The most bytes of body to read; a longer body is cut off and is not parsed as JSON.
    type: int
    default: 65536
  validate_certs:
    description:
      - Whether to validate the server certificate for an C(https://) O(url).
    type: bool
    default: true
extends_documentation_fragment:
  - beatsync.ops.probe
  - beatsync.ops.probe.timeout
seealso:
  - module: beatsync.ops.docs_probe
"""

EXAMPLES = r"""
- name: Is BeatSync healthy
  beatsync.ops.health_probe:
  register: health

- name: Wait up to about 30 seconds for the service to come back after a restart
  beatsync.ops.health_probe:
    url: http://127.0.0.1:8000/api/health
    timeout: 2
    retries: 10
    delay: 1
  register: health

- name: Stop when the health endpoint is down
  ansible.builtin.assert:
    that: health.healthy
    fail_msg: "health check failed ({{ health.error_class }}): {{ health.error }}"
"""

RETURN = r"""
url:
  description: The URL probed.
  returned: always
  type: str
  sample: http://127.0.0.1:8000/api/health
reachable:
  description: Whether an HTTP response arrived on the last attempt (any status).
  returned: always
  type: bool
  sample: true
status:
  description: The HTTP status of the last attempt, or V(null) when no response arrived.
  returned: always
  type: int
  sample: 200
json:
  description: The body of the last attempt parsed as JSON (whatever the status), or V(null) when it is not JSON.
  returned: always
  type: raw
  sample: {"status": "healthy"}
healthy:
  description: True when the last attempt answered HTTP 200 with a JSON object whose C(status) is O(expected_status).
  returned: always
  type: bool
  sample: true
expected_status:
  description: The value of O(expected_status) used.
  returned: always
  type: str
  sample: healthy
elapsed:
  description: Seconds the whole probe took, all attempts and delays included.
  returned: always
  type: float
  sample: 0.0042
server:
  description: The C(Server) response header (for example C(uvicorn), or a proxy in front of it), or V(null).
  returned: always
  type: str
  sample: uvicorn
error:
  description: Why the last attempt was not healthy, or V(null) when it was.
  returned: always
  type: str
  sample: connection refused
error_class:
  description:
    - V(null) when healthy, otherwise one of V(refused), V(timeout), V(reset) (connection closed early),
      V(dns), V(tls), V(http_error) (status 400 or more), V(bad_json) (HTTP 200 but the body is not JSON),
      V(unhealthy) (HTTP 200 JSON whose C(status) is not O(expected_status)), V(other) (any other status or
      network error, or a malformed HTTP response).
  returned: always
  type: str
  sample: refused
attempts:
  description: How many attempts were made.
  returned: always
  type: int
  sample: 1
body_excerpt:
  description:
    - The first 512 characters of the last body when it was not healthy (invalid UTF-8 and control characters
      replaced), or V(null).
  returned: always
  type: str
  sample: '{"detail":"health check failed"}'
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import TIMEOUT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_health
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError


def main():
    module = AnsibleModule(
        argument_spec=spec(TIMEOUT, dict(
            url=dict(type="str", default="http://127.0.0.1:8000/api/health"),
            retries=dict(type="int", default=0),
            delay=dict(type="float", default=1),
            expected_status=dict(type="str", default="healthy"),
            max_bytes=dict(type="int", default=65536),
            validate_certs=dict(type="bool", default=True),
        )),
        supports_check_mode=True,
    )
    try:
        params = validate(module.params)
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    facts = probe_health(**params)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
