"""Helpers the test suites import (`from testlib import ...`): paths, loopback ports, the
Ansible environment, in-process module runs, ansible-doc pages. They live here and not in
conftest.py because tests/molecule/ has a conftest.py of its own: both are module
"conftest" to Python, so `from conftest import` means whichever pytest loaded last."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import locale
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE_APP = REPO / "tests" / "fixtures" / "beatsync_app"
BUILD = REPO / "build"
COLLECTIONS_PATH = BUILD / "collections"

# The collection's Python code must be importable as ansible_collections.beatsync.ops.
_LINK = COLLECTIONS_PATH / "ansible_collections" / "beatsync" / "ops"
if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        _LINK.symlink_to(REPO, target_is_directory=True)
    except FileExistsError:
        pass
if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now (the kernel's pick)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host, port, timeout=20.0, proc=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s before listening" % proc.returncode)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("nothing listened on %s:%s within %ss" % (host, port, timeout))


@dataclass
class Server:
    """A real server process on loopback."""

    proc: subprocess.Popen
    host: str
    port: int
    argv: list = field(default_factory=list)

    @property
    def pid(self):
        return self.proc.pid

    @property
    def base_url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def ansible_env():
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    })
    return env


def _bin(name):
    return str(Path(sys.executable).parent / name)


def tool(name):
    """A toolchain command: beside this interpreter, else on PATH; skips the test when neither."""
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.skip("%s not found" % name)
    return found


def _ansible_cli_result(argv, timeout, host="localhost", env=None):
    proc = subprocess.run(argv, env=env or ansible_env(), capture_output=True, text=True, timeout=timeout, check=False)
    try:
        data = json.loads(proc.stdout)
        return data["plays"][0]["tasks"][0]["hosts"][host]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible did not return JSON (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                             % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))


def run_module_cli(name, args, check=False, timeout=120):
    """`ansible localhost -m beatsync.ops.<name> -a <json>` for real -> the task's result dict.

    Exercises what the in-process runner does not: FQCN routing, the action plugin in front of
    the module if there is one, AnsiballZ packaging (module_utils imports), the controller's
    handling of the result. Costs ~3 s of CPU per call; keep it to one or two per module.
    """
    argv = [_bin("ansible"), "localhost", "-c", "local", "-m", "beatsync.ops." + name,
            "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    return _ansible_cli_result(argv, timeout)


def run_module_on(host, inventory, module, args, check=False, extra_args=(), env=None, timeout=300):
    """`ansible <host> -i <inventory> -m <module> -a <json>` (pipelining on) -> that host's result
    dict; env: extra environment (e.g. systemd_hosts.podman_env()) over ansible_env()."""
    run_env = ansible_env()
    run_env.update(env or {})
    run_env["ANSIBLE_PIPELINING"] = "1"
    argv = [_bin("ansible"), host, "-i", str(inventory), "-m", module, "-a", json.dumps(args), *extra_args]
    if check:
        argv.append("--check")
    return _ansible_cli_result(argv, timeout, host=host, env=run_env)


def has_action_plugin(name):
    return (REPO / "plugins" / "action" / (name + ".py")).is_file()


def call_module_main(name, args, check=False, tmpdir=None):
    """Run plugins/modules/<name>.py's main() in this process, the way Ansible's own unit tests do.

    The arguments go in through ansible.module_utils.testing.patch_module_args (the
    ANSIBLE_MODULE_ARGS JSON that AnsiballZ would hand the module); exit_json/fail_json print
    their JSON on stdout and raise SystemExit, which is caught here. Argument parsing and
    validation are AnsibleModule's own, the probes talk to the same real servers, sockets,
    processes and files. As the controller does, "changed" and "failed" are filled in when the
    module leaves them out. An exception that escapes main() (a traceback in real life) is
    raised to the test.
    """
    from ansible.module_utils import testing as module_testing
    from ansible.module_utils.common import warnings as module_warnings

    module = importlib.import_module("ansible_collections.beatsync.ops.plugins.modules." + name)
    internal = {
        "_ansible_check_mode": bool(check),
        "_ansible_remote_tmp": str(tmpdir or BUILD / "module-tmp"),
        "_ansible_keep_remote_files": False,
        "_ansible_module_name": "beatsync.ops." + name,
    }
    if tmpdir is None:
        (BUILD / "module-tmp").mkdir(parents=True, exist_ok=True)
    # Warnings and deprecations are process-global in AnsibleModule: one module process each in
    # real life, so start every in-process run with none.
    module_warnings._global_warnings.clear()  # pylint: disable=protected-access
    module_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    out = io.StringIO()
    code = None
    # A module process owns its environment and locale (AnsibleModule and our modules set
    # LC_ALL=C there); in-process they must not leak into the ansible commands the next tests run.
    saved_environ = dict(os.environ)
    saved_locale = locale.setlocale(locale.LC_ALL)
    try:
        with module_testing.patch_module_args(dict(args, **internal)), contextlib.redirect_stdout(out):
            try:
                module.main()
            except SystemExit as exc:
                code = exc.code
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        locale.setlocale(locale.LC_ALL, saved_locale)
    text = out.getvalue()
    if code is None:
        raise AssertionError("%s.main() returned without exit_json/fail_json; stdout:\n%s" % (name, text[-4000:]))
    try:
        result = json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError("%s printed no JSON result (exit %r); stdout:\n%s" % (name, code, text[-4000:]))
    result.setdefault("changed", False)
    result.setdefault("action", "beatsync.ops." + name)
    if code not in (0, None) and "failed" not in result:
        result["failed"] = True
    return result


_DOCS = {}


def _collection_module_names():
    return sorted("beatsync.ops." + path.stem for path in (REPO / "plugins" / "modules").glob("*.py")
                  if not path.name.startswith("_"))


def ansible_doc_json(name):
    """`ansible-doc --json beatsync.ops.<name>`'s entry. One ansible-doc run renders every module
    of the collection, once per test process (each run costs ~2.5 s of Python start-up)."""
    if "json" not in _DOCS:
        proc = subprocess.run([_bin("ansible-doc"), "--json"] + _collection_module_names(), env=ansible_env(),
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        _DOCS["json"] = (json.loads(proc.stdout), proc.stderr)
    data, _stderr = _DOCS["json"]
    return data["beatsync.ops." + name]


def ansible_doc_text(name):
    """(text, stderr) of `ansible-doc beatsync.ops.<name>`: one ansible-doc run renders all the
    collection's modules, split here at each "> MODULE beatsync.ops.<name>" header."""
    if "text" not in _DOCS:
        proc = subprocess.run([_bin("ansible-doc")] + _collection_module_names(), env=ansible_env(),
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        pages = {}
        for page in proc.stdout.split("> MODULE ")[1:]:
            pages[page.split()[0]] = "> MODULE " + page
        _DOCS["text"] = (pages, proc.stderr)
    pages, stderr = _DOCS["text"]
    return pages["beatsync.ops." + name], stderr
