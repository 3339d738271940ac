"""beatsync.ops.write_reports (action plugin: every report of a play in one controller step)
through Ansible, on real files."""

from __future__ import annotations

import json
import os

import pytest


def reports(*hosts):
    return [{"host": host, "verdict": "healthy", "findings": []} for host in hosts]


def test_writes_a_json_per_host_and_the_summary(run_module, tmp_path):
    target = tmp_path / "nested" / "reports"
    result = run_module("write_reports", {"dir": str(target), "reports": reports("web1", "web2"), "suffix": "-repair",
                                          "summary": "# fleet\n", "summary_name": "before-after"})
    assert "failed" not in result, result
    assert result["changed"] is False
    assert result["files"] == [str(target / "web1-repair.json"), str(target / "web2-repair.json"),
                               str(target / "before-after.md")]
    assert json.loads((target / "web1-repair.json").read_text())["host"] == "web1"
    assert (target / "before-after.md").read_text() == "# fleet\n"
    assert oct(os.stat(target / "web2-repair.json").st_mode & 0o777) == "0o600"
    assert oct(os.stat(target).st_mode & 0o777) == "0o700"
    assert not [name for name in os.listdir(target) if name.startswith(".")], "temporary files left behind"


def test_overwrites_the_previous_report_and_writes_in_check_mode(run_module, tmp_path):
    (tmp_path / "web1.json").write_text("old")
    result = run_module("write_reports", {"dir": str(tmp_path), "reports": reports("web1")}, check=True)
    assert result["files"] == [str(tmp_path / "web1.json")]
    assert json.loads((tmp_path / "web1.json").read_text())["verdict"] == "healthy"
    assert not (tmp_path / "fleet-summary.md").exists(), "no summary was given"


@pytest.mark.parametrize("args,message", [
    ({"reports": [{"verdict": "healthy"}]}, "reports[0] must be a dict with a 'host' key"),
    ({"reports": reports("../escape")}, "cannot be a file name"),
    ({"reports": reports("..")}, "cannot be a file name"),
    ({"summary": "x", "summary_name": "a/b"}, "summary_name"),
    ({"mode": "rw-r--r--"}, "mode must be an octal string"),
    ({"mode": "01777"}, "mode must be between"),
])
def test_bad_input_is_named_and_nothing_is_written(run_module, tmp_path, args, message):
    target = tmp_path / "reports"
    result = run_module("write_reports", dict({"dir": str(target), "reports": reports("web1")}, **args))
    assert result.get("failed") is True
    assert message in result["msg"]
    assert not target.exists(), "a report was written before the input was checked"


def test_a_file_in_the_way_of_the_directory_is_named(run_module, tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("not a directory")
    result = run_module("write_reports", {"dir": str(blocker), "reports": reports("web1")})
    assert result.get("failed") is True
    assert str(blocker) in result["msg"]
    assert blocker.read_text() == "not a directory"
