"""Memory trend analysis: robust growth, crossings, detection delay, alert backtests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from analysis_support import fit_theil_sen

from collector.analysis.detection import backtest_thresholds, compute_detection_delay
from collector.analysis.memory import (
    Restart,
    TrendLevel,
    analyse_memory_trends,
    group_idle_trends,
    instance_of,
)
from collector.analysis.theilsen import theil_sen_interval
from collector.config import DEFAULT_QUERIES, TrendSettings
from collector.snapshot.prometheus import QueryResult
from collector.timeutil import parse_time
from report.suggestions import findings
from report.words import Words

DB = '{instance="db-01:9100",job="node"}'
T0 = datetime(2025, 10, 25, 14, 0, tzinfo=timezone.utc)
MEMORY = QueryResult("mem", kind="memory", unit="%", thresholds=(80.0, 95.0))
SWAP = QueryResult("swap", kind="swap", unit="%", thresholds=(30.0,))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def series_frame(
    query: str, values: Sequence[float | None], step_minutes: float = 1.0, series: str = DB
) -> pd.DataFrame:
    """One series sampled every step from T0: None is a missing sample, NaN Prometheus's NaN."""
    rows = [(query, series, at(i * step_minutes), v) for i, v in enumerate(values) if v is not None]
    frame = pd.DataFrame(rows, columns=["query", "series", "time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame["value"] = frame["value"].astype(float)
    return frame


# Climb 2 %/minute (120 %/hour), 80 % crossed at 14:02, 95 % at 14:09:30, then the OOM crash.
CLIMB = [76, 78, 80, 82, 84, 86, 88, 90, 92, 94, 96, 10]
PAGE = at(12)


def test_theil_sen_recovers_the_slope_despite_a_surge() -> None:
    x = np.arange(12, dtype=np.float64)
    y = 50 + 0.5 * x
    y[[9, 10]] += 20.0  # a short surge, as before an OOM kill
    fit = fit_theil_sen(x, y)
    assert fit is not None
    assert fit[0] == pytest.approx(0.5)
    assert fit[1] == pytest.approx(50.0)
    # Least squares is bent by the same surge: the test would fail with an ordinary fit.
    assert abs(float(np.polyfit(x, y, 1)[0]) - 0.5) > 0.5


def test_theil_sen_needs_two_distinct_times_and_thins_long_series() -> None:
    assert fit_theil_sen(np.array([3.0, 3.0]), np.array([1.0, 2.0])) is None
    x = np.arange(5000, dtype=np.float64)
    fit = fit_theil_sen(x, 7.0 - 0.25 * x)
    assert fit == pytest.approx((-0.25, 7.0))


def test_growth_is_fitted_on_the_climb_in_percent_per_hour() -> None:
    values = [50 + 0.5 * i for i in range(12)]  # every 5 minutes: 6 %/hour
    values[9] += 20.0
    values[10] += 20.0
    frame = series_frame("mem", values, step_minutes=5)
    [trend] = analyse_memory_trends(frame, [MEMORY], at(60), growth_warning=5.0)
    assert trend.growth_per_hour == pytest.approx(6.0)
    assert trend.growth_warning
    assert (trend.fit_start, trend.fit_end, trend.fit_points) == (at(0), at(60), 12)
    assert trend.level_at_fit_end == pytest.approx(56.0)
    # 44 % left at 6 %/hour: 7 h 20 min after 15:00.
    assert trend.exhaustion_at == at(60 + 440)
    assert (trend.peak, trend.peak_time) == (pytest.approx(75.0), at(50))
    [calm] = analyse_memory_trends(frame, [MEMORY], at(60), growth_warning=6.5)
    assert not calm.growth_warning


def test_crossings_and_fit_stop_before_the_failure_phase() -> None:
    frame = series_frame("mem", CLIMB)
    [trend] = analyse_memory_trends(frame, [MEMORY], PAGE, growth_warning=5.0)
    assert trend.instance == "db-01:9100"
    assert [(c.threshold, c.time) for c in trend.crossings] == [
        (80.0, at(2)),
        (95.0, at(9.5)),
    ]
    # The fit ends where 95 % is crossed, so the crash at 14:11 does not bend it.
    assert trend.fit_end == at(9.5)
    assert trend.growth_per_hour == pytest.approx(120.0)
    assert trend.level_at_fit_end == pytest.approx(95.0)
    # The host ran out and restarted at 14:10 (96 % then 10 %): no saturation is forecast for a
    # host that already fell, where the line alone would say 14:12 (5 % left at 2 %/minute).
    assert trend.exhaustion_at is None and not trend.exhaustion_beyond
    assert trend.restart == Restart(at(10), pytest.approx(96.0), pytest.approx(10.0), True)


def test_a_host_still_climbing_gets_its_saturation_forecast_and_no_restart() -> None:
    frame = series_frame("mem", CLIMB[:-1])  # the same climb, before the fall
    [trend] = analyse_memory_trends(frame, [MEMORY], PAGE, growth_warning=5.0)
    assert trend.restart is None
    assert trend.exhaustion_at == at(12)  # 5 % left at 2 %/minute


def test_an_earlier_excursion_is_not_the_detection() -> None:
    # Memory went above 95 % once at 14:01 and came back: that excursion is another story.
    frame = series_frame("mem", [70, 96, 70, 70, 70, 78, 82, 90, 93, 94, 10])
    [trend] = analyse_memory_trends(frame, [MEMORY], at(10), growth_warning=5.0)
    assert [c.time for c in trend.crossings] == [at(23 / 60), at(58 / 60), at(5.5)]
    delay = compute_detection_delay([trend], at(10))
    assert delay.crossing is not None and delay.crossing.time == at(5.5)
    assert delay.delay == timedelta(minutes=4, seconds=30)
    # No 95 % crossing in the excursion that led to the page: the fit runs to the page.
    assert trend.fit_end == at(10)


def test_detection_delay_takes_the_earliest_trend() -> None:
    memory = series_frame("mem", [70, 70, 70, 70, 70, 78, 82, 90, 96, 97, 10])
    swap = series_frame("swap", [5, 10, 15, 20, 25, 31, 35, 36, 37, 37, 8])
    frame = pd.concat([memory, swap], ignore_index=True)
    trends = analyse_memory_trends(frame, [MEMORY, SWAP], at(10), growth_warning=5.0)
    delay = compute_detection_delay(trends, at(10))
    assert delay.crossing is not None
    assert (delay.crossing.query, delay.crossing.time) == ("swap", at(4 + 5 / 6))
    assert delay.delay == timedelta(minutes=5, seconds=10)
    assert compute_detection_delay(trends, at(4)).crossing is None


def test_backtest_fires_once_the_condition_held_for_the_duration() -> None:
    frame = series_frame("mem", [90, 96, 97, 94, 96, 96, 96, 90])
    page = at(5)
    now, held, longer = (
        backtest_thresholds(frame, "mem", DB, [95], page, timedelta(minutes=d))[0]
        for d in (0, 2, 3)
    )
    [low] = backtest_thresholds(frame, "mem", DB, [80], page)
    assert (now.fires_at, now.lead, now.held_at_start) == (at(1), timedelta(minutes=4), False)
    # The run from 14:01 ends with 94 % at 14:03; the run from 14:04 holds 2 minutes at 14:06.
    assert (held.fires_at, held.lead) == (at(6), timedelta(minutes=-1))
    assert (longer.fires_at, longer.lead) == (None, None)
    assert (low.fires_at, low.held_at_start) == (at(0), True)


def test_backtest_a_missing_sample_resets_the_alert() -> None:
    frame = series_frame("mem", [96, 96, 96, None, None, 96, 96, 96])
    [gapped] = backtest_thresholds(frame, "mem", DB, [95], at(9), timedelta(minutes=3))
    assert gapped.fires_at is None
    [filled] = backtest_thresholds(
        series_frame("mem", [96] * 8), "mem", DB, [95], at(9), timedelta(minutes=3)
    )
    assert filled.fires_at == at(3)


def test_backtest_stops_at_the_horizon_and_survives_an_empty_series() -> None:
    frame = series_frame("mem", CLIMB)
    [late] = backtest_thresholds(frame, "mem", DB, [95], PAGE, horizon_end=at(9))
    assert late.fires_at is None and late.data_end == at(9)
    [empty] = backtest_thresholds(frame, "mem", '{instance="other"}', [95], PAGE)
    assert (empty.fires_at, empty.held_at_start, empty.data_start) == (None, False, None)


def test_flat_series_has_zero_growth_and_no_exhaustion() -> None:
    frame = series_frame("mem", [40.0] * 12)
    [trend] = analyse_memory_trends(frame, [MEMORY], at(11), growth_warning=0.0)
    assert trend.growth_per_hour == 0.0
    assert not trend.growth_warning
    assert trend.level_at_fit_end == pytest.approx(40.0)
    assert trend.exhaustion_at is None
    assert trend.crossings == ()


def test_too_short_empty_and_missing_series_give_none() -> None:
    nan = float("nan")
    short = series_frame("mem", [60, 70, 80.5])
    swapless = series_frame("swap", [nan] * 4)  # 0/0 on a host without swap
    frame = pd.concat([short, swapless], ignore_index=True)
    absent = QueryResult("nothing", kind="memory", unit="%", thresholds=(80.0,))
    mem, swap = analyse_memory_trends(frame, [MEMORY, SWAP, absent], at(3), growth_warning=5.0)
    assert (mem.growth_per_hour, mem.level_at_fit_end, mem.exhaustion_at) == (None, None, None)
    assert not mem.growth_warning
    assert mem.peak == 80.5 and mem.crossings[0].time == at(1.95)
    assert (swap.peak, swap.peak_time, swap.data_start, swap.growth_per_hour) == (None,) * 4
    assert (swap.fit_points, swap.crossings) == (0, ())


def test_gaps_are_not_zeros() -> None:
    nan = float("nan")
    frame = series_frame("mem", [50, 51, None, None, 54, 55, 56, nan, 58, 59])
    [trend] = analyse_memory_trends(frame, [MEMORY], at(10), growth_warning=5.0)
    assert trend.growth_per_hour == pytest.approx(60.0)
    assert trend.fit_points == 7


def test_only_percent_memory_and_swap_queries_are_trends() -> None:
    frame = pd.concat(
        [series_frame("mem", [50] * 6), series_frame("bytes", [1e9] * 6)], ignore_index=True
    )
    records = [MEMORY, QueryResult("bytes", kind="memory", unit="B"), QueryResult("mem")]
    assert [t.query for t in analyse_memory_trends(frame, records, at(6), 5.0)] == ["mem"]
    assert instance_of('{job="node"}') == '{job="node"}'


def test_findings_name_numbers_and_their_sources() -> None:
    frame = series_frame("mem", CLIMB)
    trends = analyse_memory_trends(frame, [MEMORY], PAGE, growth_warning=5.0)
    delay = compute_detection_delay(trends, PAGE)
    backtests = backtest_thresholds(frame, "mem", DB, [80, 95], PAGE) + backtest_thresholds(
        frame, "mem", DB, [95], PAGE, timedelta(minutes=2)
    )
    assert findings(trends, delay, backtests, Words("en")) == [
        "Memory on db-01:9100 crossed 80 % at 14:02 UTC, 10 min before the page at 14:12 UTC"
        " (mem, 14:00–14:11 UTC).",
        "Memory on db-01:9100 grew 120.0 %/hour before the incident (above the 5 %/hour warning"
        " rate); it ran out at 14:10 UTC and restarted: memory fell from 96 % to 10 %"
        " (Theil–Sen fit on mem, 13:09:30–14:09:30 UTC).",
        "Alert backtest for memory on db-01:9100: ≥ 80 % would have fired at 14:02 UTC,"
        " 10 min before the page; ≥ 95 % would have fired at 14:10 UTC, 2 min before"
        " the page; ≥ 95 % for 2 min would not have fired (mem, 14:00–14:11 UTC).",
    ]
    french = findings(trends, delay, backtests, Words("fr"))
    assert french[0] == (
        "Mémoire sur db-01:9100 : seuil de 80 % franchi à 14:02 UTC, 10 min avant l'appel de"
        " 14:12 UTC (mem, 14:00–14:11 UTC)."
    )


def test_findings_say_when_nothing_was_crossed() -> None:
    frame = series_frame("mem", [50.0] * 6)
    trends = analyse_memory_trends(frame, [MEMORY], at(6), growth_warning=5.0)
    delay = compute_detection_delay(trends, at(6))
    assert (delay.crossing, delay.delay) == (None, None)
    assert findings(trends, delay, [], Words("en")) == [
        "No memory or swap threshold was crossed before the page at 14:06 UTC (mem)."
    ]
    assert findings([], compute_detection_delay([], at(6)), [], Words("en")) == []


def test_demo_memory_story(
    demo_frame: pd.DataFrame, demo_facts: dict[str, Any], demo_snapshot: dict[str, Any]
) -> None:
    facts = demo_facts
    memory, swap = facts["memory"], facts["swap"]
    # The page is the PagerDuty trigger recorded in the same snapshot as the metrics.
    entries = demo_snapshot["pagerduty"]["log_entries"]
    page = min(parse_time(e["created_at"]) for e in entries if e["type"] == "trigger_log_entry")
    records = [
        QueryResult(q.name, kind=q.kind, unit=q.unit, thresholds=tuple(q.thresholds))
        for q in DEFAULT_QUERIES
    ]
    trends = analyse_memory_trends(demo_frame, records, page, TrendSettings().memory_growth_warning)
    mem = next(t for t in trends if t.kind == "memory" and t.instance == memory["instance"])
    swp = next(t for t in trends if t.kind == "swap" and t.instance == swap["instance"])
    crossed = {c.threshold: c.time for c in mem.crossings}
    assert crossed == {80.0: parse_time(memory["cross_80"]), 95.0: parse_time(memory["cross_95"])}
    assert [c.time for c in swp.crossings] == [parse_time(swap["cross_30"])]
    slope = memory["climb_slope_percent_per_hour"]
    assert round(mem.growth_per_hour or 0.0, 1) == slope
    assert mem.growth_warning and mem.fit_end == parse_time(memory["cross_95"])
    # The OOM killer ended the climb: memory fell from its peak to 18 %, and a host that ran
    # out gets no saturation forecast (the 13:24 climb line would have said two hours later).
    assert mem.exhaustion_at is None and not mem.exhaustion_beyond
    assert mem.restart is not None and mem.restart.ran_out
    assert mem.restart.at == parse_time(memory["peak_at"])
    assert mem.restart.before == pytest.approx(memory["peak_percent"])
    assert round(mem.restart.after) == memory["after_oom_percent"]
    assert swp.restart is not None and not swp.restart.ran_out and swp.exhaustion_at is None
    assert round(swp.restart.after) == swap["after_restart_percent"]
    # Swap sat flat for most of the hour and climbed from 14:10: the shortened fit window
    # measures that climb, not the flat part (5 % to 30 % in 17 minutes).
    climb_hours = (parse_time(swap["cross_30"]) - parse_time(swap["climb_start"])) / timedelta(
        hours=1
    )
    assert swp.growth_per_hour == pytest.approx((30 - swap["steady_percent"]) / climb_hours, 0.01)
    assert swp.growth_warning
    assert mem.peak == pytest.approx(memory["peak_percent"])
    assert mem.peak_time == parse_time(memory["peak_at"])
    delay = compute_detection_delay(trends, page)
    assert delay.crossing is not None and delay.crossing.time == parse_time(memory["cross_80"])
    assert delay.delay == page - parse_time(memory["cross_80"])
    _assert_demo_backtests(demo_frame, mem.query, mem.series, page, facts)


def _assert_demo_backtests(
    frame: pd.DataFrame, query: str, series: str, page: datetime, facts: dict[str, Any]
) -> None:
    memory = facts["memory"]
    low, high = backtest_thresholds(frame, query, series, [80.0, 95.0], page)
    assert (low.fires_at, low.lead) == (
        parse_time(memory["cross_80"]),
        page - parse_time(memory["cross_80"]),
    )
    assert high.fires_at == parse_time(memory["cross_95"])
    # HostMemoryHigh (95 %, for: 2m) stayed pending and never fired: memory fell at the OOM kill.
    [rule] = backtest_thresholds(frame, query, series, [95.0], page, timedelta(minutes=2))
    host_memory_high = next(a for a in facts["alerts"] if a["alertname"] == "HostMemoryHigh")
    assert rule.fires_at is None and host_memory_high["firing"] is None


def test_a_flat_host_with_noise_is_not_growing_and_gets_no_exhaustion() -> None:
    # Issue 13: a host oscillating ±0.3 % got "+0.5 %/hour … exhausted at 02:18 UTC".
    wobble = [60 + 0.3 * np.sin(i * 1.7) + 0.3 * ((i * 7) % 5 - 2) / 2 for i in range(61)]
    frame = series_frame("mem", wobble)
    [trend] = analyse_memory_trends(frame, [MEMORY], at(60), growth_warning=5.0)
    assert trend.growth_interval is not None
    low, high = trend.growth_interval
    assert low <= (trend.growth_per_hour or 0.0) <= high
    assert not trend.growing
    assert trend.exhaustion_at is None and not trend.exhaustion_beyond
    assert not trend.growth_warning


def test_interval_excluding_zero_makes_growth_and_a_far_exhaustion_says_beyond() -> None:
    noise = [0.2 * ((i * 7) % 5 - 2) for i in range(61)]
    growing = series_frame("mem", [50 + 3 * i / 60 + n for i, n in enumerate(noise)])
    [trend] = analyse_memory_trends(growing, [MEMORY], at(60), growth_warning=5.0)
    assert trend.growing and trend.growth_interval is not None
    assert trend.growth_interval[0] > 0
    assert trend.growth_per_hour == pytest.approx(3.0, abs=0.3)
    assert trend.exhaustion_at is not None
    assert trend.exhaustion_at.date() > T0.date()  # next day: the report must date it
    slow = series_frame("mem", [20 + 1.2 * i / 60 + n for i, n in enumerate(noise)])
    [far] = analyse_memory_trends(slow, [MEMORY], at(60), growth_warning=5.0)
    assert far.growing and far.exhaustion_at is None and far.exhaustion_beyond
    floor = series_frame("mem", [20 + 0.5 * i / 60 for i in range(61)])
    [below] = analyse_memory_trends(floor, [MEMORY], at(60), growth_warning=5.0)
    assert below.growth_interval is not None and below.growth_interval[0] > 0
    assert not below.growing  # clear, but under the floor of MIN_GROWTH_PER_HOUR


def test_theil_sen_interval_matches_sens_ranks() -> None:
    x = np.arange(10, dtype=np.float64)
    y = np.array([0, 2, 1, 3, 5, 4, 6, 8, 7, 9], dtype=np.float64)
    low, high = theil_sen_interval(x, y) or (0.0, 0.0)
    slopes = np.sort([(y[j] - y[i]) / (j - i) for i in range(10) for j in range(i + 1, 10)])
    c = 1.959964 * np.sqrt(10 * 9 * 25 / 18)  # 45 slopes, C ≈ 14.6
    assert (low, high) == (slopes[round((45 - c) / 2) - 1], slopes[round((45 + c) / 2)])
    assert low < 1.0 < high


def test_no_swap_and_zero_swap_are_one_summary_line_each() -> None:
    nan = float("nan")
    frames = [
        series_frame("swap", [nan] * 5, series='{instance="app-2"}'),
        series_frame("swap", [nan] * 5, series='{instance="app-3"}'),
        series_frame("swap", [0.0] * 5, series='{instance="app-1"}'),
        series_frame("swap", [5.0, 6.0, 7.0, 8.0, 9.0], series='{instance="db-01"}'),
    ]
    trends = analyse_memory_trends(pd.concat(frames), [SWAP], at(4), growth_warning=5.0)
    groups = group_idle_trends(trends)
    assert [(g.kind, g.level, g.instances) for g in groups] == [
        ("swap", TrendLevel.ABSENT, ("app-2", "app-3")),
        ("swap", TrendLevel.ZERO, ("app-1",)),
    ]


def test_crossings_found_once_for_the_incident_are_the_ones_each_query_finds() -> None:
    """`find_crossings` finds each thresholded query's crossings once, for the report and the
    memory trends; trends and crossings are the same as when each is looked for on its own.
    Generated: 40 hosts, every third climbing through both thresholds at its own minute, a
    host that crosses 80 % twice, a query with a threshold listed twice, and a NaN series."""
    from collector.analysis.incident import find_crossings
    from collector.analysis.metrics import detect_threshold_crossings
    from collector.snapshot.prometheus import read_query_results, read_series

    start = T0.timestamp()

    def host(i: int) -> list[list[object]]:
        values = [50.0 + (i % 7)] * 60
        if i % 3 == 0:  # climbs 3 %/min from minute i % 20
            values = [min(50.0 + max(0, m - i % 20) * 3.0, 99.0) for m in range(60)]
        if i == 4:  # up through 80, down, and up again
            values = [70.0, 85.0, 75.0, 90.0] * 15
        return [[start + 60 * m, repr(v)] for m, v in enumerate(values)]

    fleet = [{"metric": {"instance": f"h-{i:02d}"}, "values": host(i)} for i in range(40)]
    nan = [{"metric": {"instance": "nan"}, "values": [[start, "NaN"], [start + 60, "NaN"]]}]
    results: list[dict[str, Any]] = [
        {"name": "mem", "kind": "memory", "unit": "%", "thresholds": [80.0, 95.0]}
        | {"start": "2025-10-25T14:00:00Z", "result": fleet + nan},
        {"name": "lat", "kind": "latency", "unit": "s", "thresholds": [0.5, 0.5], "result": []},
    ]
    frame = read_series(results)
    queries = read_query_results(results, frame)
    found = find_crossings(queries)
    mem, lat = found.crossings[("mem", (80.0, 95.0))], found.crossings[("lat", (0.5,))]
    assert mem == detect_threshold_crossings(frame, "mem", [80.0, 95.0]) and lat == []
    # 14 climbing hosts cross both thresholds, host 4 crosses 80 % thirty times.
    assert len(mem) == 14 * 2 + 30
    alone = analyse_memory_trends(frame, queries, at(70), growth_warning=5.0)
    shared = analyse_memory_trends(frame, queries, at(70), growth_warning=5.0, found=found)
    assert shared == alone and len(shared) == 41
