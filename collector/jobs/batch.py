"""Batch mode: draft every incident resolved in a window, exactly once.

An incident counts as drafted once `OUT/<ID>/report.md` exists. Each incident is checked,
collected and published while its lock (`collector.output.lock_for`) is held, so runs that
overlap (two cron jobs, the batch job and the webhook receiver) never draft one twice. A
report that exists is never touched, whether a person edited it or not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from collector.config import Config, ConfigError
from collector.errors import CollectorError
from collector.jobs.draft import publish_incident
from collector.jobs.handoff import announcer
from collector.jobs.index import refresh_index
from collector.jobs.runner import MAX_WORKERS, Runner, load_drawing
from collector.output import (
    REPORT,
    PublishStatus,
    clean_leftovers,
    discard_leftover_staging,
    is_edited,
    lock_for,
)
from collector.parallel import usable_cores
from collector.paths import INCIDENT_ID
from collector.snapshot.store import Snapshot, lost_data
from collector.sources import pagerduty as pd_source
from collector.sources.collect import collect_snapshot
from collector.sources.pagerduty_lists import list_resolved_incidents

Progress = Callable[[str], None]
# Given the number of incidents, a context that yields the step to call once per incident
# (the command line draws a bar on a terminal with it).
ProgressBar = Callable[[int], AbstractContextManager[Progress]]

# The longest --resolved-since window: each 180 days of it is one more listing of PagerDuty.
MAX_WINDOW = timedelta(days=1830)  # five years
_PRIORITY_RANK = re.compile(r"(\d+)")


class DraftStatus(str, Enum):
    """What became of one incident in a batch run (the words of its line and its metrics)."""

    DRAFTED = "drafted"
    SKIPPED = "skipped"  # drafted before: never twice
    FAILED = "failed"
    WAITING = "waiting"  # still open at PagerDuty (only with resolved_only)


@dataclass(frozen=True)
class Outcome:
    """What happened to one incident in a batch run."""

    incident_id: str
    status: DraftStatus
    reason: str
    notice: str = "off"  # the chat notice: "off" | "posted" | "skipped" | "failed"
    note: str = "off"  # the PagerDuty note, the same way
    warnings: tuple[str, ...] = ()


@dataclass
class BatchSummary:
    """All outcomes of a run, and whether the listing itself failed."""

    outcomes: list[Outcome] = field(default_factory=list)
    listing_error: str | None = None
    filtered: int = 0  # resolved in the window, left out by batch.min_priority
    index_warning: str | None = None  # OUT/index.html could not be rebuilt at the end

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.listing_error is None and all(
            o.status is not DraftStatus.FAILED for o in self.outcomes
        )

    def report_lines(self) -> list[str]:
        """One human-readable line per incident (and one for a failed listing)."""
        lines = []
        for o in self.outcomes:
            lines.append(f"{o.status.value}: {o.incident_id}: {o.reason}")
            lines.extend(f"warning: {o.incident_id}: {warning}" for warning in o.warnings)
        if self.index_warning is not None:
            lines.append(f"warning: {self.index_warning}")
        if self.listing_error is not None:
            lines.append(f"failed: listing resolved incidents: {self.listing_error}")
        return lines

    def summary_line(self) -> str:
        """One machine-readable line: `summary: {json}`."""
        counts = {
            s.value: sum(1 for o in self.outcomes if o.status is s)
            for s in (DraftStatus.DRAFTED, DraftStatus.SKIPPED, DraftStatus.FAILED)
        }
        return "summary: " + json.dumps(
            {**counts, "filtered": self.filtered, "listing_error": self.listing_error}
        )


def run_batch(
    config: Config,
    window: timedelta,
    out_dir: Path,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    bar: ProgressBar | None = None,
    runner: Runner | None = None,
) -> BatchSummary:
    """Draft every incident resolved within `window` before `now` that has no report yet.

    Progress is said in lines through `progress`, or, while drafting, shown by `bar`. The
    drafts are published without OUT/index.html, which is rebuilt once at the end.
    """
    now = now or datetime.now(timezone.utc)
    min_rank = min_priority_rank(config.batch.min_priority, config.source)
    say = progress or _quiet
    for leftover in clean_leftovers(out_dir):
        say(f"removed {leftover.name}, left by an interrupted run")
    say(f"listing incidents resolved since {now - window:%Y-%m-%d %H:%M} UTC")
    try:
        incidents = _list_resolved(config, now - window, now)
    except pd_source.PagerDutyError as exc:
        return BatchSummary(listing_error=str(exc))
    selected = [item for item in incidents if passes_priority(item, min_rank)]
    summary = BatchSummary(filtered=len(incidents) - len(selected))
    left_out = (
        f" ({summary.filtered} below {config.batch.min_priority})" if summary.filtered else ""
    )
    say(f"{len(selected)} resolved incidents to consider{left_out}")
    ids = [str(item.get("id", "")) for item in selected]
    steps = bar(len(ids)) if bar is not None and ids else nullcontext(progress or _quiet)
    try:
        summary.outcomes = _draft_all(ids, config, out_dir, steps, runner or Runner())
    finally:
        # Rebuilt from every folder under --out, after each draft it was quadratic in the
        # batch's size (and the workers queued for its lock). Here, even when a draft failed
        # or the run was interrupted, it lists what was drafted (and what an earlier run left).
        if ids:
            summary.index_warning = refresh_index(out_dir, config)
    return summary


def draft_once(
    config: Config,
    out_dir: Path,
    incident_id: str,
    *,
    resolved_only: bool = False,
    runner: Runner | None = None,
    index: bool = True,
) -> Outcome:
    """Draft one incident unless its report exists; never raises for that incident's failures.

    With `resolved_only`, an incident the API still reports open is not drafted: the outcome is
    "waiting" (a webhook's incident.resolved can arrive before the API reads resolved). With
    `index` false, OUT/index.html is not rebuilt: the caller does it.
    """
    if not INCIDENT_ID.match(incident_id):
        return Outcome(incident_id or "?", DraftStatus.FAILED, "not a PagerDuty incident ID")
    if (out_dir / incident_id / REPORT).exists():  # cheap check first; the real one is locked
        return _already_drafted(out_dir, incident_id)
    try:
        with lock_for(out_dir, incident_id):
            if (out_dir / incident_id / REPORT).exists():
                return _already_drafted(out_dir, incident_id)
            discard_leftover_staging(out_dir, incident_id)
            snapshot = collect_snapshot(config, incident_id)
            state = (snapshot.pagerduty.get("incident") or {}).get("status")
            if resolved_only and state != "resolved":
                return Outcome(
                    incident_id, DraftStatus.WAITING, f"PagerDuty still reports it {state}"
                )
            from report.words import lost_line

            missing = [lost_line(lost) for lost in lost_data(snapshot, None)]
            if missing:
                # Published means never drafted again, and the log is the timeline: a report
                # without it waits for the next run. Missing alerts or notes are only noted.
                return Outcome(
                    incident_id, DraftStatus.FAILED, "; ".join(missing) + " (retried next run)"
                )
            return _publish_locked(snapshot, config, out_dir, runner or Runner(), index=index)
    except Exception as exc:  # one bad incident (bad data, a bug) must not stop the others
        return Outcome(incident_id, DraftStatus.FAILED, _describe(exc))


def _draft_unindexed(config: Config, out_dir: Path, incident_id: str, *, runner: Runner) -> Outcome:
    """`draft_once` for a batch: the index is rebuilt once, when the batch ends."""
    return draft_once(config, out_dir, incident_id, runner=runner, index=False)


def _list_resolved(config: Config, since: datetime, until: datetime) -> list[dict[str, Any]]:
    ca = config.ca_file
    with pd_source.make_client(config.pagerduty, ca) as client:
        return list_resolved_incidents(
            client,
            since,
            until,
            created_lookback=config.batch.created_lookback,
            filters=batch_filters(config),
            max_concurrency=config.pagerduty.max_concurrency,
        )


def batch_filters(config: Config) -> dict[str, list[str]]:
    """The `batch:` settings' filters as the incident list endpoint takes them."""
    settings = config.batch
    return {
        "service_ids": list(settings.services),
        "team_ids": list(settings.teams),
        "urgencies": list(settings.urgencies),
    }


def _draft_all(
    ids: Sequence[str],
    config: Config,
    out_dir: Path,
    steps: AbstractContextManager[Progress],
    runner: Runner,
) -> list[Outcome]:
    workers = drafting_processes(config.batch.workers, usable_cores(), len(ids))
    with steps as step:
        if workers == 1:
            load_drawing()  # before any incident's objects exist: it freezes what it finds
            results = (_draft_unindexed(config, out_dir, iid, runner=runner) for iid in ids)
            return _report_each(results, len(ids), step)
        # Each incident keeps its own lock, so the exactly-once rule is the same as in one
        # process.
        calls = [(config, out_dir, incident_id) for incident_id in ids]
        drafted = runner.in_drafting_processes(_draft_unindexed, calls, workers)
        return _report_each(drafted, len(ids), step)


def drafting_processes(setting: int | None, cores: int, incidents: int) -> int:
    """How many incidents a batch drafts at once, each in a process of its own: `batch.workers`
    when set, else one more than the cores, up to MAX_WORKERS (each holds a few hundred MiB).

    Drafting is mostly CPU (the charts), with waits on PagerDuty and Prometheus between: a
    process more than the cores keeps them busy while one waits (200 incidents on 2 cores: 3
    processes took 8 % less time than 2, and 4 no less than 2; benchmarks/README.md). On one
    core (a small container, often with little memory), one at a time, in this process.
    """
    wanted = setting if setting is not None else min(cores + 1, MAX_WORKERS) if cores > 1 else 1
    return max(1, min(wanted, incidents))


def _report_each(results: Iterator[Outcome], total: int, step: Progress) -> list[Outcome]:
    outcomes = []
    for number, outcome in enumerate(results, 1):
        step(f"[{number}/{total}] {outcome.status.value} {outcome.incident_id}")
        outcomes.append(outcome)
    return outcomes


def _publish_locked(
    snapshot: Snapshot, config: Config, out_dir: Path, runner: Runner, *, index: bool
) -> Outcome:
    announce = announcer(snapshot, config, out_dir)
    published = publish_incident(
        snapshot, config, runner, out_dir, force=False, announce=announce, index=index
    )
    count = len(snapshot.gaps)
    notes = f" (with {count} missing-data note{'s' * (count != 1)})" if count else ""
    reason = published.message
    if published.status is PublishStatus.WRITTEN:
        reason = f"{published.folder / REPORT}{notes}"
    outcome = Outcome(
        snapshot.incident_id, DraftStatus.DRAFTED, reason, warnings=published.warnings
    )
    if published.handoff is None:
        return outcome
    sent = published.handoff
    warnings = (*sent.warnings, *published.warnings)
    return replace(outcome, notice=sent.notice.value, note=sent.note.value, warnings=warnings)


def _already_drafted(out_dir: Path, incident_id: str) -> Outcome:
    if is_edited(out_dir / incident_id):
        return Outcome(
            incident_id, DraftStatus.SKIPPED, "already drafted; edited by a person, untouched"
        )
    return Outcome(incident_id, DraftStatus.SKIPPED, "already drafted")


def min_priority_rank(name: str | None, source: str) -> int | None:
    """The rank of `batch.min_priority` (P2: 2), None when unset; a bad name is a ConfigError."""
    if name is None:
        return None
    rank = _priority_rank(name)
    if rank is None:
        raise ConfigError(
            f"{source}: key 'batch.min_priority': expected a priority name such as P2, got {name!r}"
        )
    return rank


def _priority_rank(name: str) -> int | None:
    # PagerDuty's standard priorities are P1 (highest) to P5: a lower number ranks higher.
    match = _PRIORITY_RANK.search(name)
    return int(match.group(1)) if match else None


def passes_priority(item: dict[str, Any], min_rank: int | None) -> bool:
    """Whether a listed incident ranks at `min_rank` or higher (always, with no minimum)."""
    if min_rank is None:
        return True
    priority = item.get("priority") or {}
    name = priority.get("summary") or priority.get("name")
    rank = _priority_rank(str(name)) if name else None
    return rank is not None and rank <= min_rank


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, CollectorError):
        return text
    return f"{type(exc).__name__}: {text}"


def _quiet(_message: str) -> None:
    """Discard progress messages."""
