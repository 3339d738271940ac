"""execution-environment.yml: `ansible-builder create` generates the build context (no
container build), with ansible-core/ansible-runner pinned to the toolchain's versions, the
collection requirements, Python and bindep requirements.

ansible-builder is not in the toolchain venv yet: the test uses it from the toolchain venv
if present, else from EDA_VENV (default build/awx-eda/venv), and is skipped otherwise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

EE_FILE = REPO / "execution-environment.yml"
EDA_VENV = Path(os.environ.get("EDA_VENV", str(REPO / "build" / "awx-eda" / "venv")))


def _builder():
    for candidate in (Path(sys.executable).parent / "ansible-builder", EDA_VENV / "bin" / "ansible-builder"):
        if candidate.exists():
            return candidate
    return None


def toolchain_pin(name):
    text = (REPO / "requirements" / "toolchain.txt").read_text()
    match = re.search(r"^%s==(\S+)" % re.escape(name), text, re.M)
    assert match, "%s is not pinned in requirements/toolchain.txt" % name
    return match.group(1)


def test_ee_definition_pins_the_tested_toolchain():
    ee = yaml.safe_load(EE_FILE.read_text())
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"]
    deps = ee["dependencies"]
    assert deps["ansible_core"]["package_pip"] == "ansible-core==%s" % toolchain_pin("ansible-core")
    assert deps["ansible_runner"]["package_pip"] == "ansible-runner==%s" % toolchain_pin("ansible-runner")
    assert (EE_FILE.parent / deps["galaxy"]).is_file()


def test_collection_requirements_cover_the_collection_and_its_dependencies():
    requirements = yaml.safe_load((REPO / "collections" / "requirements.yml").read_text())["collections"]
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    names = {item["name"] for item in requirements}
    assert set(galaxy["dependencies"]) <= names
    own = [item for item in requirements if item.get("type") == "git"]
    assert own and own[0]["name"] == galaxy["repository"] + ".git"


@pytest.mark.skipif(_builder() is None, reason="ansible-builder not installed (EDA_VENV=%s)" % EDA_VENV)
def test_ansible_builder_create(tmp_path):
    context = tmp_path / "context"
    proc = subprocess.run([str(_builder()), "create", "-f", str(EE_FILE), "-c", str(context), "-v", "3"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / "Containerfile").read_text()
    core, runner = toolchain_pin("ansible-core"), toolchain_pin("ansible-runner")
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==%s ansible-runner==%s"' % (core, runner) in containerfile
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.12"' in containerfile
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "RUN ansible-galaxy collection list beatsync.ops" in containerfile  # append_final step
    build = context / "_build"
    assert yaml.safe_load((build / "requirements.yml").read_text()) == \
        yaml.safe_load((REPO / "collections" / "requirements.yml").read_text())
    assert "jmespath>=1.0" in (build / "requirements.txt").read_text()
    bindep = (build / "bindep.txt").read_text()
    assert "git-core [platform:rpm]" in bindep and "openssh-clients [platform:rpm]" in bindep
    for script in ("assemble", "install-from-bindep", "entrypoint", "check_galaxy"):
        assert (build / "scripts" / script).is_file()
