# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin: /api/health and /docs from outside, in the controller's worker (no module
process), or delegated to a bastion (the diagnose module's health and docs probes there).
Facts only; beatsync.ops.diagnose names the root cause."""

from __future__ import annotations

import time

from ansible.plugins.action import ActionBase

from ansible_collections.beatsync.ops.plugins.module_utils._argspec import HTTP_PATHS, PORT, TIMEOUT, spec, validate
from ansible_collections.beatsync.ops.plugins.module_utils._common import elapsed_since
from ansible_collections.beatsync.ops.plugins.module_utils._outside import http_facts
from ansible_collections.beatsync.ops.plugins.module_utils._validate import ProbeInputError

ARGUMENT_SPEC = spec(PORT, TIMEOUT, HTTP_PATHS, dict(host=dict(type="str", required=True)))

_CONTROLLER_NAMES = ("localhost", "127.0.0.1", "::1")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def _delegated_elsewhere(self):
        """Delegated to a host reached through a real connection (not the controller itself)."""
        if not self._task.delegate_to or self._task.delegate_to in _CONTROLLER_NAMES:
            return False
        transport = getattr(self._connection, "transport", "") or ""
        return transport.rsplit(".", 1)[-1] != "local"

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            params = validate(args)
        except ProbeInputError as exc:
            return dict(result, failed=True, msg=str(exc))
        if self._delegated_elsewhere():
            module_args = {key: value for key, value in params.items() if value is not None}
            module_args["probes"] = ["health", "docs"]
            module_args["check_drift"] = False
            inside = self._execute_module(module_name="beatsync.ops.diagnose", module_args=module_args, task_vars=task_vars)
            if inside.get("failed"):
                return dict(result, **inside)
            return dict(result, changed=False, probes=inside["probes"], elapsed=inside.get("elapsed"),
                        probed_from=self._task.delegate_to)
        started = time.monotonic()
        probes = http_facts(params)
        return dict(result, changed=False, probes=probes, elapsed=elapsed_since(started), probed_from="controller")
