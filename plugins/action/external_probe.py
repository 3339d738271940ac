# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin: the outside check runs in the controller's worker, no module process."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError
from ansible_collections.beatsync.ops.plugins.module_utils.diagnosis import diagnose

ARGUMENT_SPEC = dict(
    host=dict(type="str", required=True),
    port=dict(type="int", default=8000),
    timeout=dict(type="float", default=5),
    health_path=dict(type="str", default="/api/health"),
    docs_path=dict(type="str", default="/docs"),
    openapi_path=dict(type="str"),
    expected_status=dict(type="str", default="healthy"),
)

_CONTROLLER_NAMES = ("localhost", "127.0.0.1", "::1")

# What diagnose() needs besides the HTTP options; unused by the health and docs probes.
_FIXED = dict(service="beatsync.service", app_dir="/", app_spec="main:app", journal_lines=1,
              ssh_port=None, probes=["health", "docs"])


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
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not str(args["host"]).strip():
            return dict(result, failed=True, msg="host must name the address to probe, got an empty string")
        params = dict(_FIXED, **args)
        if self._delegated_elsewhere():
            # From a bastion or monitoring host: the same probes, as a module run there.
            module_args = {key: value for key, value in args.items() if value is not None}
            module_args["probes"] = _FIXED["probes"]
            result.update(self._execute_module(module_name="beatsync.ops.diagnose", module_args=module_args,
                                               task_vars=task_vars, tmp=tmp))
            result["probed_from"] = self._task.delegate_to
            return result
        del tmp
        try:
            result.update(diagnose(params))
        except ProbeInputError as exc:
            return dict(result, failed=True, msg=str(exc))
        result["changed"] = False
        result["probed_from"] = "controller"
        return result
