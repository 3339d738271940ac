"""A tiny stand-in for systemd for the EDA tests: owns a loopback listening socket and runs
the fixture app under uvicorn on it (`--fd`). SIGHUP = `systemctl restart`: the child is
stopped and a new one started on the same socket, so connections wait in the backlog
instead of being refused. The one-shot fault file is read (and deleted) by the app at start,
like the runbook's incident: break it with `echo docs_503 > FAULTFILE; kill -HUP PID`, and a
restart clears it.

    fixture_supervisor.py PORT STATE_DIR    (writes STATE_DIR/supervisor.pid, .../restarts)
"""

import os
import signal
import socket
import subprocess
import sys
import time

APP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "beatsync_app")


def main():
    port, state_dir = int(sys.argv[1]), sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    env = dict(os.environ, BEATSYNC_FAULT="", BEATSYNC_FAULT_FILE=os.path.join(state_dir, "faults"),
               BEATSYNC_ONESHOT_FAULT_FILE=os.path.join(state_dir, "oneshot"))
    state = {"child": None, "restart": False, "stop": False}

    def start():
        state["child"] = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "main:app", "--fd", str(sock.fileno()), "--log-level", "warning"],
            cwd=APP_DIR, env=env, pass_fds=(sock.fileno(),))

    def stop():
        child = state["child"]
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    signal.signal(signal.SIGHUP, lambda *_: state.update(restart=True))
    signal.signal(signal.SIGTERM, lambda *_: state.update(stop=True))
    start()
    with open(os.path.join(state_dir, "supervisor.pid"), "w") as handle:
        handle.write(str(os.getpid()))
    while not state["stop"]:
        if state["restart"]:
            state["restart"] = False
            stop()
            start()
            with open(os.path.join(state_dir, "restarts"), "a") as handle:
                handle.write("%f\n" % time.time())
        time.sleep(0.05)
    stop()


if __name__ == "__main__":
    main()
