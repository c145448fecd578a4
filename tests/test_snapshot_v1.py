"""A snapshot of schema v1 (gaps kept as English lines) still renders exactly as before.

fixtures/v1/demo_snapshot.json is the demo snapshot as schema v1 wrote it, kept unchanged;
fixtures/demo/snapshot.json is the same incident in the current schema (migrated once by
`collector.snapshot.migrate`). Both are drafted offline, with the same gaps in each one's own
form, and every file the drafts write is compared byte for byte.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import DEMO_SNAPSHOT, FIXTURES

from collector.cli import main
from collector.records import Gap, GapKind
from collector.snapshot.gaps import gap_record
from collector.snapshot.migrate import migrate_snapshot
from collector.snapshot.schema import SCHEMA_VERSION, check_snapshot
from report.words import gap_line

V1_SNAPSHOT = FIXTURES / "v1" / "demo_snapshot.json"

# One gap of each form schema v1 wrote, as records.
GAPS = [
    Gap("PagerDuty", "notes", GapKind.UNFETCHED, "PagerDuty answered HTTP 500"),
    Gap("PagerDuty", "alerts", GapKind.TRUNCATED, "/incidents/P7DBOOM/alerts", 10000, 12500),
    Gap("Prometheus", "swap_used", GapKind.UNFETCHED, "Prometheus answered HTTP 503"),
    Gap("Prometheus", "memory_used", GapKind.DROPPED, "", count=1250),
    Gap("Prometheus", "memory_used", GapKind.UNFETCHED, "timeout", days=28),
]
# The lines schema v1 kept for them: those stderr shows.
LINES = [
    "PagerDuty notes: PagerDuty answered HTTP 500",
    "PagerDuty alerts: only the first 10000 of 12500 were fetched; PagerDuty's pagination stops"
    " at 10000 and /incidents/P7DBOOM/alerts cannot be narrowed by time",
    "Prometheus query 'swap_used': Prometheus answered HTTP 503",
    "Prometheus query 'memory_used': 1250 samples that are not finite numbers (NaN, ±Inf) were"
    " left out",
    "Prometheus query 'memory_used (28 days)': timeout",
]


def undated(content: bytes) -> bytes:
    """The content without the time of the draft (snapshot.json, the state file, the index)."""
    content = re.sub(rb'"drafted_at": ?"[^"]*"', b"", content)
    return re.sub(rb'<p class="updated">Updated [^.]*\.', b"", content)


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def draft(snapshot: dict[str, Any], folder: Path) -> tuple[dict[str, bytes], str]:
    """Every file of the offline draft of `snapshot` (by relative path), and stderr."""
    folder.mkdir()
    path = folder / "snapshot.json"
    path.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(main, ["--snapshot", str(path), "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    return files, result.stderr


def test_the_bundled_snapshots_are_v1_and_current() -> None:
    assert read(V1_SNAPSHOT)["schema_version"] == 1
    assert read(DEMO_SNAPSHOT)["schema_version"] == SCHEMA_VERSION == 2
    assert migrate_snapshot(read(V1_SNAPSHOT)) == read(DEMO_SNAPSHOT)
    v1 = read(V1_SNAPSHOT)
    assert check_snapshot(v1) is not None  # only its migration is checked


def test_gap_lines_of_v1_read_back_as_the_records_they_were_written_from() -> None:
    assert [gap_line(gap) for gap in GAPS] == LINES
    migrated = migrate_snapshot({**read(V1_SNAPSHOT), "gaps": LINES})
    assert migrated["gaps"] == [gap_record(gap) for gap in GAPS]
    assert check_snapshot(migrated) is None


def test_a_v1_snapshot_renders_as_its_v2_migration_byte_for_byte(tmp_path: Path) -> None:
    v1_files, v1_stderr = draft({**read(V1_SNAPSHOT), "gaps": LINES}, tmp_path / "v1")
    v2 = {**read(DEMO_SNAPSHOT), "gaps": [gap_record(gap) for gap in GAPS]}
    v2_files, v2_stderr = draft(v2, tmp_path / "v2")
    assert v1_stderr == v2_stderr and all(f"warning: {line}" in v1_stderr for line in LINES)
    assert sorted(v1_files) == sorted(v2_files)
    # Every file the same bytes, snapshot.json included (a draft writes its snapshot in the
    # current schema), once the time of the draft is out.
    differ = [name for name in v1_files if undated(v1_files[name]) != undated(v2_files[name])]
    assert differ == []
    assert v1_files["P7DBOOM/snapshot.json"].count(b'"drafted_at"') == 1
    assert b"memory\\_used' (28 days): timeout" in v1_files["P7DBOOM/report.md"]
