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
from collector.jobs.runner import Runner
from collector.output import Published
from collector.snapshot.review import ReviewSnapshot, load_review_snapshot, save_review_snapshot
from collector.sources.collect_review import collect_review_snapshot

# The longest review: two windows of it are listed (this one and the one it is compared with).
MAX_REVIEW = timedelta(days=915)


def run_review(
    config: Config,
    window: timedelta,
    until: datetime | None,
    out_dir: Path,
    *,
    force: bool,
    runner: Runner,
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
    return snapshot, publish_review(snapshot, config, out_dir, force=force, runner=runner)


def rerender_review(
    path: Path, config: Config, out_dir: Path, force: bool, runner: Runner
) -> tuple[ReviewSnapshot, Published]:
    """`collect --snapshot` of a review's snapshot.json: the review drafted again from what
    was listed and read then, offline (another language, a newer `collect`)."""
    snapshot = load_review_snapshot(path)
    return snapshot, publish_review(snapshot, config, out_dir, force=force, runner=runner)


def draft_review(
    snapshot: ReviewSnapshot, config: Config, runner: Runner, folder: Path, now: datetime
) -> None:
    """Ask analysis for the review's facts, draw the charts and write the review's files."""
    # matplotlib only when drafting
    from collector.analysis.review_window import analyse_review
    from report.review_draft import plan_review_charts, write_review

    analysis = analyse_review(snapshot)
    jobs = plan_review_charts(analysis, config.report.language, folder)
    charts = [path for path in runner.run(jobs) if path is not None]
    write_review(analysis, snapshot.origin(), config, now, charts, folder)


def publish_review(
    snapshot: ReviewSnapshot, config: Config, out_dir: Path, *, force: bool, runner: Runner
) -> Published:
    """Draft the review in a staging folder, then publish it under the folder's lock."""

    def build(staging: Path, now: datetime) -> None:
        save_review_snapshot(snapshot, staging / "snapshot.json")
        draft_review(snapshot, config, runner, staging, now)

    return publish_staged(snapshot.folder_name, out_dir, config, build, force=force)
