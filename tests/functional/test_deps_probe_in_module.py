# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deps probe's check in the module's own process (issue 13, host CPU) on a real systemd
host of the test bed: when nothing is imported and the unit's interpreter and User=/Group= are
the module's own, probe_deps answers without starting the interpreter, and its facts are the
ones the interpreter's own run gives (healthy, a requirement mismatch, a missing requirement,
a .pth-added site directory, a syntax error in main.py while the unit still serves, through
the real diagnose module too); a venv interpreter, another User= or a .pth that runs code
takes the interpreter's run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from testlib import ansible_env
from systemd_hosts import APP_DIR, podman_env, beatsync_host, stage_module_utils, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

STAGE = "/usr/local/lib/beatsync-test-inmodule"
SITE = "/usr/local/lib/python3.11/dist-packages"
# Both ways of one probe_deps call, and the search path computed for `python3 -I`, from a
# python3 that is NOT isolated and has PYTHONPATH set (neither may leak into the answer).
BOTH = (
    "import json, sys; sys.path.insert(0, %r); "
    "from ansible_collections.beatsync.ops.plugins.module_utils import _probe_python as p; "
    "kw = json.loads(sys.argv[1]); "
    "print(json.dumps({'module': p.probe_deps(in_module=True, **kw), 'interpreter': p.probe_deps(in_module=False, **kw), "
    "'path': p.isolated_sys_path()}))" % STAGE
)
ISOLATED_PATH = "import json, sys; print(json.dumps(sys.path))"


@pytest.fixture(scope="module")
def host(beatsync_host):  # noqa: F811
    stage_module_utils(beatsync_host, STAGE)
    yield beatsync_host
    beatsync_host.exec(["rm", "-rf", STAGE, "/opt/venv-inmodule", "/opt/extra-site", SITE + "/zz-inmodule.pth",
                        "/tmp/req-inmodule.txt"], check=False)


def both(host, **kwargs):
    args = dict(python="/usr/bin/python3", app_dir=APP_DIR, requirements_file="requirements.txt", app_module="main.py",
                modules=[], requirements_backend="stdlib")
    args.update(kwargs)
    proc = host.exec(["env", "PYTHONPATH=/tmp", "/usr/bin/python3", "-c", BOTH, json.dumps(args)])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def same_facts(answer, checked_in="module"):
    module, interpreter = dict(answer["module"]), dict(answer["interpreter"])
    assert (module.pop("checked_in"), interpreter.pop("checked_in")) == (checked_in, "interpreter")
    assert module == interpreter
    return module


def isolated_path(host):
    return json.loads(host.exec(["/usr/bin/python3", "-I", "-c", ISOLATED_PATH]).stdout)


def test_healthy_same_facts_and_search_path(host):
    answer = both(host)
    facts = same_facts(answer)
    assert answer["path"] == isolated_path(host) and "/tmp" not in answer["path"]
    assert facts["error"] is None and facts["missing"] == [] and facts["unsatisfied"] == []
    assert [req["status"] for req in facts["requirements"]] == ["ok", "ok"]
    assert facts["requirements_backend"] == "stdlib" and facts["syntax"]["ok"] is True
    assert facts["run_as"] == {"user": "root", "group": "root", "uid": 0, "gid": 0, "uid_seen": 0, "switched": False,
                               "error": None}


def test_mismatch_missing_and_include_same_facts(host):
    host.exec(["bash", "-c", "cat > /tmp/req-inmodule.txt"], input=(
        "fastapi>=999  # far future\nuvicorn<0.1\nstarlette!=0.0.1\n-r base.txt\nno-such-dist-xyz==1.0\n"
        "pydantic ; python_version < '3'\n"))
    facts = same_facts(both(host, requirements_file="/tmp/req-inmodule.txt"))
    by_name = {req["name"]: req for req in facts["requirements"]}
    assert facts["unsatisfied"] == ["fastapi", "uvicorn"] and facts["missing"] == ["no-such-dist-xyz"]
    assert by_name["starlette"]["status"] == "ok" and by_name["pydantic"]["status"] == "not_applicable"
    assert "base.txt" in facts["error"]


def test_missing_requirement_same_facts(host):
    host.exec(["bash", "-c", "cat > /tmp/req-inmodule.txt"], input="fastapi\nno-such-dist-xyz>=1\n")
    facts = same_facts(both(host, requirements_file="/tmp/req-inmodule.txt"))
    assert facts["missing"] == ["no-such-dist-xyz"] and facts["requirements"][1]["status"] == "missing"


def test_pth_added_site_directory(host):
    # A .pth path line adds a directory (with a distribution) to -I's sys.path: seen both ways.
    host.exec(["mkdir", "-p", "/opt/extra-site/extra_dist-1.5.dist-info"])
    host.exec(["bash", "-c", "cat > /opt/extra-site/extra_dist-1.5.dist-info/METADATA"],
              input="Metadata-Version: 2.1\nName: extra-dist\nVersion: 1.5\n")
    host.exec(["bash", "-c", "cat > %s/zz-inmodule.pth" % SITE], input="# comment\n/opt/extra-site\n/no/such/dir\n")
    host.exec(["bash", "-c", "cat > /tmp/req-inmodule.txt"], input="extra-dist==1.5\n")
    try:
        answer = both(host, requirements_file="/tmp/req-inmodule.txt")
        facts = same_facts(answer)
        assert "/opt/extra-site" in answer["path"] and answer["path"] == isolated_path(host)
        assert facts["requirements"][0]["status"] == "ok" and facts["requirements"][0]["installed"] == "1.5"
        # A .pth line that runs code: only the interpreter can say what it does.
        host.exec(["bash", "-c", "cat > %s/zz-inmodule.pth" % SITE], input="import sys\n/opt/extra-site\n")
        answer = both(host, requirements_file="/tmp/req-inmodule.txt")
        assert answer["path"] is None
        same_facts(answer, checked_in="interpreter")
    finally:
        host.exec(["rm", "-f", SITE + "/zz-inmodule.pth"])


def test_venv_interpreter_runs_the_interpreter(host):
    host.exec(["/usr/bin/python3", "-m", "venv", "--without-pip", "--system-site-packages", "/opt/venv-inmodule"])
    answer = both(host, python="/opt/venv-inmodule/bin/python3")
    facts = same_facts(answer, checked_in="interpreter")
    assert facts["error"] is None and facts["interpreter"] == "/opt/venv-inmodule/bin/python3"


def test_other_user_runs_the_interpreter(host):
    facts = same_facts(both(host, user="nobody"), checked_in="interpreter")
    assert facts["run_as"]["switched"] is True and facts["run_as"]["uid_seen"] == 65534


def test_something_to_import_or_pip_backend_runs_the_interpreter(host):
    same_facts(both(host, modules=["fastapi"]), checked_in="interpreter")
    same_facts(both(host, requirements_backend="auto"), checked_in="interpreter")


def diagnose_deps(host):
    """The real diagnose module through Ansible (AnsiballZ, pipelining): its deps facts."""
    env = ansible_env()
    env.update(podman_env())
    env["ANSIBLE_PIPELINING"] = "1"
    import subprocess  # pylint: disable=import-outside-toplevel
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible"), "all", "-i", host.name + ",",
                           "-c", "containers.podman.podman", "-e", "ansible_python_interpreter=/usr/bin/python3",
                           "-m", "beatsync.ops.diagnose", "-a", json.dumps({"probes": ["unit", "port", "health", "deps"]})],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][host.name]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible did not return JSON (rc=%s)\n%s\n%s" % (proc.returncode, proc.stdout[-3000:],
                                                                              proc.stderr[-3000:]))
    return result["probes"]["deps"]


def test_diagnose_module_syntax_error_while_serving(host):
    main = APP_DIR + "/main.py"
    host.exec(["cp", "-p", main, "/tmp/main.py.inmodule"])
    try:
        host.exec(["bash", "-c", "printf '\\n@app.get(\"/x\")\\ndef x(:\\n    return 1\\n' >> %s" % main])
        assert host.http_status_inside("/api/health") == "200"    # the running app still serves
        deps = diagnose_deps(host)
        assert deps["checked_in"] == "module" and deps["imports_skipped"] is True
        assert deps["syntax"]["ok"] is False and deps["syntax"]["file"] == main and deps["syntax"]["line"]
        del deps["imports_skipped"]
        deps.pop("checked_in")
        answer = both(host, requirements_file=APP_DIR + "/requirements.txt")
        interpreter = dict(answer["interpreter"])
        interpreter.pop("checked_in")
        assert deps == interpreter
    finally:
        host.exec(["cp", "-p", "/tmp/main.py.inmodule", main])
        host.exec(["rm", "-f", "/tmp/main.py.inmodule"])
