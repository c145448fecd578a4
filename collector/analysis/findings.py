"""Suggested findings from the memory trends: crossings, growth, alert backtests (English)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from collector.analysis.memory import (
    BacktestResult,
    DetectionDelay,
    MemoryTrend,
    episode_start,
    instance_of,
)
from collector.timeutil import describe_duration, format_clock


def build_findings(
    trends: Sequence[MemoryTrend],
    delay: DetectionDelay,
    backtests: Sequence[BacktestResult],
) -> list[str]:
    """Suggested findings for Lessons Learned and Corrective Actions, each naming its source."""
    findings = _crossing_findings(trends, delay)
    findings += [_growth_finding(t) for t in trends if t.growth_warning]
    groups: dict[tuple[str, str], list[BacktestResult]] = {}
    for result in backtests:
        groups.setdefault((result.query, result.series), []).append(result)
    findings += [_backtest_finding(group, trends, delay.page_time) for group in groups.values()]
    return findings


def _crossing_findings(trends: Sequence[MemoryTrend], delay: DetectionDelay) -> list[str]:
    page = delay.page_time
    watched = [t for t in trends if t.thresholds]
    if watched and delay.crossing is None:
        names = ", ".join(dict.fromkeys(t.query for t in watched))
        return [
            f"No memory or swap threshold was crossed before the page at {_clock(page)} ({names})."
        ]
    starts = [(episode_start(t.crossings, t.thresholds[0], page), t) for t in watched]
    # Earliest first: the first sentence is the detection delay itself.
    return [
        f"{trend.kind.capitalize()} on {trend.instance} crossed {start.threshold:g} % at "
        f"{_clock(start.time, day=page)}, {_relative(page - start.time)} the page at"
        f" {_clock(page)} ({_source(trend.query, trend.data_start, trend.data_end, page)})."
        for start, trend in sorted(
            ((c, t) for c, t in starts if c is not None), key=lambda pair: pair[0].time
        )
    ]


def _growth_finding(trend: MemoryTrend) -> str:
    text = (
        f"{trend.kind.capitalize()} on {trend.instance} grew {trend.growth_per_hour:.1f} %/hour "
        f"before the incident (above the {trend.warning_rate:g} %/hour warning rate)"
    )
    if trend.exhaustion_at is not None:
        when = _clock(trend.exhaustion_at, day=trend.fit_end)
        text += f"; at that rate it would have been exhausted at {when}"
    fit = f"Theil–Sen fit on {_source(trend.query, trend.fit_start, trend.fit_end, trend.fit_end)}"
    return f"{text} ({fit})."


def _backtest_finding(
    group: Sequence[BacktestResult], trends: Sequence[MemoryTrend], page: datetime
) -> str:
    first = group[0]
    trend = next((t for t in trends if (t.query, t.series) == (first.query, first.series)), None)
    subject = f"{trend.kind} on {trend.instance}" if trend else instance_of(first.series)
    clauses = []
    for result in group:
        rule = f"≥ {result.threshold:g} %"
        if result.for_duration > timedelta(0):
            rule += f" for {describe_duration(result.for_duration)}"
        if result.fires_at is None or result.lead is None:
            clauses.append(f"{rule} would not have fired")
        elif result.held_at_start:
            start = _clock(result.data_start or result.fires_at, day=page)
            clauses.append(f"{rule} was already met when the data begins ({start})")
        else:
            clauses.append(
                f"{rule} would have fired at {_clock(result.fires_at, day=page)}, "
                f"{_relative(result.lead)} the page"
            )
    source = _source(first.query, first.data_start, first.data_end, page)
    return f"Alert backtest for {subject}: {'; '.join(clauses)} ({source})."


def _clock(moment: datetime, suffix: bool = True, day: datetime | None = None) -> str:
    """'14:24 UTC', dated when not on `day` (the page's day): the one clock format."""
    seconds = bool(moment.astimezone(timezone.utc).second)
    text = format_clock(moment, day or moment, seconds=seconds)
    return text if suffix else text.removesuffix(" UTC")


def _source(
    query: str, start: datetime | None, end: datetime | None, day: datetime | None = None
) -> str:
    if start is None or end is None:
        return f"{query}, no samples"
    return f"{query}, {_clock(start, suffix=False, day=day)}–{_clock(end, day=day)}"


def _relative(lead: timedelta) -> str:
    if lead == timedelta(0):
        return "at"
    return f"{describe_duration(abs(lead))} {'before' if lead > timedelta(0) else 'after'}"
