# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""beatsync.ops.deps_probe for real with this machine's interpreters: the toolchain venv
(fastapi + uvicorn installed) and a system Python without them; app dirs with and without
syntax errors, requirements with unsatisfied specifiers, missing paths."""

from __future__ import annotations

import os
import subprocess

import pytest

from testlib import FIXTURE_APP, REPO, ansible_doc_json

from ansible_collections.beatsync.ops.plugins.module_utils._probe_python import probe_deps

VENV_PYTHON = str(REPO / ".venv" / "bin" / "python")
BARE_CANDIDATES = ["/root/.pyenv/versions/3.11.7/bin/python", "/usr/bin/python3"]


def bare_python():
    """An interpreter without fastapi (the runbook's system python3 case)."""
    for path in BARE_CANDIDATES:
        if os.access(path, os.X_OK):
            probe = subprocess.run([path, "-I", "-c", "import fastapi"], capture_output=True, check=False)
            if probe.returncode != 0:
                return path
    pytest.skip("no interpreter without fastapi on this machine")


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "main.py").write_text((FIXTURE_APP / "main.py").read_text())
    (tmp_path / "requirements.txt").write_text((FIXTURE_APP / "requirements.txt").read_text())
    return tmp_path


def test_venv_interpreter_has_everything(app_dir):
    facts = probe_deps(python=VENV_PYTHON, app_dir=str(app_dir))
    assert facts["interpreter_found"] is True and facts["error"] is None
    assert facts["python_version"].startswith("3.")
    assert facts["imports"]["fastapi"]["ok"] is True and facts["imports"]["fastapi"]["version"]
    assert facts["imports"]["uvicorn"]["ok"] is True
    assert [(req["name"], req["satisfied"]) for req in facts["requirements"]] == [("fastapi", True), ("uvicorn", True)]
    assert facts["missing"] == [] and facts["unsatisfied"] == []
    assert facts["syntax"]["checked"] is True and facts["syntax"]["ok"] is True
    assert not list(app_dir.rglob("*.pyc")), "the syntax check must not write bytecode"


def test_bare_interpreter_misses_fastapi_and_uvicorn(app_dir):
    python = bare_python()
    facts = probe_deps(python=python, app_dir=str(app_dir))
    assert facts["interpreter_found"] is True
    assert facts["imports"]["fastapi"]["ok"] is False
    assert "No module named 'fastapi'" in facts["imports"]["fastapi"]["error"]
    assert facts["missing"] == ["fastapi", "uvicorn"]
    assert all(req["installed"] is None and req["satisfied"] is False for req in facts["requirements"])
    assert facts["syntax"]["ok"] is True  # the fixture app is valid for 3.11 too


def test_unsatisfied_specifiers_and_skipped_lines(app_dir):
    (app_dir / "requirements.txt").write_text(
        "fastapi>=999  # far future\nuvicorn<0.1\nstarlette!=0.0.1\n-r base.txt\nno-such-dist-xyz==1.0\n")
    facts = probe_deps(python=VENV_PYTHON, app_dir=str(app_dir))
    by_name = {req["name"]: req for req in facts["requirements"]}
    assert by_name["fastapi"]["satisfied"] is False and "does not satisfy >=999" in by_name["fastapi"]["error"]
    assert by_name["uvicorn"]["satisfied"] is False
    assert by_name["starlette"]["satisfied"] is True and by_name["starlette"]["installed"]
    assert by_name["no-such-dist-xyz"]["installed"] is None
    assert facts["unsatisfied"] == ["fastapi", "uvicorn"]
    assert facts["missing"] == ["no-such-dist-xyz"]
    assert "base.txt" in facts["error"]  # -r is followed; the missing include is named


def test_syntax_error_in_app_module(app_dir):
    (app_dir / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/x')\ndef x(:\n    return 1\n")
    facts = probe_deps(python=VENV_PYTHON, app_dir=str(app_dir))
    syntax = facts["syntax"]
    assert syntax["checked"] is True and syntax["ok"] is False
    assert syntax["file"] == str(app_dir / "main.py") and syntax["line"] == 5
    assert syntax["message"].startswith("SyntaxError") and syntax["text"] == "def x(:"
    assert not (app_dir / "__pycache__").exists()


def test_syntax_judged_by_the_target_interpreter(app_dir):
    """A `match` statement compiles in 3.10+ only: an old interpreter must report it."""
    old = "/root/.pyenv/versions/3.9.18/bin/python"
    if not os.access(old, os.X_OK):
        pytest.skip("no Python 3.9 here")
    (app_dir / "main.py").write_text("match 1:\n    case 1:\n        pass\n")
    assert probe_deps(python=VENV_PYTHON, app_dir=str(app_dir))["syntax"]["ok"] is True
    facts = probe_deps(python=old, app_dir=str(app_dir))
    assert facts["python_version"].startswith("3.9") and facts["syntax"]["ok"] is False and facts["syntax"]["line"] == 1


def test_imports_do_not_see_the_app_dir(app_dir):
    """-I: a stray fastapi.py in the app dir must not pass for the real package."""
    (app_dir / "fastapi.py").write_text("raise SystemExit('shadow module imported')\n")
    facts = probe_deps(python=bare_python(), app_dir=str(app_dir), requirements_file="")
    assert facts["imports"]["fastapi"]["ok"] is False
    assert "No module named" in facts["imports"]["fastapi"]["error"]


def test_missing_interpreter_app_dir_and_requirements(tmp_path):
    facts = probe_deps(python=str(tmp_path / "venv" / "bin" / "python"), app_dir=str(tmp_path))
    assert facts["interpreter_found"] is False
    assert str(tmp_path / "venv" / "bin" / "python") in facts["error"]
    assert "requirements.txt" in facts["error"]
    facts = probe_deps(python=VENV_PYTHON, app_dir=str(tmp_path / "nope"))
    assert facts["interpreter_found"] is True and facts["app_dir_exists"] is False
    assert "app_dir %s does not exist" % (tmp_path / "nope") in facts["error"]
    assert facts["imports"]["fastapi"]["ok"] is True and facts["syntax"]["checked"] is False


def test_interpreter_that_cannot_run_the_check(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 'Unknown option: -I' >&2\nexit 2\n")
    fake.chmod(0o755)
    facts = probe_deps(python=str(fake), app_dir=str(tmp_path), requirements_file="", app_module="")
    assert facts["interpreter_found"] is True
    assert "Unknown option: -I" in facts["error"] and facts["imports"]["fastapi"]["ok"] is None


def test_hanging_import_is_bounded(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    facts = probe_deps(python=str(fake), app_dir=str(tmp_path), timeout=1)
    assert "did not finish within 1" in facts["error"]


# ------------------------------------------------------------------ through Ansible
def test_module_venv(run_module_through_ansible, app_dir):
    # The real `ansible` CLI once: FQCN routing, AnsiballZ packaging of probe_python.
    result = run_module_through_ansible("deps_probe", {"python": VENV_PYTHON, "app_dir": str(app_dir)})
    assert result["changed"] is False and not result.get("failed")
    assert result["imports"]["fastapi"]["ok"] is True and result["syntax"]["ok"] is True
    assert result["missing"] == []


def test_module_bare_python_check_mode(run_module, app_dir):
    result = run_module("deps_probe", {"python": bare_python(), "app_dir": str(app_dir),
                                       "modules": ["fastapi", "uvicorn", "json"]}, check=True)
    assert result["changed"] is False
    assert result["imports"]["json"]["ok"] is True
    assert result["missing"] == ["fastapi", "uvicorn"]


def test_module_bad_options(run_module):
    result = run_module("deps_probe", {"app_dir": "relative"})
    assert result["failed"] is True and "app_dir" in result["msg"]
    result = run_module("deps_probe", {"modules": ["bad name"]})
    assert result["failed"] is True and "modules" in result["msg"]


def test_ansible_doc_renders():
    data = ansible_doc_json("deps_probe")
    assert data["doc"]["version_added"] == "0.1.0"
    assert data["doc"]["options"]["modules"]["default"] == ["fastapi", "uvicorn"]
    assert {"imports", "requirements", "missing", "syntax", "interpreter_found"} <= set(data["return"])
    assert "beatsync.ops.deps_probe" in data["examples"]
