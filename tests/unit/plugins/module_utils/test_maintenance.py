"""The maintenance marker: the file's first line is the reason; the host variable marks too."""

from __future__ import annotations

from ansible_collections.beatsync.ops.plugins.module_utils import _maintenance


def test_no_marker(tmp_path):
    assert _maintenance.read_marker(str(tmp_path / "maintenance")) == {"active": False, "reason": None, "source": None}


def test_first_line_is_the_reason(tmp_path):
    marker = tmp_path / "maintenance"
    marker.write_text("disk swap until 14:00\nsecond line\n")
    assert _maintenance.read_marker(str(marker)) == {"active": True, "reason": "disk swap until 14:00", "source": str(marker)}
    marker.write_text("")
    assert _maintenance.read_marker(str(marker))["reason"] == "no reason given"


def test_unreadable_marker_still_marks(tmp_path):
    marker = tmp_path / "maintenance"
    marker.mkdir()
    seen = _maintenance.read_marker(str(marker))
    assert seen["active"] is True and seen["reason"].startswith("marker unreadable")


def test_host_variable():
    assert _maintenance.from_variable(None) is None
    assert _maintenance.from_variable(False) is None
    assert _maintenance.from_variable("false") is None
    assert _maintenance.from_variable(True)["reason"] == "beatsync_maintenance is set"
    assert _maintenance.from_variable("kernel update") == {
        "active": True, "reason": "kernel update", "source": "beatsync_maintenance"}
