"""Real systemd hosts in podman containers for the beatsync.ops tests.

The image comes from scripts/build-image.sh (localhost/beatsync-systemd:latest); podman runs
with the project's containers.conf (tests/containers/containers.conf, via CONTAINERS_CONF).
Deploying the fixture app, resetting a host and every broken state are implemented ONCE, in
molecule/shared/scripts/beatsync-bed.sh, which this module copies into the host and runs
(Molecule's molecule/shared/tasks/*.yml run the same script).

    from systemd_hosts import SystemdHost, deploy_fixture, break_host, reset_host

    with SystemdHost() as host:          # boots systemd as PID 1, waits for it
        deploy_fixture(host)             # runbook layout + canonical unit, enabled, started
        break_host(host, "docs_503")     # /docs 503 while /api/health is healthy
        host.http_status("/docs")        # 503, from this machine to the container's address
        reset_host(host)                 # healthy again

pytest fixtures (import them into a conftest or a test module):
``systemd_image`` (session; skips when podman or the image is missing, builds it first when
BEATSYNC_BUILD_IMAGE=1), ``systemd_host_factory`` (function scope; hosts removed at teardown),
``beatsync_host`` (module scope: one booted + deployed host per test process, reset to
healthy for each module; ``shared_beatsync_host`` is the session fixture under it) and
``healthy_beatsync_host`` (function scope: ``beatsync_host`` reset to healthy first) and
``ssh_host_factory`` (function scope: ``SshHost``, a host reached over real SSH as the sudo
user ``ops`` with a fresh key, sshd on a chosen port through ``ListenAddress`` or ``Port``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTAINERS_CONF = REPO / "tests" / "containers" / "containers.conf"
BUILD_IMAGE = REPO / "scripts" / "build-image.sh"
SHARED = REPO / "molecule" / "shared"
BED_SCRIPT = SHARED / "scripts" / "beatsync-bed.sh"
CANONICAL_UNIT = SHARED / "files" / "beatsync.service"
FIXTURE_APP = REPO / "tests" / "fixtures" / "beatsync_app"
IMAGE = os.environ.get("BEATSYNC_IMAGE", "localhost/beatsync-systemd:latest")

# Inside the host.
STAGE = "/usr/local/share/beatsync-fixture"
BED = "/usr/local/sbin/beatsync-bed"
APP_DIR = "/opt/beatsync/web_service/backend"
UNIT_PATH = "/etc/systemd/system/beatsync.service"
SERVICE = "beatsync.service"
PORT = 8000

#: Every broken state `break_host` (and molecule/shared/tasks/break_<state>.yml) knows.
BROKEN_STATES = (
    "service_stopped",
    "unit_failed",
    "unit_missing",
    "unit_drifted",
    "crash_loop_missing_dependency",
    "syntax_error",
    "stale_copy",
    "foreign_listener",
    "docs_503",
    "docs_hang",
    "openapi_500",
    "ufw_blocking",
)

#: break_host keyword options -> the script's environment variables.
BREAK_OPTIONS = {
    "drift": "BEATSYNC_DRIFT",              # unit_drifted: workdir | execstart
    "missing": "BEATSYNC_MISSING",          # crash_loop_missing_dependency: fastapi | uvicorn
    "fault_mode": "BEATSYNC_FAULT_MODE",    # docs_503/docs_hang/openapi_500: oneshot | persistent
    "stale_fault": "BEATSYNC_STALE_FAULT",  # stale_copy: fixture faults of the stray copy
}


class PodmanError(RuntimeError):
    pass


def podman_env():
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return env


def podman(*args, check=True, timeout=120, input=None):
    """Run `podman ARGS...` with the project's containers.conf -> CompletedProcess (text)."""
    exe = shutil.which("podman")
    if exe is None:
        raise PodmanError("podman is not installed (scripts/build-image.sh installs it)")
    proc = subprocess.run([exe, *map(str, args)], env=podman_env(), capture_output=True, text=True,
                          timeout=timeout, input=input, check=False)
    if check and proc.returncode != 0:
        raise PodmanError("podman %s failed (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                          % (" ".join(map(str, args)), proc.returncode, proc.stdout[-3000:],
                             proc.stderr[-3000:]))
    return proc


def unavailable_reason(image=IMAGE):
    """None when hosts can be booted here, else why not (for pytest.skip)."""
    if shutil.which("podman") is None:
        return "podman is not installed (run scripts/build-image.sh as root)"
    if os.geteuid() != 0:
        return "the systemd test bed needs root (podman storage under /var/lib/containers)"
    try:
        proc = podman("image", "exists", image, check=False, timeout=60)
    except (subprocess.TimeoutExpired, OSError) as exc:
        return "podman does not answer: %s" % exc
    if proc.returncode != 0:
        return "image %s is missing: run scripts/build-image.sh (or set BEATSYNC_BUILD_IMAGE=1)" % image
    return None


def build_image(timeout=1800):
    """Run scripts/build-image.sh (a no-op when the recipe's image exists)."""
    proc = subprocess.run([str(BUILD_IMAGE)], env=podman_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise PodmanError("build-image.sh failed (rc=%s):\n%s" % (proc.returncode, proc.stderr[-4000:]))
    return proc.stdout.strip()


class SystemdHost:
    """One container running systemd as PID 1 from the test-bed image.

    Removed by remove() or on leaving a `with` block. Names start with `beatsync-bed-` and
    carry the label org.beatsync.bed=1, so stray ones are easy to find.
    """

    def __init__(self, image=IMAGE, name=None, boot_timeout=60.0, extra_args=()):
        self.image = image
        self.name = name or "beatsync-bed-%s" % uuid.uuid4().hex[:10]
        self._ip = None
        self.staged = False
        podman("run", "--detach", "--name", self.name, "--hostname", self.name,
               "--systemd=always", "--cap-add", "NET_ADMIN", "--label", "org.beatsync.bed=1",
               *extra_args, image, "/lib/systemd/systemd")
        try:
            self.wait_booted(boot_timeout)
        except Exception:
            self.remove()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __repr__(self):
        return "SystemdHost(%s)" % self.name

    def wait_booted(self, timeout=60.0):
        """Wait until `systemctl is-system-running` says running or degraded (bounded)."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.exec("systemctl is-system-running", check=False, timeout=15).stdout.strip()
            if state in ("running", "degraded"):
                return state
            time.sleep(0.2)
        raise PodmanError("%s: systemd not up within %ss (last state %r)" % (self.name, timeout, state))

    def exec(self, cmd, check=True, timeout=120, env=None, input=None):
        """Run cmd in the host as root: a string goes through `bash -c`, a list is argv."""
        argv = ["exec"]
        if input is not None:
            argv.append("-i")
        for key, value in (env or {}).items():
            argv += ["--env", "%s=%s" % (key, value)]
        argv.append(self.name)
        argv += ["bash", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return podman(*argv, check=check, timeout=timeout, input=input)

    @property
    def ip(self):
        """The container's address on podman's bridge (reachable from this machine)."""
        if self._ip is None:
            self._ip = podman("inspect", "--format", "{{.NetworkSettings.IPAddress}}",
                              self.name).stdout.strip()
            if not self._ip:
                raise PodmanError("%s has no IP address" % self.name)
        return self._ip

    def copy_in(self, src, dest, mode=None):
        """Copy a file from this machine to dest (a full path) inside the host."""
        self.exec(["mkdir", "-p", os.path.dirname(dest)])
        podman("cp", str(src), "%s:%s" % (self.name, dest))
        if mode is not None:
            self.exec(["chmod", "%o" % mode, dest])

    def url(self, path="/", port=PORT):
        return "http://%s:%d%s" % (self.ip, port, path)

    def http_get(self, path, port=PORT, timeout=5.0):
        """GET from THIS machine to the host's address -> (status, body); status None when no
        answer (refused, filtered, timed out)."""
        try:
            with urllib.request.urlopen(self.url(path, port), timeout=timeout) as resp:
                return resp.status, resp.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(65536).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError):
            return None, ""

    def http_status(self, path, port=PORT, timeout=5.0):
        return self.http_get(path, port=port, timeout=timeout)[0]

    def http_status_inside(self, path, port=PORT, timeout=5):
        """Status code of a GET made inside the host to 127.0.0.1 ("000": no answer)."""
        return self.exec("curl -s -o /dev/null -m %d -w '%%{http_code}' http://127.0.0.1:%d%s"
                         % (timeout, port, path), check=False, timeout=timeout + 30).stdout.strip()

    def unit_property(self, name, service=SERVICE):
        return self.exec(["systemctl", "show", "-p", name, "--value", service], check=False).stdout.strip()

    def journal(self, service=SERVICE, lines=100):
        return self.exec(["journalctl", "-u", service, "-n", str(lines), "--no-pager", "-o", "cat"],
                         check=False).stdout

    def remove(self):
        podman("rm", "--force", "--time", "0", self.name, check=False, timeout=120)


def stage(host):
    """Copy the bed script, the fixture app and the canonical unit into the host."""
    host.copy_in(BED_SCRIPT, BED, mode=0o755)
    host.copy_in(FIXTURE_APP / "main.py", STAGE + "/main.py")
    host.copy_in(FIXTURE_APP / "requirements.txt", STAGE + "/requirements.txt")
    host.copy_in(CANONICAL_UNIT, STAGE + "/beatsync.service")
    host.staged = True


def podman_inventory(path, host, name="bed", group="all", **hostvars):
    """Write a JSON inventory at path with one host `name` (in `group`) reached through podman
    as root, plus hostvars -> path."""
    path.write_text(json.dumps({group: {"hosts": {name: dict({
        "ansible_connection": "containers.podman.podman", "ansible_host": host.name,
        "ansible_python_interpreter": "/usr/bin/python3"}, **hostvars)}}}))
    return path


def stage_module_utils(host, stage):
    """Copy the collection's module_utils into host under stage (as
    stage/ansible_collections/beatsync/ops/plugins/module_utils), for code run there directly."""
    utils = stage + "/ansible_collections/beatsync/ops/plugins/module_utils"
    host.exec(["mkdir", "-p", utils])
    for path in (Path(__file__).resolve().parents[1] / "plugins" / "module_utils").glob("*.py"):
        host.copy_in(path, "%s/%s" % (utils, path.name), mode=0o644)
    return utils


def bed(host, *args, env=None, timeout=180):
    """Run beatsync-bed ARGS in the host (staging first if needed); raises with its output."""
    if not getattr(host, "staged", False):
        stage(host)
    proc = host.exec([BED, *args], check=False, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise PodmanError("beatsync-bed %s failed in %s (rc=%s)\n%s\n%s"
                          % (" ".join(args), host.name, proc.returncode, proc.stdout[-3000:],
                             proc.stderr[-3000:]))
    return proc.stdout


def deploy_fixture(host):
    """The runbook's setup: /opt/beatsync/web_service/backend/{main.py,requirements.txt}, the
    canonical /etc/systemd/system/beatsync.service, enabled and started, /api/health healthy.
    Returns True when something changed."""
    stage(host)
    return "changed=1" in bed(host, "deploy")


def reset_host(host):
    """Undo every broken state (strays killed, faults cleared, ufw reset, deps back, canonical
    unit and main.py restored) and leave BeatSync healthy."""
    bed(host, "reset")


def break_host(host, state, **options):
    """Put the host into a broken state (one of BROKEN_STATES) and wait until it shows.

    options: drift="workdir"|"execstart", missing="fastapi"|"uvicorn",
    fault_mode="oneshot"|"persistent", stale_fault="docs_503" (see BREAK_OPTIONS).
    """
    if state not in BROKEN_STATES:
        raise ValueError("unknown broken state %r (one of %s)" % (state, ", ".join(BROKEN_STATES)))
    unknown = set(options) - set(BREAK_OPTIONS)
    if unknown:
        raise ValueError("unknown option(s) %s" % ", ".join(sorted(unknown)))
    env = {BREAK_OPTIONS[key]: str(value) for key, value in options.items()}
    bed(host, "break", state, env=env)


# ---- the real-SSH lane ------------------------------------------------------------------------

SSH_USER = "ops"                     # in the image: password-less sudo, Debian's env_reset kept
SSHD_DROPIN = "/etc/ssh/sshd_config.d/beatsync-bed.conf"
SSH_LISTEN_MODES = ("listenaddress", "port")


def ssh_keygen(directory):
    """A fresh ed25519 key pair in directory (made with the controller's ssh-keygen) -> private key path."""
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise PodmanError("ssh-keygen is not installed (apt-get install openssh-client)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "id_ed25519"
    if not key.exists():
        subprocess.run([exe, "-q", "-t", "ed25519", "-N", "", "-C", "beatsync-bed", "-f", str(key)],
                       check=True, capture_output=True, timeout=60)
    return key


def _wait_tcp(address, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect((address, port))
                banner = sock.recv(64)
            except OSError:
                banner = b""
            if banner.startswith(b"SSH-"):
                return
        time.sleep(0.2)
    raise PodmanError("nothing answered SSH on %s:%s within %ss" % (address, port, timeout))


class SshHost(SystemdHost):
    """A SystemdHost whose sshd listens on `ssh_port` only, reached as `ops` with a fresh key.

    listen="listenaddress" configures `ListenAddress 0.0.0.0:<port>` (IPv4 only, the Port
    directive left at its default), listen="port" configures `Port <port>` (every address).
    ptrace=False leaves out CAP_SYS_PTRACE (root then cannot read sshd sessions' descriptors,
    as in some containers).
    The key pair is generated on this machine with ssh-keygen into key_dir. Call
    configure_sshd() again to change the port or the mode.
    """

    def __init__(self, key_dir, ssh_port=2222, listen="listenaddress", ptrace=True, **kwargs):
        # Root on a real host may read every process's descriptors (CAP_SYS_PTRACE), also those of
        # sshd's non-dumpable session processes; podman drops that capability unless asked.
        if ptrace:
            kwargs["extra_args"] = ("--cap-add", "SYS_PTRACE", *kwargs.get("extra_args", ()))
        super().__init__(**kwargs)
        try:
            if self.exec(["id", SSH_USER], check=False).returncode != 0 or \
                    self.exec(["test", "-x", "/usr/sbin/sshd"], check=False).returncode != 0:
                raise PodmanError("image %s has no user %s or no sshd: it predates the SSH lane recipe; run "
                                  "scripts/build-image.sh (it retags %s)" % (self.image, SSH_USER, IMAGE))
            self.key = ssh_keygen(key_dir)
            pub = Path(str(self.key) + ".pub").read_text()
            self.exec("install -d -m 0700 -o %s -g %s ~%s/.ssh" % (SSH_USER, SSH_USER, SSH_USER))
            self.exec(["bash", "-c", "cat > ~%s/.ssh/authorized_keys" % SSH_USER], input=pub)
            self.exec("chown %s: ~%s/.ssh/authorized_keys && chmod 0600 ~%s/.ssh/authorized_keys"
                      % (SSH_USER, SSH_USER, SSH_USER))
            self.configure_sshd(ssh_port, listen)
        except Exception:
            self.remove()
            raise

    def configure_sshd(self, ssh_port=2222, listen="listenaddress", timeout=60.0):
        """Write the sshd drop-in for ssh_port/listen, (re)start ssh.service, wait until it answers."""
        if listen not in SSH_LISTEN_MODES:
            raise ValueError("listen must be one of %s, got %r" % (", ".join(SSH_LISTEN_MODES), listen))
        line = "ListenAddress 0.0.0.0:%d" % ssh_port if listen == "listenaddress" else "Port %d" % ssh_port
        self.exec(["bash", "-c", "cat > %s" % SSHD_DROPIN],
                  input="# beatsync test bed (tests/systemd_hosts.py)\n%s\nPasswordAuthentication no\n"
                        "KbdInteractiveAuthentication no\n" % line)
        self.exec("install -d -m 0755 /run/sshd && sshd -t && systemctl enable --quiet ssh.service && systemctl restart ssh.service")
        self.ssh_port = ssh_port
        self.listen = listen
        _wait_tcp(self.ip, ssh_port, timeout)

    def ssh_argv(self, *command, connect_timeout=10):
        """argv of a NEW ssh connection from this machine to ops@host (no multiplexing)."""
        return ["ssh", "-i", str(self.key), "-p", str(self.ssh_port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ControlMaster=no", "-o", "ControlPath=none",
                "-o", "ConnectTimeout=%d" % connect_timeout, "%s@%s" % (SSH_USER, self.ip), *command]

    def ssh(self, *command, timeout=60, connect_timeout=10):
        """Run a command over a NEW ssh connection as ops -> CompletedProcess (text, not checked)."""
        return subprocess.run(self.ssh_argv(*command, connect_timeout=connect_timeout), capture_output=True,
                              text=True, timeout=timeout, check=False)

    def hostvars(self, **extra):
        """Inventory variables that reach this host as users do: ssh as ops, become through sudo."""
        return {
            "ansible_connection": "ssh",
            "ansible_host": self.ip,
            "ansible_port": self.ssh_port,
            "ansible_user": SSH_USER,
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            # One TCP connection per task: nothing outlives the test, every task proves the way in.
            "ansible_ssh_args": "-o ControlMaster=no -o ControlPath=none",
            "ansible_become": True,
            "ansible_become_method": "sudo",
            "ansible_python_interpreter": "/usr/bin/python3",
            **extra,
        }


# ---- pytest fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def systemd_image():
    """The test-bed image name; skips when podman or the image is unavailable (builds it first
    when BEATSYNC_BUILD_IMAGE=1)."""
    if os.environ.get("BEATSYNC_BUILD_IMAGE") == "1" and shutil.which("podman") and os.geteuid() == 0:
        build_image()
    reason = unavailable_reason(IMAGE)
    if reason:
        pytest.skip(reason)
    return IMAGE


def _host_factory(new_host):
    """A factory fixture's body: yields make(deploy=False, **kwargs) -> new_host(**kwargs), with
    the fixture app deployed when deploy is true; removes every host it made at teardown."""
    hosts = []

    def _make(deploy=False, **kwargs):
        host = new_host(**kwargs)
        hosts.append(host)
        if deploy:
            deploy_fixture(host)
        return host

    yield _make
    for host in hosts:
        host.remove()


@pytest.fixture
def systemd_host_factory(systemd_image):
    """Factory: systemd_host_factory(deploy=False, **SystemdHost kwargs) -> SystemdHost."""
    yield from _host_factory(lambda **kwargs: SystemdHost(image=systemd_image, **kwargs))


@pytest.fixture(scope="session")
def shared_beatsync_host(systemd_image):
    """One booted host with the fixture app deployed per test process (per xdist worker),
    removed at the end of the session. Use it through ``beatsync_host``."""
    host = SystemdHost(image=systemd_image)
    try:
        deploy_fixture(host)
        host.modules_served = 0
        yield host
    finally:
        host.remove()


@pytest.fixture(scope="module")
def beatsync_host(shared_beatsync_host):
    """The worker's booted host, handed to each test module healthy: the first module gets it
    freshly deployed, every later one after a reset (beatsync-bed reset: strays killed,
    faults cleared, ufw reset, deps back, canonical unit and main.py, service restarted),
    with an empty journal (the reset also removes the collection's restart budget, lock and
    maintenance marker). Booting and deploying a host costs ~5-10 s; a reset ~2 s."""
    host = shared_beatsync_host
    if host.modules_served:
        # A fresh host's journal: earlier modules' crash loops are not this module's history.
        host.exec(["journalctl", "--rotate"], check=False)
        host.exec(["journalctl", "--vacuum-time=1s"], check=False)
        reset_host(host)
    host.modules_served += 1
    return host


@pytest.fixture
def healthy_beatsync_host(beatsync_host):
    """beatsync_host, reset to healthy before the test."""
    reset_host(beatsync_host)
    return beatsync_host


@pytest.fixture
def ssh_host_factory(systemd_image, tmp_path_factory):
    """Factory: ssh_host_factory(ssh_port=2222, listen="listenaddress"|"port", deploy=False) -> SshHost.

    sshd listens only on ssh_port; a fresh ed25519 key (ssh-keygen on this machine) logs in as
    `ops`, who has password-less sudo. Hosts are removed at teardown.
    """
    def new_host(ssh_port=2222, listen="listenaddress", **kwargs):  # kwargs: ptrace, SystemdHost's
        return SshHost(key_dir=tmp_path_factory.mktemp("sshkey"), ssh_port=ssh_port, listen=listen,
                       image=systemd_image, **kwargs)

    yield from _host_factory(new_host)
