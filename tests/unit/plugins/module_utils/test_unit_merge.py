# -*- coding: utf-8 -*-
# Copyright (c) 2026, BeatSync operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_unit_merge on `systemctl cat` / `systemctl show` output recorded on a real systemd 252 host
(tests/unit/fixtures/systemd/record_unit_merge.py) and on hand-made edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.beatsync.ops.plugins.module_utils import _unit_merge as um

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "systemd"
REPO = Path(__file__).resolve().parents[4]
CANONICAL = (REPO / "molecule" / "shared" / "files" / "beatsync.service").read_text(encoding="utf-8")
UNIT = "/etc/systemd/system/beatsync.service"
DROPIN = "/etc/systemd/system/beatsync.service.d/"


def fixture(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


def merged(name):
    return um.merge_cat(fixture("cat-%s.txt" % name))


# --------------------------------------------------------------------------- systemctl cat

def test_cat_splits_unit_file_and_dropins_in_order():
    files = um.parse_systemctl_cat(fixture("cat-merge-multi.txt"))
    assert [path for path, _text in files] == [
        UNIT, "/etc/systemd/system/service.d/05-all-services.conf", DROPIN + "10-env.conf",
        DROPIN + "20-user.conf", "/run/systemd/system/beatsync.service.d/30-runtime.conf"]
    assert files[0][1] == CANONICAL             # the unit file comes back byte for byte
    assert files[2][1].startswith("# added by an operator\n[Service]\n")


def test_cat_without_dropins_and_empty():
    assert um.parse_systemctl_cat(fixture("cat-merge-none.txt")) == [(UNIT, CANONICAL)]
    assert um.parse_systemctl_cat("") == []
    assert um.parse_systemctl_cat("No files found for nosuch.service.\n") == []


def test_cat_header_needs_blank_line_and_unit_suffix():
    text = ("# /etc/systemd/system/x.service\n[Service]\n# /usr/bin/comment-not-a-header\n"
            "ExecStart=/bin/true\n# /etc/also-not.service\n\n# /etc/systemd/system/x.service.d/a.conf\n"
            "[Service]\nUser=a\n")
    files = um.parse_systemctl_cat(text)
    assert [path for path, _text in files] == ["/etc/systemd/system/x.service", "/etc/systemd/system/x.service.d/a.conf"]
    assert "# /etc/also-not.service" in files[0][1]


# --------------------------------------------------------------------------- unit text

def test_parse_unit_text_comments_continuations_sections():
    text = ("Key=outside-a-section\n[Service]\n; a comment\n# another\nExecStart=/usr/bin/python3 -m uvicorn \\\n"
            "  # comment inside the continuation\n  main:app \\\n  --port 8000\nUser = app \nnot an assignment\n"
            "[Install]\nWantedBy=multi-user.target\nAlias=x \\")
    items = um.parse_unit_text(text, "/x.service")
    assert [(i.section, i.key, i.value, i.lineno) for i in items] == [
        ("Service", "ExecStart", "/usr/bin/python3 -m uvicorn main:app --port 8000", 5),
        ("Service", "User", "app", 9),
        ("Install", "WantedBy", "multi-user.target", 12),
        ("Install", "Alias", "x", 13),
    ]
    assert items[0].as_dict()["path"] == "/x.service"


# --------------------------------------------------------------------------- merging (recorded)

def test_merge_none_is_the_unit_file():
    effective = merged("merge-none")
    assert effective["dropins"] == [] and effective["unit_file"] == UNIT
    assert um.effective_value(effective, "ExecStart") == [
        "/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000"]
    assert um.effective_value(effective, "Environment") == {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    assert um.effective_value(effective, "Group") is None
    assert um.effective_value(effective, "WantedBy", "Install") == ["multi-user.target"]
    assert um.unit_drift(fixture("cat-merge-none.txt"), CANONICAL) == []


def test_merge_execstart_reset_and_replaced():
    effective = merged("merge-execstart")
    assert um.effective_value(effective, "ExecStart") == [
        "/usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port 8000"]
    entry = effective["sections"]["Service"]["ExecStart"]
    assert [(a.path, a.lineno, a.value) for a in entry["assignments"]] == [
        (UNIT, 10, "/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000"),
        (DROPIN + "override.conf", 2, ""),
        (DROPIN + "override.conf", 3, "/usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port 8000"),
    ]


def test_merge_multi_lists_accumulate_reset_and_scalars_last_wins():
    effective = merged("merge-multi")
    settings = um.effective_settings(effective)
    service = settings["Service"]
    assert service["User"] == "root"                          # /run drop-in (30-) is applied last
    assert service["Group"] == "nogroup"
    assert service["WorkingDirectory"] == "/tmp"
    assert service["RestartSec"] == "3"                       # the type-wide service.d drop-in
    assert service["Environment"] == {"ONLY": "this"}         # Environment= reset, then one value
    assert service["EnvironmentFile"] == ["-/etc/default/beatsync"]
    assert service["ExecStartPre"] == ["/bin/true"]
    assert settings["Unit"]["Description"] == "BeatSync (overridden)"
    assert settings["Unit"]["After"] == ["network.target"]


def test_merge_environment_before_the_reset():
    files = um.parse_systemctl_cat(fixture("cat-merge-multi.txt"))[:3]      # unit file, 05-, 10-env
    effective = um.merge(files)
    assert um.effective_value(effective, "Environment") == {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "API_TOKEN": "s3cr3t-token", "GREETING": "hello world",
        "LOG_LEVEL": "debug"}


def test_merge_appended_execstart_keeps_both():
    """Without `ExecStart=` first, a drop-in adds a second command (systemd: bad-setting)."""
    effective = merged("merge-execstart-appended")
    assert len(um.effective_value(effective, "ExecStart")) == 2
    show = um.parse_show(fixture("show-merge-execstart-appended.txt"))
    assert show["LoadState"] == "bad-setting"
    assert um.cross_check(effective, show) == []


# --------------------------------------------------------------------------- drift (recorded)

def test_drift_execstart_names_the_dropin_and_lines():
    drifts = um.unit_drift(fixture("cat-merge-execstart.txt"), CANONICAL)
    assert [d["key"] for d in drifts] == ["ExecStart"]
    drift = drifts[0]
    assert drift["in_dropin"] is True
    assert drift["expected"] == ["/usr/bin/python3 -m uvicorn main:app --host 0.0.0.0 --port 8000"]
    assert drift["actual"] == ["/usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port 8000"]
    assert drift["sources"] == [{
        "path": DROPIN + "override.conf", "lines": [2, 3], "kind": "dropin",
        "text": ["ExecStart=", "ExecStart=/usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port 8000"]}]
    assert um.describe_drift(drift) == \
        "ExecStart= differs from the canonical unit: %soverride.conf lines 2, 3" % DROPIN


def test_drift_multi():
    drifts = {d["key"]: d for d in um.unit_drift(fixture("cat-merge-multi.txt"), CANONICAL)}
    assert sorted(drifts) == ["Environment", "EnvironmentFile", "ExecStartPre", "Group", "WorkingDirectory"]
    # User= is overridden twice but ends up canonical (root): no drift.
    assert drifts["WorkingDirectory"]["sources"] == [
        {"path": DROPIN + "20-user.conf", "lines": [4], "text": ["WorkingDirectory=/tmp"], "kind": "dropin"}]
    assert drifts["Group"]["expected"] is None and drifts["Group"]["actual"] == "nogroup"
    env = drifts["Environment"]
    assert env["expected"] == {"PATH": "/usr/local/bin:/usr/bin:/bin"} and env["actual"] == {"ONLY": "this"}
    assert [(s["path"].rsplit("/", 1)[1], s["lines"]) for s in env["sources"]] == [
        ("10-env.conf", [3, 4]), ("30-runtime.conf", [2, 3])]
    assert all(s["kind"] == "dropin" for s in env["sources"])


def test_drift_in_the_unit_file_itself():
    moved = CANONICAL.replace("WorkingDirectory=/opt/beatsync/web_service/backend", "WorkingDirectory=/srv/elsewhere")
    host = "# %s\n%s" % (UNIT, moved)
    drifts = um.unit_drift(host, CANONICAL)
    assert [(d["key"], d["in_dropin"], d["sources"][0]["kind"], d["sources"][0]["lines"]) for d in drifts] == [
        ("WorkingDirectory", False, "unit_file", [8])]


def test_drift_whitespace_and_quoting_are_not_drift():
    host = "# %s\n%s\n# %sspace.conf\n[Service]\nExecStart=\nExecStart=/usr/bin/python3  -m uvicorn 'main:app' " \
           "--host 0.0.0.0 --port 8000\nEnvironment=PATH=/usr/local/bin:/usr/bin:/bin\n" % (UNIT, CANONICAL, DROPIN)
    assert um.unit_drift(host, CANONICAL) == []


def test_drift_custom_settings_and_missing_unit():
    settings = {"Service": ("RestartSec",), "Unit": ("Description",)}
    drifts = um.unit_drift(fixture("cat-merge-multi.txt"), CANONICAL, settings=settings)
    assert [(d["section"], d["key"], d["sources"][0]["path"]) for d in drifts] == [
        ("Service", "RestartSec", "/etc/systemd/system/service.d/05-all-services.conf"),
        ("Unit", "Description", DROPIN + "20-user.conf")]
    drifts = um.unit_drift("", CANONICAL)
    assert "ExecStart" in [d["key"] for d in drifts]
    assert all(d["sources"] == [] for d in drifts)
    assert um.describe_drift(drifts[0]).endswith("no file sets it")


# --------------------------------------------------------------------------- systemctl show

@pytest.mark.parametrize("name", ["merge-none", "merge-execstart", "merge-multi", "merge-execstart-appended"])
def test_cross_check_agrees_with_systemd(name):
    show = um.parse_show(fixture("show-%s.txt" % name))
    assert um.cross_check(merged(name), show) == []


def test_cross_check_reports_disagreement():
    show = um.parse_show(fixture("show-merge-execstart.txt"))
    mismatches = um.cross_check(merged("merge-none"), show)
    assert [m["key"] for m in mismatches] == ["DropInPaths", "ExecStart"]
    assert mismatches[1]["shown"] == [["/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "127.0.0.1",
                                       "--port", "8000"]]
    show = {"User": "app", "Group": "", "WorkingDirectory": "!/srv", "Environment": 'A=1 "B=two words"'}
    keys = [m["key"] for m in um.cross_check(merged("merge-none"), show)]
    assert keys == ["WorkingDirectory", "User", "Environment"]


def test_parse_show_exec_several_commands():
    show = um.parse_show(fixture("show-merge-execstart-appended.txt"))
    commands = um.parse_show_exec(show["ExecStart"])
    assert [c["argv"][-1] for c in commands] == ["8000", "8001"]
    assert commands[0]["path"] == "/usr/bin/python3" and commands[0]["ignore_errors"] is False
    assert um.parse_show_exec("") == []
    flags = um.parse_show_exec("{ path=/bin/x ; argv[]=/bin/x a ; flags=ignore-failure ; start_time=[n/a] }")
    assert flags == [{"path": "/bin/x", "argv": ["/bin/x", "a"], "command_line": "/bin/x a", "ignore_errors": True}]


def test_split_words_and_environment():
    assert um.split_words('A=1 "B=two words" \'C=x y\' D=a\\ b E="q\\"x"') == [
        "A=1", "B=two words", "C=x y", "D=a b", 'E=q"x']
    assert um.environment_dict(["A=1 B=2", "A=3 junk =x"]) == {"A": "3", "B": "2"}
