"""Business and technical impact read from the series over the impacted window.

Rates are integrated over the window (requests failed, traffic lost), levels are read just
before it (users, connections, backup age), and the configured revenue per minute is multiplied
by the impacted minutes. Each figure names the query, the window and the samples it used.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from collector.analysis.facts import note, source
from collector.analysis.impact_figure import (
    NO_END,
    Figure,
    ImpactWindow,
    known,
    query_problem,
    unknown,
)
from collector.analysis.outage import (
    NO_DATA,
    NOT_CONFIGURED,
    OK,
    Outage,
    OutageBasis,
    OutageSignal,
    QueryData,
)
from collector.config import Business
from collector.series import series_names


def users_affected(query: QueryData, start: datetime, business: Business) -> Figure:
    """Active users just before the start, from the query, else from the config."""
    key, reason = "users_affected", query.note
    if query.status == OK:
        found = _value_before(query.totals(), start, inclusive=False)
        if found is not None:
            at, value = found
            return known(key, round(value), source("last_before", seen=query.describe(), at=at))
        reason = note("no_sample_before", query=query.name, at=start)
    if business.active_users is not None:
        used = note("config_used", reason=reason or note("no_samples", query=query.name))
        return known(
            key, business.active_users, source("setting", name="business.active_users"), used
        )
    status = NO_DATA if query.status == OK else query.status
    setting = "business.active_users" if status == NOT_CONFIGURED else ""
    why = note("or_set", reason=reason or NO_END, setting="business.active_users")
    return unknown(key, status, why, query.describe(), setting=setting)


def revenue_impact(window: ImpactWindow, business: Business) -> Figure:
    """The configured revenue per minute times the impacted minutes."""
    key, unit = "revenue_impact", business.currency
    rate, minutes = business.revenue_per_minute, window.down_minutes
    if rate is None:
        return unknown(
            key,
            NOT_CONFIGURED,
            note("set", setting="business.revenue_per_minute"),
            unit=unit,
            setting="business.revenue_per_minute",
        )
    if minutes is None:
        return unknown(key, NO_DATA, window.why_no_downtime, window.source, unit=unit)
    how = source("revenue", rate=rate, unit=unit, minutes=minutes, window=window.source)
    return known(key, rate * minutes, how, window.note, unit=unit)


def endpoints_down(
    outage: Outage | None, query: QueryData, signal: OutageSignal | None = None
) -> Figure:
    """The most series down at once during the outage, out of all series: endpoints only when
    users call them (a user-facing query); scrape targets or a database are no endpoint."""
    if signal is not None and signal.basis is not OutageBasis.USER_FACING and query.status == OK:
        why = note("not_endpoints", used=", ".join(signal.used))
        return unknown("endpoints_down", NO_DATA, why, query.describe())
    if outage is not None:
        return known("endpoints_down", outage.worst_down, outage.source, total=outage.series)
    if query.status != OK:
        return query_problem("endpoints_down", query)
    series = len(series_names(query.data))
    why = note("none_down", query=query.name)
    return known("endpoints_down", 0, query.describe(), why, total=series)


def requests_failed(query: QueryData, window: ImpactWindow) -> Figure:
    """Error responses over the impacted window: the error rate integrated over time."""
    if query.status != OK:
        return query_problem("requests_failed", query)
    if window.end is None:
        return unknown("requests_failed", NO_DATA, NO_END, window.source)
    value = _integrate(query.totals(), window.start, window.end)
    how = source("integrated", seen=query.describe(), start=window.start, end=window.end)
    return known("requests_failed", value, how, window.note)


def traffic_lost(query: QueryData, baseline: pd.DataFrame, window: ImpactWindow) -> Figure:
    """Requests the baseline week served over the same window, minus those served this time."""
    key = "traffic_lost"
    if query.status != OK:
        return query_problem(key, query)
    if window.end is None:
        return unknown(key, NO_DATA, NO_END, window.source)
    name = query.record.name if query.record else None
    past = _between(
        baseline[baseline["query"] == name].groupby("time")["value"].sum(), window.start, window.end
    )
    if len(past) < 2:
        why = note("no_baseline", setting="prometheus.baseline_offset")
        return unknown(key, NO_DATA, why, query.describe())
    # Compare like with like: only where the baseline has samples.
    start, end = past.index[0].to_pydatetime(), past.index[-1].to_pydatetime()
    actual = _integrate(query.totals(), start, end)
    expected = _integrate(past, start, end)
    offset = query.record.baseline_offset_s if query.record else None
    days = (offset or 0.0) / 86400
    how = source(
        "baseline",
        seen=query.describe(),
        start=start,
        end=end,
        expected=round(expected),
        days=days,
        actual=round(actual),
    )
    more = note("more_than_baseline") if actual > expected else None
    return known(key, expected - actual, how, more or window.note)


def connections_dropped(query: QueryData, window: ImpactWindow) -> Figure:
    """Connections open just before the start minus the lowest count during the outage."""
    key = "connections_dropped"
    if query.status != OK:
        return query_problem(key, query)
    totals = query.totals()
    before = _value_before(totals, window.start, inclusive=False)
    during = _between(totals, window.start, window.end)
    if before is None or during.empty:
        why = note("no_sample_around", query=query.name, start=window.start)
        return unknown(key, NO_DATA, why, query.describe())
    at, value = before
    low, low_at = float(during.min()), pd.Timestamp(str(during.idxmin())).to_pydatetime()
    how = source(
        "connections",
        seen=query.describe(),
        before=value,
        before_at=at,
        low=low,
        low_at=low_at,
        start=window.start,
        end=window.end or "?",
    )
    return known(key, max(value - low, 0.0), how, window.note)


def backup_age(query: QueryData, start: datetime) -> Figure:
    """Minutes since the last good backup when the outage began: the data a restore loses."""
    key = "data_loss_window"
    if query.status != OK:
        return query_problem(key, query)
    found = _value_before(query.totals("max"), start, inclusive=True)
    if found is None:
        why = note("no_sample_before", query=query.name, at=start)
        return unknown(key, NO_DATA, why, query.describe())
    at, minutes = found
    return known(key, minutes, source("backup", seen=query.describe(), at=at, start=start))


def _value_before(
    series: pd.Series, at: datetime, inclusive: bool
) -> tuple[datetime, float] | None:
    """The last sample before `at` (or at it, if inclusive)."""
    stamp = pd.Timestamp(at)
    earlier = series[series.index <= stamp] if inclusive else series[series.index < stamp]
    if earlier.empty:
        return None
    return earlier.index[-1].to_pydatetime(), float(earlier.iloc[-1])


def _between(series: pd.Series, start: datetime, end: datetime | None) -> pd.Series:
    after = series.index >= pd.Timestamp(start)
    return series[after & (series.index <= pd.Timestamp(end))] if end else series[after]


def _integrate(series: pd.Series, start: datetime, end: datetime) -> float:
    """Trapezoid integral of a per-second rate over the samples in [start, end], in events."""
    part = _between(series, start, end)
    seconds = [t.timestamp() for t in part.index]
    values = part.tolist()
    return float(
        sum(
            (values[i] + values[i + 1]) / 2 * (seconds[i + 1] - seconds[i])
            for i in range(len(values) - 1)
        )
    )
