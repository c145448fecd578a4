"""Put a drafted report in place: atomically, and never over a report a person has edited.

A draft is written into a staging folder beside the destination, then swapped in with renames,
so an interrupted run leaves either the old folder or the new one. The hash of the report.md
we wrote is kept in the folder; if the file no longer matches it, a person has edited it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from collector.config import Config
from collector.draft import build_draft
from collector.snapshot import Snapshot, save_snapshot

if TYPE_CHECKING:
    from collector.handoff import HandOff

STATE_FILE = ".collector.json"
REPORT = "report.md"
# Publish statuses that put a new report in place (a draft kept beside an edited one does not).
NEW_REPORT = frozenset({"written", "replaced", "forced"})


@dataclass(frozen=True)
class Published:
    """Where the draft went, and a one-line account of what happened."""

    folder: Path
    status: str  # "written", "replaced", "kept-edited", "forced"
    message: str
    handoff: HandOff | None = None  # the chat notice and PagerDuty note, when announced


def make_staging(out_dir: Path, incident_id: str) -> Path:
    """A fresh staging folder on the same file system as the destination."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{incident_id}.", suffix=".staging", dir=out_dir))
    staging.chmod(0o755)  # mkdtemp's 0700 would make the published folder private
    return staging


def discard_staging(staging: Path) -> None:
    """Remove a staging folder that will not be published."""
    shutil.rmtree(staging, ignore_errors=True)


def lock_for(out_dir: Path, incident_id: str) -> FileLock:
    """The lock that serialises every writer of one incident's folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # One lock object per file in a process: re-entrant for a caller that already holds it
    # (the batch holds it while deciding, then publishes).
    return FileLock(str(out_dir / f".{incident_id}.lock"), is_singleton=True)


def is_edited(folder: Path) -> bool:
    """True when report.md differs from what the collector last wrote (or its origin is unknown)."""
    report = folder / REPORT
    if not report.exists():
        return False
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return bool(state.get("report_sha256") != _sha256(report))


def publish(
    staging: Path, out_dir: Path, incident_id: str, *, force: bool, stamp: str
) -> Published:
    """Move the staged draft to out_dir/incident_id, respecting human edits."""
    final = out_dir / incident_id
    _recover(out_dir, incident_id)
    _write_state(staging, stamp)
    if not final.exists():
        os.rename(staging, final)
        return Published(final, "written", f"drafted {final / REPORT}")
    if is_edited(final) and not force:
        beside = final / "drafts" / stamp
        beside.parent.mkdir(exist_ok=True)
        os.rename(staging, beside)
        return Published(
            beside,
            "kept-edited",
            f"{final / REPORT} was edited by a person and is kept; the new draft is in"
            f" {beside / REPORT} (use --force to replace it, with a backup)",
        )
    if is_edited(final):
        backup = out_dir / f"{incident_id}.backup-{stamp}"
        os.rename(final, backup)
        os.rename(staging, final)
        return Published(
            final,
            "forced",
            f"replaced the edited report {final / REPORT}; the old folder is kept in {backup}",
        )
    old = out_dir / f".{incident_id}.old"
    os.rename(final, old)
    os.rename(staging, final)
    if (old / "drafts").exists():
        os.rename(old / "drafts", final / "drafts")
    shutil.rmtree(old, ignore_errors=True)
    return Published(final, "replaced", f"re-drafted {final / REPORT}")


def _recover(out_dir: Path, incident_id: str) -> None:
    # A run killed between its two renames leaves the previous folder under its ".old" name.
    old = out_dir / f".{incident_id}.old"
    final = out_dir / incident_id
    if old.exists() and not final.exists():
        os.rename(old, final)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _write_state(folder: Path, stamp: str) -> None:
    state = {"report_sha256": _sha256(folder / REPORT), "drafted_at": stamp}
    (folder / STATE_FILE).write_text(json.dumps(state) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def publish_draft(
    snapshot: Snapshot, config: Config, out_dir: Path, *, force: bool, announce: bool = False
) -> Published:
    """Render the snapshot's report in a staging folder, then publish it under the lock.

    With `announce`, a new report in place is handed off (chat notice, PagerDuty note) before
    the lock is released.
    """
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    with lock_for(out_dir, snapshot.incident_id):
        staging = make_staging(out_dir, snapshot.incident_id)
        try:
            save_snapshot(snapshot, staging / "snapshot.json")
            draft = build_draft(snapshot, config, staging, now)
            published = publish(staging, out_dir, snapshot.incident_id, force=force, stamp=stamp)
            if announce and published.status in NEW_REPORT:
                from collector.handoff import hand_off  # network clients, only when announcing

                result = hand_off(
                    draft.analysis, snapshot, config, out_dir, published.folder / STATE_FILE
                )
                published = replace(published, handoff=result)
            return published
        finally:
            discard_staging(staging)
