"""scripts/bootstrap.sh picks its lane from the interpreters it can see.

Real interpreters of this machine on a PATH built per test (HOME moved so no pyenv is found):
- only Debian's python3 (3.11), as on a stock Debian 12 -> requirements/toolchain-py311.txt;
- a Python >= 3.12 next to it -> requirements/toolchain.txt;
- --python / BEATSYNC_PYTHON choose; an existing venv keeps its interpreter; a too old or a
  missing interpreter and an unknown option are refused with a message naming them; with no
  python3 on PATH at all, Debian's /usr/bin/python3 is still found.
- --lane core220 (ansible-core 2.20) takes the Python >= 3.12 and exits 3 naming the missing
  interpreter where there is none; scripts/test-core-lane.sh core220 then says SKIPPED and
  passes (fails with BEATSYNC_LANE_STRICT=1).
`--check` reports the choice without installing anything. The full installs of the lanes run
in CI in scripts/test-core-lane.sh (py311, core220).
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BOOTSTRAP = REPO / "scripts" / "bootstrap.sh"
DEBIAN_PY = Path("/usr/bin/python3")


def _minor(python):
    out = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[1])"],
                         capture_output=True, text=True, check=False)
    return int(out.stdout) if out.returncode == 0 else None


def _find_312():
    candidates = [shutil.which("python3.12"), shutil.which("python3.13"), sys.executable]
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3"))
    for cand in candidates:
        if cand and (_minor(cand) or 0) >= 12:
            return Path(cand)
    return None


def _debian_311():
    if not DEBIAN_PY.exists() or _minor(DEBIAN_PY) != 11:
        pytest.skip("needs Debian 12's /usr/bin/python3 (3.11)")
    return DEBIAN_PY


def _bootstrap(tmp_path, pythons, *args, extra_env=None):
    """Run bootstrap.sh --check with only `pythons` ({name: path}) and /usr/bin tools on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for name, path in pythons.items():
        if not (bindir / name).is_symlink():
            (bindir / name).symlink_to(path)
    # /usr/bin has Debian's python3 itself; a private copy of the tools bootstrap needs instead.
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for tool in ("bash", "cat", "sha256sum", "cut", "sed", "dirname", "id", "dpkg-query", "grep"):
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found and not (tools / tool).exists():
            (tools / tool).symlink_to(found)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": "%s:%s" % (bindir, tools), "HOME": str(home), "LC_ALL": "C",
           "BEATSYNC_VENV": str(tmp_path / "venv")}
    env.update(extra_env or {})
    return subprocess.run([str(tools / "bash"), str(BOOTSTRAP), "--check", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_stock_debian_12_takes_the_python_311_lane(tmp_path):
    py = _debian_311()
    proc = _bootstrap(tmp_path, {"python3": py})
    assert proc.returncode == 0, proc.stderr
    assert "requirements/toolchain-py311.txt" in proc.stdout
    assert "Python 3.11" in proc.stdout
    assert "to be created" in proc.stdout


def test_a_python_312_when_there_is_one(tmp_path):
    py312 = _find_312()
    if py312 is None:
        pytest.skip("no Python >= 3.12 on this machine")
    proc = _bootstrap(tmp_path, {"python3": _debian_311(), "python3.12": py312})
    assert proc.returncode == 0, proc.stderr
    assert "requirements/toolchain.txt" in proc.stdout, proc.stdout
    assert "Python 3.1" in proc.stdout and "Python 3.11" not in proc.stdout


def test_the_option_selects_the_311_lane_next_to_a_312(tmp_path):
    py312 = _find_312()
    if py312 is None:
        pytest.skip("no Python >= 3.12 on this machine")
    py = _debian_311()
    proc = _bootstrap(tmp_path, {"python3": py, "python3.12": py312}, "--python", str(py))
    assert proc.returncode == 0, proc.stderr
    assert "requirements/toolchain-py311.txt" in proc.stdout
    proc = _bootstrap(tmp_path, {"python3": py, "python3.12": py312}, extra_env={"BEATSYNC_PYTHON": str(py)})
    assert "requirements/toolchain-py311.txt" in proc.stdout, proc.stdout + proc.stderr


def test_an_existing_venv_keeps_its_lane_and_is_up_to_date(tmp_path):
    py312 = _find_312()
    if py312 is None:
        pytest.skip("no Python >= 3.12 on this machine")
    py = _debian_311()
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(py)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nexecutable = %s\n" % py)
    stamp = hashlib.sha256(b"".join((REPO / "requirements" / name).read_bytes()
                                    for name in ("toolchain-py311.txt", "constraints-py311.txt"))).hexdigest()
    (venv / ".toolchain.sha256").write_text(stamp + "\n")
    proc = _bootstrap(tmp_path, {"python3": py, "python3.12": py312})
    assert proc.returncode == 0, proc.stderr
    assert "requirements/toolchain-py311.txt" in proc.stdout and "up to date" in proc.stdout, proc.stdout


@pytest.mark.parametrize("args, env, message, code", [
    (("--python", "/nonexistent/python3"), {}, "'/nonexistent/python3' not found", 1),
    ((), {"BEATSYNC_PYTHON": "/nonexistent/python3"}, "'/nonexistent/python3' not found", 1),
    (("--frobnicate",), {}, "unknown option '--frobnicate'", 2),
    (("--python",), {}, "--python needs an interpreter", 2),
])
def test_bad_choices_are_refused_by_name(tmp_path, args, env, message, code):
    proc = _bootstrap(tmp_path, {"python3": _debian_311()}, *args, extra_env=env)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_a_python_older_than_311_is_refused(tmp_path):
    old = next((p for p in sorted(glob.glob("/root/.pyenv/versions/3.[0-9].*/bin/python3"))
                + [shutil.which("python3.10") or "", shutil.which("python3.9") or ""]
                if p and (_minor(p) or 99) < 11), None)
    if old is None:
        pytest.skip("no Python older than 3.11 here")
    proc = _bootstrap(tmp_path, {"python3": _debian_311()}, "--python", old)
    assert proc.returncode == 1
    assert "needs Python >= 3.11" in proc.stderr


def test_without_python_on_path_debians_own_python3_is_taken(tmp_path):
    _debian_311()
    proc = _bootstrap(tmp_path, {})
    assert proc.returncode == 0, proc.stderr
    assert "python /usr/bin/python3" in proc.stdout and "requirements/toolchain-py311.txt" in proc.stdout
    # --check created nothing
    assert not (tmp_path / "venv").exists()
    assert os.listdir(tmp_path / "home") == []


def test_the_core220_lane_takes_the_python_312(tmp_path):
    py312 = _find_312()
    if py312 is None:
        pytest.skip("no Python >= 3.12 on this machine")
    proc = _bootstrap(tmp_path, {"python3": _debian_311(), "python3.12": py312}, "--lane", "core220")
    assert proc.returncode == 0, proc.stderr
    assert "requirements/toolchain-core220.txt" in proc.stdout and "Python 3.11" not in proc.stdout, proc.stdout


def test_the_core220_lane_without_a_python_312_exits_3_naming_it(tmp_path):
    # Stock Debian 12: only python3 3.11, and HOME moved so no pyenv is found.
    proc = _bootstrap(tmp_path, {"python3": _debian_311()}, "--lane", "core220")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "no Python >= 3.12 found for --lane core220" in proc.stderr
    proc = _bootstrap(tmp_path, {"python3": _debian_311()}, "--lane", "core220", "--python", str(DEBIAN_PY))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "--lane core220 needs Python >= 3.12" in proc.stderr


def test_an_unknown_lane_is_refused_by_name(tmp_path):
    proc = _bootstrap(tmp_path, {"python3": _debian_311()}, "--lane", "core299")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "unknown --lane 'core299'" in proc.stderr


def test_the_lane_script_says_skipped_and_passes_without_a_python_312(tmp_path):
    """scripts/test-core-lane.sh core220 on a stock Debian 12: SKIPPED, exit 0 (1 when strict)."""
    _debian_311()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(DEBIAN_PY)
    home = tmp_path / "home"
    home.mkdir()
    # /usr/bin has Debian's python3 (3.11) only; HOME moved so pyenv's interpreters are not found.
    env = {"PATH": "%s:/usr/bin:/bin" % bindir, "HOME": str(home), "LC_ALL": "C",
           "BEATSYNC_LANE_VENV": str(tmp_path / "venv")}
    for name in ("python3.12", "python3.13"):
        if shutil.which(name, path="/usr/bin:/bin"):
            pytest.skip("/usr/bin has %s: not a stock Debian 12" % name)
    script = REPO / "scripts" / "test-core-lane.sh"
    proc = subprocess.run(["bash", str(script), "core220"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "test-core-lane core220: SKIPPED" in proc.stdout and "did NOT run" in proc.stdout
    assert "no Python >= 3.12 found" in proc.stderr
    assert not (tmp_path / "venv").exists()
    strict = dict(env, BEATSYNC_LANE_STRICT="1")
    proc = subprocess.run(["bash", str(script), "core220"], env=strict, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1 and "SKIPPED" in proc.stdout, proc.stdout + proc.stderr
