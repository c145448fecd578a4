"""`collect --review`: the team's review across incidents, gathered, drafted and published.

The listing follows the `batch:` filters (services, teams, urgencies, minimum priority). The
review is rendered in a staging folder and published as OUT/review-<until>/ under its lock,
never over a review a person has edited, then listed in OUT/index.html.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from collector.config import Config
from collector.jobs.batch import batch_filters, min_priority_rank, passes_priority
from collector.jobs.index import publish_staged
from collector.output import Published
from collector.snapshot.review import ReviewSnapshot, save_review_snapshot
from collector.sources.collect_review import collect_review_snapshot

# The longest review: two windows of it are listed (this one and the one it is compared with).
MAX_REVIEW = timedelta(days=915)


def run_review(
    config: Config, window: timedelta, until: datetime | None, out_dir: Path, *, force: bool
) -> tuple[ReviewSnapshot, Published]:
    """List the window's incidents, join their reports, publish the review."""
    min_rank = min_priority_rank(config.batch.min_priority, config.source)
    snapshot = collect_review_snapshot(
        config,
        window,
        until,
        out_dir,
        filters=batch_filters(config),
        keep=lambda item: passes_priority(item, min_rank),
    )
    return snapshot, publish_review(snapshot, config, out_dir, force=force)


def publish_review(
    snapshot: ReviewSnapshot, config: Config, out_dir: Path, *, force: bool
) -> Published:
    """Render the review in a staging folder, then publish it under the folder's lock."""
    from report.review_draft import build_review_draft  # matplotlib only when drawing

    def build(staging: Path, now: datetime) -> None:
        save_review_snapshot(snapshot, staging / "snapshot.json")
        build_review_draft(snapshot, config, staging, now)

    return publish_staged(snapshot.folder_name, out_dir, config, build, force=force)
