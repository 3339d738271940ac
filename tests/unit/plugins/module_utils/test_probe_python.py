# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""probe_python: the report marker, input validation, and requirements checked by _pyreq's
source in a real interpreter (this venv's). More real runs: tests/functional/test_deps_probe.py."""

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _probe_python as probe_python

PYTHON = sys.executable


def test_pyreq_source_is_the_module_itself():
    source = probe_python._pyreq_source()
    assert "def probe(request):" in source and "PRIVATE to the collection" in source
    compile(source, "_pyreq", "exec")


def write_app(tmp_path, requirements, extra=None):
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text("app = None\n")
    (app / "requirements.txt").write_text(requirements)
    for name, text in (extra or {}).items():
        (app / name).write_text(text)
    return app


def test_requirements_checked_in_the_interpreter_markers_includes_pep440(tmp_path):
    """The real interpreter (this venv's) answers: a marker that does not apply is no problem,
    -r is followed, a post-release does not satisfy >X, a missing dist is missing."""
    app = write_app(tmp_path, 'pytest>=1\nnumpy==1.26.4; python_version < "3.0"\n-r more.txt\n',
                    {"more.txt": "pytest>%s\nno-such-dist-xyz\n" % pytest.__version__})
    facts = probe_python.probe_deps(python=PYTHON, app_dir=str(app), modules=[], timeout=60)
    by_name = {(req["name"], req["file"].rsplit("/", 1)[-1]): req for req in facts["requirements"]}
    assert by_name[("pytest", "requirements.txt")]["status"] == "ok"
    numpy = by_name[("numpy", "requirements.txt")]
    assert numpy["status"] == "not_applicable" and numpy["satisfied"] is None and numpy["applies"] is False
    assert by_name[("pytest", "more.txt")]["status"] == "mismatch"
    assert by_name[("no-such-dist-xyz", "more.txt")]["satisfied"] is False
    assert facts["missing"] == ["no-such-dist-xyz"] and facts["unsatisfied"] == ["pytest"]
    assert facts["requirements_files"] == [str(app / "requirements.txt"), str(app / "more.txt")]
    assert facts["run_as"]["uid_seen"] == os.getuid() and facts["syntax"]["ok"] is True
    assert "numpy" not in facts["missing"]


def test_requirement_fact_shapes():
    fact = probe_python._requirement_fact({"requirement": "a>1.0", "name": "a", "installed": "1.0.post1", "applies": True,
                                           "satisfied": False, "status": "mismatch", "file": "/r.txt", "lineno": 3})
    assert fact["specifier"] == ">1.0" and fact["satisfied"] is False and fact["line"] == 3
    assert fact["error"] == "installed 1.0.post1 does not satisfy >1.0"
    fact = probe_python._requirement_fact({"requirement": 'b; python_version < "3"', "name": "b", "status": "not_applicable",
                                           "applies": False, "satisfied": None})
    assert fact["satisfied"] is None and "marker" in fact["error"]


def test_canonical_name():
    assert probe_python.canonical_name("Python_Multipart") == "python-multipart"


def test_parse_report():
    report = {"imports": {}, "python_version": "3.11.2"}
    noisy = "print from an import\n%s%s\n" % (probe_python.MARKER, json.dumps(report))
    assert probe_python._parse_report(noisy) == report
    assert probe_python._parse_report("no marker") is None
    assert probe_python._parse_report(probe_python.MARKER + "{truncated") is None
    assert probe_python._parse_report(probe_python.MARKER + "[1]") is None
    assert probe_python._parse_report(None) is None


def test_target_script_is_old_python_syntax():
    """The target-side script (_pyreq's source) avoids f-strings so old interpreters can parse it."""
    source = probe_python._pyreq_source()
    compile(source, "_pyreq", "exec")
    assert ' f"' not in source and " f'" not in source and '(f"' not in source
