# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options and attributes that the beatsync.ops probes share.

    Each section documents the options of the dict of the same name in
    plugins/module_utils/_argspec.py (PORT, SERVICE, TIMEOUT, HTTP_PATHS, APP).
    """

    # Every probe is read-only: check mode runs it as usual, there is never a diff.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - This module only reads; it never changes the host, so it reports C(changed=false) and runs the same in check mode.
  - It needs only the Python standard library on the managed host.
"""

    TIMEOUT = r"""
options:
  timeout:
    description:
      - Seconds to wait for each network operation or command before giving up.
      - Must be greater than 0.
    type: float
    default: 5
"""

    SERVICE = r"""
options:
  service:
    description:
      - Name of the systemd unit that runs BeatSync.
    type: str
    default: beatsync.service
"""

    PORT = r"""
options:
  port:
    description:
      - TCP port BeatSync listens on, from 1 to 65535.
    type: int
    default: 8000
"""

    # The endpoints of the diagnose module and the outside check (external_probe).
    HTTP_PATHS = r"""
options:
  health_path:
    description: Path of the health endpoint.
    type: str
    default: /api/health
  docs_path:
    description: Path of the Swagger UI page.
    type: str
    default: /docs
  openapi_path:
    description:
      - Path of the OpenAPI document. By default the one the C(/docs) page references, else C(/openapi.json).
    type: str
  expected_status:
    description: Value of the C(status) key in the health JSON that means healthy.
    type: str
    default: healthy
"""

    # The application options of the diagnose module and action (_argspec.APP).
    APP = r"""
options:
  host:
    description:
      - Address the on-host HTTP probes connect to on the managed host.
    type: str
    default: 127.0.0.1
  app_dir:
    description: The application's directory (the unit's C(WorkingDirectory)), absolute.
    type: path
    default: /opt/beatsync/web_service/backend
  app_spec:
    description: The ASGI application uvicorn serves, as on its command line.
    type: str
    default: main:app
"""
