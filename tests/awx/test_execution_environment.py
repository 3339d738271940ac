"""execution-environment.yml and decision-environment.yml (ansible-builder v3): what they pin and
install, and the build context `ansible-builder create` generates from them (no container
build here: tests/functional/test_ee_run.py builds the EE and runs jobs in it).

- ansible-core/ansible-runner pinned to the toolchain's versions;
- a base image built here (localhost/beatsync-ee-base, scripts/build-ee.sh), Debian's apt behind
  ee-pkgmgr, pip from the base image (no ensurepip);
- the collections from tarballs in the build context, installed --offline --no-deps: no git
  anywhere, beatsync.ops at galaxy.yml's version, community.general at the toolchain's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testlib import REPO

EE_FILE = REPO / "execution-environment.yml"
DE_FILE = REPO / "decision-environment.yml"
EE_REQUIREMENTS = REPO / "ee" / "requirements.yml"
BUILDER = Path(sys.executable).parent / "ansible-builder"
SITE = Path(sys.executable).parent.parent / "lib"


def toolchain_pin(name):
    text = (REPO / "requirements" / "toolchain.txt").read_text()
    match = re.search(r"^%s==(\S+)" % re.escape(name), text, re.M)
    assert match, "%s is not pinned in requirements/toolchain.txt" % name
    return match.group(1)


def installed_collection_version(namespace, name):
    [manifest] = SITE.glob("python3*/site-packages/ansible_collections/%s/%s/MANIFEST.json" % (namespace, name))
    return json.loads(manifest.read_text())["collection_info"]["version"]


def lane_mismatch():
    """Why the EE's pinned collections cannot be packed from this toolchain, or None. The EE pins
    community.general as bundled by the main lane's `ansible` package; the Python 3.11 lane
    (requirements/toolchain-py311.txt) has an older one."""
    for item in yaml.safe_load(EE_REQUIREMENTS.read_text())["collections"]:
        namespace, name, version = re.match(r"collections/([a-z_]+)-([a-z_]+)-(.+)\.tar\.gz$", item["name"]).groups()
        if (namespace, name) == ("beatsync", "ops"):
            continue
        have = installed_collection_version(namespace, name)
        if have != version:
            return "the EE pins %s.%s %s, this toolchain has %s (not the main lane)" % (namespace, name, version, have)
    return None


@pytest.fixture(scope="module")
def tarballs():
    """scripts/ee-collections.py: the tarballs the definitions' additional_build_files copy."""
    reason = lane_mismatch()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "ee-collections.py"),
                           "--venv", str(Path(sys.executable).parent.parent)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return REPO / "build" / "ee" / "collections"


@pytest.mark.parametrize("path", [EE_FILE, DE_FILE], ids=["ee", "de"])
def test_definition_pins_the_tested_toolchain(path):
    ee = yaml.safe_load(path.read_text())
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"] == "localhost/beatsync-ee-base:latest"
    deps = ee["dependencies"]
    assert deps["ansible_core"]["package_pip"] == "ansible-core==%s" % toolchain_pin("ansible-core")
    assert deps["ansible_runner"]["package_pip"] == "ansible-runner==%s" % toolchain_pin("ansible-runner")
    assert deps["galaxy"] == "ee/requirements.yml"
    assert ee["options"]["package_manager_path"] == "/usr/local/sbin/ee-pkgmgr"
    assert (REPO / "ee" / "base" / "ee-pkgmgr").is_file()
    assert ee["options"]["skip_pip_install"] is True
    assert ee["build_arg_defaults"]["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] == "--offline --no-deps"
    assert ee["additional_build_files"] == [{"src": "build/ee/collections/*.tar.gz", "dest": "collections"}]
    assert "git" not in " ".join(deps.get("system", [])), "no git: the collections come from tarballs"


def test_decision_environment_has_ansible_rulebook_and_java():
    de = yaml.safe_load(DE_FILE.read_text())
    assert de["dependencies"]["python"] == ["ansible-rulebook==%s" % toolchain_pin("ansible-rulebook")]
    assert "default-jre-headless [platform:dpkg]" in de["dependencies"]["system"]


def test_ee_requirements_are_pinned_tarballs():
    """beatsync.ops at galaxy.yml's version, and every other collection the collection's content
    uses (FQCN prefixes in roles/ and playbooks/) at the version the toolchain tests."""
    items = yaml.safe_load(EE_REQUIREMENTS.read_text())["collections"]
    assert all(item["type"] == "file" and item["name"].startswith("collections/") for item in items)
    names = [Path(item["name"]).name for item in items]
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert "beatsync-ops-%s.tar.gz" % galaxy["version"] in names
    text = "".join(path.read_text() for folder in ("roles", "playbooks") for path in (REPO / folder).rglob("*.yml"))
    reason = lane_mismatch()
    if reason:
        pytest.skip(reason)
    used = {match for match in re.findall(r"\b([a-z_]+\.[a-z_]+)\.[a-z_]+:", text)
            if match not in ("beatsync.ops", "ansible.builtin") and match.split(".")[0] in ("community", "ansible")}
    assert used, "expected community.general (ufw) to be used"
    for collection in used:
        namespace, name = collection.split(".")
        version = installed_collection_version(namespace, name)
        assert "%s-%s-%s.tar.gz" % (namespace, name, version) in names, (collection, version, names)


def test_the_tarballs_hold_the_pinned_versions(tarballs):
    for item in yaml.safe_load(EE_REQUIREMENTS.read_text())["collections"]:
        tarball = tarballs / Path(item["name"]).name
        proc = subprocess.run(["tar", "-xzOf", str(tarball), "MANIFEST.json"], capture_output=True, check=True)
        info = json.loads(proc.stdout)["collection_info"]
        assert tarball.name == "%s-%s-%s.tar.gz" % (info["namespace"], info["name"], info["version"])


@pytest.mark.parametrize("path", [EE_FILE, DE_FILE], ids=["ee", "de"])
def test_ansible_builder_create(path, tarballs, tmp_path):
    context = tmp_path / "context"
    proc = subprocess.run([str(BUILDER), "create", "-f", str(path), "-c", str(context), "-v", "3"],
                          capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / "Containerfile").read_text()
    core, runner = toolchain_pin("ansible-core"), toolchain_pin("ansible-runner")
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==%s ansible-runner==%s"' % (core, runner) in containerfile
    assert 'ARG EE_BASE_IMAGE="localhost/beatsync-ee-base:latest"' in containerfile
    assert 'ARG PKGMGR="/usr/local/sbin/ee-pkgmgr"' in containerfile
    assert 'ARG ANSIBLE_GALAXY_CLI_COLLECTION_OPTS="--offline --no-deps"' in containerfile
    assert "pip_install" not in containerfile.replace("COPY _build/scripts/", "")
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    build = context / "_build"
    assert yaml.safe_load((build / "requirements.yml").read_text()) == yaml.safe_load(EE_REQUIREMENTS.read_text())
    for item in yaml.safe_load(EE_REQUIREMENTS.read_text())["collections"]:
        assert (build / item["name"]).is_file(), item["name"]  # the galaxy stage's cwd is the context's _build
    bindep = (build / "bindep.txt").read_text()
    if path == EE_FILE:
        assert "jmespath==1.0.1" in (build / "requirements.txt").read_text()
        assert "openssh-client [platform:dpkg]" in bindep and "sshpass [platform:dpkg]" in bindep
        assert "ansible-doc -l beatsync.ops" in containerfile  # append_final check
    else:
        assert "ansible-rulebook==" in (build / "requirements.txt").read_text()
        assert "default-jre-headless [platform:dpkg]" in bindep
        assert "ENV JAVA_HOME=/usr/lib/jvm/default-java" in containerfile
    for script in ("assemble", "install-from-bindep", "entrypoint", "check_galaxy"):
        assert (build / "scripts" / script).is_file()


def test_awx_import_points_at_the_built_image():
    [ee] = json.loads((REPO / "awx" / "beatsync_awx_import.json").read_text())["execution_environments"]
    assert ee["image"].endswith("/beatsync-ee:0.1.0") or ee["image"].startswith("localhost/beatsync-ee:")


def test_collection_requirements_cover_the_collection_and_its_dependencies():
    """collections/requirements.yml is what AWX installs at project sync (not the EE's list)."""
    requirements = yaml.safe_load((REPO / "collections" / "requirements.yml").read_text())["collections"]
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    names = {item["name"] for item in requirements}
    assert set(galaxy["dependencies"]) <= names
    own = [item for item in requirements if item.get("type") == "git"]
    assert own and own[0]["name"] == galaxy["repository"] + ".git"
