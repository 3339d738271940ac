# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_redact on unit text recorded from a real host, on diffs, data and module arguments."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _redact as rd
from ansible_collections.beatsync.ops.plugins.module_utils import _unit_merge

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "systemd"
REPO = Path(__file__).resolve().parents[4]
CANONICAL = (REPO / "molecule" / "shared" / "files" / "beatsync.service").read_text(encoding="utf-8")
R = rd.PLACEHOLDER
SECRETS = ("s3cr3t-token", "hello world", "hunter22", "debug-secret-value", "sk_live_abc", "pa55word")


def assert_no_secret(text):
    dumped = text if isinstance(text, str) else json.dumps(text)
    for secret in SECRETS:
        assert secret not in dumped


@pytest.mark.parametrize("name,sensitive", [
    ("DB_PASSWORD", True), ("passwd", True), ("API_KEY", True), ("apiKey", True), ("api-key", True),
    ("SECRET_KEY_BASE", True), ("X-Auth-Token", True), ("GITHUB_TOKEN", True), ("aws_credentials", True),
    ("ssh_private_key", True), ("Authorization", True), ("key", False), ("keys", False), ("PATH", False),
    ("WorkingDirectory", False), ("monkey", False), ("keyboard_layout", False), ("LOG_LEVEL", False), ("", False),
    (None, False),
])
def test_sensitive_names(name, sensitive):
    assert rd.is_sensitive_name(name) is sensitive


def test_environment_values():
    assert rd.redact_environment_value('A=1 "B=two words" \'C=x y\' D=a\\ b') == \
        'A=%s "B=%s" \'C=%s\' D=%s' % (R, R, R, R)
    assert rd.redact_environment_value("  junk  ") == "  %s  " % R
    assert rd.redact_environment_value("") == ""


def test_unit_text_recorded_multi():
    text = (FIXTURES / "cat-merge-multi.txt").read_text(encoding="utf-8")
    redacted = rd.redact_unit_text(text)
    assert_no_secret(redacted)
    assert 'Environment=API_TOKEN=%s "GREETING=%s"' % (R, R) in redacted
    assert "Environment=LOG_LEVEL=%s" % R in redacted
    assert 'Environment="PATH=%s"' % R in redacted
    assert "Environment=\n" in redacted                            # the reset stays a reset
    assert "EnvironmentFile=-/etc/default/beatsync" in redacted   # a path, not a secret
    assert "ExecStart=/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000" in redacted
    assert "# /etc/systemd/system/beatsync.service.d/10-env.conf" in redacted
    assert len(redacted.splitlines()) == len(text.splitlines())
    assert rd.redact_unit_text(redacted) == redacted               # stable


def test_unit_text_settings_commands_continuations():
    text = ("[Service]\nExecStart=/opt/app --token hunter22 --db-password=pa55word  --port 8000\n"
            "SetCredential=db:debug-secret-value\nEnvironment=A=1 \\\n  API_KEY=sk_live_abc\nUser=app\n"
            "ExecStartPre=/bin/true \\\n  --secret debug-secret-value\n# Environment=comment stays\n"
            "Password=hunter22\nEmpty_Token=\n")
    redacted = rd.redact_unit_text(text)
    assert_no_secret(redacted)
    assert "ExecStart=/opt/app --token %s --db-password=%s  --port 8000\n" % (R, R) in redacted
    assert "SetCredential=db:%s\n" % R in redacted
    assert "  API_KEY=%s\n" % R in redacted and "User=app\n" in redacted
    assert "# Environment=comment stays" in redacted
    assert "Password=%s\n" % R in redacted and "Empty_Token=\n" in redacted
    assert rd.redact_unit_text(None) is None


def test_diff_of_unit_text():
    host = CANONICAL.replace('Environment="PATH=/usr/local/bin:/usr/bin:/bin"',
                             'Environment="PATH=/usr/local/bin:/usr/bin:/bin" DB_PASSWORD=hunter22')
    diff = "".join(difflib.unified_diff(CANONICAL.splitlines(True), host.splitlines(True),
                                        "canonical", "/etc/systemd/system/beatsync.service"))
    redacted = rd.redact_diff(diff)
    assert_no_secret(redacted)
    assert '+Environment="PATH=%s" DB_PASSWORD=%s\n' % (R, R) in redacted
    assert '-Environment="PATH=%s"\n' % R in redacted
    assert "--- canonical\n" in redacted and " User=root\n" in redacted
    assert rd.redact_text(diff) == redacted and rd.redact_diff(redacted) == redacted


def test_argv():
    assert rd.redact_argv(["/app", "--token", "hunter22", "--api-key=sk_live_abc", "PASSWORD=pa55word", "--port",
                           "8000", "-v"]) == ["/app", "--token", R, "--api-key=" + R, "PASSWORD=" + R, "--port",
                                              "8000", "-v"]
    assert rd.redact_argv(["--password"]) == ["--password"]
    assert rd.redact_argv(None) == []


def test_data_recursive_and_drift():
    drifts = _unit_merge.unit_drift((FIXTURES / "cat-merge-multi.txt").read_text(encoding="utf-8"), CANONICAL)
    data = {
        "drift": drifts,
        "settings": {"Environment": {"API_TOKEN": "s3cr3t-token"}, "User": "nobody", "key": "ExecStart"},
        "process": {"argv": ["/usr/bin/python3", "-m", "uvicorn", "--token", "hunter22"], "pid": 1},
        "nested": [{"db_password": "pa55word", "port": 8000, "list_secret": ["a", "b"]},
                   ("tuple", {"env": {"LOG": "debug-secret-value"}})],
        "unit": "[Service]\nEnvironment=GREETING=hello world\n",
        "line": "Environment=X=sk_live_abc",
        "plain": "a=b without secrets", "none_token": None,
    }
    redacted = rd.redact_data(data)
    assert_no_secret(redacted)
    env = [d for d in redacted["drift"] if d["key"] == "Environment"][0]
    assert env["expected"] == {"PATH": R} and env["actual"] == {"ONLY": R}
    assert env["sources"][0]["text"] == ["Environment=API_TOKEN=%s \"GREETING=%s\"" % (R, R), "Environment=LOG_LEVEL=%s" % R]
    workdir = [d for d in redacted["drift"] if d["key"] == "WorkingDirectory"][0]
    assert workdir["actual"] == "/tmp"                                # not a secret
    assert redacted["settings"] == {"Environment": {"API_TOKEN": R}, "User": "nobody", "key": "ExecStart"}
    assert redacted["process"] == {"argv": ["/usr/bin/python3", "-m", "uvicorn", "--token", R], "pid": 1}
    assert redacted["nested"][0] == {"db_password": R, "port": 8000, "list_secret": [R, R]}
    assert redacted["nested"][1] == ("tuple", {"env": {"LOG": R}})
    assert redacted["unit"] == "[Service]\nEnvironment=GREETING=%s %s\n" % (R, R)   # unquoted: two words
    assert redacted["line"] == "Environment=X=%s" % R
    assert redacted["plain"] == "a=b without secrets" and redacted["none_token"] is None
    assert rd.redact_data(redacted) == redacted
    assert data["settings"]["Environment"]["API_TOKEN"] == "s3cr3t-token"          # input untouched


def test_arguments_with_no_log_names():
    args = {"canonical_unit": "[Service]\nEnvironment=API_TOKEN=s3cr3t-token\nUser=root\n", "service": "beatsync",
            "become_pass": "hunter22", "opaque": "pa55word", "port": 8000}
    redacted = rd.redact_arguments(args, no_log=("opaque",))
    assert_no_secret(redacted)
    assert redacted["canonical_unit"] == "[Service]\nEnvironment=API_TOKEN=%s\nUser=root\n" % R
    assert (redacted["service"], redacted["port"], redacted["opaque"], redacted["become_pass"]) == ("beatsync", 8000, R, R)
    assert rd.redact_arguments(None) == {}


def test_secret_values_and_remove_values():
    text = (FIXTURES / "cat-merge-multi.txt").read_text(encoding="utf-8") + "[Service]\nDB_PASSWORD=hunter22\nA=1\n"
    values = rd.secret_values(text)
    assert {"s3cr3t-token", "hello world", "debug", "hunter22", "this", "/usr/local/bin:/usr/bin:/bin"} == values
    journal = {"lines": ["Starting with token s3cr3t-token", "greeting: hello world"], "s3cr3t-token": 1}
    cleaned = rd.remove_values(journal, values)
    assert cleaned == {"lines": ["Starting with token %s" % R, "greeting: %s" % R], R: 1}
    assert rd.remove_values("x", []) == "x" and rd.remove_values(5, ["5"]) == 5
