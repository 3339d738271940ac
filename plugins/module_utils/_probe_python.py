# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""probe_deps(...): the runbook's `python3 -c "import fastapi; import uvicorn"`, its
`pip3 install -r requirements.txt` question and "check the code for syntax errors", asked of
the interpreter the unit really runs.

One run of that interpreter answers everything (`python -I -c <_pyreq.py's source>`, the
request on stdin, as the unit's User=/Group= through _runas, cwd the app dir): _pyreq.deps_check()
parses requirements.txt (following `-r` includes, bounded), evaluates PEP 508 markers in that
interpreter's environment and compares installed versions as PEP 440 does (pip's vendored
`packaging` when importable there, else _pyreq's standard-library subset), then imports each
module and compiles the app module from source (no .pyc is written).

Standard library only: this code runs on the managed host.
"""

from __future__ import annotations

import json
import os
import re
import sys

# _pyreq is not imported here: its source is read (_pyreq_source) and run in the app's
# interpreter; compiling it in this process too cost ~10 ms of every diagnosis.
from ansible_collections.beatsync.ops.plugins.module_utils import _runas
from ansible_collections.beatsync.ops.plugins.module_utils._common import find_bin

DEFAULT_PYTHON = "/usr/bin/python3"
DEFAULT_APP_DIR = "/opt/beatsync/web_service/backend"
DEFAULT_MODULES = ("fastapi", "uvicorn")
MAX_REQUIREMENTS = 500
MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_OUTPUT_BYTES = 1024 * 1024
MARKER = "@@BEATSYNC-DEPS-JSON@@"


# ---------------------------------------------------------------- names
def canonical_name(name):
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- the probe
def _resolve_python(python):
    if os.sep in python:
        if os.path.isfile(python) and os.access(python, os.X_OK):
            return python, None
        return None, "interpreter %s not found or not executable" % python
    found = find_bin(python)
    if found:
        return found, None
    return None, "interpreter %s not found on PATH" % python


def _empty_deps(python, app_dir, requirements_path, modules):
    return {
        "interpreter": python, "interpreter_found": False, "python_version": None, "app_dir": app_dir,
        "app_dir_exists": os.path.isdir(app_dir), "requirements_file": requirements_path, "requirements_found": False,
        "imports": dict((name, {"ok": None, "version": None, "error": None}) for name in modules),
        "requirements": [], "requirements_skipped": [], "requirements_files": [], "requirements_backend": None,
        "missing": [], "unsatisfied": [],
        "syntax": {"checked": False, "ok": None, "file": None, "line": None, "offset": None, "message": None, "text": None},
        "error": None, "checked_in": None,
    }


def probe_deps(python=None, app_dir=DEFAULT_APP_DIR, requirements_file="requirements.txt", app_module="main.py",
               modules=DEFAULT_MODULES, timeout=30, user=None, group=None, requirements_backend="auto", in_module=True):
    """Can the unit's interpreter import the app's dependencies, and does the app module compile?

    python: the interpreter the unit runs (callers pass the unit probe's `interpreter`); None
    means /usr/bin/python3. requirements_file and app_module are relative to app_dir unless
    absolute; requirements_file or app_module empty/None skips that check. user/group: the
    unit's User=/Group=: the interpreter runs the app's code (.pth files, imports), so it runs
    as them (_runas.run_as, `-I`, a clean environment, WorkingDirectory entered as the user).
    Requirements are checked in that interpreter by _pyreq (shipped as its source): PEP 508
    markers evaluated in its environment, PEP 440 comparisons, `-r` includes followed (bounded).
    requirements_backend: "auto" compares with pip's vendored `packaging` when that interpreter
    can import it (else _pyreq's own PEP 440/508 subset, which follows it); "stdlib" always uses
    the subset (no import of pip: ~80 ms less on a healthy host, see _diagnosis).
    in_module: when nothing is to be imported (modules empty, requirements_backend "stdlib") and
    the interpreter and identity are this process's own, answer in this process (_in_module:
    the same facts, one interpreter start less; `checked_in` says "module"); False always runs
    the interpreter (`checked_in` "interpreter").
    Returns the `deps` facts of docs/architecture.md. Trusts its arguments: the module's edge
    (_argspec.validate) checked them once.
    """
    modules, seconds = list(DEFAULT_MODULES if modules is None else modules), timeout
    python = python or DEFAULT_PYTHON
    requirements_path = os.path.join(app_dir, requirements_file) if requirements_file else None
    module_path = os.path.join(app_dir, app_module) if app_module else None
    facts = _empty_deps(python, app_dir, requirements_path, modules)
    facts["run_as"] = {"user": user or None, "group": group or None, "uid": None, "gid": None, "uid_seen": None,
                       "switched": False, "error": None}
    errors = []
    if requirements_path:
        facts["requirements_found"] = os.path.isfile(requirements_path)
        if not facts["requirements_found"]:
            errors.append("requirements file %s: not found" % requirements_path)
    if not facts["app_dir_exists"]:
        errors.insert(0, "app_dir %s does not exist or is not a directory" % app_dir)
        facts["syntax"]["message"] = "app_dir %s does not exist" % app_dir

    interpreter, problem = _resolve_python(python)
    if interpreter is None:
        errors.insert(0, problem)
        facts["error"] = "; ".join(errors)
        return facts
    facts["interpreter_found"] = True
    facts["interpreter"] = interpreter

    # One run of the app's interpreter answers the requirements check, the imports and the
    # syntax check (_pyreq.deps_check); -r bounds are _pyreq's defaults.
    request = {
        "requirements_file": requirements_path if requirements_path and facts["requirements_found"] else None,
        "marker": MARKER,
        "backend": requirements_backend,
        "deps": {"modules": modules, "dists": [], "max_source": MAX_SOURCE_BYTES,
                 "app_module": module_path if facts["app_dir_exists"] or (module_path and os.path.isabs(app_module)) else None},
    }
    cwd = app_dir if facts["app_dir_exists"] else "/"
    answer = _in_module(interpreter, request, cwd, user, group) if in_module else None
    if answer is not None and isinstance(answer.get("deps"), dict):
        facts["checked_in"] = "module"
        facts["run_as"].update(answer.pop("run_as"))
    else:
        facts["checked_in"] = "interpreter"
        cmd = _as_user([interpreter, "-I", "-c", _pyreq_source()], cwd, seconds, user, group, stdin=json.dumps(request),
                       record=facts["run_as"])
        answer = _parse_report(cmd["stdout"])
    report = answer.get("deps") if answer else None
    if not isinstance(report, dict):
        tail = " ".join((cmd["stderr"] or cmd["stdout"] or "").strip().splitlines()[-3:])[:500]
        errors.append("running the dependency check in %s failed: %s" % (
            interpreter, cmd["error"] or "exit %s: %s" % (cmd["rc"], tail or "no output")))
        facts["error"] = "; ".join(errors)
        return facts

    facts["python_version"] = report.get("python_version")
    facts["run_as"]["uid_seen"] = report.get("uid")
    missing = []
    for name in modules:
        entry = (report.get("imports") or {}).get(name) or {}
        facts["imports"][name] = {"ok": bool(entry.get("ok")), "version": entry.get("version"), "error": entry.get("error")}
        if not entry.get("ok"):
            missing_name = entry.get("missing_name")
            if missing_name:
                missing.append(missing_name.split(".", 1)[0])
            elif entry.get("error", "").startswith(("ModuleNotFoundError", "ImportError")):
                missing.append(name.split(".", 1)[0])
    unsatisfied = []
    if request["requirements_file"]:
        checked = answer.get("requirements")
        if not isinstance(checked, dict):
            checked = {"error": "the requirements check in %s answered no object" % interpreter}
        elif checked.get("crashed"):
            checked = {"error": "checking the requirements in %s failed: %s" % (interpreter, checked["crashed"])}
        if checked.get("error"):
            errors.append(checked["error"])
        facts["requirements_backend"] = checked.get("backend")
        facts["requirements_files"] = checked.get("files") or []
        facts["requirements_skipped"] = [str(item)[:200] for item in (checked.get("ignored_options") or [])][:50]
        errors.extend(str(item)[:300] for item in (checked.get("errors") or [])[:10])
        for result in (checked.get("results") or [])[:MAX_REQUIREMENTS]:
            item = _requirement_fact(result)
            facts["requirements"].append(item)
            if item["status"] == "missing":
                missing.append(item["name"])
            elif item["status"] == "mismatch":
                unsatisfied.append(item["name"])
    seen = set()
    facts["missing"] = [name for name in missing if not (canonical_name(name) in seen or seen.add(canonical_name(name)))]
    facts["unsatisfied"] = unsatisfied
    if report.get("syntax"):
        facts["syntax"].update(report["syntax"])
    facts["error"] = "; ".join(errors) or None
    return facts


def _requirement_fact(result):
    """One _pyreq check result as a `deps.requirements` entry."""
    line = result.get("requirement") or result.get("line") or ""
    if "specifier_text" in result:          # parsed by _pyreq in the app's interpreter (deps_check)
        specifier, marker = result["specifier_text"], result["marker_text"]
    else:
        # Also the import that makes AnsiballZ ship _pyreq.py at all (ansible-core finds module_utils
        # by their import statements): _pyreq_source() reads that shipped file.
        from ansible_collections.beatsync.ops.plugins.module_utils import _pyreq  # pylint: disable=import-outside-toplevel
        specifier, marker = _pyreq._requirement_texts(line)  # pylint: disable=protected-access
    status = result.get("status") or "invalid"
    error = result.get("error")
    if status == "mismatch":
        error = "installed %s does not satisfy %s" % (result.get("installed"), specifier or line)
    elif status == "missing":
        error = error or "not installed"
    elif status == "not_applicable":
        error = "environment marker %s is false for this interpreter: not required" % marker
    return {"name": result.get("name") or line[:100], "specifier": specifier, "marker": marker, "line": result.get("lineno"),
            "file": result.get("file"), "installed": result.get("installed"), "applies": result.get("applies"),
            "satisfied": False if status == "missing" else (result.get("satisfied") if status in ("ok", "mismatch") else None),
            "status": status, "error": error}


# ---------------------------------------------------------------- the check in this process
# A diagnosis of a unit that serves a healthy answer imports nothing (modules=[]) and compares
# versions with _pyreq's own subset (requirements_backend="stdlib"): then the run of the unit's
# interpreter only reads METADATA files and compiles main.py, which this process can do with
# the same answer when it IS that interpreter (same binary, no venv), runs as the unit's
# User=/Group= already, and scans the search path that `<interpreter> -I` would have.
# ~30 ms of the host's CPU less per diagnosis; any doubt and the interpreter runs as before.

_DISTUTILS_SHIM_RE = re.compile(
    r"^import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os\.environ\.get\(var, '(local|stdlib)'\) == 'local'; "
    r"enabled and __import__\('_distutils_hack'\)\.add_shim\(\); ?$")


def _same_interpreter(interpreter):
    """Is interpreter this process's own Python, started the same way (no venv, no PYTHONHOME)?"""
    if not sys.executable or sys.prefix != sys.base_prefix or sys.exec_prefix != sys.base_exec_prefix:
        return False
    if not sys.flags.ignore_environment and any(os.environ.get(name) for name in ("PYTHONHOME", "PYTHONPLATLIBDIR")):
        return False
    try:
        mine, theirs = os.path.realpath(sys.executable), os.path.realpath(interpreter)
    except (OSError, ValueError):
        return False
    if mine != theirs or os.path.dirname(os.path.abspath(interpreter)) not in (
            os.path.dirname(os.path.abspath(sys.executable)), os.path.dirname(mine)):
        return False
    for path in (os.path.abspath(interpreter), mine):
        # Python finds a venv by pyvenv.cfg next to the executable or one directory up.
        for where in (os.path.dirname(path), os.path.dirname(os.path.dirname(path))):
            if os.path.exists(os.path.join(where, "pyvenv.cfg")):
                return False
    return True


def isolated_sys_path():
    """sys.path as `<this interpreter> -I` starts with it: the interpreter's own stdlib entries
    (zip, stdlib, lib-dynload; no PYTHONPATH, no script directory), then each existing
    site.getsitepackages() directory followed by the paths its .pth files add, as site.py adds
    them (no user site). None when that cannot be told without running it: a .pth line that
    runs code (other than setuptools' distutils shim, which only adds a finder for distutils)
    or a .pth file that is not ASCII."""
    import io  # pylint: disable=import-outside-toplevel
    import site  # pylint: disable=import-outside-toplevel
    if os.name != "posix":
        return None
    version = sys.version_info
    stdlib = getattr(sys, "_stdlib_dir", None) or os.path.dirname(os.__file__)
    candidates = set([
        os.path.join(sys.base_prefix, getattr(sys, "platlibdir", "lib"), "python%d%d.zip" % version[:2]),
        stdlib,
        os.path.join(sys.base_exec_prefix, getattr(sys, "platlibdir", "lib"), "python%d.%d" % version[:2], "lib-dynload"),
    ])
    paths = [entry for entry in sys.path if entry in candidates]
    if len(set(paths)) != len(candidates):
        return None
    paths = list(dict.fromkeys(paths))
    known = set(os.path.normcase(os.path.abspath(entry)) for entry in paths)
    for sitedir in site.getsitepackages():
        if not os.path.isdir(sitedir):
            continue
        sitedir = os.path.abspath(sitedir)
        if os.path.normcase(sitedir) not in known:
            paths.append(sitedir)
            known.add(os.path.normcase(sitedir))
        try:
            names = os.listdir(sitedir)
        except OSError:
            continue
        for name in sorted(item for item in names if item.endswith(".pth") and not item.startswith(".")):
            try:
                with open(os.path.join(sitedir, name), "rb") as handle:
                    data = handle.read()
            except OSError:
                continue                    # site.py skips what it cannot open
            if not data.isascii():
                return None
            for line in io.TextIOWrapper(io.BytesIO(data), encoding="ascii"):
                if line.startswith("#") or line.strip() == "":
                    continue
                if line.startswith(("import ", "import\t")):
                    if _DISTUTILS_SHIM_RE.match(line.rstrip("\r\n")):
                        continue
                    return None
                path = os.path.abspath(os.path.join(sitedir, line.rstrip()))
                if os.path.normcase(path) not in known and os.path.exists(path):
                    paths.append(path)
                    known.add(os.path.normcase(path))
    return paths


def _in_module(interpreter, request, cwd, user, group):
    """_pyreq.deps_check's answer (plus "run_as", the identity facts) computed in this process,
    or None when the interpreter must run: something to import, pip's packaging asked for,
    another interpreter or a venv, another User=/Group= than this process's, a relative path,
    a search path that cannot be told (isolated_sys_path), a METADATA _pyreq's scan does not
    read like importlib.metadata, or an answer too large for the interpreter's output."""
    if request["deps"]["modules"] or request.get("backend") != "stdlib" or not _same_interpreter(interpreter):
        return None
    if any(path and not os.path.isabs(path) for path in (request["requirements_file"], request["deps"]["app_module"])):
        return None
    identity = _runas.resolve_identity(user, group)
    if identity["error"] or os.geteuid() != identity["uid"] or os.getegid() != identity["gid"] or \
            sorted(set(os.getgroups()) | set([identity["gid"]])) != identity["groups"]:
        return None
    if not (os.path.isdir(cwd) and os.access(cwd, os.X_OK)):
        return None                         # the interpreter could not start there: let it say so
    paths = isolated_sys_path()
    if paths is None:
        return None
    # The lazy import is also what ships _pyreq.py in AnsiballZ (see _requirement_fact).
    from ansible_collections.beatsync.ops.plugins.module_utils import _pyreq  # pylint: disable=import-outside-toplevel
    import warnings  # pylint: disable=import-outside-toplevel
    installed = _pyreq._scan_metadata(paths)  # pylint: disable=protected-access
    if installed is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the interpreter's defaults: a warning never fails compile()
            answer = _pyreq.deps_check(dict(request, installed=installed))
        text = json.dumps(answer, sort_keys=True)
    except Exception:  # pylint: disable=broad-except  # whatever it was, the interpreter's own run says it
        return None
    if len(text) + len(MARKER) + 2 > MAX_OUTPUT_BYTES:
        return None
    answer = json.loads(text)               # the same types as the interpreter's JSON answer
    answer["run_as"] = {"user": identity["user"], "group": identity["group"], "uid": identity["uid"],
                        "gid": identity["gid"], "switched": False}
    return answer


def _pyreq_source():
    """The source of module_utils/_pyreq.py, the script the app's interpreter runs: read from
    AnsiballZ's zip (or the file) next to this one, without importing it here."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pyreq.py")
    loader = globals().get("__loader__")
    try:
        if loader is not None and hasattr(loader, "get_data"):
            return loader.get_data(path).decode("utf-8")
    except (OSError, ValueError):
        pass
    with open(path, "r", encoding="utf-8") as handle:
        return handle.read()


def _as_user(argv, cwd, seconds, user, group, stdin=None, record=None):
    """run_as the unit's user (-I added); without root and another User=, as this process's
    own user (which is not root: nothing is run with more privilege than the unit has)."""
    result = _runas.run_as(argv, user=user, group=group, cwd=cwd, timeout=seconds, stdin=stdin, max_bytes=MAX_OUTPUT_BYTES)
    if result["rc"] is None and not result["timed_out"] and os.geteuid() != 0 and (user or group) and \
            "not root" in (result["error"] or ""):
        if record is not None:
            record["error"] = result["error"] + "; ran as uid %d instead" % os.geteuid()
        result = _runas.run_as(argv, cwd=cwd, timeout=seconds, stdin=stdin, max_bytes=MAX_OUTPUT_BYTES,
                               user=os.geteuid(), group=os.getegid())
    if record is not None:
        record.update(user=result["user"], group=result["group"], uid=result["uid"], gid=result["gid"],
                      switched=result["switched"])
        if result["error"] and not record["error"]:
            record["error"] = result["error"]
    if result["timed_out"]:
        result["error"] = "the check in %s did not finish within %s seconds" % (argv[0], seconds)
    return result


def _parse_report(stdout):
    for line in reversed((stdout or "").splitlines()):
        if line.startswith(MARKER):
            try:
                report = json.loads(line[len(MARKER):])
            except ValueError:
                return None
            return report if isinstance(report, dict) else None
    return None
