"""OUT/index.html in words: each report folder's facts (`collector.jobs.index`) as a row.

The page is one self-contained file (inline CSS, no script, no font or image from anywhere):
it opens from a file share, a static web server or a phone. Every value is text for the
template, which escapes it; only links to files that exist are made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from urllib.parse import quote

from collector.analysis.facts import Verdict
from collector.analysis.objectives import Objective
from collector.config import Config
from report.render import render_page
from report.words import Words, formats

TEMPLATE = "index.html.j2"


class ReportStatus(Enum):
    """Where a report stands on its way from draft to final."""

    DRAFT = "draft"  # as the collector wrote it
    EDITING = "editing"  # a person has started filling it in
    FINAL = "final"  # finalized (`collect --finalize`): frozen


@dataclass(frozen=True)
class IndexEntry:
    """One report folder under --out, as the index lists it."""

    folder: str
    fleet: bool  # a fleet memory-trend review, not an incident's report
    title: str
    started_at: datetime | None  # a fleet review: the end of its window (the folder's date)
    severity: str
    duration: timedelta | None
    rto: Objective | None
    sla: Objective | None
    status: ReportStatus
    markers_left: int
    finalized_at: datetime | None
    finalized_by: tuple[str, ...]
    html: bool
    pdf: bool
    review: bool = False  # the team's review across incidents (listed with the fleet reviews)
    page_url: str = ""  # the final's Confluence page (figures.json's `confluence_url`)


@dataclass(frozen=True)
class Cell:
    """A value as shown, and its tone for the page's colours ("good", "bad" or "")."""

    text: str
    tone: str = ""


@dataclass(frozen=True)
class Link:
    """A link to one of the report's files, relative to the index."""

    label: str
    href: str


@dataclass(frozen=True)
class Row:
    """One report as the index shows it."""

    ident: str
    title: str
    start: str
    severity: str
    duration: str
    rto: Cell
    sla: Cell
    status: Cell
    links: tuple[Link, ...]


def render_index(entries: Sequence[IndexEntry], config: Config, now: datetime) -> str:
    """The index page: incidents, then fleet reviews, newest first, in the report's language."""
    words = Words(config.report.language)
    zone = config.report.timezone
    context = {
        "incidents": [_incident_row(e, words, zone) for e in entries if not e.fleet],
        "reviews": [_review_row(e, words) for e in entries if e.fleet],
        "updated": words.say(
            "index_updated", at=formats.local_moment(now, zone), zone=zone or "UTC"
        ),
    }
    return render_page(TEMPLATE, context, config.report.language, config.report.template_dir)


def _incident_row(entry: IndexEntry, words: Words, zone: str | None) -> Row:
    return Row(
        ident=entry.folder,
        title=entry.title or entry.folder,
        start=formats.local_moment(entry.started_at, zone),
        severity=entry.severity or formats.NOTHING,
        duration=words.duration(entry.duration) if entry.duration else formats.NOTHING,
        rto=_objective(entry.rto, words),
        sla=_objective(entry.sla, words),
        status=_status(entry, words),
        links=_links(entry),
    )


def _review_row(entry: IndexEntry, words: Words) -> Row:
    day = formats.date(entry.started_at)
    nothing = Cell(formats.NOTHING)
    return Row(
        ident=entry.folder,
        title=words.say("index_review_title" if entry.review else "index_fleet_title", date=day),
        start=day,
        severity=formats.NOTHING,
        duration=formats.NOTHING,
        rto=nothing,
        sla=nothing,
        status=_status(entry, words),
        links=_links(entry),
    )


def _objective(objective: Objective | None, words: Words) -> Cell:
    """An objective's verdict: 'MET', 'MISSED by 8 min', 'not configured'."""
    if objective is None:
        return Cell(formats.NOTHING)
    verdict = objective.verdict
    tone = "good" if verdict.good else "bad" if verdict.bad else ""
    if verdict is Verdict.ONGOING:
        return Cell(words.say("ongoing_title"))
    return Cell(words.verdict(objective), tone)


def _status(entry: IndexEntry, words: Words) -> Cell:
    """'draft', 'being completed — 12 markers left', 'final on 2025-10-27 by Ana Ruiz'."""
    if entry.status is ReportStatus.FINAL:
        day = formats.date(entry.finalized_at)
        if entry.finalized_by:
            names = ", ".join(entry.finalized_by)
            return Cell(words.say("index_status_final", date=day, names=names), "good")
        return Cell(words.say("index_status_final_unsigned", date=day), "good")
    if entry.status is ReportStatus.EDITING:
        n = entry.markers_left
        markers = words.plural("index_marker", n)
        return Cell(words.say("index_status_editing", n=n, markers=markers), "editing")
    return Cell(words.say("index_status_draft"))


def _links(entry: IndexEntry) -> tuple[Link, ...]:
    # Folder names are incident IDs or review dates (checked when read); quoted all the same.
    folder = quote(entry.folder)
    found = (("HTML", entry.html, "report.html"), ("PDF", entry.pdf, "report.pdf"))
    links = [Link(label, f"{folder}/{name}") for label, exists, name in found if exists]
    if entry.page_url:  # the final published in Confluence: where the team reads it
        links.append(Link("Confluence", entry.page_url))
    return tuple(links)
