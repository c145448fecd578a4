"""Older snapshots read as the current ones: the one place that knows what schema v1 was.

Schema v1 (until 2026-12) kept each gap as the English line stderr showed ("Prometheus query
'x': why") and had to parse it back; v2 keeps the gap's fields (`snapshot.gaps`). v1's memory
trends also read a memory or swap query without a unit as in percent; v2 says the unit. A v1
file is migrated as it is loaded, before its schema is checked, and renders as it always did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from collector.records import Gap, GapKind
from collector.snapshot.gaps import gap_record, read_gap_record

V1 = 1
_PERCENT_KINDS = ("memory", "swap")


def migrate_snapshot(data: Any) -> Any:
    """An incident snapshot's parsed JSON in the current schema: a v1 one migrated in place,
    anything else as it is (the schema check then says what is wrong with it)."""
    if isinstance(data, dict) and data.get("schema_version") == V1:
        lines = data.get("gaps")
        data["gaps"] = [
            gap_record(read_v1_gap(line))
            for line in (lines if isinstance(lines, list) else ())
            if isinstance(line, str)
        ]
        prometheus = data.get("prometheus")
        results = prometheus.get("results") if isinstance(prometheus, dict) else None
        for record in results if isinstance(results, list) else ():
            # v1's memory trends took a memory or swap query without a unit as in percent.
            if isinstance(record, dict) and record.get("kind") in _PERCENT_KINDS:
                record.setdefault("unit", "%")
        data["schema_version"] = V1 + 1
    return data


def read_gaps(items: Any) -> list[Gap]:
    """The gaps of a snapshot's JSON, records or v1 lines alike (a fleet or review snapshot of
    schema 1 may hold either; anything else reads as none)."""
    gaps = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, str):
            gaps.append(read_v1_gap(item))
        elif isinstance(item, Mapping):
            gaps.append(read_gap_record(item))
    return gaps


def read_v1_gap(text: str) -> Gap:
    """A gap as schema v1 kept it (the line stderr showed) back as a record."""
    if text.startswith(_PROMETHEUS):
        name, _, detail = text.removeprefix(_PROMETHEUS).partition("': ")
        span = _SPAN.search(name)
        days = int(span.group(1)) if span else 0
        name = name[: span.start()] if span else name
        dropped = _DROPPED.fullmatch(detail)
        if dropped:
            return Gap("Prometheus", name, GapKind.DROPPED, "", int(dropped.group(1)), days=days)
        return Gap("Prometheus", name, GapKind.UNFETCHED, detail, days=days)
    if text.startswith(_PAGERDUTY):
        subject, _, detail = text.removeprefix(_PAGERDUTY).partition(": ")
        first = _TRUNCATED.match(detail)
        if first:
            count, total = int(first.group(1)), int(first.group(2))
            path = first.group(3) or ""
            return Gap("PagerDuty", subject, GapKind.TRUNCATED, path, count, total)
        return Gap("PagerDuty", subject, GapKind.UNFETCHED, detail)
    return Gap("", "", GapKind.OTHER, text)


_PROMETHEUS = "Prometheus query '"
_PAGERDUTY = "PagerDuty "
_DROPPED = re.compile(r"(\d+) samples that are not finite numbers \(NaN, ±Inf\) were left out")
_TRUNCATED = re.compile(
    r"only the first (\d+) of (\d+) were fetched"
    r"(?:; PagerDuty's pagination stops at \d+ and (.+) cannot be narrowed by time)?$"
)
_SPAN = re.compile(r" \((\d+) days\)$")
