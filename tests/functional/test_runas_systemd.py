# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_runas on a real systemd host: the unit gets User=/Group= from a drop-in, and the app's
interpreter run through _runas with the unit's User=/Group= (as systemctl show reports them)
sees the same uid/gid as the service systemd started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from systemd_hosts import APP_DIR, SERVICE, systemd_host_factory, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "module_utils" / "_runas.py"
DROPIN = "/etc/systemd/system/beatsync.service.d/50-user.conf"
PROBE = (
    "import json, sys; sys.path.insert(0, '/usr/local/lib/beatsync-test'); import _runas; "
    "user, group = sys.argv[1], sys.argv[2]; "
    "code = 'import json, os, sys; print(json.dumps({\"uid\": os.getuid(), \"gid\": os.getgid(), "
    "\"isolated\": sys.flags.isolated, \"cwd\": os.getcwd()}))'; "
    "print(json.dumps(_runas.run_as(['/usr/bin/python3', '-c', code], user=user or None, group=group or None, "
    "cwd=sys.argv[3])))"
)


def test_python_run_as_the_units_user_sees_its_uid(systemd_host_factory):  # noqa: F811
    host = systemd_host_factory(deploy=True)
    host.exec("useradd --system --no-create-home --shell /usr/sbin/nologin beatsync-app")
    host.exec(["mkdir", "-p", str(Path(DROPIN).parent)])
    host.exec(["bash", "-c", "cat > %s" % DROPIN], input="[Service]\nUser=beatsync-app\nGroup=nogroup\n")
    host.exec("systemctl daemon-reload && systemctl restart %s" % SERVICE)
    host.copy_in(MODULE, "/usr/local/lib/beatsync-test/_runas.py", mode=0o644)

    user = host.unit_property("User")
    group = host.unit_property("Group")
    cwd = host.unit_property("WorkingDirectory") or APP_DIR
    assert (user, group) == ("beatsync-app", "nogroup")
    expected_uid = int(host.exec(["id", "-u", user]).stdout)
    expected_gid = int(host.exec(["getent", "group", group]).stdout.split(":")[2])

    answer = json.loads(host.exec(["/usr/bin/python3", "-I", "-c", PROBE, user, group, cwd]).stdout)
    assert answer["error"] is None and answer["rc"] == 0, answer
    seen = json.loads(answer["stdout"])
    assert (seen["uid"], seen["gid"]) == (expected_uid, expected_gid)
    assert seen["isolated"] == 1 and seen["cwd"] == cwd
    assert answer["argv"][:2] == ["/usr/bin/python3", "-I"] and answer["switched"] is True

    # The service systemd runs has the same ids.
    pid = host.unit_property("MainPID")
    status = host.exec(["cat", "/proc/%s/status" % pid]).stdout
    uids = [line.split()[1:3] for line in status.splitlines() if line.startswith(("Uid:", "Gid:"))]
    assert uids == [[str(expected_uid)] * 2, [str(expected_gid)] * 2]

    # Without User= (the canonical unit) the same call runs as root.
    host.exec("rm -f %s && systemctl daemon-reload" % DROPIN)
    assert host.unit_property("User") in ("", "root")
    answer = json.loads(host.exec(["/usr/bin/python3", "-I", "-c", PROBE, host.unit_property("User"), "", cwd]).stdout)
    assert json.loads(answer["stdout"])["uid"] == 0 and answer["switched"] is False
