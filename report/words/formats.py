"""Numbers, durations, clock times and dates as people read them: the one module that formats.

The report's words (`report.words.Words`), its Jinja filters (`report.render`), the hand-off
messages and the charts' ticks all format through here. Timestamps stay ISO-like
('2025-10-25 14:32 UTC') in every language: unambiguous, and sorted as written. Durations and
numbers follow the language's catalogue: '1 h 04' and '12 500' in French, '1 h 4 min' and
'12,500' in English.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from report.words.labels import LABELS

NOTHING = "—"  # what stands for a value that is not there


def clock(
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
    time_format = "%H:%M:%S" if seconds else "%H:%M"
    dated = ("%m-%d " if short_date else "%Y-%m-%d ") + time_format
    utc_moment = moment.astimezone(timezone.utc)
    same = day is not None and utc_moment.date() == day.astimezone(timezone.utc).date()
    text = utc_moment.strftime(time_format if same else dated) + " UTC"
    if zone:
        local_zone = ZoneInfo(zone)
        local_moment = moment.astimezone(local_zone)
        same_local = day is not None and local_moment.date() == day.astimezone(local_zone).date()
        text += (
            f" ({local_moment.strftime(time_format if same_local else dated)} {local_moment:%Z})"
        )
    return text


def utc(value: datetime | None) -> str:
    """'2025-10-25 14:32 UTC'."""
    if value is None:
        return NOTHING
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def hhmm(value: datetime | None) -> str:
    """'14:32' (UTC)."""
    if value is None:
        return NOTHING
    return value.astimezone(timezone.utc).strftime("%H:%M")


def date(value: datetime | None) -> str:
    """'2025-10-25' (the UTC date)."""
    if value is None:
        return NOTHING
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d")


def local(value: datetime | None, zone: str | None) -> str:
    """The same moment in the configured zone, e.g. ' (16:32 CEST)', or '' without a zone."""
    if value is None or not zone:
        return ""
    return f" ({value.astimezone(ZoneInfo(zone)).strftime('%H:%M %Z')})"


def local_moment(value: datetime | None, zone: str | None) -> str:
    """'2025-10-25 16:32 CEST' in the configured zone; in UTC without one."""
    if value is None or not zone:
        return utc(value)
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def duration(span: timedelta | None, language: str) -> str:
    """'38 min', '1 min 30 s', '1 h 04' (French) or '1 h 4 min' (English), '3 j' / '3 days'."""
    if span is None:
        return NOTHING
    words = LABELS[language]
    seconds = math.floor(abs(span.total_seconds()) + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 48 and not minutes and not secs and hours % 24 == 0:
        return words["dur_days"].format(d=hours // 24)
    if hours:
        key = "dur_hours" if minutes else "dur_whole_hours"
        return words[key].format(h=hours, m=minutes)
    if not minutes and secs:
        return words["dur_seconds"].format(s=secs)
    if secs:
        return words["dur_min_sec"].format(m=minutes, s=secs)
    return words["dur_minutes"].format(m=minutes)


def number(value: float | None, digits: int | None = None, language: str = "en") -> str:
    """12,500 in English, 12 500 in French; one decimal unless the value is whole."""
    if value is None:
        return NOTHING
    if digits is None:
        digits = 0 if float(value).is_integer() else 1
    return _marks(f"{value:,.{digits}f}", language)


def exact(value: float, language: str) -> str:
    """A number as computed, up to six significant digits, no grouping: '0.633333' ('0,633333')."""
    return _marks(f"{value:g}", language)


def _marks(text: str, language: str) -> str:
    # The catalogue's decimal and grouping marks (French: "," and a plain space, which
    # Markdown escaping keeps, unlike the other spaces it folds into one).
    words = LABELS[language]
    marks = {".": words["decimal_mark"], ",": words["group_mark"]}
    return "".join(marks.get(char, char) for char in text)
