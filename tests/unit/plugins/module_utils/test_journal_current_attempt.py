"""Only the latest start attempt's journal lines count for findings (real captured journals)."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.beatsync.ops.plugins.module_utils._journal import classify, since_last_start

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "journal"


def lines(name):
    return FIXTURES.joinpath(name).read_text(encoding="utf-8", errors="replace").splitlines()


def test_an_old_syntax_error_before_a_healthy_start_is_ignored():
    journal = lines("bs-syntax.txt") + lines("bs-ok.txt")
    assert any(c["kind"] == "syntax_error" for c in classify(journal))
    current = since_last_start(journal)
    assert not any(c["kind"] == "syntax_error" for c in classify(current))


def test_the_latest_failing_attempt_is_kept():
    journal = lines("bs-ok.txt") + lines("bs-missing.txt")
    kinds = {c["kind"] for c in classify(since_last_start(journal))}
    assert "missing_module" in kinds


def test_without_a_start_line_everything_counts():
    journal = ["garbage", "ModuleNotFoundError: No module named 'uvicorn'"]
    assert since_last_start(journal) == journal
    assert since_last_start([]) == [] and since_last_start(None) == []
