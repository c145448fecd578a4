"""The analyst's memory-trend review of the fleet: publish a fleet snapshot's review.

`collector.sources.collect_fleet` gathers the snapshot; `publish_review` renders it into
OUT/memory-trends-<until>/ atomically, never over a report a person has edited (the same rules
as an incident's folder).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from collector.config import Config
from collector.jobs.index import publish_staged
from collector.output import Published
from collector.snapshot.fleet import FleetSnapshot, save_fleet_snapshot


def publish_review(
    snapshot: FleetSnapshot, config: Config, out_dir: Path, *, force: bool
) -> Published:
    """Render the review in a staging folder, then publish it under the folder's lock."""
    from report.fleet_draft import build_fleet_draft  # matplotlib only when drawing

    def build(staging: Path, now: datetime) -> None:
        save_fleet_snapshot(snapshot, staging / "snapshot.json")
        build_fleet_draft(snapshot, config, staging, now)

    return publish_staged(snapshot.folder_name, out_dir, config, build, force=force)
