"""Time parsing and formatting shared by the sources and the analysis."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (with 'Z' or an offset) into an aware UTC datetime."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return value.astimezone(timezone.utc)


def from_unix(seconds: float) -> datetime:
    """Convert Unix seconds to an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def iso_utc(value: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with a 'Z' suffix."""
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def describe_duration(span: timedelta) -> str:
    """A duration for a sentence: '8 minutes', '1 min 30 s', '1 h 5 min'."""
    seconds = math.floor(span.total_seconds() + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if not hours and not secs:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    parts = [(hours, "h"), (minutes, "min"), (secs, "s")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n)


def format_clock(
    moment: datetime,
    day: datetime | None = None,
    zone: str | None = None,
    seconds: bool = False,
    short_date: bool = False,
) -> str:
    """A moment for people: '14:32 UTC (16:32 CEST)'.

    The date is added ('2025-10-26 02:18 UTC'; '10-26 02:18 UTC' with short_date, for chart
    ticks) when the moment is not on `day`'s date (the incident's start day), each of UTC and
    the local zone judged against its own calendar.
    """
    clock = "%H:%M:%S" if seconds else "%H:%M"
    dated = ("%m-%d " if short_date else "%Y-%m-%d ") + clock
    utc = moment.astimezone(timezone.utc)
    same = day is not None and utc.date() == day.astimezone(timezone.utc).date()
    text = utc.strftime(clock if same else dated) + " UTC"
    if zone:
        local_zone = ZoneInfo(zone)
        local = moment.astimezone(local_zone)
        same_local = day is not None and local.date() == day.astimezone(local_zone).date()
        text += f" ({local.strftime(clock if same_local else dated)} {local:%Z})"
    return text
