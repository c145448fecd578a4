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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from filelock import FileLock, Timeout

from collector.errors import OutputError
from collector.files import read_regular_file
from collector.paths import is_report_folder, path_under, shorten

STATE_FILE = ".collector.json"
REPORT = "report.md"
# report.md as the collector wrote it: finalizing compares the person's figures with it.
DRAFTED = ".draft.md"
FIGURES = "figures.json"
# State a re-draft keeps from the report it replaces (not from an edited one: that is news).
KEPT_ACROSS_REDRAFTS = ("notice",)
# What `make_staging` creates: ".<ID>.<random>.staging".
STAGING = re.compile(r"^\.(?P<id>[A-Za-z0-9-]{1,64})\.[^.]*\.staging$")


class PublishStatus(str, Enum):
    """What became of a staged draft (the strings the batch's metrics and tests read)."""

    WRITTEN = "written"  # the first report in its folder
    REPLACED = "replaced"  # over an untouched draft
    FORCED = "forced"  # over an edited or fuller report, which is kept as a backup
    KEPT_EDITED = "kept-edited"  # beside a report a person edited
    KEPT_FULLER = "kept-fuller"  # beside a report with more data
    KEPT_FINAL = "kept-final"  # beside a final


# Publish statuses that put a new report in place (a draft kept beside an edited one does not).
NEW_REPORT = frozenset({PublishStatus.WRITTEN, PublishStatus.REPLACED, PublishStatus.FORCED})


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
    status: PublishStatus
    message: str
    handoff: HandOff | None = None  # the chat notice and PagerDuty note, when announced
    warnings: tuple[str, ...] = ()  # what went wrong around a report in place (OUT/index.html)


def check_out_dir(out_dir: Path) -> None:
    """Make sure `out_dir` exists and takes new files, before anything is fetched."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test.", delete=True)
        probe.close()
    except OSError as exc:
        raise OutputError(
            f"--out {out_dir}: cannot write there ({write_error(exc)}); choose a folder you can"
            " write to"
        ) from exc


def write_error(exc: OSError) -> str:
    """Why a write failed, in a few words."""
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
        return Published(final, PublishStatus.WRITTEN, f"drafted {final / REPORT}")
    finalized = finalized_at(final)
    if finalized is not None:  # frozen: not even --force replaces a final
        why = f"is final (finalized {finalized}; to change it, edit it and finalize again)"
        return _keep_beside(staging, final, stamp, why, PublishStatus.KEPT_FINAL)
    edited = is_edited(final)
    if (edited or lost) and not force:
        if edited:
            return _keep_beside(
                staging, final, stamp, "was edited by a person", PublishStatus.KEPT_EDITED
            )
        why = f"has more data than the new draft ({'; '.join(lost)})"
        return _keep_beside(staging, final, stamp, why, PublishStatus.KEPT_FULLER)
    if edited or lost:
        backup = path_under(out_dir, f"{incident_id}.backup-{stamp}")
        os.rename(final, backup)
        os.rename(staging, final)
        what = "edited report" if edited else "report with more data"
        return Published(
            final,
            PublishStatus.FORCED,
            f"replaced the {what} {final / REPORT}; the old folder is kept in {backup}",
        )
    _carry_state(final, staging)
    old = path_under(out_dir, f".{incident_id}.old")
    os.rename(final, old)
    os.rename(staging, final)
    if (old / "drafts").exists():
        os.rename(old / "drafts", final / "drafts")
    shutil.rmtree(old, ignore_errors=True)
    return Published(final, PublishStatus.REPLACED, f"re-drafted {final / REPORT}")


def _keep_beside(
    staging: Path, final: Path, stamp: str, why: str, status: PublishStatus
) -> Published:
    # The published report stays; the new draft goes to its drafts/ folder. Each folder on
    # the way is proven to stay under --out: `drafts` may be a link a person or a tool made.
    out_dir = final.parent
    drafts = path_under(out_dir, Path(final.name) / "drafts")
    drafts.mkdir(exist_ok=True)
    beside = path_under(out_dir, Path(final.name) / "drafts" / stamp)
    os.rename(staging, beside)
    hint = (
        "" if status is PublishStatus.KEPT_FINAL else " (use --force to replace it, with a backup)"
    )
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
