"""Put a drafted report in place: atomically, and never over a report a person has edited.

A draft is written into a staging folder beside the destination, then swapped in with renames,
so an interrupted run leaves either the old folder or the new one. The hash of the report.md
we wrote is kept in the folder; if the file no longer matches it, a person has edited it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from collector.config import Config
from collector.config.stored import settings_record
from collector.errors import OutputError
from collector.files import read_regular_file
from collector.parallel import Background, start_background
from collector.paths import is_report_folder, path_under, shorten
from collector.snapshot.store import (
    Snapshot,
    log_entries_on_disk,
    lost_data,
    read_published,
    sample_count,
    save_snapshot,
)
from report.pdf import PdfOutcome

if TYPE_CHECKING:
    from report.draft import Draft

STATE_FILE = ".collector.json"
REPORT = "report.md"
# report.md as the collector wrote it: finalizing compares the person's figures with it.
DRAFTED = ".draft.md"
FIGURES = "figures.json"
# Publish statuses that put a new report in place (a draft kept beside an edited one does not).
NEW_REPORT = frozenset({"written", "replaced", "forced"})
# State a re-draft keeps from the report it replaces (not from an edited one: that is news).
KEPT_ACROSS_REDRAFTS = ("notice",)
SNAPSHOT = "snapshot.json"
# From this many samples on, snapshot.json is written by a process forked for it, while the
# draft is analysed on the other core (2,000 series: 1.4 M samples, 0.55 s to write). The
# demo's 16,000 are written here in about 10 ms, less than a fork costs.
WRITTEN_BESIDE_FROM = 200_000
# What `make_staging` creates: ".<ID>.<random>.staging".
STAGING = re.compile(r"^\.(?P<id>[A-Za-z0-9-]{1,64})\.[^.]*\.staging$")


class Delivery(str, Enum):
    """What became of one hand-off."""

    OFF = "off"  # not configured
    POSTED = "posted"
    SKIPPED = "skipped"  # done before: never twice
    FAILED = "failed"


@dataclass(frozen=True)
class HandOff:
    """The outcome of both hand-offs of one draft, and the warnings to show."""

    notice: Delivery = Delivery.OFF
    note: Delivery = Delivery.OFF
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Published:
    """Where the draft went, and a one-line account of what happened."""

    folder: Path
    status: str  # "written", "replaced", "kept-edited", "kept-fuller", "kept-final", "forced"
    message: str
    handoff: HandOff | None = None  # the chat notice and PagerDuty note, when announced
    warnings: tuple[str, ...] = ()  # what went wrong around a report in place (OUT/index.html)


# Called with the draft and its state file once a new report is in place; says what it did.
Announce = Callable[["Draft", Path], HandOff]


def check_out_dir(out_dir: Path) -> None:
    """Make sure `out_dir` exists and takes new files, before anything is fetched."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test.", delete=True)
        probe.close()
    except OSError as exc:
        raise OutputError(
            f"--out {out_dir}: cannot write there ({_reason(exc)}); choose a folder you can"
            " write to"
        ) from exc


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or type(exc).__name__


def _check_id(incident_id: str) -> None:
    if not is_report_folder(incident_id):
        raise OutputError(
            f"refusing to write a report for {shorten(incident_id)}: not a PagerDuty incident ID"
        )


def make_staging(out_dir: Path, incident_id: str) -> Path:
    """A fresh staging folder on the same file system as the destination."""
    _check_id(incident_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{incident_id}.", suffix=".staging", dir=out_dir))
    staging.chmod(0o755)  # mkdtemp's 0700 would make the published folder private
    return staging


def discard_staging(staging: Path) -> None:
    """Remove a staging folder that will not be published."""
    shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def lock_for(out_dir: Path, incident_id: str, timeout: float = -1) -> Iterator[None]:
    """Hold the lock that serialises every writer of one incident's folder (Timeout: not free
    within `timeout` seconds; -1 waits). Its file is gone once the last hold ends."""
    _check_id(incident_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    # One lock object per file in a process: re-entrant for a caller that already holds it
    # (the batch holds it while deciding, then publishes). Always flock: a soft lock's marker
    # is the lock itself, and outlives a killed run.
    lock = FileLock(
        str(out_dir / f".{incident_id}.lock"), is_singleton=True, fallback_to_soft=False
    )
    with lock.acquire(timeout=timeout):
        try:
            yield
        finally:
            if lock.lock_counter == 1:  # the outermost hold: nothing of ours still needs it
                # Removed while still held, so never a file someone else holds. A run that
                # opened it and waits then locks a file without a name: filelock (>= 4) drops
                # such a lock and opens the path afresh.
                with suppress(OSError):
                    os.unlink(lock.lock_file)


def discard_leftover_staging(out_dir: Path, incident_id: str) -> None:
    """Remove this incident's staging folders left by killed runs; call with its lock held."""
    for path in out_dir.glob(f".{incident_id}.*.staging"):
        if STAGING.match(path.name):
            discard_staging(path)


def clean_leftovers(out_dir: Path) -> list[Path]:
    """Remove staging folders of killed runs (only those whose incident lock is free)."""
    if not out_dir.is_dir():
        return []
    removed = []
    for path in sorted(out_dir.iterdir()):
        match = STAGING.match(path.name)
        if match is None or not path.is_dir():
            continue
        # Staging only happens under the incident's lock: a free lock means a dead writer.
        try:
            with lock_for(out_dir, match["id"], timeout=0):
                discard_staging(path)
        except Timeout:
            continue
        removed.append(path)
    return removed


def is_edited(folder: Path) -> bool:
    """True when report.md differs from what the collector last wrote (or its origin is unknown)."""
    report = folder / REPORT
    if not os.path.lexists(report):
        return False
    try:
        state = json.loads(read_regular_file(folder / STATE_FILE))
        return bool(state.get("report_sha256") != _sha256(report))
    except (OSError, ValueError, AttributeError):  # not ours any more (a FIFO, a link): edited
        return True


def finalized_at(folder: Path) -> str | None:
    """When the report in `folder` was finalized (`collect --finalize`), or None: a draft."""
    try:
        state = json.loads(read_regular_file(folder / STATE_FILE))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("status") != "final":
        return None
    return str(state.get("finalized_at") or "?")


def publish(
    staging: Path,
    out_dir: Path,
    incident_id: str,
    *,
    force: bool,
    stamp: str,
    lost: Sequence[str] = (),
) -> Published:
    """Move the staged draft to out_dir/incident_id, respecting human edits.

    `lost` says what the new draft lacks that the published one has (data: see
    `collector.snapshot.store.lost_data`; figures it no longer computes: `_lost_figures`):
    such a draft is kept aside like one beside an edit.
    """
    _check_id(incident_id)
    final = path_under(out_dir, incident_id)
    _recover(out_dir, incident_id)
    _write_state(staging, stamp)
    if not final.exists():
        os.rename(staging, final)
        return Published(final, "written", f"drafted {final / REPORT}")
    finalized = finalized_at(final)
    if finalized is not None:  # frozen: not even --force replaces a final
        why = f"is final (finalized {finalized}; to change it, edit it and finalize again)"
        return _keep_beside(staging, final, stamp, why, "kept-final")
    edited = is_edited(final)
    if (edited or lost) and not force:
        if edited:
            return _keep_beside(staging, final, stamp, "was edited by a person", "kept-edited")
        why = f"has more data than the new draft ({'; '.join(lost)})"
        return _keep_beside(staging, final, stamp, why, "kept-fuller")
    if edited or lost:
        backup = path_under(out_dir, f"{incident_id}.backup-{stamp}")
        os.rename(final, backup)
        os.rename(staging, final)
        what = "edited report" if edited else "report with more data"
        return Published(
            final,
            "forced",
            f"replaced the {what} {final / REPORT}; the old folder is kept in {backup}",
        )
    _carry_state(final, staging)
    old = path_under(out_dir, f".{incident_id}.old")
    os.rename(final, old)
    os.rename(staging, final)
    if (old / "drafts").exists():
        os.rename(old / "drafts", final / "drafts")
    shutil.rmtree(old, ignore_errors=True)
    return Published(final, "replaced", f"re-drafted {final / REPORT}")


def _keep_beside(staging: Path, final: Path, stamp: str, why: str, status: str) -> Published:
    # The published report stays; the new draft goes to its drafts/ folder. Each folder on
    # the way is proven to stay under --out: `drafts` may be a link a person or a tool made.
    out_dir = final.parent
    drafts = path_under(out_dir, Path(final.name) / "drafts")
    drafts.mkdir(exist_ok=True)
    beside = path_under(out_dir, Path(final.name) / "drafts" / stamp)
    os.rename(staging, beside)
    hint = "" if status == "kept-final" else " (use --force to replace it, with a backup)"
    return Published(
        beside,
        status,
        f"{final / REPORT} {why} and is kept; the new draft is in {beside / REPORT}{hint}",
    )


def _recover(out_dir: Path, incident_id: str) -> None:
    # A run killed between its two renames leaves the previous folder under its ".old" name.
    old = path_under(out_dir, f".{incident_id}.old")
    final = path_under(out_dir, incident_id)
    if old.exists() and not final.exists():
        os.rename(old, final)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _save_snapshot_beside(snapshot: Snapshot, path: Path) -> Background[None] | None:
    """Write snapshot.json: a big one in a process forked for it, which the caller waits for
    (`Background.result`); a small one, or where no process can be forked, here and now."""
    # Log entries left on disk are read from the file again to be written: as long a job.
    if sample_count(snapshot) >= WRITTEN_BESIDE_FROM or log_entries_on_disk(snapshot):
        try:
            writer = start_background(lambda _receive: save_snapshot(snapshot, path))
        except OSError:  # no fork (out of memory, too many processes): written here
            writer = None
        if writer is not None:
            return writer
    save_snapshot(snapshot, path)
    return None


def _lost_figures(published: Path, staging: Path) -> list[str]:
    """The figures the published report computed and the staged draft does not, as one
    reason; [] when there is none, or no published figures.json to compare with."""
    from report.figures_json import uncomputed_figures

    old, new = _read_text(published / FIGURES), _read_text(staging / FIGURES)
    lacking = uncomputed_figures(old, new) if old is not None and new is not None else []
    return [f"figures it no longer computes: {', '.join(lacking)}"] if lacking else []


def _read_text(path: Path) -> str | None:
    try:
        return read_regular_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write_state(folder: Path, stamp: str) -> None:
    shutil.copyfile(folder / REPORT, folder / DRAFTED)
    state = {"report_sha256": _sha256(folder / REPORT), "drafted_at": stamp}
    (folder / STATE_FILE).write_text(json.dumps(state) + "\n", encoding="utf-8")


def _carry_state(published: Path, staging: Path) -> None:
    # A re-draft replaces an untouched report: what was handed off for the incident (the
    # chat notice, against the facts it announced) still holds for the new one.
    try:
        old = json.loads(read_regular_file(published / STATE_FILE))
    except (OSError, ValueError):
        return
    kept = {key: old[key] for key in KEPT_ACROSS_REDRAFTS if isinstance(old, dict) and key in old}
    if kept:
        state = json.loads((staging / STATE_FILE).read_text(encoding="utf-8"))
        (staging / STATE_FILE).write_text(json.dumps({**state, **kept}) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(read_regular_file(path)).hexdigest()


def publish_draft(
    snapshot: Snapshot,
    config: Config,
    out_dir: Path,
    *,
    force: bool,
    announce: Announce | None = None,
    pdf_writer: Background[PdfOutcome] | None = None,
    chart_drawer: Background[list[Path]] | None = None,
) -> Published:
    """Render the snapshot's report in a staging folder, then publish it under the lock.

    With `announce` (`collector.jobs.handoff.announcer`), a new report in place is handed off
    (chat notice, PagerDuty note) before the lock is released. `pdf_writer`: report.pdf's
    process, started early (`report.pdf.start_pdf_writer`); `chart_drawer`: the charts'
    (`report.charts.plan.start_chart_drawer`).
    """
    # The report's modules (the analysis, Jinja2) load here, not with this module: `collect`
    # loads them while the snapshot is read or the sources answer; matplotlib loads in the
    # chart drawer, or here once the page is on its way to report.pdf (`build_draft`).
    from collector.jobs.index import with_index
    from report.draft import build_draft

    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    incident_id = snapshot.incident_id
    # The snapshot beside the draft keeps the settings it was made with: a re-render uses them.
    snapshot = replace(snapshot, settings=settings_record(config, now))
    try:
        with lock_for(out_dir, incident_id):
            staging = make_staging(out_dir, incident_id)
            try:
                # Read before the draft is built: its text (53 MB for 2,000 series) then
                # comes and goes before the analysis' peak, not on top of it.
                published = read_published(path_under(out_dir, incident_id) / SNAPSHOT)
                writer = _save_snapshot_beside(snapshot, staging / SNAPSHOT)
                try:
                    draft = build_draft(snapshot, config, staging, now, pdf_writer, chart_drawer)
                    if writer is not None:
                        writer.result()  # its OSError (a full disk) is raised here
                finally:
                    if writer is not None:
                        writer.cancel()  # done, or stopped before the staging folder goes
                from report.words import lost_line

                found = lost_data(snapshot, published) if published is not None else []
                lost = [lost_line(item) for item in found]
                lost += _lost_figures(path_under(out_dir, incident_id), staging)
                result = publish(staging, out_dir, incident_id, force=force, stamp=stamp, lost=lost)
                if announce is not None and result.status in NEW_REPORT:
                    handoff = announce(draft, result.folder / STATE_FILE)
                    result = replace(result, handoff=handoff)
                return with_index(result, out_dir, config)
            finally:
                discard_staging(staging)
    except OSError as exc:
        raise OutputError(
            f"cannot write the report for {incident_id} under {out_dir} ({_reason(exc)});"
            " nothing was changed there"
        ) from exc
