"""OUT/index.html: every report under --out on one page, rebuilt after each publish (after a
batch's drafts, once at the batch's end: `collector.jobs.batch.run_batch`).

The facts come from each folder's files (figures.json, report.md, what exists), read as data a
person or an older version may have left in any shape: a missing or odd field is shown as
unknown, never an error. The page is worded by `report.index_page` and swapped in atomically
under a lock of its own, so runs at once (batches, the webhook) never leave an index missing a
report.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from collector.analysis.facts import Verdict
from collector.analysis.objectives import Objective
from collector.config import Config
from collector.files import read_regular_head
from collector.output import (
    FIGURES,
    REPORT,
    Published,
    discard_staging,
    is_edited,
    lock_for,
    make_staging,
    publish,
)
from collector.paths import FLEET_FOLDER, REVIEW_FOLDER, is_incident_id, path_under
from collector.timeutil import parse_time
from report.index_page import IndexEntry, ReportStatus
from report.words.markers import count_markers

INDEX = "index.html"
INDEX_LOCK = ".index.lock"
# A publish waits this long for another run's rebuild; then the next publish rebuilds it.
LOCK_TIMEOUT_S = 60
# figures.json and report.md of our own drafts are tens of kB; a bigger one is not ours.
MAX_READ_BYTES = 8 * 1024 * 1024


def rebuild_index(out: Path, config: Config) -> Path:
    """Write OUT/index.html afresh from the report folders; returns its path.

    Raises OSError (the disk) or OutputError (a path leaving --out); `filelock.Timeout` when
    another run holds the index for more than a minute.
    """
    from report.index_page import render_index

    target = path_under(out, INDEX)
    lock = FileLock(str(out / INDEX_LOCK), is_singleton=True, fallback_to_soft=False)
    with lock.acquire(timeout=LOCK_TIMEOUT_S):
        try:
            entries = read_index_entries(out)
            page = render_index(entries, config, datetime.now(timezone.utc))
            _replace_atomically(target, page)
        finally:
            if lock.lock_counter == 1:  # as `collector.output.lock_for`: no file left behind
                with suppress(OSError):
                    os.unlink(lock.lock_file)
    return target


def with_index(published: Published, out: Path, config: Config) -> Published:
    """`published`, after rebuilding the index; a failure is a warning, never a lost draft."""
    warning = refresh_index(out, config)
    if warning:
        return replace(published, warnings=(*published.warnings, warning))
    return published


def publish_staged(
    name: str,
    out_dir: Path,
    config: Config,
    build: Callable[[Path, datetime], None],
    *,
    force: bool,
) -> Published:
    """Build a folder in staging (`build(staging, now)`), publish it as OUT/<name> under its
    lock (the edit and poorer-report rules of `publish`), then list it in the index."""
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    with lock_for(out_dir, name):
        staging = make_staging(out_dir, name)
        try:
            build(staging, now)
            published = publish(staging, out_dir, name, force=force, stamp=stamp)
            return with_index(published, out_dir, config)
        finally:
            discard_staging(staging)


def refresh_index(out: Path, config: Config) -> str | None:
    """Rebuild the index; the warning to print when it could not be (None: rebuilt)."""
    try:
        rebuild_index(out, config)
    except Exception as exc:  # the report is in place: a bug or a full disk costs the index only
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return f"{out / INDEX} was not updated ({reason})"
    return None


def read_index_entries(out: Path) -> list[IndexEntry]:
    """Every report folder under `out`, newest first (folders without a date last)."""
    entries = []
    for path in sorted(out.iterdir()) if out.is_dir() else ():
        if path.is_symlink() or not path.is_dir():
            continue  # a link may lead anywhere: only folders the collector made are listed
        if is_incident_id(path.name) and (path / REPORT).is_file():
            entries.append(_incident_entry(path))
        elif FLEET_FOLDER.match(path.name) and (path / REPORT).is_file():
            entries.append(_fleet_entry(path))
        elif REVIEW_FOLDER.match(path.name) and (path / REPORT).is_file():
            entries.append(replace(_fleet_entry(path, "review-"), review=True))
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    entries.sort(key=lambda e: (e.started_at or oldest, e.folder), reverse=True)
    return entries


def _incident_entry(folder: Path) -> IndexEntry:
    document = _read_json(folder / FIGURES)
    incident = _mapping(document.get("incident"))
    figures = {_text(f.get("key")): f for f in _dicts(document.get("figures"))}
    objectives = {_text(o.get("key")): o for o in _dicts(document.get("objectives"))}
    status, markers = _status(folder, document)
    return IndexEntry(
        folder=folder.name,
        fleet=False,
        title=_text(incident.get("title")),
        started_at=_time(incident.get("started_at")) or _time(incident.get("created_at")),
        severity=_text(incident.get("severity")),
        duration=_seconds(figures.get("duration")),
        rto=_objective("RTO", objectives.get("rto")),
        sla=_objective("SLA", objectives.get("sla")),
        status=status,
        markers_left=markers,
        finalized_at=_time(document.get("finalized_at")),
        finalized_by=_signers(document),
        html=(folder / "report.html").is_file(),
        pdf=(folder / "report.pdf").is_file(),
        page_url=_web_address(document.get("confluence_url")),
    )


def _web_address(value: object) -> str:
    """An http(s) address read from a file, or "" (it becomes a link in the index)."""
    text = _text(value)
    if not text.startswith(("https://", "http://")) or any(c.isspace() for c in text):
        return ""
    return text


def _fleet_entry(folder: Path, prefix: str = "memory-trends-") -> IndexEntry:
    day = date.fromisoformat(folder.name.removeprefix(prefix))
    status, markers = _status(folder, {})
    return IndexEntry(
        folder=folder.name,
        fleet=True,
        title="",
        started_at=datetime(day.year, day.month, day.day, tzinfo=timezone.utc),
        severity="",
        duration=None,
        rto=None,
        sla=None,
        status=status,
        markers_left=markers,
        finalized_at=None,
        finalized_by=(),
        html=(folder / "report.html").is_file(),
        pdf=(folder / "report.pdf").is_file(),
    )


def _status(folder: Path, document: dict[str, Any]) -> tuple[ReportStatus, int]:
    """The report's status and the fill-in markers its report.md has left."""
    if document.get("status") == ReportStatus.FINAL.value:
        return ReportStatus.FINAL, 0
    markers = count_markers(_read_text(folder / REPORT))
    return (ReportStatus.EDITING if is_edited(folder) else ReportStatus.DRAFT), markers


def _signers(document: dict[str, Any]) -> tuple[str, ...]:
    """The names the final was signed with: `signatures` as a list of names, of {"name": …}
    records, or a mapping of role to either (finalize's shape is read, not assumed)."""
    found = document.get("signatures", document.get("signed_by"))
    items = list(found.values()) if isinstance(found, dict) else found
    names: list[str] = []
    for item in items if isinstance(items, list) else ():
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip() and name.strip() not in names:
            names.append(name.strip())
    return tuple(names)


def _objective(name: str, item: dict[str, Any] | None) -> Objective | None:
    if item is None:
        return None
    try:
        verdict = Verdict(item.get("verdict"))
    except ValueError:
        return None
    return Objective(
        name, _seconds_of(item.get("target")), _seconds_of(item.get("actual")), verdict, None
    )


def _seconds(figure: dict[str, Any] | None) -> timedelta | None:
    if figure is None or figure.get("status") != "ok" or figure.get("unit") != "s":
        return None
    return _seconds_of(figure.get("value"))


def _seconds_of(value: object) -> timedelta | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return timedelta(seconds=value)
    except OverflowError:
        return None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except (ValueError, OverflowError):
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(_read_text(path))
    except (ValueError, RecursionError):
        return {}
    return _mapping(document)


def _read_text(path: Path) -> str:
    try:  # a FIFO or a link to /dev/zero in a report folder is not read
        return read_regular_head(path, MAX_READ_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _replace_atomically(target: Path, text: str) -> None:
    """Write `text` beside `target`, then rename it over: readers see the old page or the new."""
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target.parent, prefix=".index.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(text)
        os.chmod(handle.name, 0o644)  # mkstemp's 0600 would hide the page from a web server
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
