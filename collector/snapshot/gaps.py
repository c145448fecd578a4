"""A gap as every snapshot keeps it (incident, fleet, review): a record of facts, no sentence.

`report.words` words a gap (`Words.gap` for a report, `gap_line` for stderr); the snapshot
keeps only what it is made of, so a gap is never parsed back from its words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.records import Gap, GapKind

GAP_KINDS = tuple(kind.value for kind in GapKind)


def gap_record(gap: Gap) -> dict[str, str | int]:
    """The gap as the snapshot keeps it: source, subject, kind, detail, and its counts if any."""
    record: dict[str, str | int] = {
        "source": gap.source,
        "subject": gap.subject,
        "kind": gap.kind.value,
        "detail": gap.detail,
    }
    counts = {"count": gap.count, "total": gap.total, "days": gap.days}
    return record | {name: value for name, value in counts.items() if value}


def read_gap_record(item: Mapping[str, Any]) -> Gap:
    """A gap record back as a `Gap`; damaged fields read as none (they only shape words)."""
    try:
        kind = GapKind(item.get("kind"))
    except ValueError:
        kind = GapKind.OTHER
    source, subject = str(item.get("source") or ""), str(item.get("subject") or "")
    count, total, days = (_count(item.get(name)) for name in ("count", "total", "days"))
    return Gap(source, subject, kind, str(item.get("detail") or ""), count, total, days or 0)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
