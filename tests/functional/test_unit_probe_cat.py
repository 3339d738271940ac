# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unit probe reads the unit file and drop-ins `systemctl show` names instead of running
`systemctl cat` (issue 13, host CPU), on a real systemd host of the test bed: the text it
builds is byte for byte what `systemctl cat` prints, and probe_unit's facts are the same as
with `systemctl cat`, for the canonical unit, a drifted one, drop-ins in /etc and /run (one
without a final newline, one empty, one setting Environment= and User=), a unit changed on
disk since the last daemon-reload, a crash loop and a missing unit."""

from __future__ import annotations

import json

import pytest

from systemd_hosts import CANONICAL_UNIT, SERVICE, beatsync_host, break_host, reset_host, stage_module_utils, systemd_image  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.containers

STAGE = "/usr/local/lib/beatsync-test-unitcat"
ETC_DIR = "/etc/systemd/system/%s.d" % SERVICE
RUN_DIR = "/run/systemd/system/%s.d" % SERVICE
# probe_unit's facts both ways, and the text _cat_from_files builds next to `systemctl cat`'s.
BOTH = (
    "import json, subprocess, sys; sys.path.insert(0, %r); "
    "from ansible_collections.beatsync.ops.plugins.module_utils import _probe_systemd as p, _systemd; "
    "canonical = sys.stdin.read(); "
    "files = p.probe_unit(service=%r, canonical_unit=canonical); "
    "show = subprocess.run(['systemctl', 'show', %r, '--property=' + ','.join(_systemd.SHOW_PROPERTIES)], "
    "capture_output=True, text=True).stdout; "
    "built = p._cat_from_files(_systemd.parse_show(show)); "
    "cat = subprocess.run(['systemctl', 'cat', %r, '--no-pager'], capture_output=True); "
    "p._cat_from_files = lambda props: None; "
    "print(json.dumps({'files': files, 'systemctl': p.probe_unit(service=%r, canonical_unit=canonical), "
    "'built': built, 'cat': {'rc': cat.returncode, 'stdout': cat.stdout.decode('utf-8', 'replace')}}))"
    % (STAGE, SERVICE, SERVICE, SERVICE, SERVICE)
)


@pytest.fixture(scope="module")
def host(beatsync_host):  # noqa: F811
    stage_module_utils(beatsync_host, STAGE)
    yield beatsync_host
    beatsync_host.exec(["rm", "-rf", STAGE, ETC_DIR, RUN_DIR], check=False)
    reset_host(beatsync_host)


def both(host):
    answer = json.loads(host.exec(["/usr/bin/python3", "-c", BOTH], input=CANONICAL_UNIT.read_text()).stdout)
    assert answer["files"] == answer["systemctl"]
    return answer


def write(host, path, text):
    host.exec(["bash", "-c", "mkdir -p \"$(dirname %s)\" && printf '%%s' \"$1\" > %s" % (path, path), "-", text])


def test_canonical_unit(host):
    reset_host(host)
    answer = both(host)
    assert answer["built"] == answer["cat"] and answer["cat"]["rc"] == 0
    assert answer["files"]["drift"] is False and answer["files"]["effective_read"] is True


def test_dropins_in_etc_and_run(host):
    reset_host(host)
    write(host, ETC_DIR + "/10-env.conf", "[Service]\nEnvironment=TOKEN=abc\nUser=nobody")   # no final newline
    write(host, RUN_DIR + "/15-nice.conf", "[Service]\nNice=1\n\n")
    write(host, ETC_DIR + "/20-empty.conf", "")
    write(host, ETC_DIR + "/30-exec.conf", "[Service]\nExecStart=\nExecStart=/usr/bin/python3 -m uvicorn main:app "
                                           "--host 127.0.0.1 --port 8000\n")
    host.exec(["systemctl", "daemon-reload"])
    try:
        answer = both(host)
        assert answer["built"] == answer["cat"]
        facts = answer["files"]
        assert len(facts["dropins"]) == 4 and facts["drift"] is True and facts["environment_names"] == ["PATH", "TOKEN"]
        assert facts["bind"]["host"] == "127.0.0.1"
        # Changed on disk since the last daemon-reload: systemctl cat shows the files as they are now.
        write(host, ETC_DIR + "/10-env.conf", "[Service]\nEnvironment=OTHER=1\n")
        answer = both(host)
        assert answer["built"] == answer["cat"] and "OTHER" in answer["files"]["environment_names"]
    finally:
        host.exec(["rm", "-rf", ETC_DIR, RUN_DIR])
        host.exec(["systemctl", "daemon-reload"])


def test_drifted_unit(host):
    break_host(host, "unit_drifted", drift="execstart")
    try:
        answer = both(host)
        assert answer["built"] == answer["cat"] and answer["files"]["drift"] is True
    finally:
        reset_host(host)


def test_crash_loop(host):
    break_host(host, "crash_loop_missing_dependency", missing="uvicorn")
    try:
        answer = both(host)
        assert answer["built"] == answer["cat"]
    finally:
        reset_host(host)


def test_missing_unit_asks_systemctl(host):
    break_host(host, "unit_missing")
    try:
        answer = both(host)
        assert answer["built"] is None and answer["files"]["present"] is False
    finally:
        reset_host(host)
