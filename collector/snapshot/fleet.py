"""The fleet review's snapshot: its record, save and load, and the reader of its grids.

A fleet snapshot holds what `collect --memory-trends` fetched (`collector.sources.collect_fleet`);
`kind` tells it from an incident's snapshot. Reading it loads no network code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from collector.errors import SnapshotError
from collector.records import Gap, GapKind
from collector.snapshot.store import read_gap
from collector.timeutil import parse_time

FLEET_KIND = "fleet"
SCHEMA_VERSION = 1


@dataclass
class FleetSnapshot:
    """Everything the fleet review fetched; `kind` tells it from an incident's snapshot."""

    collected_at: str
    tool_version: str
    until: str
    window_s: float
    prometheus: dict[str, Any]
    pagerduty: dict[str, Any]
    gaps: list[Gap] = field(default_factory=list)
    kind: str = FLEET_KIND
    schema_version: int = SCHEMA_VERSION

    @property
    def folder_name(self) -> str:
        """The report's folder: memory-trends-<until as YYYY-MM-DD>."""
        return f"memory-trends-{parse_time(self.until):%Y-%m-%d}"


def save_fleet_snapshot(snapshot: FleetSnapshot, path: Path) -> None:
    """Write the snapshot as compact UTF-8 JSON, `kind` first (see `is_fleet_snapshot`)."""
    save_kinded_snapshot(snapshot, path)


def save_kinded_snapshot(snapshot: Any, path: Path) -> None:
    """A review's snapshot (a dataclass with `kind` and `gaps`) as compact UTF-8 JSON, `kind`
    first: the fleet review's and the review across incidents' alike."""
    data = {"kind": snapshot.kind} | {f.name: getattr(snapshot, f.name) for f in fields(snapshot)}
    data["gaps"] = [_gap_record(gap) for gap in snapshot.gaps]
    path.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )


def load_fleet_snapshot(path: Path) -> FleetSnapshot:
    """Read a snapshot written by `save_fleet_snapshot`, checking its shape."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}: not a snapshot, invalid JSON at line {exc.lineno}") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"{path}: not a fleet snapshot of version {SCHEMA_VERSION}; re-collect it with"
            " `collect --memory-trends 28d`"
        )
    try:
        snapshot = FleetSnapshot(**{**data, "gaps": read_fleet_gaps(data.get("gaps"))})
        parse_time(snapshot.until)
        snapshot.prometheus["screen"].items()
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"{path}: snapshot is incomplete or damaged ({exc})") from exc
    return snapshot


def _gap_record(gap: Gap) -> dict[str, str | int]:
    record: dict[str, str | int] = {
        "source": gap.source,
        "subject": gap.subject,
        "kind": gap.kind.value,
        "detail": gap.detail,
    }
    counts = {"count": gap.count, "total": gap.total, "days": gap.days}
    return record | {name: value for name, value in counts.items() if value}


def read_fleet_gaps(items: Any) -> list[Gap]:
    """The gaps of a fleet snapshot's JSON: records, or lines of text (older snapshots)."""
    gaps = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, str):
            gaps.append(read_gap(item))
        elif isinstance(item, dict):
            gaps.append(_read_gap_record(item))
    return gaps


def _read_gap_record(item: dict[str, Any]) -> Gap:
    try:
        kind = GapKind(item.get("kind"))
    except ValueError:
        kind = GapKind.OTHER
    source, subject = str(item.get("source") or ""), str(item.get("subject") or "")
    count, total, days = (_count(item.get(name)) for name in ("count", "total", "days"))
    return Gap(source, subject, kind, str(item.get("detail") or ""), count, total, days or 0)


def _count(value: Any) -> int | None:
    # Damaged counts read as none: they only shape the words of the gap.
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


FloatArray = npt.NDArray[np.float64]


def read_grid(grid: dict[str, Any]) -> list[tuple[dict[str, str], FloatArray, FloatArray]]:
    """Each series of a grid as (labels, unix seconds, values), missing points dropped."""
    start = parse_time(grid["start"]).timestamp()
    step = float(grid["step"])
    out = []
    for series in grid.get("series") or ():
        raw = np.array(series["values"], dtype=np.float64)  # null (None) becomes NaN
        times = start + step * np.arange(raw.size, dtype=np.float64)
        keep = np.isfinite(raw)
        out.append((dict(series.get("metric", {})), times[keep], raw[keep]))
    return out
