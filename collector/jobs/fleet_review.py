"""The analyst's memory-trend review of the fleet: publish a fleet snapshot's review.

`collector.sources.collect_fleet` gathers the snapshot; `publish_review` renders it into
OUT/memory-trends-<until>/ atomically, never over a report a person has edited (the same rules
as an incident's folder).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from collector.config import Config
from collector.jobs.index import with_index
from collector.output import Published, discard_staging, lock_for, make_staging, publish
from collector.snapshot.fleet import FleetSnapshot, save_fleet_snapshot


def publish_review(
    snapshot: FleetSnapshot, config: Config, out_dir: Path, *, force: bool
) -> Published:
    """Render the review in a staging folder, then publish it under the folder's lock."""
    from report.fleet_draft import build_fleet_draft  # matplotlib only when drawing

    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    name = snapshot.folder_name
    with lock_for(out_dir, name):
        staging = make_staging(out_dir, name)
        try:
            save_fleet_snapshot(snapshot, staging / "snapshot.json")
            build_fleet_draft(snapshot, config, staging, now)
            published = publish(staging, out_dir, name, force=force, stamp=stamp)
            return with_index(published, out_dir, config)
        finally:
            discard_staging(staging)
