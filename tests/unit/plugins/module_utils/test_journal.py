# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_journal.classify on real journalctl captures of uvicorn/python failures under systemd
(tests/unit/fixtures/journal, see ../systemd/README.md), on garbage and on truncated input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _journal

JOURNAL = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "journal"


def classify_file(name):
    return _journal.classify((JOURNAL / name).read_text(encoding="utf-8", errors="replace").splitlines())


def kinds(items):
    return _journal.summarize(items)


def test_missing_uvicorn_for_system_python():
    items = classify_file("beatsync.txt")
    assert kinds(items) == {"missing_module": 3}
    assert {item["module"] for item in items} == {"uvicorn"}
    assert items[0]["line"].endswith("/usr/bin/python3: No module named uvicorn")


def test_module_not_found_in_app_traceback():
    items = classify_file("bs-missing.txt")
    assert kinds(items) == {"missing_module": 1}
    assert items[0]["module"] == "beatsync_missing_dep"
    assert items[0]["file"] == "/opt/bs-missing/main.py" and items[0]["lineno"] == 1


def test_syntax_error_takes_file_and_line_from_traceback():
    items = classify_file("bs-syntax.txt")
    assert kinds(items) == {"syntax_error": 1}
    item = items[0]
    assert item["file"] == "/opt/bs-syntax/main.py" and item["lineno"] == 5
    assert item["exception"] == "SyntaxError" and item["message"] == "invalid syntax"


def test_address_in_use():
    items = classify_file("bs-conflict.txt")
    assert kinds(items) == {"address_in_use": 1}
    assert "[Errno 98]" in items[0]["line"]


def test_lifespan_failure_is_startup_failed_with_its_exception():
    items = classify_file("bs-lifespan.txt")
    assert [item["kind"] for item in items] == ["exception", "startup_failed"]
    assert items[0]["exception"] == "RuntimeError" and items[0]["message"] == "database not reachable"
    assert items[0]["file"] == "/opt/bs-lifespan/main.py"


def test_error_loading_asgi_app():
    assert kinds(classify_file("bs-noapp.txt")) == {"startup_failed": 1}


def test_import_time_crash_is_an_exception():
    items = classify_file("bs-crash.txt")
    assert kinds(items) == {"exception": 1}
    assert items[0]["file"].endswith("backend/main.py")
    assert "startup_crash" in items[0]["message"]


def test_exec_chdir_permission():
    assert kinds(classify_file("bs-noexec.txt")) == {"exec_failed": 1}
    assert kinds(classify_file("bs-nodir.txt")) == {"chdir_failed": 1}
    assert kinds(classify_file("bs-perm.txt")) == {"permission_denied": 1}


def test_start_limit():
    assert kinds(classify_file("bs-loop.txt")) == {"start_limit_hit": 1}
    assert kinds(classify_file("bs-loop-limit.txt")) == {"start_limit_hit": 2}


def test_oom_handwritten():
    assert kinds(classify_file("oom-handwritten.txt")) == {"oom_killed": 4, "start_limit_hit": 2}


def test_healthy_and_empty_logs_have_no_classifications():
    assert classify_file("bs-ok.txt") == []
    assert classify_file("nosuchunit.txt") == []
    assert _journal.classify([]) == []


@pytest.mark.parametrize("message,kind,extra", [
    ("ModuleNotFoundError: No module named 'fastapi'", "missing_module", {"module": "fastapi"}),
    ("ModuleNotFoundError: No module named 'fastapi.openapi'", "missing_module", {"module": "fastapi.openapi", "package": "fastapi"}),
    ("ImportError: No module named uvicorn", "missing_module", {"module": "uvicorn"}),
    ("ImportError: cannot import name 'Annotated' from 'typing_extensions' (/x.py)", "missing_module",
     {"module": "typing_extensions", "name": "Annotated"}),
    ("OSError: [Errno 98] Address already in use", "address_in_use", {}),
    ("beatsync.service: Failed to execute /usr/bin/python3: Permission denied", "permission_denied", {}),
    ("beatsync.service: Failed with result 'start-limit-hit'.", "start_limit_hit", {}),
    ("beatsync.service: Failed with result 'oom-kill'.", "oom_killed", {}),
    ("beatsync.service: Failed to locate executable /opt/venv/bin/python: No such file or directory", "exec_failed", {}),
    ("ERROR:    Application startup failed. Exiting.", "startup_failed", {}),
])
def test_single_messages(message, kind, extra):
    items = _journal.classify(["2025-12-02T10:00:00+0800 vm python3[12]: " + message])
    assert len(items) == 1 and items[0]["kind"] == kind
    for key, value in extra.items():
        assert items[0][key] == value


def test_short_format_prefix_and_bare_messages():
    line = "Dec 02 10:00:00 vm python3[12]: SyntaxError: invalid syntax (main.py, line 7)"
    items = _journal.classify([line])
    assert items[0]["file"] == "main.py" and items[0]["lineno"] == 7
    assert _journal.split_prefix(line) == ("python3[12]", "SyntaxError: invalid syntax (main.py, line 7)")
    assert _journal.split_prefix("no prefix here") == ("", "no prefix here")


def test_interleaved_tracebacks_keep_their_own_frames():
    lines = [
        "2025-12-02T10:00:00+0800 vm python3[1]: Traceback (most recent call last):",
        "2025-12-02T10:00:00+0800 vm python3[2]: Traceback (most recent call last):",
        '2025-12-02T10:00:00+0800 vm python3[1]:   File "/app/a.py", line 3',
        '2025-12-02T10:00:00+0800 vm python3[2]:   File "/app/b.py", line 9, in <module>',
        "2025-12-02T10:00:00+0800 vm python3[1]: IndentationError: unexpected indent",
        "2025-12-02T10:00:00+0800 vm python3[2]: ValueError: bad",
    ]
    items = _journal.classify(lines)
    assert items[0]["kind"] == "syntax_error" and items[0]["file"] == "/app/a.py" and items[0]["lineno"] == 3
    assert items[1]["kind"] == "exception" and items[1]["file"] == "/app/b.py" and items[1]["exception"] == "ValueError"


def test_truncated_traceback_without_frames():
    """-n cut the traceback's start: the SyntaxError is still classified, without file."""
    lines = (JOURNAL / "bs-syntax.txt").read_text().splitlines()[-5:]
    items = _journal.classify(lines)
    assert items[0]["kind"] == "syntax_error" and "file" not in items[0]


def test_exception_needs_a_traceback():
    assert _journal.classify(["vm app[1]: ValueError: logged by the app, not a crash"]) == []


@pytest.mark.parametrize("garbage", [
    os.urandom(50000),
    b"\xff\xfe\x00" * 10000,
    "x" * 1000000,
    "ModuleNotFoundError: No module named '" + "a" * 100000,
    ["\x00\x01\x02", None, 17, b"\xc3\x28", "[1234B blob data]"],
    None,
    12,
])
def test_garbage_is_bounded_and_harmless(garbage):
    items = _journal.classify(garbage)
    assert isinstance(items, list)
    for item in items:
        assert len(item["line"]) <= _journal.MAX_LINE_CHARS + 20
        assert "\x00" not in item["line"]


def test_bounds():
    lines = ["vm python3[1]: OSError: [Errno 98] Address already in use"] * 5000
    items = _journal.classify(lines)
    assert len(items) == _journal.MAX_CLASSIFICATIONS
    assert len(_journal.classify(lines, max_lines=3)) == 3
