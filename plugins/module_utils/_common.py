# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private helpers shared by every beatsync.ops probe.

Standard library only: this code runs on the managed host and in the EDA event source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

# Directories searched for binaries besides PATH, as AnsibleModule.get_bin_path does.
SBIN_DIRS = ("/sbin", "/usr/sbin", "/usr/local/sbin", "/bin", "/usr/bin", "/usr/local/bin")

# The environment every parsed command runs with: C locale so output is stable.
C_ENV = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}


class ProbeInputError(ValueError):
    """Bad input to a probe: the message names the parameter and what is wrong."""


def validate_port(value, name="port"):
    """Return value as an int TCP port in 1..65535 or raise ProbeInputError."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(value)
        port = int(str(value).strip())
    except ValueError:
        raise ProbeInputError("%s must be an integer from 1 to 65535, got %r" % (name, value))
    if not 1 <= port <= 65535:
        raise ProbeInputError("%s must be from 1 to 65535, got %d" % (name, port))
    return port


def validate_timeout(value, name="timeout", maximum=600.0):
    """Return value as a float number of seconds in (0, maximum] or raise ProbeInputError."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ProbeInputError("%s must be a number of seconds, got %r" % (name, value))
    if not 0 < seconds <= maximum:
        raise ProbeInputError("%s must be greater than 0 and at most %s seconds, got %s" % (name, maximum, value))
    return seconds


def validate_positive_int(value, name, minimum=1, maximum=None):
    """Return value as an int within [minimum, maximum] or raise ProbeInputError."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ProbeInputError("%s must be an integer, got %r" % (name, value))
    if number < minimum or (maximum is not None and number > maximum):
        bound = "at least %d" % minimum if maximum is None else "from %d to %d" % (minimum, maximum)
        raise ProbeInputError("%s must be %s, got %d" % (name, bound, number))
    return number


def find_bin(name, path=None):
    """Absolute path of a binary (PATH plus the sbin dirs), or None."""
    if path:
        return path if os.access(path, os.X_OK) else None
    search = os.pathsep.join([os.environ.get("PATH", "")] + list(SBIN_DIRS))
    return shutil.which(name, path=search)


def run_cmd(argv, timeout=10.0, max_bytes=1024 * 1024, stdin=None):
    """Run argv with LC_ALL=C and a hard timeout, never raising.

    Returns a dict: rc (None when it could not run or timed out), stdout, stderr (text,
    bounded to max_bytes each, undecodable bytes replaced), timed_out, error, elapsed.
    """
    env = dict(os.environ)
    env.update(C_ENV)
    started = time.monotonic()
    result = {"argv": list(argv), "rc": None, "stdout": "", "stderr": "", "timed_out": False, "error": None}
    try:
        # Not AnsibleModule.run_command: the probes also run outside a module (the EDA event
        # source), and they need a hard timeout, which run_command does not have.
        proc = subprocess.run(  # pylint: disable=ansible-bad-function
            argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        result["timed_out"] = True
        result["error"] = "%s did not finish within %ss" % (argv[0], timeout)
        result["stdout"] = _text(exc.stdout, max_bytes)
        result["stderr"] = _text(exc.stderr, max_bytes)
    except OSError as exc:
        result["error"] = "cannot run %s: %s" % (argv[0], exc.strerror or exc)
    else:
        result["rc"] = proc.returncode
        result["stdout"] = _text(proc.stdout, max_bytes)
        result["stderr"] = _text(proc.stderr, max_bytes)
    result["elapsed"] = round(time.monotonic() - started, 4)
    return result


def _text(data, max_bytes):
    if not data:
        return ""
    return data[:max_bytes].decode("utf-8", errors="replace")


def elapsed_since(started):
    """Seconds since a time.monotonic() reading, rounded for results."""
    return round(time.monotonic() - started, 4)
