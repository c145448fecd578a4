"""The snapshot: everything fetched for one incident, enough to re-render with no network.

`collector.sources.collect.collect_snapshot` asks the sources; `save_snapshot` and
`load_snapshot` move it to and from disk. Everything after the snapshot is pure and can be
re-run offline from it: this module imports no network code, so neither does a re-render.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

from collector.errors import SnapshotError
from collector.records import Gap, GapKind, LostData, LostPart
from collector.snapshot.gaps import gap_record, read_gap_record
from collector.snapshot.migrate import migrate_snapshot, read_gaps
from collector.snapshot.samples import Samples
from collector.snapshot.schema import SCHEMA_VERSION, check_log_entry, check_snapshot
from collector.snapshot.stream import ItemCheck, OnDisk, load_json

# The log entries of a huge incident are left in the snapshot file (`stream.OnDisk`): a
# million of them would take gigabytes as objects, kept only to be written back to snapshot.json and
# counted. They are read again, one at a time, to make the records and to write them back.
LOG_ENTRIES = ("pagerduty", "log_entries")


@dataclass
class Snapshot:
    """Raw data from every source, with what could not be gathered stated in `gaps`."""

    incident_id: str
    collected_at: str
    tool_version: str
    pagerduty: dict[str, Any]
    prometheus: dict[str, Any]
    gaps: list[Gap] = field(default_factory=list)
    # The settings the draft beside it was made with (`collector.config.stored`); None: a
    # snapshot just collected, or one written before snapshots kept them.
    settings: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        """The record of a snapshot's JSON (migrated and checked by `load_snapshot`)."""
        return cls(**{**data, "gaps": [read_gap_record(item) for item in data.get("gaps") or ()]})


def sample_count(snapshot: Snapshot) -> int:
    """How many samples the snapshot's query results hold (baselines included)."""
    results = snapshot.prometheus.get("results")
    count = 0
    for record in results if isinstance(results, list) else ():
        for key in ("result", "baseline_result"):
            series_list = record.get(key) if isinstance(record, Mapping) else None
            for series in series_list if isinstance(series_list, list) else ():
                values = series.get("values") if isinstance(series, Mapping) else None
                count += len(values) if isinstance(values, list | tuple | Samples) else 0
    return count


def log_entries_on_disk(snapshot: Snapshot) -> bool:
    """Whether the snapshot's log entries were left in its file (a huge incident's)."""
    return isinstance(snapshot.pagerduty.get("log_entries"), OnDisk)


def save_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot as compact UTF-8 JSON."""
    # A shallow dict and no indent: asdict() would deep-copy every sample and `indent` forces
    # the pure-Python encoder; on a big incident that was a fifth of the run.
    data = {f.name: getattr(snapshot, f.name) for f in fields(snapshot)}
    data["gaps"] = [gap_record(gap) for gap in snapshot.gaps]
    if snapshot.settings is None:
        del data["settings"]  # as snapshots without them always were
    with path.open("w", encoding="utf-8") as out:
        _write_compact(out, data, depth=5)
        out.write("\n")


def _write_compact(out: TextIO, value: Any, depth: int) -> None:
    """`value` as compact JSON (what `json.dumps(value, ensure_ascii=False, separators=(",",
    ":"))` gives), written part by part down to `depth` levels of objects and arrays, and
    down to every series' `Samples` (written as their pairs): a big incident's samples are
    never one huge string (four times as big once a title brings a character beyond
    Latin-1), nor copied again to add a newline and encode."""
    walked = isinstance(value, dict) and (
        depth > 0 or any(isinstance(v, Samples) for v in value.values())
    )
    if walked and all(isinstance(k, str) for k in value):
        out.write("{")
        for number, (key, item) in enumerate(value.items()):
            out.write(("," if number else "") + json.dumps(key, ensure_ascii=False) + ":")
            _write_compact(out, item, max(depth - 1, 0))
        out.write("}")
    elif isinstance(value, Samples):
        out.write(value.json_text())
    elif depth > 0 and isinstance(value, list | OnDisk):
        out.write("[")
        for number, item in enumerate(value):
            out.write("," if number else "")
            _write_compact(out, item, depth - 1)
        out.write("]")
    else:  # deeper `Samples` (the alerting rules' evaluations: a few series) as their pairs
        out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_pairs))


def _pairs(value: object) -> object:
    if isinstance(value, Samples):
        return value.pairs()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def load_snapshot(path: Path, *, shipped: bool = False) -> Snapshot:
    """Read a snapshot written by `save_snapshot` (of this version or migrated from an older
    one), checking it against its schema.

    `shipped`: the bundled demo snapshot, installed with this code and proven valid by
    tests/test_demo_snapshot.py, is not checked again (a sixth of the demo's run). Only
    `collect --demo` says so: a snapshot a user names, a copy of the demo too, is checked.
    """
    data = migrate_snapshot(_read_json(path, left_on_disk={LOG_ENTRIES: check_log_entry}))
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"{path}: not a snapshot of version {SCHEMA_VERSION}; re-collect it with"
            " `collect --incident ID`"
        )
    problem = None if shipped else check_snapshot(data)
    if problem is not None:
        raise SnapshotError(f"{path}: snapshot is incomplete or damaged: {problem}")
    return Snapshot.from_json(data)


def _read_json(
    path: Path,
    object_hook: Callable[[dict[str, Any]], Any] | None = None,
    left_on_disk: Mapping[tuple[str, ...], ItemCheck] | None = None,
) -> Any:
    # Read a piece at a time, repeated references shared: a million log entries then take
    # less than their text alone (benchmarks/huge_incident.py).
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return load_json(handle, object_hook, left_on_disk)
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}: not a snapshot, invalid JSON at line {exc.lineno}") from exc
    except (ValueError, RecursionError) as exc:  # not UTF-8, 5,000-digit numbers, deep nesting
        raise SnapshotError(f"{path}: not a snapshot ({type(exc).__name__})") from exc


def read_published(path: Path) -> dict[str, Any] | None:
    """The snapshot of a published report as raw JSON, without the samples of its series
    (`lost_data` counts series), or None if there is none to read.

    Each series' samples are dropped as soon as they are read: a big incident's published
    snapshot would otherwise take as much memory again, beside the new one, on every re-draft.
    """
    try:
        # Only a regular file, not a link: a FIFO there would hang the run, /dev/zero fill it.
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        # Only counted (`lost_data`): a huge incident's entries are left on disk unchecked.
        data = _read_json(path, _without_samples, {LOG_ENTRIES: _unchecked})
    except (SnapshotError, OSError):
        return None
    return migrate_snapshot(data) if isinstance(data, dict) else None


def _unchecked(_index: int, _item: Any) -> None:
    return None


def _without_samples(value: dict[str, Any]) -> dict[str, Any]:
    if "values" in value and "metric" in value:  # a series of a query result
        del value["values"]
    return value


def lost_data(new: Snapshot, published: Mapping[str, Any] | None) -> list[LostData]:
    """What the new snapshot lacks that the published one has; [] if nothing.

    With nothing published, a snapshot whose PagerDuty log could not be fetched counts as
    poorer: the log is the timeline. Otherwise: fewer log entries, fewer series for a query,
    or a source that failed where it had not. `report.words.lost_line` words each.
    """
    if published is None:
        return [LostData(LostPart.SOURCE, gap=gap) for gap in new.gaps if _is_missing_log(gap)]
    old_pd, old_prom = _mapping(published.get("pagerduty")), _mapping(published.get("prometheus"))
    lost: list[LostData] = []
    old_count, new_count = (
        _count(old_pd.get("log_entries")),
        _count(new.pagerduty.get("log_entries")),
    )
    if new_count < old_count:
        lost.append(LostData(LostPart.LOG_ENTRIES, before=old_count, after=new_count))
    new_series = _series_counts(new.prometheus)
    for name, count in _series_counts(old_prom).items():
        if new_series.get(name, 0) < count:
            lost.append(LostData(LostPart.SERIES, name, count, new_series.get(name, 0)))
    old_failed = _failures(read_gaps(published.get("gaps")), old_prom)
    lost.extend(
        LostData(LostPart.SOURCE, gap=gap)
        for source, gap in _failures(new.gaps, new.prometheus).items()
        if source not in old_failed
    )
    return lost


def _is_missing_log(gap: Gap) -> bool:
    return gap.source == "PagerDuty" and gap.subject == "log_entries"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list | OnDisk) else 0


def _series_counts(prometheus: Mapping[str, Any]) -> dict[str, int]:
    results = prometheus.get("results")
    return {
        str(r.get("name")): _count(r.get("result"))
        for r in (results if isinstance(results, list) else ())
        if isinstance(r, Mapping)
    }


def _failures(gaps: list[Gap], prometheus: Mapping[str, Any]) -> dict[str, Gap]:
    # Source -> why it failed: the PagerDuty lists that could not be fetched, the failed queries.
    failed = {f"PagerDuty {gap.subject}": gap for gap in gaps if gap.source == "PagerDuty"}
    results = prometheus.get("results")
    for r in results if isinstance(results, list) else ():
        if isinstance(r, Mapping) and r.get("error"):
            name = str(r.get("name"))
            failed[f"query {name}"] = Gap("Prometheus", name, GapKind.UNFETCHED, str(r["error"]))
    return failed


_KIND_HEAD = re.compile(rb'^\s*\{\s*"kind"\s*:\s*"(fleet|review)"')


def snapshot_kind(path: Path) -> str | None:
    """ "fleet" or "review" when the file starts like the snapshot of a fleet review or of a
    review across incidents (both write `kind` first), read without parsing it; None for
    anything else (an incident's snapshot, or a file that its loader will refuse)."""
    try:
        with Path(path).open("rb") as handle:
            found = _KIND_HEAD.match(handle.read(256))
    except OSError:
        return None
    return found.group(1).decode() if found else None
