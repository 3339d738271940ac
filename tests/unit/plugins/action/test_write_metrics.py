"""beatsync.ops.write_metrics: the file node_exporter's textfile collector reads, parsed with
prometheus_client's own parser; atomic replacement; bad input named, the old file kept."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.beatsync.ops.plugins.action.write_metrics import run_started_at, write_metrics
from ansible_collections.beatsync.ops.plugins.module_utils._metrics import MetricsError, escape_label, render

parser = pytest.importorskip("prometheus_client.parser")

NOW = 1_790_000_000.0
REPORTS = [
    {"host": "web1", "verdict": "healthy", "before": "degraded", "root_cause": None, "restarts_used": 1,
     "restarts_left": 2},
    {"host": "web2", "verdict": "degraded", "before": "degraded", "root_cause": "docs_unavailable",
     "beatsync_restarts_used": "2", "beatsync_restart_budget": 2},
    {"host": 'odd"host\\name\nx', "verdict": "down", "root_cause": 'code "quoted"'},
    {"host": "web3", "verdict": "healthy", "before": "healthy", "root_cause": None},
]


def _families(text):
    return {family.name: family for family in parser.text_string_to_metric_families(text)}


def _samples(families, name):
    return {tuple(sorted(sample.labels.items())): sample.value for sample in families[name].samples}


def test_the_file_parses_with_prometheus_client(tmp_path):
    path, text = write_metrics(str(tmp_path / "beatsync.prom"), REPORTS, now=NOW, detected_at=NOW - 42.5)
    assert path == str(tmp_path / "beatsync.prom")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["beatsync.prom"]  # no temporary file left
    families = _families(open(path).read())
    for name in ("beatsync_verdict", "beatsync_healthy", "beatsync_root_cause", "beatsync_restarts_used",
                 "beatsync_restarts_left", "beatsync_seconds_to_healthy", "beatsync_last_success_timestamp_seconds",
                 "beatsync_run_timestamp_seconds"):
        assert families[name].type == "gauge", name
        assert families[name].documentation, name
    verdicts = _samples(families, "beatsync_verdict")
    assert verdicts[(("host", "web1"), ("verdict", "healthy"))] == 1
    assert verdicts[(("host", "web1"), ("verdict", "degraded"))] == 0
    assert verdicts[(("host", "web2"), ("verdict", "degraded"))] == 1
    # escaped label values come back exactly
    odd = 'odd"host\\name\nx'
    assert verdicts[(("host", odd), ("verdict", "down"))] == 1
    assert sum(verdicts.values()) == 4 and len(verdicts) == 12
    causes = _samples(families, "beatsync_root_cause")
    assert causes == {(("code", "none"), ("host", "web1")): 1, (("code", "docs_unavailable"), ("host", "web2")): 1,
                      (("code", 'code "quoted"'), ("host", odd)): 1, (("code", "none"), ("host", "web3")): 1}
    # restarts from the report's fields, else the repair role's variables
    assert _samples(families, "beatsync_restarts_used") == {(("host", "web1"),): 1, (("host", "web2"),): 2}
    assert _samples(families, "beatsync_restarts_left") == {(("host", "web1"),): 2, (("host", "web2"),): 0}
    # only the host repaired in this run has a time to healthy
    assert _samples(families, "beatsync_seconds_to_healthy") == {(("host", "web1"),): 42.5}
    assert _samples(families, "beatsync_last_success_timestamp_seconds") == {
        (("host", "web1"),): NOW, (("host", "web3"),): NOW}
    assert _samples(families, "beatsync_run_timestamp_seconds") == {(): NOW}


def test_last_success_survives_a_failing_run(tmp_path):
    path = str(tmp_path / "beatsync.prom")
    write_metrics(path, [{"host": "web1", "verdict": "healthy"}, {"host": 'a"b', "verdict": "healthy"}], now=NOW)
    write_metrics(path, [{"host": "web1", "verdict": "down", "root_cause": "service_stopped"}], now=NOW + 60)
    families = _families(open(path).read())
    # web1 is down now, its last success is the earlier run's; a"b was not in this run: kept
    assert _samples(families, "beatsync_last_success_timestamp_seconds") == {
        (("host", "web1"),): NOW, (("host", 'a"b'),): NOW}
    assert _samples(families, "beatsync_verdict")[(("host", "web1"), ("verdict", "down"))] == 1
    assert _samples(families, "beatsync_run_timestamp_seconds") == {(): NOW + 60}


def test_report_fields_win_over_the_run_time():
    text = render([{"host": "h", "verdict": "healthy", "before": "down", "detected_at": NOW - 10, "healthy_at": NOW - 4}],
                  NOW, detected_at=NOW - 1000)
    assert _samples(_families(text), "beatsync_seconds_to_healthy") == {(("host", "h"),): 6}
    text = render([{"host": "h", "verdict": "healthy", "before": "down", "seconds_to_healthy": "7.25"}], NOW)
    assert _samples(_families(text), "beatsync_seconds_to_healthy") == {(("host", "h"),): 7.25}


def test_escape_label():
    assert escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


@pytest.mark.parametrize("reports, message", [
    ("garbage", "reports must be a list of host reports, got str"),
    (["garbage"], r"reports\[0\] must be a dict \(a host report\), got str"),
    ([{"verdict": "healthy"}], r"reports\[0\] has no 'host'"),
    ([{"host": "a", "verdict": "fine"}], r"reports\[0\] \(a\): verdict must be one of healthy, degraded, down, got 'fine'"),
    ([{"host": "a", "verdict": "down"}, {"host": "a", "verdict": "down"}], "host a appears twice"),
    ([{"host": "a", "verdict": "down", "restarts_used": "many"}], r"reports\[0\] \(a\): restarts_used must be a number"),
    ([{"host": "a", "verdict": "down", "restarts_left": float("nan")}], "restarts_left must be a finite number"),
])
def test_garbage_reports_are_named_and_the_old_file_kept(tmp_path, reports, message):
    path = tmp_path / "beatsync.prom"
    path.write_text("old\n")
    with pytest.raises(MetricsError, match=message):
        write_metrics(str(path), reports, now=NOW)
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["beatsync.prom"]


def test_bad_paths_are_named(tmp_path):
    with pytest.raises(MetricsError, match="metrics directory .*/missing does not exist"):
        write_metrics(str(tmp_path / "missing" / "beatsync.prom"), REPORTS, now=NOW)
    (tmp_path / "file").write_text("")
    with pytest.raises(MetricsError, match="is not a directory"):
        write_metrics(str(tmp_path / "file" / "beatsync.prom"), REPORTS, now=NOW)
    with pytest.raises(MetricsError, match="must name a file ending in .prom"):
        write_metrics(str(tmp_path / "beatsync.txt"), REPORTS, now=NOW)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_unwritable_directory_is_named(tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o555)
    with pytest.raises(MetricsError, match="cannot write in the metrics directory"):
        write_metrics(str(directory / "beatsync.prom"), REPORTS, now=NOW)


def test_run_started_at_is_this_process_start():
    started = run_started_at(os.getpid())
    assert started is not None and started <= __import__("time").time()
