# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_journal's keyword pre-filter and lazily compiled patterns (issue 13, host CPU): classify()
gives the same answer as without the pre-filter on every line the patterns know, in any case,
inside and outside tracebacks, with non-ASCII look-alikes; a healthy journal compiles none of
the classifying patterns."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _journal

PREFIX = "2026-12-02T05:00:00+0000 bed python3[4242]: "
SAMPLES = [
    "Traceback (most recent call last):",
    '  File "/opt/beatsync/web_service/backend/main.py", line 5, in <module>',
    '  File "<frozen importlib._bootstrap>", line 1206, in _gcd_import',
    "    def x(:",
    "SyntaxError: invalid syntax",
    "  File \"main.py\", line 3\nIndentationError: unexpected indent",
    "TabError: inconsistent use of tabs (main.py, line 7)",
    "ModuleNotFoundError: No module named 'fastapi'",
    "ImportError: No module named uvicorn.main",
    "/usr/bin/python3: No module named uvicorn",
    "ImportError: cannot import name 'FastAPI' from 'fastapi' (/x.py)",
    "ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
    "OSError: EADDRINUSE",
    "PermissionError: [Errno 13] Permission denied: '/opt/x'",
    "beatsync.service: Main process exited, code=exited, status=243/CREDENTIALS",
    "ERROR:    Application startup failed. Exiting.",
    "ERROR:    Error loading ASGI app. Could not import module \"main\".",
    "Out of memory: Killed process 4242 (python3)",
    "python3 invoked oom-killer: gfp_mask=0x140cca",
    "beatsync.service: A process of this unit has been killed by the OOM killer.",
    "beatsync.service: Start request repeated too quickly.",
    "beatsync.service: Failed with result 'start-limit-hit'.",
    "beatsync.service: Main process exited, code=exited, status=203/EXEC",
    "beatsync.service: Failed to locate executable /usr/bin/python9: No such file or directory",
    "beatsync.service: Failed at step EXEC spawning /usr/bin/python9: No such file or directory",
    "beatsync.service: Failed to execute /usr/bin/python9: No such file or directory",
    "beatsync.service: Changing to the requested working directory failed: No such file or directory",
    "beatsync.service: Main process exited, code=exited, status=200/CHDIR",
    "Failed at step CHDIR spawning /usr/bin/python3",
    "RuntimeError: boom",
    "KeyboardInterrupt: ",
    "INFO:     127.0.0.1:50000 - \"GET /api/health HTTP/1.1\" 200 OK",
    "INFO:     Application startup complete.",
    "Started beatsync.service - BeatSync.",
    "PERMIſſION DENIED",                    # the long s folds onto s under re.I
    "EADDRINUSE with a \u212a",              # the Kelvin sign
    "address alreadY IN USE",
    "no module named 'x'",
]


def classify_both(lines, monkeypatch):
    with_filter = _journal.classify(lines)
    with monkeypatch.context() as patch:
        patch.setattr(_journal, "_could_match", lambda message: True)
        without = _journal.classify(lines)
    return with_filter, without


def variants(text, rng):
    yield text
    yield text.upper()
    yield text.lower()
    yield "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in text)
    yield "x" + text[1:]
    yield text[: len(text) // 2]


@pytest.mark.parametrize("seed", range(5))
def test_same_classifications_with_and_without_the_filter(seed, monkeypatch):
    rng = random.Random(seed)
    lines = []
    for dummy in range(400):
        text = rng.choice(list(variants(rng.choice(SAMPLES), rng)))
        source = rng.choice(["python3[4242]", "python3[4343]", "systemd[1]"])
        lines.append(("2026-12-02T05:00:00+0000 bed %s: " % source if rng.random() < 0.8 else "") + text)
    with_filter, without = classify_both(lines, monkeypatch)
    assert with_filter == without
    assert with_filter, "the samples classify"


def test_each_sample_alone_and_in_a_traceback(monkeypatch):
    for text in SAMPLES:
        for lines in ([PREFIX + text], [PREFIX + SAMPLES[0], PREFIX + SAMPLES[1], PREFIX + text]):
            with_filter, without = classify_both(lines, monkeypatch)
            assert with_filter == without, text


COMPILED = (
    "import sys; sys.path[:0] = %r; "
    "from ansible_collections.beatsync.ops.plugins.module_utils import _journal as j; "
    "found = j.classify(%r); "
    "lazy = [j._TRACEBACK, j._FRAME, j._SYNTAX, j._SYNTAX_WHERE, j._EXCEPTION] + list(j._MISSING) "
    "+ [p for k, p in j._SIMPLE]; "
    "def compiled(p):\n"
    "    try:\n"
    "        object.__getattribute__(p, 'search')\n"
    "    except AttributeError:\n"
    "        return False\n"
    "    return True\n"
    "print(len(found), sum(map(compiled, lazy)), len(lazy))"
)


def compiled_after(lines):
    """(classifications, patterns compiled, patterns) in a fresh interpreter."""
    code = COMPILED.replace("; def compiled", "\ndef compiled").replace("\\n", "\n") % (sys.path, lines)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return tuple(int(word) for word in proc.stdout.split())


def test_healthy_journal_compiles_no_classifying_pattern():
    healthy = [PREFIX + "INFO:     Application startup complete.",
               PREFIX + "INFO:     127.0.0.1:1 - \"GET /docs HTTP/1.1\" 200 OK",
               "2026-12-02T05:00:00+0000 bed systemd[1]: Started beatsync.service - BeatSync."]
    found, compiled, total = compiled_after(healthy)
    assert (found, compiled, total) == (0, 0, 17)
    found, compiled, total = compiled_after(healthy + [PREFIX + "ModuleNotFoundError: No module named 'fastapi'"])
    assert found == 1 and compiled > 0


def test_lazy_pattern_compiles_once():
    pattern = _journal._Lazy(r"a(?P<b>b)")  # pylint: disable=protected-access
    assert pattern.search("xab").group("b") == "b"
    assert pattern.match("ab") and not pattern.match("xab")
    with pytest.raises(AttributeError):
        pattern.sub  # pylint: disable=pointless-statement
