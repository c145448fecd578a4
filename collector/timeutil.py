"""Time parsing shared by the sources and the analysis (formatting: report.words.formats)."""

from __future__ import annotations

from datetime import datetime, timezone


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
