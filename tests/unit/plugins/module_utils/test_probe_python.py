# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""probe_python's pure parts: version keys, specifier comparison, requirements.txt parsing,
the report marker, and input validation. The real runs are in tests/integration/test_deps_probe.py."""

from __future__ import annotations

import json

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _probe_python as probe_python
from ansible_collections.beatsync.ops.plugins.module_utils._common import ProbeInputError

REAL_REQUIREMENTS = """\
# BeatSync backend
fastapi==0.104.1
uvicorn[standard]==0.24.0
python-multipart>=0.0.6   # form uploads
pydantic>=2.0,<3
-r extra.txt
--index-url https://pypi.org/simple
-e git+https://github.com/x/y.git#egg=y
./local-wheel.whl
https://example.invalid/pkg.tar.gz
numpy ; python_version >= "3.9"
librosa~=0.10.1 \\
    --hash=sha256:0123456789abcdef
aiofiles @ https://example.invalid/aiofiles.whl
Django===4.2.0
broken-line >= what
"""


@pytest.mark.parametrize("installed,op,wanted,expected", [
    ("0.104.1", "==", "0.104.1", True),
    ("0.104.1", "==", "0.104", False),
    ("1.0", "==", "1.0.0", True),
    ("0.110.0", ">=", "0.100", True),
    ("0.99.9", ">=", "0.100", False),
    ("0.20.0", ">", "0.20", False),
    ("0.20.1", ">", "0.20", True),
    ("2.5.3", "<", "3", True),
    ("3.0.0", "<", "3", False),
    ("3.0.0", "<=", "3", True),
    ("2.0.0", "!=", "2.0", False),
    ("2.0.1", "!=", "2.0", True),
    ("0.10.2", "~=", "0.10.1", True),
    ("0.11.0", "~=", "0.10.1", False),
    ("1.9", "~=", "1.4", True),
    ("2.0", "~=", "1.4", False),
    ("1.4.7", "==", "1.4.*", True),
    ("1.5.0", "==", "1.4.*", False),
    ("1.5.0", "!=", "1.4.*", True),
    ("2.0.0rc1", "<", "2.0.0", True),
    ("2.0.0", ">", "2.0.0rc1", True),
    ("2.0.0a1", "<", "2.0.0b1", True),
    ("2.0.0.dev1", "<", "2.0.0a1", True),
    ("2.0.0.post1", ">", "2.0.0", True),
    ("1!1.0", ">", "2.0", True),
    ("2.1.0+cpu", "==", "2.1.0", True),
    ("4.2.0", "===", "4.2.0", True),
    ("4.2", "===", "4.2.0", False),
    ("not-a-version", ">=", "1.0", None),
    ("1.0", ">=", "banana", None),
    ("1.0", "~=", "1", None),
])
def test_compare(installed, op, wanted, expected):
    assert probe_python.compare(installed, op, wanted) is expected


def test_parse_version_garbage():
    for value in (None, "", "abc", "1..2", 7, "1.0 junk"):
        assert probe_python.parse_version(value) is None
    assert probe_python.parse_version("v1.2.0") == probe_python.parse_version("1.2")


def test_satisfies():
    assert probe_python.satisfies("0.110.0", ">=0.100,<1") == (True, None)
    satisfied, error = probe_python.satisfies("1.2.0", ">=0.100,<1")
    assert satisfied is False and "does not satisfy <1" in error
    assert probe_python.satisfies(None, ">=1") == (False, "not installed")
    assert probe_python.satisfies("1.0", None) == (True, None)
    assert probe_python.satisfies("1.0", "(>=0.5)") == (True, None)
    assert probe_python.satisfies("1.0", ">=x y")[0] is None
    assert probe_python.satisfies("weird", ">=1")[0] is None


def test_parse_requirements_real_shapes():
    reqs, skipped = probe_python.parse_requirements(REAL_REQUIREMENTS)
    by_name = {req["name"]: req for req in reqs}
    assert by_name["fastapi"]["specifier"] == "==0.104.1"
    assert by_name["uvicorn"]["extras"] == ["standard"] and by_name["uvicorn"]["specifier"] == "==0.24.0"
    assert by_name["python-multipart"]["specifier"] == ">=0.0.6"
    assert by_name["pydantic"]["specifier"] == ">=2.0,<3"
    assert by_name["numpy"]["marker"] == 'python_version >= "3.9"' and by_name["numpy"]["specifier"] is None
    assert by_name["librosa"]["specifier"] == "~=0.10.1"
    assert by_name["aiofiles"]["url"] == "https://example.invalid/aiofiles.whl"
    assert by_name["Django"]["specifier"] == "===4.2.0"
    assert by_name["broken-line"]["error"].startswith("cannot parse version clause")
    assert skipped == ["-r extra.txt", "--index-url https://pypi.org/simple",
                       "-e git+https://github.com/x/y.git#egg=y", "./local-wheel.whl",
                       "https://example.invalid/pkg.tar.gz"]
    assert all(req["line"] >= 1 for req in reqs)


def test_parse_requirements_fixture_app():
    reqs, skipped = probe_python.parse_requirements("fastapi>=0.100\nuvicorn>=0.20\n")
    assert [(req["name"], req["specifier"]) for req in reqs] == [("fastapi", ">=0.100"), ("uvicorn", ">=0.20")]
    assert skipped == []


@pytest.mark.parametrize("text", [None, "", "\x00\x01\xff", "#only comments\n\n", "=" * 100000, "a\\", "[extras]\n"])
def test_parse_requirements_garbage(text):
    reqs, skipped = probe_python.parse_requirements(text)
    assert isinstance(reqs, list) and isinstance(skipped, list)


def test_parse_requirements_bounded():
    reqs, skipped = probe_python.parse_requirements("\n".join("pkg%d==1" % i for i in range(2000)))
    assert len(reqs) == probe_python.MAX_REQUIREMENTS
    assert skipped and "more than" in skipped[-1]


def test_canonical_name():
    assert probe_python.canonical_name("Python_Multipart") == "python-multipart"


def test_parse_report():
    report = {"imports": {}, "python_version": "3.11.2"}
    noisy = "print from an import\n%s%s\n" % (probe_python.MARKER, json.dumps(report))
    assert probe_python._parse_report(noisy) == report
    assert probe_python._parse_report("no marker") is None
    assert probe_python._parse_report(probe_python.MARKER + "{truncated") is None
    assert probe_python._parse_report(probe_python.MARKER + "[1]") is None
    assert probe_python._parse_report(None) is None


def test_deps_script_is_old_python_syntax():
    """The target-side script avoids f-strings so Python 3.5+ can parse it."""
    compile(probe_python.DEPS_SCRIPT, "deps", "exec")
    assert 'f"' not in probe_python.DEPS_SCRIPT and "f'" not in probe_python.DEPS_SCRIPT


@pytest.mark.parametrize("kwargs,option", [
    ({"app_dir": "relative/dir"}, "app_dir"),
    ({"app_dir": None}, "app_dir"),
    ({"python": ""}, "python"),
    ({"python": "/usr/bin/python3\x00"}, "python"),
    ({"modules": ["fastapi", "os; import x"]}, "modules"),
    ({"modules": ["m%d" % i for i in range(60)]}, "modules"),
    ({"modules": 5}, "modules"),
    ({"requirements_file": 3}, "requirements_file"),
    ({"timeout": "soon"}, "timeout"),
])
def test_bad_input(kwargs, option):
    with pytest.raises(ProbeInputError, match=option):
        probe_python.probe_deps(**kwargs)
