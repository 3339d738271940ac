"""Quality gates that are cheaper as tests than as scripts.

- The collection builds with `ansible-galaxy collection build`, the tarball holds no dev
  files, installs with `--no-deps` into an empty collections path (Galaxy is not reachable),
  and its modules then load and run by FQCN from there (not from the work tree).
- The lint configuration keeps the production profile and offline mode.
- The get-pip stand-in used by scripts/sanity.sh bootstraps pip in a bare venv.
- Test modules import shared helpers from testlib, never from conftest (two conftest.py files
  in the tree are both module "conftest": the import would depend on collection order).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from testlib import REPO, tool

MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


def _isolated_env(collections_path, home):
    """Only the temporary collections path: not ~/.ansible/collections, not the work tree."""
    env = dict(os.environ)
    for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_CONFIG", "PYTHONPATH"):
        env.pop(var, None)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    return env


def _run(cmd, env=None, cwd=None, timeout=300):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, "%s -> %d\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(map(str, cmd)), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(tarball, collections path, env) of the collection built from the work tree and installed."""
    if not MODULES:
        pytest.skip("no modules in plugins/modules yet")
    root = tmp_path_factory.mktemp("galaxy")
    dist = root / "dist"
    cols = root / "collections"
    home = root / "ansible_home"
    dist.mkdir()
    home.mkdir()
    env = _isolated_env(cols, home)
    _run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(REPO)], env=env, cwd=root)
    tarballs = sorted(dist.glob("beatsync-ops-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    _run([tool("ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p", str(cols), str(tarballs[0])],
         env=env, cwd=root)
    installed = cols / "ansible_collections" / "beatsync" / "ops"
    assert (installed / "MANIFEST.json").is_file()
    return tarballs[0], installed, env


def test_tarball_is_beatsync_ops(built):
    """What the tarball holds (and must not) is tests/unit/test_release.py's; here: its name."""
    tarball = built[0]
    with tarfile.open(tarball) as tar:
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"]) == ("beatsync", "ops")


def test_installed_modules_load_by_fqcn_from_install_path(built):
    """Every module of the work tree is in the installed tarball and resolves by FQCN there.
    (Rendering each module's documentation is the ansible-doc sanity test's job.)"""
    _tarball, installed, env = built
    proc = _run([tool("ansible-doc"), "-t", "module", "-F", "beatsync.ops"], env=env)
    found = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("beatsync.ops."):
            found[parts[0]] = Path(parts[1])
    assert sorted(found) == ["beatsync.ops.%s" % m for m in MODULES]
    outside = {fqcn: str(path) for fqcn, path in found.items()
               if not path.resolve().is_relative_to(installed.resolve())}
    assert not outside, "loaded from outside the installed collection: %s" % outside


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_installed_module_runs_by_fqcn(built):
    """A module of the installed tarball runs through `ansible localhost -m <FQCN>`."""
    if "health_probe" not in MODULES:
        pytest.skip("beatsync.ops.health_probe not written yet")
    _tarball, _installed, env = built
    url = "http://127.0.0.1:%d/api/health" % _closed_port()
    proc = _run([tool("ansible"), "localhost", "-o", "-m", "beatsync.ops.health_probe",
                 "-a", "url=%s timeout=2" % url], env=env, timeout=120)
    # one-line output: "localhost | SUCCESS => {...}"
    result = json.loads(proc.stdout.split("=>", 1)[1])
    assert result["changed"] is False
    assert result["reachable"] is False
    assert result["url"] == url


def test_ansible_lint_config_is_production_and_offline():
    config = yaml.safe_load((REPO / ".ansible-lint").read_text(encoding="utf-8"))
    assert config["profile"] == "production"
    assert config["offline"] is True
    assert not config.get("skip_list"), "rules are fixed, not skipped: %s" % config.get("skip_list")


def test_get_pip_stand_in_bootstraps_pip_offline(tmp_path):
    """The stand-in ansible-test runs as get-pip: drops get-pip's own flags, runs ensurepip
    in a subprocess. Without a package argument it needs no network."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), str(REPO / "scripts" / "get-pip-offline.py"), "--disable-pip-version-check",
          "--no-setuptools", "--no-wheel"], timeout=180)
    proc = _run([str(python), "-m", "pip", "--version"])
    assert str(venv) in proc.stdout


def test_no_test_imports_from_conftest():
    offenders = [str(path.relative_to(REPO)) for path in (REPO / "tests").rglob("*.py")
                 if re.search(r"^\s*(from conftest import|import conftest)", path.read_text(encoding="utf-8"), re.M)]
    assert offenders == [], "import shared helpers from testlib instead: %s" % offenders
