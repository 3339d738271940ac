"""plugin_utils/_summary.py: the fleet summary's Markdown (one cell per value, whatever the
hosts answered) and the artifacts AWX shows."""

from __future__ import annotations

from ansible_collections.beatsync.ops.plugins.module_utils._escape import md_row_cells
from ansible_collections.beatsync.ops.plugins.plugin_utils._summary import artifacts, markdown

REPORTS = [
    {"host": "web-1", "before": "degraded", "before_root_cause": "docs_unavailable", "verdict": "healthy",
     "root_cause": None, "remedy": "restart_for_docs", "actions": ["restart_for_docs"], "summary": "",
     "probes": {"unit": {}}, "findings": [], "external": {}},
    {"host": "web|2", "before": "down", "before_root_cause": None, "verdict": "down", "root_cause": "port|conflict",
     "remedy": None, "actions": ["a\nb", "`x`"], "summary": "line one\nline | two\x07", "probes": {}, "findings": [{}]},
]


def test_one_row_per_host_one_cell_per_value():
    text = markdown(REPORTS)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + len(REPORTS)
    assert all(len(md_row_cells(row)) == 6 for row in rows), rows
    first, second = md_row_cells(rows[2]), md_row_cells(rows[3])
    assert first == ["web-1", "degraded (docs_unavailable)", "healthy", "-", "restart_for_docs", "restart_for_docs"]
    assert second[0] == "web\\|2" and second[3] == "port\\|conflict" and second[5] == "a<br>b, \\`x\\`"
    notes = [line for line in text.splitlines() if line.startswith("- ")]
    assert notes == ["- **web\\|2**: line one<br>line \\| two"]
    assert "\x07" not in text


def test_the_network_finding_heads_the_summary():
    network = {"code": "controller_network", "summary": "2 of 2 hosts ...\nsecond", "hosts": ["web-1", "web|2"]}
    lines = markdown(REPORTS, network).splitlines()
    assert lines[2] == "**controller_network**: 2 of 2 hosts ... second"
    assert lines[3] == "Hosts: web-1, web\\|2"
    assert "controller_network" not in markdown(REPORTS)


def test_artifacts_keep_rows_short_and_name_the_unhealthy():
    data = artifacts(REPORTS, {})
    assert data["beatsync_unhealthy"] == ["web|2"]
    assert data["beatsync_fleet_network"] == {}
    assert [sorted(row) for row in data["beatsync_fleet"]][0] == sorted(
        ["host", "before", "before_root_cause", "verdict", "root_cause", "remedy", "actions", "summary"])
    assert artifacts([], None) == {"beatsync_fleet": [], "beatsync_unhealthy": [], "beatsync_fleet_network": {}}
