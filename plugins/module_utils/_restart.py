# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""The restart of a repair in one run on the host (beatsync.ops.restart, issue 13).

In this order, each step optional: count the restart on the host's restart budget
(_budget.consume), stop the unit bounded (``systemctl stop --no-block``, then SIGKILL through
systemd after ``stop_grace`` seconds), ``systemctl reset-failed``, start and enable it, wait for
/api/health (_probe_http.probe_health) and look at /docs once (_probe_http.probe_docs).

Every refusal happens before anything is changed (a unit that is not loaded or masked, a spent
budget); a failure after a change raises RestartError carrying what was done so far.
Trusts its arguments (checked at the module's edge). Standard library only.
"""

from __future__ import annotations

import time

from ansible_collections.beatsync.ops.plugins.module_utils import _budget
from ansible_collections.beatsync.ops.plugins.module_utils._common import elapsed_since, find_bin, run_cmd
from ansible_collections.beatsync.ops.plugins.module_utils._probe_http import probe_docs, probe_health
from ansible_collections.beatsync.ops.plugins.module_utils._systemd import is_no_systemd_message, parse_show, to_int

# States in which the unit has (or is about to have) processes: stop it first.
RUNNING_STATES = ("active", "activating", "deactivating", "reloading")
# What "stopped" means: systemd starts neither again by itself.
DOWN_STATES = ("inactive", "failed")
# UnitFileState values for which `systemctl is-enabled` exits 0: nothing to enable.
ENABLED_STATES = ("enabled", "enabled-runtime", "alias", "static", "indirect", "generated", "transient")
KILL_WAIT = 15.0         # seconds after SIGKILL before the stop fails
POLL_INTERVAL = 0.1      # how often ActiveState is read while waiting
SHOW_TIMEOUT = 30.0      # bounds of the systemctl calls
START_TIMEOUT = 120.0
SYSLOG_TAG = "beatsync-ops"
_SHOW = "Id,LoadState,ActiveState,SubState,Result,UnitFileState,MainPID"
STEPS = ("budget", "stop", "reset_failed", "start", "enable", "health", "docs")


class RestartError(Exception):
    """A refusal or a failure: msg, a code, and the result as far as it got."""

    def __init__(self, msg, code, result, extra=None):
        super().__init__(msg)
        self.msg = msg
        self.code = code
        self.result = result
        self.extra = extra or {}


def _log_kill(message):
    """Say in the system log why the unit is killed (as `logger -t beatsync-ops` did); never raises."""
    try:
        import syslog  # pylint: disable=import-outside-toplevel
        syslog.openlog(SYSLOG_TAG, 0, syslog.LOG_DAEMON)
        syslog.syslog(syslog.LOG_WARNING, message)
        syslog.closelog()
    except Exception:  # pylint: disable=broad-except
        pass


class _Systemctl:
    def __init__(self, path, service):
        self.path, self.service = path, service

    def run(self, *args, timeout=SHOW_TIMEOUT):
        return run_cmd([self.path] + list(args) + [self.service], timeout=timeout)

    def show(self):
        """The unit's properties, or raise RestartError (systemd down, systemctl failing)."""
        cmd = self.run("show", "--no-pager", "--property=" + _SHOW)
        if cmd["rc"] != 0 or is_no_systemd_message(cmd["stderr"]):
            detail = cmd["error"] or (cmd["stderr"].strip() or cmd["stdout"].strip())[:500]
            if is_no_systemd_message(cmd["stderr"]):
                detail = "systemd is not running on this host (PID 1 is not systemd): %s" % detail
            raise RestartError("cannot read the state of %s: %s" % (self.service, detail), "restart_systemd_error", None)
        return parse_show(cmd["stdout"])

    def state(self):
        """ActiveState alone (the stop's poll); '' when it cannot be read."""
        cmd = self.run("show", "--property=ActiveState", "--value")
        return cmd["stdout"].strip() if cmd["rc"] == 0 else ""

    def must(self, what, *args, timeout=SHOW_TIMEOUT):
        cmd = self.run(*args, timeout=timeout)
        if cmd["rc"] != 0:
            detail = cmd["error"] or cmd["stderr"].strip()[:500] or "exit status %s" % cmd["rc"]
            raise RestartError("%s %s failed: %s" % (what, self.service, detail), "restart_%s_failed" % what.split()[-1], None)
        return cmd


def _wait_down(systemctl, seconds):
    """Poll ActiveState until inactive/failed or `seconds` passed -> the last state seen."""
    deadline = time.monotonic() + seconds
    while True:
        state = systemctl.state()
        if state in DOWN_STATES or time.monotonic() >= deadline:
            return state
        time.sleep(POLL_INTERVAL)


def stop_bounded(systemctl, grace, kill_wait=KILL_WAIT, log=_log_kill):
    """`systemctl stop --no-block`, wait `grace` s, then SIGKILL through systemd and wait
    `kill_wait` s more -> "stopped" | "killed"; RestartError with the state when still not down."""
    systemctl.must("stop", "stop", "--no-block")
    if _wait_down(systemctl, grace) in DOWN_STATES:
        return "stopped"
    log("repair: %s did not stop within %ss, SIGKILL through systemd" % (systemctl.service, _seconds(grace)))
    systemctl.must("kill", "kill", "--signal=SIGKILL")
    state = _wait_down(systemctl, kill_wait)
    if state in DOWN_STATES:
        return "killed"
    raise RestartError("%s still %s after SIGKILL (%ss after a stop grace of %ss)"
                       % (systemctl.service, state or "in an unknown state", _seconds(kill_wait), _seconds(grace)),
                       "restart_stop_failed", None)


def _seconds(value):
    return int(value) if float(value).is_integer() else value


def _unit_facts(props):
    return {
        "load_state": props.get("LoadState") or None, "active_state": props.get("ActiveState") or None,
        "sub_state": props.get("SubState") or None, "result": props.get("Result") or None,
        "unit_file_state": props.get("UnitFileState") or None, "main_pid": to_int(props.get("MainPID")) or None,
    }


def restart(service, budget=None, stop=True, stop_grace=15.0, reset_failed=False, start=True, health=None,
            docs=None, check_mode=False, systemctl_path=None, kill_wait=KILL_WAIT, log=_log_kill):
    """Do the restart's steps in one run. budget: None (not counted) or the options of
    _budget.consume (path, limit, window, run_id, source, lock_timeout); health: None or the
    arguments of probe_health; docs: None or those of probe_docs. Returns the result dict (see
    the module's RETURN); raises RestartError (its .result holds what was done before)."""
    started_at = time.monotonic()
    result = {
        "service": service, "before": None, "after": None, "budget": None, "stopped": None, "reset_failed": False,
        "started": False, "enabled": False, "health": None, "docs": None, "actions": [], "changed": False,
        "elapsed": dict.fromkeys(STEPS + ("total",)),
    }
    would = "would " if check_mode else ""

    def step(name, began):
        result["elapsed"][name] = elapsed_since(began)

    def fail(exc):
        exc.result = result
        result["elapsed"]["total"] = elapsed_since(started_at)
        raise exc

    try:
        path = find_bin("systemctl", systemctl_path)
        if not path:
            raise RestartError("systemctl not found: systemd is not installed on this host", "restart_systemd_error", None)
        systemctl = _Systemctl(path, service)
        before = _unit_facts(systemctl.show())
        result["before"] = before
        # Refusals first: nothing is counted or stopped for a unit that cannot be started.
        if start and before["load_state"] != "loaded" and not (check_mode and before["load_state"] == "not-found"):
            raise RestartError(
                "cannot restart %s: the unit is %s (LoadState=%s); nothing was counted or stopped"
                % (service, "masked" if before["load_state"] == "masked" else "not loaded", before["load_state"]),
                "restart_unit_not_loaded", None)

        if budget is not None:
            began = time.monotonic()
            try:
                result["budget"] = _budget.consume(budget["path"], budget["limit"], budget["window"], budget["run_id"],
                                                   budget.get("source", ""), check_mode, budget.get("lock_timeout", 30.0))
            except _budget.BudgetError as exc:
                seen = dict(exc.budget)
                seen.setdefault("path", budget["path"])
                seen["consumed"] = False
                result["budget"] = seen
                step("budget", began)
                raise RestartError(exc.msg, exc.code, None, extra=seen) from None
            step("budget", began)
            result["actions"].append("%scount the restart (%d of %d used in %ds, %d left)" % (
                would, result["budget"]["used"], result["budget"]["limit"], result["budget"]["window"],
                result["budget"]["left"]))

        state = before["active_state"]
        if stop and state in RUNNING_STATES:
            began = time.monotonic()
            if check_mode:
                result["actions"].append("would stop %s (%s), SIGKILL through systemd after %ss"
                                         % (service, state, _seconds(stop_grace)))
            else:
                result["changed"] = True
                result["stopped"] = stop_bounded(systemctl, stop_grace, kill_wait, log)
                result["actions"].append(
                    "stopped %s" % service if result["stopped"] == "stopped"
                    else "killed %s (SIGKILL after %ss)" % (service, _seconds(stop_grace)))
                state = "inactive"
            step("stop", began)

        if reset_failed:
            began = time.monotonic()
            if not check_mode:
                # As `systemctl reset-failed` in a task with failed_when: false: a unit that was
                # not failed is no error.
                systemctl.run("reset-failed")
                result["changed"] = True
            result["reset_failed"] = True
            result["actions"].append("%sclear the start limit (reset-failed)" % would)
            step("reset_failed", began)

        if start:
            began = time.monotonic()
            if state in ("active", "activating", "reloading") and not (check_mode and stop and state in RUNNING_STATES):
                result["actions"].append("%s already %s" % (service, state))
            else:
                if not check_mode:
                    systemctl.must("start", "start", timeout=START_TIMEOUT)
                    result["changed"] = True
                result["started"] = True
                result["actions"].append("%sstart %s" % (would, service))
            step("start", began)
            began = time.monotonic()
            if before["unit_file_state"] not in ENABLED_STATES:
                if not check_mode:
                    systemctl.must("enable", "enable", "--quiet", timeout=START_TIMEOUT)
                    result["changed"] = True
                result["enabled"] = True
                result["actions"].append("%senable %s (was %s)" % (would, service, before["unit_file_state"] or "unknown"))
            step("enable", began)
            if not check_mode:
                result["after"] = _unit_facts(systemctl.show())
            if health is not None:
                if check_mode:
                    result["actions"].append("would wait for %s" % health["url"])
                else:
                    began = time.monotonic()
                    result["health"] = probe_health(**health)
                    step("health", began)
            if docs is not None:
                if check_mode:
                    result["actions"].append("would look at %s%s" % (docs["base_url"].rstrip("/"), docs.get("docs_path", "/docs")))
                else:
                    began = time.monotonic()
                    result["docs"] = probe_docs(**docs)
                    step("docs", began)
    except RestartError as exc:
        fail(exc)
    if check_mode:
        result["changed"] = bool(result["budget"] or result["stopped"] or result["reset_failed"] or result["started"]
                                 or result["enabled"] or any(text.startswith("would stop") for text in result["actions"]))
    elif result["budget"] and result["budget"].get("consumed"):
        result["changed"] = True
    result["elapsed"]["total"] = elapsed_since(started_at)
    return result


def describe(result, check_mode=False):
    """One line for msg: what was (or would be) done and what was seen."""
    parts = list(result["actions"]) or ["nothing to do"]
    if result["health"] is not None:
        health = result["health"]
        parts.append("/api/health %s after %ss (%d attempt(s))" % (
            "healthy" if health["healthy"] else "NOT healthy (%s)" % (health["error"] or health["error_class"]),
            health["elapsed"], health["attempts"]))
    if result["docs"] is not None:
        parts.append("/docs %s" % ("ok" if result["docs"]["docs_ok"] else "NOT ok (%s)" % result["docs"]["problem"]))
    return ("check mode: " if check_mode else "") + "%s: %s" % (result["service"], "; ".join(parts))
