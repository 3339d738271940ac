# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_systemd parsers and probe_unit/probe_journal on real captured `systemctl show` and
journalctl outputs (tests/unit/fixtures/systemd, journal: see systemd/README.md), on garbage,
and with stand-in systemctl/journalctl scripts that replay captured outputs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _journal, _systemd
from ansible_collections.beatsync.ops.plugins.module_utils._validate import normalize_service
from ansible_collections.beatsync.ops.plugins.module_utils import _probe_systemd as probe_systemd
from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures"
SYSTEMD = FIXTURES / "systemd"
JOURNAL = FIXTURES / "journal"
RUNBOOK = Path("/work/shared/runbook/fix-503-docs.md")

CANONICAL = """[Unit]
Description=BeatSync Web Service Backend
After=network.target

[Service]
Type=simple
User=root
WorkingDirectory=/opt/beatsync/web_service/backend
Environment="PATH=/usr/local/bin:/usr/bin:/bin"
ExecStart=/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000
Restart=always
RestartSec=10
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=multi-user.target
"""


def show(name):
    return _systemd.parse_show((SYSTEMD / ("show-%s.txt" % name)).read_text())


# ------------------------------------------------------------------ systemctl show
def test_parse_show_crash_looping_canonical_unit():
    props = show("beatsync")
    assert props["Id"] == "beatsync.service"
    assert props["LoadState"] == "loaded"
    assert props["ActiveState"] == "activating"
    assert props["SubState"] == "auto-restart"
    assert props["Result"] == "exit-code"
    assert _systemd.to_int(props["NRestarts"]) == 1
    assert _systemd.to_int(props["ExecMainStatus"]) == 1
    assert props["FragmentPath"] == "/etc/systemd/system/beatsync.service"


def test_parse_show_not_found_unit_has_no_exec_start():
    props = show("nosuchunit")
    assert props["LoadState"] == "not-found"
    assert "ExecStart" not in props
    assert _systemd.none_if_empty(props["FragmentPath"]) is None
    assert _systemd.parse_exec_start(props.get("ExecStart")) is None


def test_parse_show_running_unit_with_drop_in():
    props = show("bs-ok")
    assert props["ActiveState"] == "active" and props["SubState"] == "running"
    assert _systemd.to_int(props["MainPID"]) == 103
    assert props["DropInPaths"] == "/etc/systemd/system/bs-ok.service.d/override.conf"


def test_parse_show_start_limit():
    props = show("bs-loop-limit")
    assert props["ActiveState"] == "failed"
    assert _systemd.to_int(props["NRestarts"]) == 5


@pytest.mark.parametrize("text", [
    "", "garbage without equals\n\x00\x01\x02", "=novalue\n1abc=x\n", None, 42,
    "LoadState=loaded\nLoadState=not-found\n",  # repeated key: the first wins
    "ExecStart={ path=/usr/bin/python3 ; argv[]=/usr/bin/pyth",  # truncated mid-value
    "A=" + "x" * 200000,
])
def test_parse_show_garbage_and_truncated(text):
    props = _systemd.parse_show(text)
    assert isinstance(props, dict)
    assert all(len(value) <= _systemd.MAX_VALUE_CHARS + 20 for value in props.values())
    if text and isinstance(text, str) and text.startswith("LoadState=loaded"):
        assert props["LoadState"] == "loaded"


def test_to_int_and_none_if_empty():
    assert _systemd.to_int("42") == 42
    assert _systemd.to_int("[not set]") is None
    assert _systemd.to_int("") is None
    assert _systemd.none_if_empty("[not set]") is None
    assert _systemd.none_if_empty(" loaded ") == "loaded"


# ------------------------------------------------------------------ ExecStart
def test_exec_start_show_form_real():
    parsed = _systemd.parse_exec_start(show("beatsync")["ExecStart"])
    assert parsed["path"] == "/usr/bin/python3"
    assert parsed["argv"] == ["/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]
    assert parsed["command_line"] == "/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000"
    assert _systemd.interpreter_from_argv(parsed["path"], parsed["argv"]) == "/usr/bin/python3"


def test_exec_start_show_form_with_semicolons_in_argv():
    parsed = _systemd.parse_exec_start(show("bs-loop-limit")["ExecStart"])
    assert parsed["path"] == "/usr/bin/python3"
    assert parsed["command_line"] == "/usr/bin/python3 -c import sys; sys.exit(3)"


def test_exec_start_console_script_has_no_visible_interpreter():
    parsed = _systemd.parse_exec_start(show("bs-script")["ExecStart"])
    assert parsed["path"] == "/work/main/.venv/bin/uvicorn"
    assert _systemd.interpreter_from_argv(parsed["path"], parsed["argv"]) is None


def test_exec_start_venv_python():
    parsed = _systemd.parse_exec_start(show("bs-ok")["ExecStart"])
    assert _systemd.interpreter_from_argv(parsed["path"], parsed["argv"]) == "/work/main/.venv/bin/python"


@pytest.mark.parametrize("line,path,argv0,interpreter", [
    ("/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000", "/usr/bin/python3", "/usr/bin/python3", "/usr/bin/python3"),
    ("-/usr/bin/python3.11 -m uvicorn main:app", "/usr/bin/python3.11", "/usr/bin/python3.11", "/usr/bin/python3.11"),
    ("@/usr/bin/python3 beatsync -m uvicorn main:app", "/usr/bin/python3", "beatsync", "/usr/bin/python3"),
    ('/usr/bin/env PYTHONUNBUFFERED=1 python3 -m uvicorn "main:app"', "/usr/bin/env", "/usr/bin/env", "python3"),
    ("/opt/venv/bin/gunicorn -k uvicorn.workers.UvicornWorker main:app", "/opt/venv/bin/gunicorn", "/opt/venv/bin/gunicorn", None),
    ("/usr/bin/python3 -c 'unterminated", "/usr/bin/python3", "/usr/bin/python3", "/usr/bin/python3"),
])
def test_exec_start_unit_file_form(line, path, argv0, interpreter):
    parsed = _systemd.parse_exec_start(line)
    assert parsed["path"] == path
    assert parsed["argv"][0] == argv0
    assert _systemd.interpreter_from_argv(parsed["path"], parsed["argv"]) == interpreter


@pytest.mark.parametrize("value", [None, "", "   ", "{ }", "{ ignore_errors=no ; pid=0 }", "{ path=", 17])
def test_exec_start_garbage(value):
    assert _systemd.parse_exec_start(value) is None


def test_shebang():
    assert _systemd.interpreter_from_shebang("#!/opt/venv/bin/python3") == "/opt/venv/bin/python3"
    assert _systemd.interpreter_from_shebang("#!/usr/bin/env python3") == "python3"
    assert _systemd.interpreter_from_shebang("#!/bin/sh") is None
    assert _systemd.interpreter_from_shebang("not a shebang") is None
    assert _systemd.interpreter_from_shebang("#!") is None


# ------------------------------------------------------------------ unit file and drift
def test_unit_file_values_real_file():
    text = (SYSTEMD / "unit-beatsync.service").read_text()
    assert _systemd.unit_file_values(text, "ExecStart") == [
        "/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000"]
    assert _systemd.unit_file_values(text, "WorkingDirectory") == ["/opt/beatsync/web_service/backend"]
    assert _systemd.unit_file_values(text, "WantedBy", section="Install") == ["multi-user.target"]


def test_unit_file_values_continuation_comments_and_reset():
    text = "[Service]\n# ExecStart=/bin/false\nExecStart=/usr/bin/python3 \\\n  -m uvicorn main:app\nExecStart=\nExecStart=/x\n[Unit]\nExecStart=/y\n"
    assert _systemd.unit_file_values(text, "ExecStart") == ["/x"]
    text = "[Service]\nExecStart=/usr/bin/python3 \\\n  -m uvicorn \\\n  main:app\n"
    assert _systemd.unit_file_values(text, "ExecStart") == ["/usr/bin/python3 -m uvicorn main:app"]


def test_canonical_unit_matches_runbook_text():
    """The runbook's two copies of the unit (with and without blank lines) are not drift."""
    if not RUNBOOK.exists():
        pytest.skip("runbook not present")
    blocks = re.findall(r"<< 'EOF'\n(.*?)\nEOF", RUNBOOK.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    for block in blocks:
        assert _systemd.unit_drift(block, CANONICAL) == (False, "")


def test_drift_real_installed_file_matches_canonical():
    installed = (SYSTEMD / "unit-beatsync.service").read_text(encoding="utf-8")
    assert _systemd.unit_drift(installed, CANONICAL) == (False, "")
    assert _systemd.unit_drift(installed.replace("\n", "  \n\n"), CANONICAL) == (False, "")


def test_drift_diff_names_the_changed_lines():
    installed = CANONICAL.replace("/usr/bin/python3 -m", "/opt/venv/bin/python -m").replace("RestartSec=10\n", "")
    drift, diff = _systemd.unit_drift(installed, CANONICAL, installed_name="/etc/systemd/system/beatsync.service")
    assert drift is True
    assert "-ExecStart=/usr/bin/python3 -m uvicorn" in diff
    assert "+ExecStart=/opt/venv/bin/python -m uvicorn" in diff
    assert "-RestartSec=10" in diff
    assert "+++ /etc/systemd/system/beatsync.service" in diff


def test_drift_is_bounded_and_none_without_text():
    drift, diff = _systemd.unit_drift("\n".join("X%d=1" % i for i in range(5000)), CANONICAL)
    assert drift is True
    assert diff.endswith("diff truncated") and len(diff) <= _systemd.MAX_DIFF_CHARS + 100
    assert _systemd.unit_drift(None, CANONICAL) == (None, "")
    assert _systemd.unit_drift(CANONICAL, None) == (None, "")


def test_read_bounded(tmp_path):
    path = tmp_path / "big.service"
    path.write_bytes(b"[Service]\n" + b"\xff" * 100)
    text, error, truncated = _systemd.read_bounded(str(path), max_bytes=20)
    assert error is None and truncated is True and len(text) == 20
    text, error, truncated = _systemd.read_bounded(str(tmp_path / "missing"))
    assert text is None and "No such file" in error


# ------------------------------------------------------------------ names, markers
@pytest.mark.parametrize("name,expected", [
    ("beatsync", "beatsync.service"), ("beatsync.service", "beatsync.service"), ("app@1.service", "app@1.service"),
    ("-H", None), ("a b", None), ("", None), ("x;rm -rf /", None), (None, None), ("a" * 300, None),
])
def test_normalize_service(name, expected):
    if expected is None:
        with pytest.raises(ProbeInputError, match="service"):
            normalize_service(name)
    else:
        assert normalize_service(name) == expected


def test_no_systemd_markers_on_real_host_output():
    text = (SYSTEMD / "host-no-systemd.stderr").read_text()
    assert _systemd.is_no_systemd_message(text)
    assert not _systemd.is_no_systemd_message("Unit beatsync.service could not be found.")


def test_split_journal_real_and_garbage():
    lines, meta = _journal.split_journal((JOURNAL / "nosuchunit.txt").read_text())
    assert lines == [] and meta == ["-- No entries --"]
    lines = _journal.split_journal((JOURNAL / "beatsync.txt").read_text(), max_lines=5)[0]
    assert len(lines) == 5
    lines = _journal.split_journal("a\x00b\x1b[31m\n" + "y" * 100000 + "\n")[0]
    assert lines[0] == "a?b?[31m" and len(lines[1]) < 2100


# ------------------------------------------------------------------ probes with stand-in commands
def fake_bin(tmp_path, name, stdout_file=None, stderr_file=None, rc=0, record=None):
    """A script that replays a captured output (and records its argv)."""
    script = tmp_path / name
    lines = ["#!/bin/sh"]
    if record:
        lines.append('printf "%%s\\n" "$@" >> %s' % record)
    if stdout_file:
        lines.append("cat %s" % stdout_file)
    if stderr_file:
        lines.append("cat %s >&2" % stderr_file)
    lines.append("exit %d" % rc)
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return str(script)


def test_probe_unit_replayed_running_unit_with_drift(tmp_path):
    unit = tmp_path / "beatsync.service"
    unit.write_text(CANONICAL.replace("RestartSec=10", "RestartSec=3"))
    captured = tmp_path / "show.txt"
    captured.write_text(show_text("beatsync").replace("/etc/systemd/system/beatsync.service", str(unit)))
    record = tmp_path / "argv"
    systemctl = fake_bin(tmp_path, "systemctl", captured, record=record)
    facts = probe_systemd.probe_unit(service="beatsync.service", canonical_unit=CANONICAL, systemctl_path=systemctl)
    argv = record.read_text().split()
    assert argv[:2] == ["show", "beatsync.service"]
    assert any(arg.startswith("--property=") and "ExecStart" in arg for arg in argv)
    assert facts["systemd"] is True and facts["present"] is True
    assert facts["active_state"] == "activating" and facts["sub_state"] == "auto-restart"
    assert facts["n_restarts"] == 1 and facts["exec_main_status"] == 1 and facts["main_pid"] == 0
    assert facts["interpreter"] == "/usr/bin/python3" and facts["interpreter_source"] == "exec_start"
    assert facts["working_directory"] == "/opt/beatsync/web_service/backend"
    assert facts["unit_file_exec_start"] == "/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000"
    assert facts["drift"] is True and "-RestartSec=10" in facts["diff"] and "+RestartSec=3" in facts["diff"]
    assert facts["error"] is None


def show_text(name):
    return (SYSTEMD / ("show-%s.txt" % name)).read_text()


def test_probe_unit_replayed_not_found(tmp_path):
    systemctl = fake_bin(tmp_path, "systemctl", SYSTEMD / "show-nosuchunit.txt")
    facts = probe_systemd.probe_unit(service="nosuchunit.service", canonical_unit=CANONICAL, systemctl_path=systemctl)
    assert facts["systemd"] is True and facts["present"] is False and facts["load_state"] == "not-found"
    assert facts["drift"] is None and facts["interpreter"] is None and facts["error"] is None


def test_probe_unit_console_script_interpreter_from_shebang(tmp_path):
    script = tmp_path / "uvicorn"
    script.write_text("#!/opt/venv/bin/python3.11\nimport uvicorn\n")
    captured = tmp_path / "show.txt"
    captured.write_text(show_text("bs-script").replace("/work/main/.venv/bin/uvicorn", str(script)))
    facts = probe_systemd.probe_unit(service="bs-script.service", systemctl_path=fake_bin(tmp_path, "systemctl", captured))
    assert facts["interpreter"] == "/opt/venv/bin/python3.11" and facts["interpreter_source"] == "shebang"
    assert facts["drift"] is None  # no canonical given


def test_probe_unit_replayed_no_systemd(tmp_path):
    systemctl = fake_bin(tmp_path, "systemctl", SYSTEMD / "host-no-systemd.stdout", SYSTEMD / "host-no-systemd.stderr", rc=1)
    facts = probe_systemd.probe_unit(systemctl_path=systemctl)
    assert facts["systemd"] is False and facts["present"] is None
    assert "System has not been booted with systemd" in facts["error"]


def test_probe_unit_garbage_output(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(4096))
    facts = probe_systemd.probe_unit(systemctl_path=fake_bin(tmp_path, "systemctl", garbage))
    assert facts["systemd"] is True and facts["present"] is None
    assert "no LoadState" in facts["error"]


def test_probe_unit_missing_systemctl(tmp_path):
    facts = probe_systemd.probe_unit(systemctl_path=str(tmp_path / "nope"))
    assert facts["systemd"] is False and "systemctl not found" in facts["error"]


def test_probe_unit_hung_systemctl(tmp_path):
    script = tmp_path / "systemctl"
    script.write_text("#!/bin/sh\nexec sleep 30\n")
    script.chmod(0o755)
    facts = probe_systemd.probe_unit(systemctl_path=str(script), timeout=0.5)
    assert facts["systemd"] in (None, False) and "did not finish" in facts["error"]


def test_probe_journal_replayed(tmp_path):
    record = tmp_path / "argv"
    journalctl = fake_bin(tmp_path, "journalctl", JOURNAL / "bs-syntax.txt", record=record)
    facts = _journal.probe_journal(service="bs-syntax.service", lines=50, journalctl_path=journalctl)
    assert record.read_text().split() == ["-u", "bs-syntax.service", "-n", "50", "--no-pager", "-o", "short-iso"]
    assert facts["available"] is True and facts["error"] is None and len(facts["lines"]) == 45
    assert facts["kinds"] == {"syntax_error": 1}
    item = facts["classifications"][0]
    assert item["file"] == "/opt/bs-syntax/main.py" and item["lineno"] == 5


def test_probe_journal_replayed_no_journal(tmp_path):
    journalctl = fake_bin(tmp_path, "journalctl", JOURNAL / "host-no-journal.stdout", JOURNAL / "host-no-journal.stderr")
    facts = _journal.probe_journal(journalctl_path=journalctl)
    assert facts["available"] is False and "No journal files were found" in facts["error"]
    assert facts["lines"] == [] and facts["classifications"] == []


def test_probe_journal_replayed_not_privileged(tmp_path):
    journalctl = fake_bin(tmp_path, "journalctl", JOURNAL / "not-privileged.stdout", JOURNAL / "not-privileged.stderr", rc=1)
    facts = _journal.probe_journal(journalctl_path=journalctl)
    assert facts["available"] is False and "insufficient permissions" in facts["error"]
    assert "systemd-journal" in facts["hint"]


def test_probe_journal_garbage_is_bounded(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(200000) + b"\n" + b"z" * 500000 + b"\n")
    facts = _journal.probe_journal(lines=10, journalctl_path=fake_bin(tmp_path, "journalctl", garbage))
    assert facts["available"] is True
    assert len(facts["lines"]) <= 10
    assert all(len(line) <= _journal.MAX_LINE_CHARS + 20 for line in facts["lines"])


def test_probe_journal_missing_journalctl(tmp_path):
    facts = _journal.probe_journal(journalctl_path=str(tmp_path / "nope"))
    assert facts["available"] is False and "journalctl not found" in facts["error"]
