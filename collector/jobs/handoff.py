"""Hand-offs of a new draft: one chat notice per draft, one note on the PagerDuty incident.

Called once, through the `announcer` hook that `collector.jobs.draft.publish_incident` takes, under
the incident's lock, after a publish that put a new report in place. Neither hand-off can fail or
undo the draft: a failure is one warning line. What was handed off is kept on disk, so re-runs, the
batch and the webhook receiver never repeat it: the notice in the incident folder's state file
(against the hash of the facts it announced, kept across re-drafts), the note in
`OUT/.pagerduty-notes/<ID>.json` (once per incident, also found from our own note in the incident's
notes). A re-draft is announced when its facts changed, not its clock: report.md says when it was
generated, so its hash changes at every run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector.analysis.handoff import draft_facts
from collector.analysis.incident import Analysis
from collector.config import Config
from collector.files import read_regular_file, write_json_atomically
from collector.output import Delivery, HandOff
from collector.snapshot.store import Snapshot
from collector.sources import pagerduty as pd_source
from collector.sources.notify import NotifyError, post_chat_message
from collector.timeutil import iso_utc
from report.handoff import (
    final_note_text,
    final_notice_payload,
    is_drafted_note,
    note_text,
    notice_payload,
)

if TYPE_CHECKING:
    from collector.jobs.draft import Draft

NOTES_DIR = ".pagerduty-notes"
REPORT_PAGE = "report.html"
# The draft's files that hold its facts, and neither when it was generated nor by which version.
FACT_FILES = ("figures.json", "timeline.csv")


def announcer(
    snapshot: Snapshot, config: Config, out_dir: Path
) -> Callable[[Draft, Path], HandOff]:
    """The hook `publish_incident` calls once a new report is in place: hand it off."""
    return lambda draft, state_file: hand_off(draft.analysis, snapshot, config, out_dir, state_file)


def hand_off(
    analysis: Analysis, snapshot: Snapshot, config: Config, out_dir: Path, state_file: Path
) -> HandOff:
    """Announce the draft just published in `state_file`'s folder; never raises for a delivery."""
    iid = snapshot.incident_id
    link = report_link(config, out_dir, iid)
    notice, notice_warning = _guarded(
        "chat notice", iid, lambda: _send_notice(analysis, config, link, state_file)
    )
    if config.notify.webhook_url:  # whatever failed, the secret URL is never repeated
        notice_warning = notice_warning.replace(config.notify.webhook_url, "NOTIFY_WEBHOOK_URL")
    note, note_warning = _guarded(
        "PagerDuty note", iid, lambda: _add_note(snapshot, config, out_dir, link)
    )
    warnings = tuple(w for w in (notice_warning, note_warning) if w)
    return HandOff(notice, note, warnings)


def _guarded(
    what: str, incident_id: str, deliver: Callable[[], tuple[Delivery, str]]
) -> tuple[Delivery, str]:
    # The draft is already in place: nothing that goes wrong here (a full disk, a bug) may
    # turn it into a failure, or stop the other hand-off.
    try:
        return deliver()
    except Exception as exc:
        return Delivery.FAILED, f"{what} for {incident_id} failed: {type(exc).__name__}: {exc}"


def report_link(config: Config, out_dir: Path, incident_id: str) -> str:
    """`report.base_url/<ID>/report.html` when set, else the report's absolute path."""
    if config.report.base_url:
        return f"{config.report.base_url}/{incident_id}/{REPORT_PAGE}"
    return str((out_dir / incident_id / REPORT_PAGE).resolve())


def _send_notice(
    analysis: Analysis, config: Config, link: str, state_file: Path
) -> tuple[Delivery, str]:
    settings = config.notify
    if not settings.webhook_url:
        return Delivery.OFF, ""
    state = _read_json(state_file)
    facts_hash = facts_sha256(state_file.parent)
    if (state.get("notice") or {}).get("facts_sha256") == facts_hash:
        return Delivery.SKIPPED, ""
    facts = draft_facts(analysis)
    payload = notice_payload(facts, link, config.report.language, settings.format)
    ca = config.ca_file
    try:
        attempts = post_chat_message(settings, payload, ca_bundle=ca)
    except NotifyError as exc:
        return Delivery.FAILED, f"chat notice for {facts.incident_id} not sent: {exc}"
    notice = {
        "report_sha256": state.get("report_sha256"),
        "facts_sha256": facts_hash,
        "posted_at": _now(),
        "attempts": attempts,
    }
    write_json_atomically(state_file, {**state, "notice": notice})
    return Delivery.POSTED, ""


def facts_sha256(folder: Path) -> str:
    """The hash of a published draft's facts (`FACT_FILES`): the same on a re-run of the same
    data, whatever the clock says."""
    digest = hashlib.sha256()
    for name in FACT_FILES:
        path = folder / name
        digest.update(f"{name}\0".encode())
        digest.update(read_regular_file(path) if path.exists() else b"")
        digest.update(b"\0")
    return digest.hexdigest()


def _add_note(snapshot: Snapshot, config: Config, out_dir: Path, link: str) -> tuple[Delivery, str]:
    settings = config.pagerduty
    incident_id = snapshot.incident_id
    if not settings.post_note:
        return Delivery.OFF, ""
    marker = out_dir / NOTES_DIR / f"{incident_id}.json"
    if marker.exists():
        return Delivery.SKIPPED, ""
    existing = _our_note(snapshot)
    if existing is not None:  # posted by a run that died before writing its marker
        found = {"incident_id": incident_id, "note_id": existing, "found": _now()}
        write_json_atomically(marker, found)
        return Delivery.SKIPPED, ""
    if not settings.from_email:
        return Delivery.FAILED, (
            f"PagerDuty note not added to {incident_id}: set PAGERDUTY_FROM_EMAIL to the email"
            " of a PagerDuty user (notes are written in a user's name)"
        )
    ca = config.ca_file
    text = note_text(link, config.report.language)
    try:
        note = pd_source.post_incident_note(settings, ca, incident_id, text)
    except pd_source.PagerDutyError as exc:
        return Delivery.FAILED, f"PagerDuty note not added to {incident_id}: {exc}"
    record = {"incident_id": incident_id, "note_id": note.get("id"), "posted_at": _now()}
    write_json_atomically(marker, {**record, "link": link})
    return Delivery.POSTED, ""


def _our_note(snapshot: Snapshot) -> str | None:
    """The ID of a note we posted before, as found in the snapshot's notes."""
    for note in snapshot.pagerduty.get("notes") or ():
        if isinstance(note, dict) and is_drafted_note(str(note.get("content") or "")):
            return str(note.get("id") or "?")
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_regular_file(path))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _now() -> str:
    return iso_utc(datetime.now(timezone.utc))


def hand_off_final(
    config: Config, out_dir: Path, incident_id: str, final: FinalAnnouncement
) -> HandOff:
    """Announce a final report: a chat notice once per finalized text (a revised final is
    news), a PagerDuty note once per incident (`OUT/.pagerduty-notes/<ID>.final.json`)."""
    link = report_link(config, out_dir, incident_id)
    notice, notice_warning = _guarded(
        "chat notice", incident_id, lambda: _send_final_notice(config, final, link)
    )
    if config.notify.webhook_url:
        notice_warning = notice_warning.replace(config.notify.webhook_url, "NOTIFY_WEBHOOK_URL")
    note, note_warning = _guarded(
        "PagerDuty note",
        incident_id,
        lambda: _add_final_note(config, out_dir, incident_id, link, final.language),
    )
    return HandOff(notice, note, tuple(w for w in (notice_warning, note_warning) if w))


@dataclass(frozen=True)
class FinalAnnouncement:
    """What the final's notice says, and the state file that keeps what was announced."""

    title: str
    signed_by: str | None
    language: str
    final_sha256: str
    state_file: Path
    page_url: str | None = None  # the final's Confluence page, when published


def _send_final_notice(config: Config, final: FinalAnnouncement, link: str) -> tuple[Delivery, str]:
    settings = config.notify
    if not settings.webhook_url:
        return Delivery.OFF, ""
    state = _read_json(final.state_file)
    if (state.get("final_notice") or {}).get("final_sha256") == final.final_sha256:
        return Delivery.SKIPPED, ""
    payload = final_notice_payload(
        final.title, final.signed_by, link, final.language, settings.format, final.page_url
    )
    try:
        attempts = post_chat_message(settings, payload, ca_bundle=config.ca_file)
    except NotifyError as exc:
        return Delivery.FAILED, f"chat notice of the final report not sent: {exc}"
    notice = {"final_sha256": final.final_sha256, "posted_at": _now(), "attempts": attempts}
    write_json_atomically(final.state_file, {**state, "final_notice": notice})
    return Delivery.POSTED, ""


def _add_final_note(
    config: Config, out_dir: Path, incident_id: str, link: str, language: str
) -> tuple[Delivery, str]:
    settings = config.pagerduty
    if not settings.post_note:
        return Delivery.OFF, ""
    marker = out_dir / NOTES_DIR / f"{incident_id}.final.json"
    if marker.exists():
        return Delivery.SKIPPED, ""
    if not settings.from_email:
        return Delivery.FAILED, (
            f"PagerDuty note not added to {incident_id}: set PAGERDUTY_FROM_EMAIL to the email"
            " of a PagerDuty user (notes are written in a user's name)"
        )
    text = final_note_text(link, language)
    try:
        note = pd_source.post_incident_note(settings, config.ca_file, incident_id, text)
    except pd_source.PagerDutyError as exc:
        return Delivery.FAILED, f"PagerDuty note not added to {incident_id}: {exc}"
    record = {"incident_id": incident_id, "note_id": note.get("id"), "posted_at": _now()}
    write_json_atomically(marker, {**record, "link": link})
    return Delivery.POSTED, ""
