# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""Running commands for the beatsync.ops probes (LC_ALL=C, bounded, never raising).

Standard library only: this code runs on the managed host and in the EDA event source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

# The validators live in _validate.py (one set for modules, action plugins and the EDA
# source); they are imported here so "from ._common import validate_port" keeps working.
from ansible_collections.beatsync.ops.plugins.module_utils._validate import (  # noqa: F401  pylint: disable=unused-import
    ProbeInputError,
    validate_port,
    validate_positive_int,
    validate_timeout,
)

# Directories searched for binaries besides PATH, as AnsibleModule.get_bin_path does.
SBIN_DIRS = ("/sbin", "/usr/sbin", "/usr/local/sbin", "/bin", "/usr/bin", "/usr/local/bin")

# The environment every parsed command runs with: C locale so output is stable.
C_ENV = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}


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
