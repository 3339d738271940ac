"""plugin_utils._files.write_atomic: content and mode in one rename, nothing left behind, the
old file kept and the failure named when the write cannot happen."""

from __future__ import annotations

import os

import pytest

from ansible_collections.beatsync.ops.plugins.plugin_utils._files import AtomicWriteError, write_atomic


def test_replaces_the_file_with_the_mode(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old\n")
    os.chmod(path, 0o644)
    write_atomic(str(path), "new \u00e9\n", 0o600)
    assert path.read_text(encoding="utf-8") == "new \u00e9\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["report.json"]


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(AtomicWriteError, match="cannot write in the directory .*/missing: ") as caught:
        write_atomic(str(tmp_path / "missing" / "x.prom"), "x\n", 0o644)
    assert caught.value.in_directory


def test_failed_rename_keeps_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_text("kept\n")
    with pytest.raises(AtomicWriteError, match="cannot write .*/taken: ") as caught:
        write_atomic(str(target), "x\n", 0o644)
    assert not caught.value.in_directory
    assert sorted(os.listdir(tmp_path)) == ["taken"]
    assert (target / "inside").read_text() == "kept\n"
