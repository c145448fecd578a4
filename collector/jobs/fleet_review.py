"""The analyst's memory-trend review of the fleet: draft a fleet snapshot's review, publish it.

`collector.sources.collect_fleet` gathers the snapshot; `draft_fleet_review` is the draft (the
snapshot read once, the analysis asked, the review worded, drawn and rendered into a staged
folder); `publish_review` publishes it as OUT/memory-trends-<until>/ atomically, never over a
report a person has edited (the same rules as an incident's folder).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from collector.config import Config
from collector.jobs.index import publish_staged
from collector.jobs.runner import Runner
from collector.output import Published
from collector.snapshot.fleet import FleetSnapshot, save_fleet_snapshot


def draft_fleet_review(
    snapshot: FleetSnapshot, config: Config, runner: Runner, folder: Path, now: datetime
) -> list[Path]:
    """Analyse the snapshot, draw the charts and write the review into `folder`; its files."""
    # pandas and matplotlib only when drafting: `collect` loads them while the sources answer.
    from collector.analysis.fleet_review import analyse_fleet
    from report.fleet_draft import plan_fleet_charts, write_fleet_review

    analysis = analyse_fleet(snapshot, config.fleet)
    source = snapshot.source()
    jobs = plan_fleet_charts(analysis, source, config, folder)
    # The charts are independent: the runner draws them in forked workers.
    charts = [path for path in runner.run(jobs) if path is not None]
    return write_fleet_review(analysis, source, config, now, charts, folder)


def publish_review(
    snapshot: FleetSnapshot, config: Config, out_dir: Path, *, force: bool, runner: Runner
) -> Published:
    """Draft the review in a staging folder, then publish it under the folder's lock."""

    def build(staging: Path, now: datetime) -> None:
        save_fleet_snapshot(snapshot, staging / "snapshot.json")
        draft_fleet_review(snapshot, config, runner, staging, now)

    return publish_staged(snapshot.folder_name, out_dir, config, build, force=force)
