"""The execution environment, built here and used the way AWX uses it.

scripts/build-ee.sh builds localhost/beatsync-ee:<recipe hash> (or finds it cached: a few
seconds), and the AWX job templates' playbooks run INSIDE it through ansible-runner's process
isolation (`ansible-runner run --process-isolation --process-isolation-executable podman
--container-image <ee>`), as AWX's receptor worker runs a job: a private data dir with
project/ (the repository's playbooks/ only: beatsync.ops comes from the image), inventory/,
env/extravars (the template's extra vars and survey defaults), env/cmdline (job type, the
Machine credential's user, the template's become) and env/ssh_key (the Machine credential's
key, which ansible-runner hands to ssh-agent inside the EE). The managed host is a real systemd
host of the test bed (tests/systemd_hosts.py's SshHost: sshd on port 22, `ops` with sudo and a
fresh key), reached over SSH from the EE container on podman's network, with the runbook's
incident (/docs 503): "BeatSync diagnose" (check) reports it and changes nothing, "BeatSync
repair" fixes it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from awx_jobs import RUNNER, TEMPLATES, assert_diagnose_job_reported, assert_repair_job_fixed, job_events
from testlib import REPO
from systemd_hosts import (SSH_USER, break_host, podman, podman_env, reset_host,  # noqa: F401  pylint: disable=unused-import
                           ssh_host_factory, systemd_image, unavailable_reason)

pytestmark = pytest.mark.containers

BUILD_EE = REPO / "scripts" / "build-ee.sh"


def lane_mismatch():
    """Why the EE cannot be built from this toolchain, or None: ee/requirements.yml pins the
    community.general the main lane's `ansible` package bundles; the Python 3.11 lane
    (requirements/toolchain-py311.txt) has an older one."""
    for item in yaml.safe_load((REPO / "ee" / "requirements.yml").read_text())["collections"]:
        namespace, name, version = re.match(r"collections/([a-z_]+)-([a-z_]+)-(.+)\.tar\.gz$", item["name"]).groups()
        manifests = sorted(Path(sys.executable).parent.parent.glob(
            "lib/python3*/site-packages/ansible_collections/%s/%s/MANIFEST.json" % (namespace, name)))
        if (namespace, name) != ("beatsync", "ops") and manifests:
            have = json.loads(manifests[0].read_text())["collection_info"]["version"]
            if have != version:
                return "the EE pins %s.%s %s, this toolchain has %s (not the main lane)" % (namespace, name, version, have)
    return None


@pytest.fixture(scope="session")
def ee_image():
    """localhost/beatsync-ee:<recipe hash>, built by scripts/build-ee.sh unless cached."""
    reason = unavailable_reason() or lane_mismatch()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run(["bash", str(BUILD_EE)], env=podman_env(), capture_output=True, text=True,
                          timeout=3600, check=False)
    assert proc.returncode == 0, "build-ee.sh failed:\n" + proc.stderr[-6000:]
    tag = proc.stdout.strip().splitlines()[-1]
    assert tag.startswith("localhost/beatsync-ee:")
    return tag


@pytest.fixture
def ssh_host(ssh_host_factory):  # noqa: F811  pylint: disable=redefined-outer-name
    """A test bed host with the fixture app, reached as AWX reaches a managed host: sshd on port 22,
    `ops` with password-less sudo and a fresh key (the Machine credential's)."""
    return ssh_host_factory(ssh_port=22, listen="port", deploy=True)


def run_job(tmp_path, image, host, template_name, ident):
    """One AWX job of the template inside the EE -> (artifacts dir, events, rc, stdout)."""
    template = TEMPLATES[template_name]
    private = tmp_path / ident
    (private / "inventory").mkdir(parents=True)
    (private / "env").mkdir()
    (private / "project").mkdir()
    # The project as AWX checks it out; only its playbooks/ is needed, no collection in it.
    shutil.copytree(REPO / "playbooks", private / "project" / "playbooks")
    (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"beatsync": {"hosts": {"bed": {
        "ansible_host": host.ip, "ansible_python_interpreter": "/usr/bin/python3",
        "beatsync_break_system_packages": True}}}}))
    extra_vars = yaml.safe_load(template["extra_vars"])
    extra_vars.update({question["variable"]: question["default"]
                       for question in template["related"]["survey_spec"]["spec"]})
    (private / "env" / "extravars").write_text(yaml.safe_dump(extra_vars))
    # What AWX puts on the command line: the job type, the Machine credential's user and
    # the template's "privilege escalation" (become_enabled; sudo is the credential's default).
    cmdline = ["-u", SSH_USER]
    if template["become_enabled"]:
        cmdline += ["--become", "--become-method", "sudo"]
    if template["job_type"] == "check":
        cmdline.append("--check")
    (private / "env" / "cmdline").write_text(" ".join(cmdline))
    (private / "env" / "ssh_key").write_text(host.key.read_text())
    (private / "env" / "envvars").write_text(yaml.safe_dump({
        "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}))
    home = tmp_path / "home"  # nothing of this machine's ~/.ssh gets into the EE
    home.mkdir(exist_ok=True)
    env = dict(podman_env(), HOME=str(home), PATH="%s:/usr/sbin:/usr/bin:/sbin:/bin" % RUNNER.parent)
    for name in list(env):
        if name.startswith("ANSIBLE_") or name == "SSH_AUTH_SOCK":
            env.pop(name)
    proc = subprocess.run([str(RUNNER), "run", str(private), "-p", template["playbook"], "--ident", ident,
                           "--process-isolation", "--process-isolation-executable", "podman",
                           "--container-image", image,
                           # what AWX passes (awx/main/tasks/jobs.py): the EE's default user (1000)
                           # could not read the job's files (the ssh_key fifo is 0600)
                           "--container-option=--user=root"],
                          capture_output=True, text=True, timeout=900, check=False, env=env)
    artifacts = private / "artifacts" / ident
    events = job_events(artifacts)
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else ""
    return artifacts, events, proc.returncode, stdout + proc.stdout[-3000:] + proc.stderr[-3000:]


def test_the_image_holds_the_pinned_collection_and_toolchain(ee_image):
    proc = podman("run", "--rm", ee_image, "bash", "-c",
                  "ansible-galaxy collection list --format json; echo; ansible-runner --version; "
                  "ansible --version | head -1; command -v ssh ssh-agent sshpass git || true")
    listed, rest = proc.stdout.split("\n", 1)
    collections = {name: info["version"] for path in json.loads(listed).values() for name, info in path.items()}
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert collections["beatsync.ops"] == galaxy["version"]
    assert "community.general" in collections
    assert list(json.loads(listed)) == ["/usr/share/ansible/collections/ansible_collections"]
    assert "2.4.3" in rest and "core 2.21.5" in rest
    assert "/usr/bin/ssh-agent" in rest and "/usr/bin/sshpass" in rest
    assert "git" not in rest.split(), "the EE needs no git: the collection comes from its tarball"


def test_diagnose_then_repair_jobs_inside_the_ee(ee_image, ssh_host, tmp_path):
    reset_host(ssh_host)
    break_host(ssh_host, "docs_503")

    artifacts, events, rc, stdout = run_job(tmp_path, ee_image, ssh_host, "BeatSync diagnose", "diagnose")
    assert rc == 0, stdout[-6000:]
    command = json.loads((artifacts / "command").read_text())["command"]
    assert command[:2] == ["podman", "run"] and ee_image in command, command  # it ran in the EE
    assert_diagnose_job_reported(artifacts, events, ssh_host)

    artifacts, events, rc, stdout = run_job(tmp_path, ee_image, ssh_host, "BeatSync repair", "repair")
    assert rc == 0, stdout[-6000:]
    assert_repair_job_fixed(artifacts, events, ssh_host)
    # the job reached the host over SSH as the credential's user, and became root with sudo
    assert ssh_host.exec("journalctl -u ssh.service --no-pager -o cat | grep -c 'Accepted publickey for %s'"
                         % SSH_USER, check=False).stdout.strip() not in ("", "0")
    assert ssh_host.exec("journalctl --no-pager -o cat _COMM=sudo | grep -c 'USER=root'",
                         check=False).stdout.strip() not in ("", "0")
