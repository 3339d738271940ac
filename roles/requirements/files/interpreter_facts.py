"""Print what beatsync.ops.requirements needs to know about a Python interpreter, as JSON.

Run with the interpreter in question (`<python> interpreter_facts.py`). Standard library only;
never raises: every field is always present.
"""
import json
import os
import pwd
import sys
import sysconfig


def _importable(name):
    try:
        __import__(name)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


stdlib = sysconfig.get_path("stdlib") or ""
try:
    user = pwd.getpwuid(os.geteuid()).pw_name
except KeyError:
    user = str(os.geteuid())
in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
marker = os.path.join(stdlib, "EXTERNALLY-MANAGED")
print(json.dumps({
    "executable": sys.executable,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "prefix": sys.prefix,
    "stdlib": stdlib,
    "in_venv": in_venv,
    # PEP 668: the marker in the stdlib dir, and it does not apply inside a venv.
    "externally_managed": (not in_venv) and os.path.isfile(marker),
    "marker": marker,
    "has_pip": _importable("pip"),
    "has_venv": _importable("venv"),
    "has_ensurepip": _importable("ensurepip"),
    # who ran this script (the play's user after become)
    "user": user,
}))
