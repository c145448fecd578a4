"""Time parsing shared by the sources and the analysis (formatting: report.words.formats)."""

from __future__ import annotations

from datetime import datetime, timezone

# Times outside these years are refused wherever they come in: pandas' timestamps end in April
# 2262, and arithmetic around a time (padding, look-back, a 28-day window) must not overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2262, 1, 1, tzinfo=timezone.utc)


def in_bounds(value: datetime) -> bool:
    """Whether a time lies within the years the collector can compute with (1970-2261)."""
    return EARLIEST <= value <= LATEST


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
