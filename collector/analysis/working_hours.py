"""The working-hours calendar: minutes of an interval inside working hours, in local time.

Each date's opening and closing hours are wall-clock hours with that date's own UTC offset, so
a daylight-saving change moves them, and a 23- or 25-hour day counts its real minutes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from collector.config import Business


def working_minutes(start: datetime, end: datetime, business: Business, zone: ZoneInfo) -> float:
    """Minutes of [start, end] inside working hours, day by day in local time."""
    inside = 0.0
    day = start.astimezone(zone).date()
    while day <= end.astimezone(zone).date():
        if day.weekday() in business.working_days:
            opens, closes = _working_day(day, business, zone)
            inside += max((min(end, closes) - max(start, opens)).total_seconds() / 60, 0.0)
        day += timedelta(days=1)
    return inside


def working_week(business: Business) -> dict[str, str]:
    """The working hours and days as facts for a figure's source: hours '09:00–18:00' and
    weekdays '01234' (Monday is 0); report/words names the days."""
    first, last = business.working_hours
    return {
        "hours": f"{first:02d}:00–{last:02d}:00",
        "weekdays": "".join(str(d) for d in sorted(business.working_days)),
    }


def _working_day(day: date, business: Business, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # Wall-clock hours of that date, each with its own UTC offset: a DST change moves them.
    # Both ends go to UTC so that subtracting them counts real, not wall-clock, minutes.
    midnight = datetime.combine(day, time())
    first, last = business.working_hours
    opens = (midnight + timedelta(hours=first)).replace(tzinfo=zone)
    closes = (midnight + timedelta(hours=last)).replace(tzinfo=zone)
    return opens.astimezone(timezone.utc), closes.astimezone(timezone.utc)


# The night, in local wall-clock hours: from 22:00 to 07:00 the next morning. A call inside
# it woke someone (the seed template's "Sleep disrupted").
NIGHT_HOURS = (22, 7)


def night_minutes(start: datetime, end: datetime, zone: ZoneInfo) -> float:
    """Minutes of [start, end] inside NIGHT_HOURS, night by night in local time."""
    inside = 0.0
    day = start.astimezone(zone).date() - timedelta(days=1)  # the night that began the eve
    while day <= end.astimezone(zone).date():
        midnight = datetime.combine(day, time())
        dusk = (midnight + timedelta(hours=NIGHT_HOURS[0])).replace(tzinfo=zone)
        dawn = (midnight + timedelta(days=1, hours=NIGHT_HOURS[1])).replace(tzinfo=zone)
        # To UTC before subtracting: real minutes, not wall-clock ones, on a DST night.
        overlap = min(end, dawn.astimezone(timezone.utc)) - max(
            start, dusk.astimezone(timezone.utc)
        )
        inside += max(overlap.total_seconds() / 60, 0.0)
        day += timedelta(days=1)
    return inside
