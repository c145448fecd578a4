"""Suggested lessons, actions and the first why, worded from the analysis' facts.

Each suggestion names its numbers and where they come from; people keep or delete them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from collector.analysis.detection import BacktestResult, DetectionDelay
from collector.analysis.incident import Analysis
from collector.analysis.memory import MemoryTrend
from report.words import Words, formats


def first_why(analysis: Analysis, w: Words) -> str:
    """A suggested answer to the first of the 5 whys: what stopped, when, what metrics showed."""
    fig = analysis.figures
    day = fig.started_at
    text = w.say("why_paged", title=analysis.incident.title, paged=w.clock(day, day))
    if analysis.impact.outage_start is not None:
        text += w.say("why_down", down=w.clock(analysis.impact.outage_start, day))
    text += "."
    before = [c for c in analysis.crossings if c.time <= fig.started_at]
    if before:
        first = before[0]
        at = w.clock(first.time, day)
        text += w.say(
            "why_crossed",
            query=first.query,
            series=first.series,
            threshold=w.short(first.threshold),
            at=at,
        )
        peaks = [t for t in analysis.trends if t.query == first.query and t.peak is not None]
        if peaks and peaks[0].peak_time is not None and peaks[0].peak is not None:
            peak = w.number(peaks[0].peak, 1)
            text += w.say("why_peak", peak=peak, at=w.clock(peaks[0].peak_time, day))
        text += "."
    return text


def suggested_lessons(
    analysis: Analysis, targets_ack: timedelta | None, w: Words
) -> dict[str, list[str]]:
    """Pre-filled lessons and actions from the figures, for people to keep or delete."""
    fig, impact = analysis.figures, analysis.impact
    good: list[str] = []
    bad = findings(analysis.trends, analysis.delay, analysis.backtests, w)
    ack = fig.time_to_acknowledge
    if ack is not None and targets_ack is not None:
        line = w.say("lesson_ack", after=w.duration(ack), target=w.duration(targets_ack))
        (good if ack <= targets_ack else bad).append(line)
    for o in impact.objectives:
        if o.actual is None or o.target is None:
            continue
        line = w.say(
            "lesson_objective",
            name=o.name,
            verdict=w.verdict(o),
            actual=w.duration(o.actual),
            target=w.duration(o.target),
        )
        if o.verdict.good:
            good.append(line)
        elif o.verdict.bad:
            bad.append(line)
    return {"good": good, "bad": bad, "actions": _actions(analysis, w)}


def _actions(analysis: Analysis, w: Words) -> list[str]:
    actions: list[str] = []
    crossing = analysis.delay.crossing
    for r in analysis.backtests:
        if r.lead is not None and r.lead > timedelta(0) and not r.held_at_start:
            if crossing and r.threshold == crossing.threshold:
                lead = w.duration(r.lead)
                actions.append(
                    w.say("action_alert", query=r.query, threshold=w.short(r.threshold), lead=lead)
                )
    for t in analysis.trends:
        if t.growth_warning:
            actions.append(
                w.say(
                    "action_growth",
                    kind=w.say(f"kind_{t.kind}"),
                    rate=w.short(t.warning_rate),
                    instance=t.instance,
                    growth=w.number(t.growth_per_hour, 1),
                )
            )
    return list(dict.fromkeys(actions))


def findings(
    trends: Sequence[MemoryTrend],
    delay: DetectionDelay,
    backtests: Sequence[BacktestResult],
    w: Words,
) -> list[str]:
    """Suggested findings: thresholds crossed, growth, alert backtests, each naming its source."""
    found = _crossing_findings(trends, delay, w)
    found += [_growth_finding(t, w) for t in trends if t.growth_warning]
    groups: dict[tuple[str, str], list[BacktestResult]] = {}
    for result in backtests:
        groups.setdefault((result.query, result.series), []).append(result)
    found += [
        _backtest_finding(group, trend, delay.page_time, w)
        for group in groups.values()
        if not _quiet_and_healthy(group, trend := _trend_of(group[0], trends))
    ]
    return found


def _trend_of(result: BacktestResult, trends: Sequence[MemoryTrend]) -> MemoryTrend | None:
    return next((t for t in trends if (t.query, t.series) == (result.query, result.series)), None)


def _quiet_and_healthy(group: Sequence[BacktestResult], trend: MemoryTrend | None) -> bool:
    """No rule would have fired on a host that neither grew, crossed a threshold nor fell:
    nothing went wrong there, so it is no finding of what did not work."""
    if any(result.fires_at is not None for result in group):
        return False
    return trend is None or not (trend.growing or trend.crossings or trend.restart)


def _crossing_findings(trends: Sequence[MemoryTrend], delay: DetectionDelay, w: Words) -> list[str]:
    page = delay.page_time
    watched = [t for t in trends if t.thresholds]
    if watched and delay.crossing is None:
        names = ", ".join(dict.fromkeys(t.query for t in watched))
        return [w.say("find_none_crossed", page=_clock(page), names=names)]
    starts = [(t.episode, t) for t in watched]
    ordered = sorted(((c, t) for c, t in starts if c is not None), key=lambda p: p[0].time)
    # Earliest first: the first sentence is the detection delay itself.
    return [
        w.say(
            "find_crossed",
            kind=w.say(f"kind_{trend.kind}").capitalize(),
            instance=trend.instance,
            threshold=w.short(start.threshold),
            at=_clock(start.time, day=page),
            relative=_relative(page - start.time, w),
            page=_clock(page),
            source=_source(trend.query, trend.data_start, trend.data_end, page, w),
        )
        for start, trend in ordered
    ]


def _growth_finding(trend: MemoryTrend, w: Words) -> str:
    text = w.say(
        "find_growth",
        kind=w.say(f"kind_{trend.kind}").capitalize(),
        instance=trend.instance,
        growth=w.number(trend.growth_per_hour, 1),
        rate=w.short(trend.warning_rate),
    )
    if trend.restart is not None:
        text += _restart_clause(trend, w)
    elif trend.exhaustion_at is not None:
        text += w.say("find_exhausted", at=_clock(trend.exhaustion_at, day=trend.fit_end))
    source = _source(trend.query, trend.fit_start, trend.fit_end, trend.fit_end, w)
    return f"{text} ({w.say('find_fit', source=source)})."


def _restart_clause(trend: MemoryTrend, w: Words) -> str:
    """'; it ran out at 14:31 UTC and restarted: memory fell from 97 % to 18 %'."""
    restart = trend.restart
    assert restart is not None
    return w.say(
        "find_ran_out" if restart.ran_out else "find_restarted",
        at=w.clock(restart.at, trend.fit_end),
        kind=w.say(f"kind_{trend.kind}"),
        before=w.number(restart.before, 0),
        after=w.number(restart.after, 0),
    )


def _backtest_finding(
    group: Sequence[BacktestResult], trend: MemoryTrend | None, page: datetime, w: Words
) -> str:
    first = group[0]
    subject = (
        w.say("subject", kind=w.say(f"kind_{trend.kind}"), instance=trend.instance)
        if trend
        else first.instance
    )
    clauses = [_backtest_clause(r, page, w) for r in group]
    source = _source(first.query, first.data_start, first.data_end, page, w)
    return w.say("bt_line", subject=subject, clauses="; ".join(clauses), source=source)


def _backtest_clause(result: BacktestResult, page: datetime, w: Words) -> str:
    rule = w.say("bt_rule", threshold=w.short(result.threshold))
    if result.for_duration > timedelta(0):
        rule += w.say("bt_for", d=w.duration(result.for_duration))
    if result.fires_at is None or result.lead is None:
        return w.say("bt_never", rule=rule)
    if result.held_at_start:
        start = _clock(result.data_start or result.fires_at, day=page)
        return w.say("bt_held", rule=rule, start=start)
    at = _clock(result.fires_at, day=page)
    return w.say("bt_fired", rule=rule, at=at, relative=_relative(result.lead, w))


def _clock(moment: datetime, suffix: bool = True, day: datetime | None = None) -> str:
    """'14:24 UTC', dated when not on `day` (the page's day), with seconds when it has some."""
    seconds = bool(moment.astimezone(timezone.utc).second)
    text = formats.clock(moment, day or moment, seconds=seconds)
    return text if suffix else text.removesuffix(" UTC")


def _source(
    query: str, start: datetime | None, end: datetime | None, day: datetime | None, w: Words
) -> str:
    if start is None or end is None:
        return w.say("src_none", query=query)
    return f"{query}, {_clock(start, suffix=False, day=day)}–{_clock(end, day=day)}"


def _relative(lead: timedelta, w: Words) -> str:
    if lead == timedelta(0):
        return w.say("rel_at")
    key = "rel_before" if lead > timedelta(0) else "rel_after"
    return w.say(key, d=w.duration(abs(lead)))
