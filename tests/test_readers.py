"""Readers turn the snapshot's raw query results into typed records, once."""

from __future__ import annotations

from datetime import datetime

from collector.demo import demo_dir
from collector.snapshot.prometheus import QueryResult, read_query_results, read_series
from collector.snapshot.store import load_snapshot


def test_each_query_result_holds_its_own_samples() -> None:
    raw = load_snapshot(demo_dir() / "snapshot.json").prometheus["results"]
    frame = read_series(raw)
    results = read_query_results(raw)
    assert [r.name for r in results] == [r["name"] for r in raw]
    assert sum(len(r.samples) for r in results) == len(frame) > 0
    memory = next(r for r in results if r.kind == "memory")
    assert set(memory.samples["query"]) == {memory.name}
    assert memory.labels == sorted(frame.loc[frame["query"] == memory.name, "series"].unique())
    assert isinstance(memory.start, datetime) and isinstance(memory.end, datetime)
    assert memory.start < memory.end
    assert memory.step > 0 and memory.thresholds and memory.error is None
    alerts = next(r for r in results if r.kind == "alerts")
    assert alerts.samples.empty and alerts.labels == []  # intervals, not a series frame


def test_a_failed_query_keeps_its_error_and_no_samples() -> None:
    raw = [{"name": "bad", "kind": "custom", "result": [], "error": "parse error"}]
    [result] = read_query_results(raw)
    assert result == QueryResult("bad", "bad", error="parse error")
    assert result.samples.empty


def test_a_baseline_is_read_only_with_its_offset() -> None:
    """One rule for every reader of a baseline: without its recorded offset there is none (the
    chart once assumed 7 days where the traffic-lost figure said 0)."""
    raw = load_snapshot(demo_dir() / "snapshot.json").prometheus["results"]
    with_baseline = [r for r in raw if r.get("baseline_result")]
    assert with_baseline, "the demo has week-earlier baselines"
    offsets = {r["name"]: r["baseline_offset_s"] for r in with_baseline}
    shifted = read_series(with_baseline, baseline=True)
    for record in with_baseline:
        first = float(record["baseline_result"][0]["values"][0][0]) + offsets[record["name"]]
        times = shifted.loc[shifted["query"] == record["name"], "time"]
        assert times.min().timestamp() == first
    unrecorded = [{k: v for k, v in r.items() if k != "baseline_offset_s"} for r in with_baseline]
    assert read_series(unrecorded, baseline=True).empty
    for result in read_query_results(unrecorded):
        assert not result.has_baseline and result.baseline_offset_s is None
    for result in read_query_results(with_baseline):
        assert result.has_baseline and result.baseline_offset_s == offsets[result.name]
