"""The fleet review's snapshot: its record, save and load, and the reader of its grids.

A fleet snapshot holds what `collect --memory-trends` fetched (`collector.sources.collect_fleet`);
`kind` tells it from an incident's snapshot. Reading it loads no network code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from collector.errors import SnapshotError
from collector.records import Gap
from collector.snapshot.gaps import gap_record
from collector.snapshot.migrate import read_gaps
from collector.timeutil import in_bounds, parse_time

FLEET_KIND = "fleet"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FleetSource:
    """What the review says of its sources, read once from the fleet snapshot."""

    prometheus_url: str
    selector: str
    requests: int
    window_s: float
    queries: list[tuple[str, str]]  # (name, title), in the snapshot's order
    gaps: list[Gap]


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

    def source(self) -> FleetSource:
        """Its sources and gaps, read once for the report."""
        prometheus = self.prometheus
        return FleetSource(
            prometheus_url=prometheus.get("url", ""),
            selector=prometheus.get("selector", ""),
            requests=prometheus.get("requests", 0),
            window_s=self.window_s,
            queries=[(query["name"], query["title"]) for query in prometheus["queries"]],
            gaps=list(self.gaps),
        )


def save_fleet_snapshot(snapshot: FleetSnapshot, path: Path) -> None:
    """Write the snapshot as compact UTF-8 JSON, `kind` first (`store.snapshot_kind`)."""
    save_kinded_snapshot(snapshot, path)


def save_kinded_snapshot(snapshot: Any, path: Path) -> None:
    """A review's snapshot (a dataclass with `kind` and `gaps`) as compact UTF-8 JSON, `kind`
    first: the fleet review's and the review across incidents' alike."""
    data = {"kind": snapshot.kind} | {f.name: getattr(snapshot, f.name) for f in fields(snapshot)}
    data["gaps"] = [gap_record(gap) for gap in snapshot.gaps]
    path.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )


def check_span(until: Any, window_s: Any) -> None:
    """A kinded snapshot's end and window, as its analysis reads them (the window and the one
    before it): a ValueError naming the field that cannot be."""
    end = parse_time(until) if isinstance(until, str) else None
    if end is None or not in_bounds(end):
        raise ValueError(f"until: expected a time from 1970 to 2261, got {str(until)[:40]!r}")
    if isinstance(window_s, bool) or not isinstance(window_s, int | float) or not window_s > 0:
        raise ValueError(f"window_s: expected a positive number of seconds, got {window_s!r:.40}")
    try:
        start = end - 2 * timedelta(seconds=window_s)
    except OverflowError:
        start = None
    if start is None or not in_bounds(start):
        raise ValueError(f"window_s: {window_s:.3g} seconds before until is before 1970")


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
        snapshot = FleetSnapshot(**{**data, "gaps": read_gaps(data.get("gaps"))})
        check_span(snapshot.until, snapshot.window_s)
        snapshot.prometheus["screen"].items()
    except (TypeError, KeyError, ValueError, AttributeError, OverflowError) as exc:
        raise SnapshotError(f"{path}: snapshot is incomplete or damaged ({exc})") from exc
    return snapshot


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
