# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_probe_firewall without a container: ENABLED read as ufw reads it, the facts of the
no-ufw-process path equal to parsing "Status: inactive", and that path refused for a ufw that
is not the packaged one. Real hosts: tests/functional/test_firewall_probe.py."""

from __future__ import annotations

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _probe_firewall, _ufw


@pytest.mark.parametrize("conf,expected", [
    ("# comment\nENABLED=no\nLOGLEVEL=low\n", "no"),
    ('ENABLED="YES"\n', "yes"),
    ("ENABLED='yes'\n", None),                       # ufw's pattern takes double quotes only
    ("  ENABLED=yes\nLOGLEVEL=low\n", None),          # ufw's pattern is anchored at the line start
    ("LOGLEVEL=low\n", None),
])
def test_enabled_setting_read_as_ufw_reads_it(tmp_path, conf, expected):
    defaults, ufw_conf = tmp_path / "default-ufw", tmp_path / "ufw.conf"
    defaults.write_text('IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\n')
    ufw_conf.write_text(conf)
    assert _probe_firewall.ufw_enabled_setting((str(defaults), str(ufw_conf))) == expected


def test_enabled_setting_later_file_wins_and_missing_file_is_unknown(tmp_path):
    defaults, ufw_conf = tmp_path / "default-ufw", tmp_path / "ufw.conf"
    defaults.write_text("ENABLED=yes\n")
    ufw_conf.write_text("ENABLED=no\n")
    assert _probe_firewall.ufw_enabled_setting((str(defaults), str(ufw_conf))) == "no"
    assert _probe_firewall.ufw_enabled_setting((str(defaults), str(tmp_path / "absent"))) is None


def test_inactive_facts_equal_parsing_ufws_inactive_answer(tmp_path, monkeypatch):
    """The facts of the no-ufw path are those the ufw path gives for `Status: inactive`."""
    fake = tmp_path / "ufw"
    fake.write_text("#!/bin/sh\necho 'Status: inactive'\n")
    fake.chmod(0o755)
    env = {"SSH_CONNECTION": "192.0.2.9 5000 192.0.2.2 2222"}
    monkeypatch.setattr(_probe_firewall, "_inactive_without_ufw", lambda ufw, seconds: False)
    parsed = _probe_firewall.probe_firewall(port=8000, ufw_path=str(fake), environ=env)
    assert parsed["active"] is False and parsed["error"] is None
    assert _ufw.parse_status("Status: inactive\n")["active"] is False
    monkeypatch.setattr(_probe_firewall, "_inactive_without_ufw", lambda ufw, seconds: True)
    fast = _probe_firewall.probe_firewall(port=8000, ufw_path=str(fake), environ=env)
    assert fast == parsed


def test_only_the_packaged_ufw_takes_the_no_ufw_path(tmp_path):
    fake = tmp_path / "ufw"
    fake.write_text("#!/bin/sh\necho 'Status: inactive'\n")
    fake.chmod(0o755)
    assert _probe_firewall._inactive_without_ufw(str(fake), 5) is False
