# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_pyreq: PEP 440 versions, specifiers, PEP 508 markers and requirements, requirements files,
and the same answers from pip's vendored packaging and from the stdlib subset."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _pyreq
from ansible_collections.beatsync.ops.plugins.module_utils._pyreq import (
    InvalidMarker, InvalidRequirement, InvalidSpecifier, InvalidVersion, Marker, Requirement, Specifier,
    SpecifierSet, Version, check_requirement, parse_version,
)

MODULE = Path(_pyreq.__file__)
PY311 = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
         "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
         "implementation_name": "cpython", "platform_python_implementation": "CPython",
         "implementation_version": "3.11.7", "platform_release": "6.1.0-18-amd64"}
PY312 = dict(PY311, python_version="3.12", python_full_version="3.12.3", implementation_version="3.12.3")


# --------------------------------------------------------------------------- versions

@pytest.mark.parametrize("text,normalized", [
    ("1.0", "1.0"), ("v1.0", "1.0"), ("1.0.0", "1.0.0"), ("1!2.0", "1!2.0"), ("0!1.0", "1.0"),
    ("1.0a1", "1.0a1"), ("1.0alpha1", "1.0a1"), ("1.0-beta.2", "1.0b2"), ("1.0c1", "1.0rc1"),
    ("1.0pre", "1.0rc0"), ("1.0preview2", "1.0rc2"), ("1.0.post1", "1.0.post1"), ("1.0-1", "1.0.post1"),
    ("1.0rev", "1.0.post0"), ("1.0r3", "1.0.post3"), ("1.0.dev", "1.0.dev0"), ("1.0-dev7", "1.0.dev7"),
    ("1.0rc1.post2.dev3", "1.0rc1.post2.dev3"), ("1.0+ubuntu-1", "1.0+ubuntu.1"), ("1.0+ABC.5", "1.0+abc.5"),
    (" 2.01 ", "2.1"), ("1.26.4", "1.26.4"),
])
def test_version_normalizes(text, normalized):
    assert str(Version(text)) == normalized


@pytest.mark.parametrize("text", ["", "1.0-", "abc", "1.0.x", "1..0", "1.0+", "1.0+a..b", "=1.0", "1.0 2", None, 1])
def test_invalid_versions_raise(text):
    with pytest.raises(InvalidVersion):
        Version(text)


ORDERED = [
    "1.0.dev0", "1.0a1.dev1", "1.0a1", "1.0a1.post1.dev1", "1.0a1.post1", "1.0a2", "1.0b1", "1.0rc1",
    "1.0", "1.0+abc", "1.0+abc.5", "1.0+5", "1.0+5.abc", "1.0.post1.dev0", "1.0.post1", "1.0.post2",
    "1.0.1", "1.1.dev1", "1.1", "2.0", "10.0", "1!0.1",
]


def test_pep440_ordering():
    versions = [Version(text) for text in ORDERED]
    assert sorted(reversed(versions)) == versions
    for left, right in zip(ORDERED, ORDERED[1:]):
        assert _pyreq.compare_versions(left, right) == -1, (left, right)


def test_equal_versions_hash_alike():
    assert Version("1.0") == Version("1.0.0") == Version("1.0.0.0")
    assert hash(Version("1.0")) == hash(Version("1.0.0"))
    assert Version("1.0") != Version("1.0+local")
    assert Version("1.0").__eq__("1.0") is NotImplemented
    assert _pyreq.compare_versions("1!1.0", "2.0") == 1


def test_version_properties():
    version = parse_version("1!2.0rc1.post3.dev4+x.7")
    assert (version.epoch, version.release, version.pre, version.post, version.dev, version.local) == \
        (1, (2, 0), ("rc", 1), 3, 4, ("x", 7))
    assert version.is_prerelease and version.is_postrelease and version.is_devrelease
    assert version.base_version == "1!2.0"
    assert version.public == "1!2.0rc1.post3.dev4"
    assert not Version("1.0.post1").is_prerelease


# --------------------------------------------------------------------------- specifiers

# (specifier set, version, expected with pre-releases allowed as for an installed version)
SPEC_CASES = [
    ("==1.26.4", "1.26.4", True), ("==1.26.4", "1.26.5", False), ("==1.26.4", "1.26.4+cpu", True),
    ("==1.26.4+cpu", "1.26.4", False), ("==1.26.4+cpu", "1.26.4+cpu", True), ("==1.0", "1.0.0", True),
    ("!=1.0", "1.0", False), ("!=1.0", "1.0.1", True), ("!=1.*", "1.5", False), ("!=1.*", "2.0", True),
    ("==1.*", "1.0", True), ("==1.*", "1.9.9", True), ("==1.*", "2.0", False), ("==1.*", "1.0a1", True),
    ("==1.0.*", "1.0", True), ("==1.0.*", "1", True), ("==1.0.*", "1.0.post1", True), ("==1.0.*", "1.1", False),
    ("==1.1.*", "1.1.0rc1", True), ("==2.*", "1!2.0", False), ("==1!2.*", "1!2.3", True),
    (">1.0", "1.0.post1", False), (">1.0", "1.0.1", True), (">1.0", "1.0+local", False),
    (">1.0", "1.1.dev0", True), (">1.0.post1", "1.0.post2", True), (">1.0rc1", "1.0", True),
    (">1.0", "1.0", False), (">1.0", "0.9", False),
    ("<1.0", "1.0rc1", False), ("<1.0", "1.0.dev0", False), ("<1.0", "0.9", True), ("<1.0", "0.9rc1", True),
    ("<1.0rc2", "1.0rc1", True), ("<1.0", "1.0", False), ("<1.0", "1.0.post1", False),
    ("<=1.0", "1.0+local", True), ("<=1.0", "1.0.post1", False), (">=1.0", "1.0rc1", False),
    (">=1.0", "1.0", True), (">=1.0", "1.0+x", True), (">=1.0.dev0", "1.0a1", True),
    ("~=2.2", "2.2", True), ("~=2.2", "2.9.1", True), ("~=2.2", "3.0", False), ("~=2.2", "2.1", False),
    ("~=2.2.0", "2.2.5", True), ("~=2.2.0", "2.3", False), ("~=1.4.5a4", "1.4.5", True),
    ("~=1.4.5a4", "1.4.5a3", False), ("~=1!2.2", "1!2.5", True), ("~=1!2.2", "2.5", False),
    ("===1.0", "1.0", True), ("===1.0", "1.0.0", False), ("===foobar", "foobar", True),
    (">=1.0,<2.0", "1.5", True), (">=1.0,<2.0", "2.0", False), (">=1.0,!=1.5", "1.5", False),
    ("", "3.0", True), ("", "3.0a1", True), (">=0.100", "0.115.0", True), (">=0.100", "0.99.1", False),
    (">=1.0", "not-a-version", False),
]


@pytest.mark.parametrize("spec,version,expected", SPEC_CASES)
def test_specifier_sets(spec, version, expected):
    assert SpecifierSet(spec).contains(version, prereleases=True) is expected


@pytest.mark.parametrize("spec,version,expected", SPEC_CASES)
def test_specifier_sets_match_vendored_packaging(spec, version, expected):
    """The stdlib subset answers what pip's vendored packaging answers (when it is here)."""
    vendored = pytest.importorskip("pip._vendor.packaging.specifiers")
    try:
        answer = vendored.SpecifierSet(spec).contains(version, prereleases=True)
    except Exception:  # an older vendored packaging raises on invalid versions
        answer = False
    assert answer is expected


def test_prereleases_default_excluded_unless_named():
    assert not SpecifierSet(">=1.0").contains("2.0rc1")
    assert SpecifierSet(">=1.0rc1").contains("2.0rc1")
    assert not Specifier(">=1.0").contains("2.0rc1")
    assert Specifier(">=1.0").contains("2.0rc1", prereleases=True)
    assert "1.5" in SpecifierSet(">=1.0")
    assert Specifier("==1.0rc1.*" .replace("rc1.*", ".*")).wildcard


@pytest.mark.parametrize("text", [
    "", "1.0", "=>1.0", "==1.0.*.*", "==1.0rc1.*", ">=1.*", "~=1", "~=1.0+local", ">1.0+local", "<=1.0+x",
    "==", "==1.0 2.0", "==not-a-version",
])
def test_invalid_specifiers(text):
    with pytest.raises(InvalidSpecifier):
        Specifier(text)


def test_invalid_specifier_set():
    with pytest.raises(InvalidSpecifier):
        SpecifierSet(">=1.0,=<2")
    with pytest.raises(InvalidSpecifier):
        SpecifierSet(",")


# --------------------------------------------------------------------------- markers

MARKER_CASES = [
    ('python_version < "3.12"', PY311, True),
    ('python_version < "3.12"', PY312, False),
    ('python_version >= "3.8" and python_version < "3.12"', PY311, True),
    ('python_version == "3.1"', PY311, False),
    ('python_version == "3.11.*"', PY311, True),
    ('python_full_version >= "3.11.7"', PY311, True),
    ('python_full_version < "3.12.0"', PY312, False),
    ('python_version ~= "3.10"', PY311, True),
    ('"3.12" > python_version', PY311, True),
    ('sys_platform == "linux"', PY311, True),
    ("sys_platform == 'win32' or platform_system == 'Linux'", PY311, True),
    ('sys_platform == "win32" or (platform_system == "Linux" and platform_machine == "aarch64")', PY311, False),
    ('(sys_platform == "win32" or platform_system == "Linux") and platform_machine == "x86_64"', PY311, True),
    ('sys_platform == "win32" or platform_system == "Linux" and platform_machine == "aarch64"', PY311, False),
    ('os_name != "nt"', PY311, True),
    ('implementation_name == "cpython" and platform_python_implementation == "CPython"', PY311, True),
    ('python_implementation == "PyPy"', PY311, False),
    ('"linux" in sys_platform', PY311, True),
    ('"win" not in sys_platform', PY311, True),
    ('"x86" in platform_machine', PY311, True),
    ('extra == "dev"', PY311, False),
    ('extra == "dev"', dict(PY311, extra="dev"), True),
    ('extra == "Dev_Tools"', dict(PY311, extra="dev-tools"), True),
    ('platform_machine > "a"', PY311, False),              # ordered comparison of strings never holds
    ('platform_machine >= "x86_64"', PY311, True),         # ... and >= is equality
    ('platform_release >= "6.1"', dict(PY311, platform_release="6.8.0"), True),   # compared as a version
    ('platform_release >= "6.1"', PY311, False),           # "6.1.0-18-amd64" is no version: string equality
    ('implementation_version < "3.12"', PY311, True),
    ('python_version === "3.11"', PY311, True),
]


@pytest.mark.parametrize("marker,env,expected", MARKER_CASES)
def test_markers(marker, env, expected):
    assert Marker(marker).evaluate(env) is expected


@pytest.mark.parametrize("marker,env,expected", MARKER_CASES)
def test_markers_match_vendored_packaging(marker, env, expected):
    markers = pytest.importorskip("pip._vendor.packaging.markers")
    assert markers.Marker(marker).evaluate(env) is expected


@pytest.mark.parametrize("text", [
    "", 'python_version <', 'python_version < "3.12" and', '(python_version < "3.12"', 'nonsense == "1"',
    '"a" == "b"', 'python_version not "3"', 'python_version < 3.12', 'python_version < "3.12")',
])
def test_invalid_markers(text):
    with pytest.raises(InvalidMarker):
        Marker(text)


def test_marker_with_name_missing_from_environment():
    marker = Marker('python_version < "3.12"')
    assert marker.evaluate() is (sys.version_info < (3, 12))
    env = _pyreq.default_environment()
    assert env["python_version"] == "%d.%d" % sys.version_info[:2]


# --------------------------------------------------------------------------- requirements

def test_requirement_parts():
    req = Requirement('Uvicorn[standard, Dev_x] (>=0.20,<1) ; python_version < "3.12"')
    assert req.name == "Uvicorn" and req.key == "uvicorn"
    assert req.extras == ["Dev_x", "standard"]
    assert str(req.specifier) == "<1,>=0.20"
    assert str(req.marker) == 'python_version < "3.12"'
    assert str(req) == 'Uvicorn[Dev_x,standard]<1,>=0.20; python_version < "3.12"'
    plain = Requirement("numpy==1.26.4")
    assert (plain.name, str(plain.specifier), plain.marker, plain.url) == ("numpy", "==1.26.4", None, None)
    assert Requirement("Foo.Bar_baz").key == "foo-bar-baz"


def test_url_requirement():
    req = Requirement('pkg @ https://example.invalid/pkg-1.0.tar.gz#sha256=ab;cd ; sys_platform == "linux"')
    assert req.url == "https://example.invalid/pkg-1.0.tar.gz#sha256=ab;cd"
    assert str(req.marker) == 'sys_platform == "linux"'
    assert len(req.specifier) == 0


@pytest.mark.parametrize("text", [
    "", "==1.0", "pkg[", "pkg[a b]", "pkg (>=1.0", "pkg >=1.0 ;", "pkg ; nonsense", "pkg @ ", "-pkg",
    "pkg >=1.0 <2.0",
])
def test_invalid_requirements(text):
    with pytest.raises(InvalidRequirement):
        Requirement(text)


# (line, installed, environment, status)
CHECK_CASES = [
    ("numpy==1.26.4", "1.26.4", PY311, "ok"),
    ("numpy==1.26.4", "2.0.0", PY311, "mismatch"),
    ("numpy==1.26.4", None, PY311, "missing"),
    ('numpy==1.26.4; python_version < "3.12"', "2.1.0", PY312, "not_applicable"),
    ('numpy==1.26.4; python_version < "3.12"', None, PY312, "not_applicable"),
    ('numpy==1.26.4; python_version < "3.12"', "2.1.0", PY311, "mismatch"),
    ('numpy==1.26.4 ; python_version < "3.12" and sys_platform == "linux"', "1.26.4", PY311, "ok"),
    ("fastapi>=0.100", "0.115.6", PY312, "ok"),
    ("uvicorn>=0.20", "0.19.0", PY312, "mismatch"),
    ("pkg>1.0", "1.0.post1", PY312, "mismatch"),
    ("pkg>1.0", "1.0.1", PY312, "ok"),
    ("pkg<1.0", "1.0rc1", PY312, "mismatch"),
    ("pkg<1.0rc2", "1.0rc1", PY312, "ok"),
    ("pkg>=1.0", "2.0rc1", PY312, "ok"),           # installed pre-releases count, as in pip check
    ("pkg>=1.0", "1.0.dev3", PY312, "mismatch"),
    ("pkg~=1.4", "1.9", PY312, "ok"),
    ("pkg==1.*", "1.0+local", PY312, "ok"),
    ("pkg[extra]>=1; extra == 'dev'", "0.1", PY312, "not_applicable"),
    ("pkg @ https://example.invalid/pkg.whl", "1.0", PY312, "unsupported"),
    ("pkg >= 1.0 ; bogus", "1.0", PY312, "invalid"),
]


@pytest.mark.parametrize("backend", ["stdlib", "vendored"])
@pytest.mark.parametrize("line,installed,env,status", CHECK_CASES)
def test_check_requirement_both_backends(line, installed, env, status, backend):
    if backend == "vendored" and _pyreq.vendored_packaging() is None:
        pytest.skip("pip is not importable here")
    result = check_requirement(line, installed, env, backend=backend)
    assert result["status"] == status, result
    assert result["backend"] == ("stdlib" if backend == "stdlib" else "pip._vendor.packaging")


def test_check_auto_prefers_vendored_and_reports_errors():
    result = check_requirement("numpy==1.26.4", "1.26.4", PY311)
    assert result["backend"] == ("pip._vendor.packaging" if _pyreq.vendored_packaging() else "stdlib")
    assert result["satisfied"] is True and result["applies"] is True and result["key"] == "numpy"
    assert check_requirement("x", "1", backend="bogus")["error"].startswith("backend must be")
    assert check_requirement("==1", "1", backend="stdlib")["status"] == "invalid"


# --------------------------------------------------------------------------- requirements files

def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_requirements_text_comments_continuations_options():
    text = (
        "# top comment\n"
        "--index-url https://pypi.invalid/simple\n"
        "-i https://pypi.invalid/simple\n"
        "--extra-index-url=https://other.invalid\n"
        "fastapi>=0.100  # trailing comment\n"
        "uvicorn\\\n"
        "   >=0.20 \\\n"
        "   ; python_version >= '3.8'\n"
        "numpy==1.26.4; python_version < \"3.12\"\n"
        "\n"
        "pinned==1.0 --hash=sha256:abcdef \\\n"
        "    --hash=sha256:012345\n"
        "-c constraints.txt\n"
        "-e git+https://example.invalid/repo.git#egg=thing\n"
        "./local/pkg\n"
        "--frobnicate\n"
        "url-thing @ https://example.invalid/u.whl\n"
        "bad requirement here\n"
        "-r\n"
        "# a comment ending in a backslash \\\n"
        "after-comment==2\n"
    )
    parsed = _pyreq.parse_requirements_text(text, source="req.txt")
    by_name = {entry["line"]: entry for entry in parsed["requirements"]}
    lines = [entry["line"] for entry in parsed["requirements"]]
    assert lines[:4] == ["fastapi>=0.100", "uvicorn   >=0.20    ; python_version >= '3.8'",
                         'numpy==1.26.4; python_version < "3.12"',
                         "pinned==1.0 --hash=sha256:abcdef     --hash=sha256:012345"]
    uvicorn = by_name[lines[1]]
    assert (uvicorn["key"], uvicorn["specifier"], uvicorn["marker"], uvicorn["lineno"]) == \
        ("uvicorn", ">=0.20", "python_version >= '3.8'", 6)
    assert by_name[lines[3]]["specifier"] == "==1.0" and by_name[lines[3]]["status"] == "ok"
    statuses = {entry["line"]: entry["status"] for entry in parsed["requirements"]}
    assert statuses["-e git+https://example.invalid/repo.git#egg=thing"] == "unsupported"
    assert statuses["./local/pkg"] == "unsupported"
    assert statuses["url-thing @ https://example.invalid/u.whl"] == "unsupported"
    assert statuses["bad requirement here"] == "invalid"
    assert statuses["after-comment==2"] == "ok"
    assert [item["option"] for item in parsed["ignored_options"]] == ["--index-url", "-i", "--extra-index-url"]
    assert parsed["constraints"] == [{"file": "req.txt", "lineno": 13, "path": "constraints.txt"}]
    assert any("unknown option --frobnicate" in error for error in parsed["errors"])
    assert any("-r needs a file name" in error for error in parsed["errors"])


def test_includes_followed_relative_to_the_including_file(tmp_path):
    top = write(tmp_path / "app" / "requirements.txt", "-r deps/base.txt\n--requirement=../shared/extra.txt\nfastapi>=0.100\n")
    write(tmp_path / "app" / "deps" / "base.txt", "uvicorn>=0.20\n-r more.txt\n")
    write(tmp_path / "app" / "deps" / "more.txt", "numpy==1.26.4; python_version < '3.12'\n")
    write(tmp_path / "shared" / "extra.txt", "-r ../app/deps/more.txt\nhttpx\n")
    parsed = _pyreq.parse_requirements_file(str(top))
    assert [entry["key"] for entry in parsed["requirements"]] == ["uvicorn", "numpy", "httpx", "fastapi"]
    assert [Path(path).name for path in parsed["files"]] == ["requirements.txt", "base.txt", "more.txt", "extra.txt"]
    assert parsed["errors"] == [] and parsed["truncated"] is False
    numpy = parsed["requirements"][1]
    assert numpy["file"].endswith("deps/more.txt") and numpy["lineno"] == 1


def test_include_cycle_is_reported(tmp_path):
    top = write(tmp_path / "a.txt", "first==1\n-r b.txt\n")
    write(tmp_path / "b.txt", "second==2\n-r a.txt\n")
    parsed = _pyreq.parse_requirements_file(str(top))
    assert [entry["key"] for entry in parsed["requirements"]] == ["first", "second"]
    assert len(parsed["errors"]) == 1 and "include cycle" in parsed["errors"][0]
    assert "b.txt:2" in parsed["errors"][0]


def test_include_self_is_a_cycle(tmp_path):
    top = write(tmp_path / "a.txt", "-r ./a.txt\nx==1\n")
    parsed = _pyreq.parse_requirements_file(str(top))
    assert "include cycle" in parsed["errors"][0] and len(parsed["requirements"]) == 1


def test_include_depth_and_count_bounded(tmp_path):
    for number in range(10):
        write(tmp_path / ("r%d.txt" % number), "p%d==1\n-r r%d.txt\n" % (number, number + 1))
    parsed = _pyreq.parse_requirements_file(str(tmp_path / "r0.txt"), max_depth=3)
    assert [entry["key"] for entry in parsed["requirements"]] == ["p0", "p1", "p2", "p3"]
    assert parsed["truncated"] and "deeper than 3 levels" in parsed["errors"][0]
    fan = write(tmp_path / "fan.txt", "".join("-r r%d.txt\n" % n for n in range(9, 0, -1)))
    parsed = _pyreq.parse_requirements_file(str(fan), max_files=3, max_depth=1)
    assert len(parsed["files"]) == 3 and parsed["truncated"]
    assert any("more than 3 requirements files" in error for error in parsed["errors"])


def test_missing_include_and_remote_include(tmp_path):
    top = write(tmp_path / "a.txt", "-r nothere.txt\n-r https://example.invalid/r.txt\nx==1\n")
    parsed = _pyreq.parse_requirements_file(str(top))
    assert "cannot read" in parsed["errors"][0] and "a.txt:1" in parsed["errors"][0]
    assert "remote include" in parsed["errors"][1]
    missing = _pyreq.parse_requirements_file(str(tmp_path / "none.txt"))
    assert missing["files"] == [] and missing["errors"][0].startswith("cannot read")


def test_oversized_file_truncated(tmp_path):
    top = write(tmp_path / "big.txt", "a==1\n" + "# filler\n" * 100 + "b==1\n")
    parsed = _pyreq.parse_requirements_file(str(top), max_bytes=50)
    assert parsed["truncated"] and [entry["key"] for entry in parsed["requirements"]] == ["a"]


def test_check_requirements_from_a_file(tmp_path):
    top = write(tmp_path / "requirements.txt", "fastapi>=0.100\nuvicorn>=0.20\n"
                "numpy==1.26.4; python_version < '3.12'\n-e ./local\n")
    parsed = _pyreq.parse_requirements_file(str(top))
    results = _pyreq.check_requirements(parsed["requirements"], {"FastAPI": "0.115.0", "uvicorn": "0.30.1"},
                                        PY312, backend="stdlib")
    assert [result["status"] for result in results] == ["ok", "ok", "not_applicable", "unsupported"]
    assert results[0]["file"] == str(top) and results[2]["lineno"] == 3


# --------------------------------------------------------------------------- in the app's interpreter

def test_main_in_a_separate_interpreter(tmp_path):
    """The file runs as a script (python -I) in another interpreter, stdlib only."""
    write(tmp_path / "requirements.txt", "pip>=1.0\nnot-installed-anywhere==1.0\n"
          "numpy==1.26.4; python_version < '3.0'\n")
    request = {"requirements_file": str(tmp_path / "requirements.txt")}
    proc = subprocess.run([sys.executable, "-I", str(MODULE)], input=json.dumps(request),
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert [result["status"] for result in answer["results"]] == ["ok", "missing", "not_applicable"]
    assert answer["backend"] == "pip._vendor.packaging"
    assert answer["environment"]["python_version"] == "%d.%d" % sys.version_info[:2]


def test_main_stdlib_backend_and_bad_request():
    out = io.StringIO()
    assert _pyreq.main(io.StringIO(json.dumps({"lines": ["a>=1", "b<1"], "installed": {"A": "1.0"},
                                               "backend": "stdlib"})), out) == 0
    answer = json.loads(out.getvalue())
    assert answer["backend"] == "stdlib"
    assert [result["status"] for result in answer["results"]] == ["ok", "missing"]
    out = io.StringIO()
    assert _pyreq.main(io.StringIO("[1]"), out) == 2
    assert "bad request" in json.loads(out.getvalue())["error"]


def test_installed_versions_sees_this_interpreter():
    versions = _pyreq.installed_versions()
    assert "pytest" in versions and parse_version(versions["pytest"])


_OTHER_PYTHONS = ["python3.6", "python3.7", "python3.8", "python3.9", "python3.10", "python3.11", "python3.13"]
_DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import _pyreq
cases = json.load(sys.stdin)
out = []
for line, installed, env, _status in cases:
    out.append([_pyreq.check_requirement(line, installed, env, backend=b)["status"] for b in ("stdlib", "vendored")])
print(json.dumps(out))
"""


@pytest.mark.parametrize("python", _OTHER_PYTHONS)
def test_check_table_in_other_interpreters(python):
    """The table again, in each other interpreter found here, with both backends (the vendored
    packaging of older pips included)."""
    import glob
    import shutil
    exe = shutil.which(python)
    found = sorted(glob.glob("/root/.pyenv/versions/%s.*/bin/%s" % (python[6:], python)))
    if found:
        exe = found[-1]
    if exe is None or subprocess.run([exe, "-c", "import pip"], capture_output=True, check=False).returncode:
        pytest.skip("%s with pip is not installed here" % python)
    proc = subprocess.run([exe, "-I", "-c", _DRIVER, str(MODULE.parent)], input=json.dumps(CHECK_CASES),
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for case, answers in zip(CHECK_CASES, json.loads(proc.stdout)):
        assert answers == [case[3], case[3]], case


# --------------------------------------------------------------------------- installed versions without importlib.metadata

_VERSIONS_DRIVER = r"""
import json, sys
sys.path[:0] = json.loads(sys.argv[2])
sys.path.insert(0, sys.argv[1])
import _pyreq
sys.path.remove(sys.argv[1])
fast = _pyreq._scan_metadata()
loaded = "importlib.metadata" in sys.modules
print(json.dumps({"fast": fast, "loaded": loaded, "importlib": _pyreq._importlib_versions()}))
"""


def _metadata_tree(root):
    """sys.path entries with the shapes importlib.metadata reads (and a few broken ones)."""
    first, second, egg = root / "first", root / "second", root / "second" / "thing-1.0-py3.11.egg"
    files = {
        first / "Foo_Bar-1.0.dist-info" / "METADATA": b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n\nName: body\n",
        first / "foo.bar-2.0.dist-info" / "METADATA": b"Name: foo.bar\nVersion: 2.0\n",
        first / "old-0.1.egg-info": b"Metadata-Version: 1.0\nName: old\nVersion: 0.1\n",
        first / "pkginfo-1.egg-info" / "PKG-INFO": b"Name: pkginfo\nVersion: 1\n",
        first / "emptymeta-1.dist-info" / "METADATA": b"",
        first / "emptymeta-1.dist-info" / "PKG-INFO": b"Name: emptymeta\nVersion: 1.1\n",
        first / "bad-1.dist-info" / "METADATA": b"Name: bad\nVersion: 1\n\n\xff\xfe not utf-8\n",
        first / "unixfrom-1.dist-info" / "METADATA": b"From someone\nName:   unixfrom  \nSummary: one\n\tcontinued: no\nVersion: 3\nName: second\n",
        first / "noname-1.dist-info" / "METADATA": b"Version: 1\n",
        first / "noversion-1.dist-info" / "METADATA": b"Name: noversion\n",
        first / "early-1.dist-info" / "METADATA": b"Name: early\nnot a header line\nVersion: 9\n",
        first / "crlf-1.dist-info" / "METADATA": b"Name: crlf\r\nVersion: 4.0\r\n\r\n",
        second / "foo_bar-3.0.dist-info" / "METADATA": b"Name: foo-bar\nVersion: 3.0\n",
        egg / "EGG-INFO" / "PKG-INFO": b"Name: thing\nVersion: 1.0\n",
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (first / "nometa-1.dist-info").mkdir()
    return [str(first), str(root / "missing"), str(second), str(egg)]


@pytest.mark.parametrize("python", ["python3.10", "python3.11", "python3.12", "python3.13", "this"])
def test_scan_metadata_answers_as_importlib_metadata(tmp_path, python):
    """installed_versions() reads METADATA itself (importlib.metadata costs ~35 ms to import in
    every diagnosis): the same {name: version} as importlib.metadata, in each interpreter here,
    for dist-info, egg-info files and directories, eggs, duplicates, folded and broken headers."""
    import glob
    import shutil
    exe = sys.executable if python == "this" else shutil.which(python)
    found = sorted(glob.glob("/root/.pyenv/versions/%s.*/bin/%s" % (python[6:], python))) if python != "this" else []
    exe = found[-1] if found else exe
    if exe is None:
        pytest.skip("%s is not installed here" % python)
    entries = _metadata_tree(tmp_path)
    proc = subprocess.run([exe, "-I", "-c", _VERSIONS_DRIVER, str(MODULE.parent), json.dumps(entries)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["fast"] == answer["importlib"] and answer["loaded"] is False
    assert answer["fast"]["foo-bar"] in ("1.0", "2.0") and answer["fast"]["thing"] == "1.0" and answer["fast"]["old"] == "0.1"
    assert "bad" not in answer["fast"] and answer["fast"]["unixfrom  "] == "3"
    assert "pytest" in answer["fast"] or python != "this"


def test_scan_metadata_defers_to_importlib_for_what_it_does_not_copy(tmp_path, monkeypatch):
    class Finder:  # a custom distribution finder (an instance on sys.meta_path)
        @staticmethod
        def find_distributions(context=None):
            return iter(())
    monkeypatch.setattr(sys, "meta_path", sys.meta_path + [Finder()])
    assert _pyreq._scan_metadata() is None
    monkeypatch.undo()
    archive = tmp_path / "deps.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    monkeypatch.setattr(sys, "path", [str(archive)] + sys.path)
    assert _pyreq._scan_metadata() is None
    assert "pytest" in _pyreq.installed_versions()
    monkeypatch.undo()
    folded = tmp_path / "site" / "folded-1.dist-info"
    folded.mkdir(parents=True)
    (folded / "METADATA").write_text("Name: folded\nVersion: 3\n  continued\n")
    monkeypatch.setattr(sys, "path", [str(folded.parent)] + sys.path)
    assert _pyreq._scan_metadata() is None
