# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the collection: this module_utils file is not part of the collection's public
# API and may change or go away in any release without notice.

"""probe_deps(...): the runbook's `python3 -c "import fastapi; import uvicorn"`, its
`pip3 install -r requirements.txt` question and "check the code for syntax errors", asked of
the interpreter the unit really runs.

One small standard-library-only script runs in that interpreter (`python -I -c`, cwd the app
dir): it imports each module, reads installed versions with importlib.metadata and compiles
the app module from source (no .pyc is written). Requirement parsing and version comparison
(==, !=, >=, <=, >, <, ~=, ===, ==X.*) happen here, without `packaging`.

Standard library only: this code runs on the managed host.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.beatsync.ops.plugins.module_utils._common import (
    ProbeInputError,
    find_bin,
    run_cmd,
    validate_timeout,
)

DEFAULT_PYTHON = "/usr/bin/python3"
DEFAULT_APP_DIR = "/opt/beatsync/web_service/backend"
DEFAULT_MODULES = ("fastapi", "uvicorn")
MAX_REQUIREMENTS_BYTES = 256 * 1024
MAX_REQUIREMENTS = 500
MAX_MODULES = 50
MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_OUTPUT_BYTES = 1024 * 1024
MARKER = "@@BEATSYNC-DEPS-JSON@@"

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_REQ_NAME = re.compile(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<rest>.*)$")
_CLAUSE = re.compile(r"^\s*(?P<op>~=|===|==|!=|<=|>=|<|>)\s*(?P<version>[^\s,;]+)\s*$")
_VERSION = re.compile(
    r"^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_l>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d+)?)?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?)?"
    r"(?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$",
    re.I,
)
_PRE_PHASE = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}

# Runs in the target interpreter: standard library only, Python 3.5+ syntax (no f-strings).
DEPS_SCRIPT = r'''
import json, sys
def _main():
    req = json.loads(sys.argv[1])
    out = {"python_version": sys.version.split()[0], "executable": sys.executable,
           "imports": {}, "dists": {}, "syntax": None}
    try:
        from importlib import metadata as md
    except ImportError:
        md = None
    def candidates(name):
        low = name.lower()
        seen = []
        for cand in (name, low, low.replace("_", "-"), low.replace("-", "_"), low.replace(".", "-")):
            if cand not in seen:
                seen.append(cand)
        return seen
    def dist_version(name):
        if md is None:
            return None, "importlib.metadata is not available (Python < 3.8)"
        for cand in candidates(name):
            try:
                return md.version(cand), None
            except Exception:
                pass
        return None, "not installed"
    import importlib
    for mod in req["modules"]:
        entry = {"ok": False, "version": None, "error": None, "missing_name": None}
        try:
            module = importlib.import_module(mod)
        except BaseException as exc:
            entry["error"] = ("%s: %s" % (type(exc).__name__, exc))[:500]
            if isinstance(exc, ImportError):
                entry["missing_name"] = getattr(exc, "name", None)
        else:
            entry["ok"] = True
            version, _err = dist_version(mod.split(".")[0])
            if version is None:
                version = getattr(module, "__version__", None)
            entry["version"] = None if version is None else str(version)[:100]
        out["imports"][mod] = entry
    for name in req["dists"]:
        version, err = dist_version(name)
        out["dists"][name] = {"version": version, "error": err}
    path = req.get("app_module")
    if path:
        syn = {"checked": False, "ok": None, "file": path, "line": None, "offset": None, "message": None, "text": None}
        try:
            with open(path, "rb") as handle:
                source = handle.read(req["max_source"] + 1)
        except (IOError, OSError) as exc:
            syn["message"] = "cannot read %s: %s" % (path, getattr(exc, "strerror", None) or exc)
        else:
            if len(source) > req["max_source"]:
                syn["message"] = "%s is larger than %d bytes: not compiled" % (path, req["max_source"])
            else:
                syn["checked"] = True
                try:
                    compile(source, path, "exec", dont_inherit=True)
                    syn["ok"] = True
                except SyntaxError as exc:
                    syn.update(ok=False, file=exc.filename or path, line=exc.lineno, offset=exc.offset,
                               message="%s: %s" % (type(exc).__name__, exc.msg),
                               text=(exc.text or "").rstrip()[:300] or None)
                except (ValueError, TypeError) as exc:
                    syn.update(ok=False, message="%s: %s" % (type(exc).__name__, exc))
        out["syntax"] = syn
    sys.stdout.write("\n" + req["marker"] + json.dumps(out) + "\n")
    sys.stdout.flush()
_main()
'''


# ---------------------------------------------------------------- versions and specifiers
def parse_version(text):
    """A comparable key for a PEP 440-ish version string, or None when it is not one.

    Key: (epoch, release without trailing zeros, pre, post, dev); local versions ignored.
    """
    if not isinstance(text, str):
        return None
    match = _VERSION.match(text)
    if not match:
        return None
    release = [int(part) for part in match.group("release").split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    pre_l, post_l, post_n, dev_l = match.group("pre_l"), match.group("post_l"), None, match.group("dev_l")
    if match.group("post_n1") is not None:
        post_n = int(match.group("post_n1"))
    elif post_l:
        post_n = int(match.group("post_n2") or 0)
    if pre_l:
        pre = (0, _PRE_PHASE[pre_l.lower()], int(match.group("pre_n") or 0))
    elif dev_l and post_n is None:
        pre = (-1, 0, 0)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = (1, 0, 0)
    post = (-1,) if post_n is None else (post_n,)
    dev = (1, 0) if not dev_l else (0, int(match.group("dev_n") or 0))
    return (int(match.group("epoch") or 0), tuple(release), pre, post, dev)


def _release(text):
    match = _VERSION.match(text or "")
    return [int(part) for part in match.group("release").split(".")] if match else None


def _prefix_match(installed, prefix_text):
    prefix = _release(prefix_text)
    have = _release(installed)
    if prefix is None or have is None:
        return None
    have = have + [0] * max(0, len(prefix) - len(have))
    return have[:len(prefix)] == prefix


def compare(installed, op, wanted):
    """True/False for `installed op wanted`, or None when it cannot be evaluated."""
    if op == "===":
        return installed.strip() == wanted.strip()
    if op in ("==", "!=") and wanted.endswith(".*"):
        matched = _prefix_match(installed, wanted[:-2])
        if matched is None:
            return None
        return matched if op == "==" else not matched
    have, want = parse_version(installed), parse_version(wanted)
    if have is None or want is None:
        return None
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    if op == ">=":
        return have >= want
    if op == "<=":
        return have <= want
    if op == ">":
        return have > want
    if op == "<":
        return have < want
    if op == "~=":
        release = _release(wanted)
        if release is None or len(release) < 2:
            return None
        prefix = ".".join(str(part) for part in release[:-1])
        return have >= want and bool(_prefix_match(installed, prefix))
    return None


def parse_specifier(text):
    """'>=0.100,<1' -> [('>=', '0.100'), ('<', '1')]; raises ValueError on a bad clause."""
    text = (text or "").strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if not text.strip():
        return []
    clauses = []
    for part in text.split(","):
        match = _CLAUSE.match(part)
        if not match or (match.group("op") != "===" and not re.match(r"^v?\d", match.group("version"))):
            raise ValueError("cannot parse version clause %r" % part.strip())
        clauses.append((match.group("op"), match.group("version")))
    return clauses


def satisfies(installed, specifier):
    """(satisfied, error): satisfied True/False, or None with an error when it cannot be told."""
    if installed is None:
        return False, "not installed"
    try:
        clauses = parse_specifier(specifier)
    except ValueError as exc:
        return None, str(exc)
    for op, wanted in clauses:
        result = compare(installed, op, wanted)
        if result is None:
            return None, "cannot compare version %r with %s%s" % (installed, op, wanted)
        if not result:
            return False, "installed %s does not satisfy %s%s" % (installed, op, wanted)
    return True, None


# ---------------------------------------------------------------- requirements.txt
def parse_requirements(text, max_items=MAX_REQUIREMENTS):
    """requirements.txt text -> (requirements, skipped).

    requirements: [{name, specifier, extras, marker, url, line, error}] for name lines;
    skipped: lines ignored on purpose (options such as -r/-e/--index-url, bare URLs/paths).
    Comments, blank lines and `--hash` options are dropped; markers are kept, not evaluated.
    """
    requirements = []
    skipped = []
    if not isinstance(text, str):
        return requirements, skipped
    logical = []
    pending = ""
    for raw in text[:MAX_REQUIREMENTS_BYTES].splitlines()[:5 * max_items]:
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    for number, raw in enumerate(logical, 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if len(requirements) >= max_items:
            skipped.append("more than %d requirements: the rest were not read" % max_items)
            break
        if line.startswith("-") or re.match(r"^(\.{0,2}/|[a-z][a-z0-9+.-]*://|git\+|file:)", line, re.I):
            skipped.append(line[:200])
            continue
        line = re.split(r"\s+--?[a-z]", line, maxsplit=1)[0].strip()  # per-requirement options (--hash=...)
        marker = None
        if ";" in line:
            line, marker = line.split(";", 1)
            line, marker = line.strip(), marker.strip()[:200]
        match = _REQ_NAME.match(line)
        if not match:
            requirements.append({"name": line[:100], "specifier": None, "extras": [], "marker": marker,
                                 "url": None, "line": number, "error": "cannot parse requirement %r" % line[:200]})
            continue
        rest = match.group("rest").strip()
        item = {"name": match.group("name"), "specifier": None, "extras": [], "marker": marker, "url": None,
                "line": number, "error": None}
        if match.group("extras"):
            item["extras"] = [extra.strip() for extra in match.group("extras").split(",") if extra.strip()]
        if rest.startswith("@"):
            item["url"] = rest[1:].strip()[:300]
        elif rest:
            try:
                parse_specifier(rest)
                item["specifier"] = rest.replace(" ", "")
            except ValueError as exc:
                item["error"] = str(exc)
        requirements.append(item)
    return requirements, skipped


def canonical_name(name):
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- the probe
def _validate(python, app_dir, requirements_file, app_module, modules):
    for option, value in (("python", python), ("app_dir", app_dir), ("requirements_file", requirements_file),
                          ("app_module", app_module)):
        if value is None or (value == "" and option in ("requirements_file", "app_module")):
            continue  # None: default interpreter; "": skip that check
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            raise ProbeInputError("%s must be a non-empty path string, got %r" % (option, value))
    if not app_dir or not os.path.isabs(app_dir):
        raise ProbeInputError("app_dir must be an absolute path, got %r" % (app_dir,))
    if modules is None:
        modules = list(DEFAULT_MODULES)
    if isinstance(modules, str):
        modules = [item.strip() for item in modules.split(",") if item.strip()]
    if not isinstance(modules, (list, tuple)):
        raise ProbeInputError("modules must be a list of Python module names, got %r" % (modules,))
    if len(modules) > MAX_MODULES:
        raise ProbeInputError("modules must list at most %d modules, got %d" % (MAX_MODULES, len(modules)))
    for name in modules:
        if not isinstance(name, str) or not _MODULE_NAME.match(name):
            raise ProbeInputError("modules must be Python module names such as fastapi, got %r" % (name,))
    return list(modules)


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
        "requirements": [], "requirements_skipped": [], "missing": [], "unsatisfied": [],
        "syntax": {"checked": False, "ok": None, "file": None, "line": None, "offset": None, "message": None, "text": None},
        "error": None,
    }


def probe_deps(python=None, app_dir=DEFAULT_APP_DIR, requirements_file="requirements.txt", app_module="main.py",
               modules=DEFAULT_MODULES, timeout=30):
    """Can the unit's interpreter import the app's dependencies, and does the app module compile?

    python: the interpreter the unit runs (callers pass the unit probe's `interpreter`); None
    means /usr/bin/python3. requirements_file and app_module are relative to app_dir unless
    absolute; requirements_file or app_module empty/None skips that check.
    Returns the `deps` facts of docs/architecture.md.
    """
    modules = _validate(python, app_dir, requirements_file, app_module, modules)
    seconds = validate_timeout(timeout)
    python = python or DEFAULT_PYTHON
    requirements_path = os.path.join(app_dir, requirements_file) if requirements_file else None
    module_path = os.path.join(app_dir, app_module) if app_module else None
    facts = _empty_deps(python, app_dir, requirements_path, modules)
    errors = []

    requirements = []
    if requirements_path:
        try:
            with open(requirements_path, "rb") as handle:
                data = handle.read(MAX_REQUIREMENTS_BYTES + 1)
        except OSError as exc:
            errors.append("requirements file %s: %s" % (requirements_path, exc.strerror or exc))
        else:
            facts["requirements_found"] = True
            if len(data) > MAX_REQUIREMENTS_BYTES:
                errors.append("requirements file %s is larger than %d bytes: read its beginning only"
                              % (requirements_path, MAX_REQUIREMENTS_BYTES))
            requirements, facts["requirements_skipped"] = parse_requirements(
                data[:MAX_REQUIREMENTS_BYTES].decode("utf-8", errors="replace"))
    if not facts["app_dir_exists"]:
        errors.insert(0, "app_dir %s does not exist or is not a directory" % app_dir)
        facts["syntax"]["message"] = "app_dir %s does not exist" % app_dir

    interpreter, problem = _resolve_python(python)
    if interpreter is None:
        errors.insert(0, problem)
        facts["requirements"] = [dict(req, installed=None, satisfied=None,
                                      error=req["error"] or "interpreter not available") for req in requirements]
        facts["error"] = "; ".join(errors)
        return facts
    facts["interpreter_found"] = True
    facts["interpreter"] = interpreter

    request = {
        "modules": modules,
        "dists": [req["name"] for req in requirements],
        "app_module": module_path if facts["app_dir_exists"] or (module_path and os.path.isabs(app_module)) else None,
        "max_source": MAX_SOURCE_BYTES,
        "marker": MARKER,
    }
    cwd = app_dir if facts["app_dir_exists"] else "/"
    cmd = _run_in(interpreter, request, cwd, seconds)
    report = _parse_report(cmd["stdout"])
    if report is None:
        tail = " ".join((cmd["stderr"] or cmd["stdout"] or "").strip().splitlines()[-3:])[:500]
        errors.append("running the dependency check in %s failed: %s" % (
            interpreter, cmd["error"] or "exit %s: %s" % (cmd["rc"], tail or "no output")))
        facts["requirements"] = [dict(req, installed=None, satisfied=None, error=req["error"] or "check did not run")
                                 for req in requirements]
        facts["error"] = "; ".join(errors)
        return facts

    facts["python_version"] = report.get("python_version")
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
    for req in requirements:
        dist = (report.get("dists") or {}).get(req["name"]) or {}
        installed = dist.get("version")
        item = dict(req, installed=installed, satisfied=None)
        if installed is None:
            if req["marker"]:
                item["error"] = "not installed (environment marker %r not evaluated)" % req["marker"]
            else:
                item["satisfied"] = False
                item["error"] = dist.get("error") or "not installed"
                missing.append(req["name"])
        elif req["error"] is None:
            item["satisfied"], item["error"] = satisfies(installed, req["specifier"])
            if item["satisfied"] is False:
                unsatisfied.append(req["name"])
        facts["requirements"].append(item)
    seen = set()
    facts["missing"] = [name for name in missing if not (canonical_name(name) in seen or seen.add(canonical_name(name)))]
    facts["unsatisfied"] = unsatisfied
    if report.get("syntax"):
        facts["syntax"].update(report["syntax"])
    facts["error"] = "; ".join(errors) or None
    return facts


def _run_in(interpreter, request, cwd, seconds):
    """Run DEPS_SCRIPT in interpreter with cwd; run_cmd has no cwd, so chdir happens in a wrapper."""
    argv = [interpreter, "-I", "-c", "import os, sys; os.chdir(sys.argv[1]); del sys.argv[1]\n" + DEPS_SCRIPT,
            cwd, json.dumps(request)]
    return run_cmd(argv, timeout=seconds, max_bytes=MAX_OUTPUT_BYTES)


def _parse_report(stdout):
    for line in reversed((stdout or "").splitlines()):
        if line.startswith(MARKER):
            try:
                report = json.loads(line[len(MARKER):])
            except ValueError:
                return None
            return report if isinstance(report, dict) else None
    return None
