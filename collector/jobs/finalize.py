"""`collect --finalize`: check report.md as a person left it, render the final, freeze it.

The same shape as a draft (STYLE.md, "One draft, one path"): read what is on disk, ask
report/final for the facts (markers left, figures changed), render the pages, then publish
under the incident's lock. A final is frozen: `collector.output.publish` sends any later draft
to drafts/. Finalizing again keeps the previous final's files under finals/<time>/.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from collector.config import Config
from collector.errors import OutputError
from collector.files import read_regular_file, write_json_atomically
from collector.jobs.filing import file_actions
from collector.jobs.publishing import page_title, publish_final
from collector.output import (
    DRAFTED,
    FIGURES,
    REPORT,
    STATE_FILE,
    HandOff,
    finalized_at,
    lock_for,
)
from collector.paths import path_under
from report.final.action_table import ACTIONS_CSV, action_warnings, actions_csv
from report.final.actions import read_actions
from report.final.figure_edits import FigureEdit, find_figure_edits
from report.final.markers import PersonText, read_person_text
from report.final.render import (
    FinalFacts,
    FinalPages,
    final_figures_json,
    final_markdown,
    final_pages,
)

FINALS = "finals"
# The final's own copy of report.md as finalized: kept under finals/<time>/ when it is redone.
FINALIZED = ".final.md"
# The files a final writes, kept under finals/<time>/ when it is finalized again.
FINAL_FILES = ("report.html", "report.pdf", FIGURES, ACTIONS_CSV)
MAX_LISTED = 20


@dataclass(frozen=True)
class Finalized:
    """What finalizing did: refused (the reasons, one a line) or done (what to print, and
    what to warn of: actions without an owner or due date, a tracker that failed)."""

    ok: bool
    lines: tuple[str, ...]
    folder: Path
    handoff: HandOff | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FinalizeOptions:
    """What a person allows: markers left (`--allow-incomplete`), changed figures
    (`--accept-edits`)."""

    allow_incomplete: bool = False
    accept_edits: bool = False


def finalize_report(
    config: Config,
    out_dir: Path,
    incident_id: str,
    options: FinalizeOptions,
    *,
    now: datetime | None = None,
    after: Callable[[Path], None] | None = None,
) -> Finalized:
    """Finalize OUT/<ID>/report.md, or say why not; `after(out_dir)` once a final is in place
    (the index of reports is rebuilt there)."""
    now = now or datetime.now(timezone.utc)
    folder = path_under(out_dir, incident_id)
    with lock_for(out_dir, incident_id):
        text = _report_text(folder, incident_id)
        person = read_person_text(text)
        document = _figures(folder)
        drafted = _read_text(folder / DRAFTED)
        edits = tuple(find_figure_edits(drafted, text, document)) if drafted is not None else ()
        refusal = refusal_lines(person, edits, options)
        if refusal:
            return Finalized(False, tuple(refusal), folder)
        actions = read_actions(text)
        links = _issue_links(config, out_dir, incident_id, document)
        filing = file_actions(config, folder, actions, links, person.language)
        facts = FinalFacts(now, person, edits, actions, filing.filed)
        pages = _final_pages(folder, text, facts, document, config)
        publication = publish_final(config, folder, page_title(incident_id, document), pages.linked)
        facts = replace(facts, page_url=publication.url)
        lines = _write_final(folder, text, facts, pages, document, config)
        lines += filing.lines + publication.lines
        if drafted is None:
            lines.append(f"figures not checked: {folder / REPORT} was drafted by an older collect")
        handoff = _announce(config, out_dir, incident_id, facts, document, text)
    if after is not None:
        after(out_dir)
    warnings = [*action_warnings(actions), *filing.warnings, *publication.warnings]
    return Finalized(True, tuple(lines), folder, handoff, tuple(warnings))


def refusal_lines(
    person: PersonText, edits: tuple[FigureEdit, ...], options: FinalizeOptions
) -> list[str]:
    """Why the report cannot be final yet, one line each; [] when it can."""
    lines = []
    if person.markers and not options.allow_incomplete:
        lines.append(
            f"not finalized: {_count(len(person.markers), 'fill-in marker')} left in report.md"
            " (fill them, or finalize anyway with --allow-incomplete):"
        )
        for marker in person.markers[:MAX_LISTED]:
            hint = f": {marker.hint}" if marker.hint else ""
            lines.append(f"  line {marker.line} ({marker.section}){hint}")
        if len(person.markers) > MAX_LISTED:
            lines.append(f"  and {len(person.markers) - MAX_LISTED} more")
    if edits and not options.accept_edits:
        lines.append(
            f"not finalized: {_count(len(edits), 'computed figure')} changed by hand"
            " (put the computed value back, or keep yours with --accept-edits):"
        )
        lines += [f"  {edit_line(edit)}" for edit in edits]
    return lines


def edit_line(edit: FigureEdit) -> str:
    """`line 225 (… › RTO): Réel 30 min, computed 38 min from endpoints_up `probe_success``."""
    source = f" from {edit.source}" if edit.source else ""
    where = f"{edit.label} " if edit.label else ""
    section = f" ({edit.section})" if edit.section else ""
    return f"line {edit.line}{section}: {where}{edit.person}, computed {edit.computed}{source}"


def _report_text(folder: Path, incident_id: str) -> str:
    try:
        return read_regular_file(folder / REPORT).decode("utf-8")
    except FileNotFoundError as exc:
        raise OutputError(
            f"no report to finalize: {folder / REPORT} does not exist; draft it first"
            f" (collect --incident {incident_id})"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {folder / REPORT}: {exc}") from exc


def _figures(folder: Path) -> dict[str, Any]:
    try:
        document = json.loads(read_regular_file(folder / FIGURES).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _read_text(path: Path) -> str | None:
    try:
        return read_regular_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _final_pages(
    folder: Path, text: str, facts: FinalFacts, document: dict[str, Any], config: Config
) -> FinalPages:
    title = str((document.get("incident") or {}).get("title") or folder.name)
    markdown = final_markdown(text, facts)
    language = facts.person.language
    return final_pages(markdown, title, language, folder, config.report.template_dir)


def _write_final(
    folder: Path,
    text: str,
    facts: FinalFacts,
    pages: FinalPages,
    document: dict[str, Any],
    config: Config,
) -> list[str]:
    """Keep a previous final aside, write the final's pages and figures, then mark it final
    (the state file last: a run killed before it leaves a draft, finalized again next time)."""
    lines = []
    previous = finalized_at(folder)
    if previous is not None:
        kept = _keep_previous_final(folder, previous)
        lines.append(f"the previous final is kept in {kept}")
    _replace(folder / "report.html", pages.inlined.encode("utf-8"))
    _replace(folder / FIGURES, final_figures_json(document, facts).encode("utf-8"))
    _replace(folder / ACTIONS_CSV, actions_csv(facts.actions, facts.filed).encode("utf-8"))
    lines += _write_pdf(folder, pages.linked, config)
    shutil.copyfile(folder / REPORT, folder / FINALIZED)
    state = _read_state(folder)
    state.update(
        status="final",
        finalized_at=facts.finalized_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        final_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    write_json_atomically(folder / STATE_FILE, state)
    lines.insert(0, _done_line(folder, facts))
    return lines


def _done_line(folder: Path, facts: FinalFacts) -> str:
    person = facts.person
    said = [f"finalized {folder / 'report.html'}"]
    if person.signed_by:
        said.append(f"signed by {person.signed_by}")
    said.append(f"{_count(person.suggestions_kept, 'data suggestion')} kept")
    if person.markers:
        said.append(f"incomplete: {_count(len(person.markers), 'fill-in marker')} left")
    if facts.edits:
        said.append(f"{_count(len(facts.edits), 'figure')} changed by a person")
    return "; ".join(said)


def _write_pdf(folder: Path, html: str, config: Config) -> list[str]:
    """report.pdf of the final; a draft's report.pdf never stands for the final."""
    if config.report.pdf != "never":
        from report.pdf import pdf_outcome

        reason, pdf = pdf_outcome(html, folder)
        if pdf is not None:
            _replace(folder / "report.pdf", pdf)
            return []
    else:
        reason = None
    stale = folder / "report.pdf"
    if stale.exists():
        stale.unlink()
        return [f"removed {stale}: it showed the draft", *([reason] if reason else [])]
    return [reason] if reason else []


def _keep_previous_final(folder: Path, previous: str) -> Path:
    stamp = "".join(c for c in previous if c.isalnum())
    kept = path_under(folder, f"{FINALS}/{stamp}")
    kept.mkdir(parents=True, exist_ok=True)
    for name in FINAL_FILES:
        if (folder / name).exists():
            shutil.copy2(folder / name, kept / name)
    if (folder / FINALIZED).exists():
        shutil.copy2(folder / FINALIZED, kept / REPORT)
    return kept


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _read_state(folder: Path) -> dict[str, Any]:
    try:
        state = json.loads(read_regular_file(folder / STATE_FILE).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _issue_links(
    config: Config, out_dir: Path, incident_id: str, document: dict[str, Any]
) -> dict[str, str]:
    """What a filed issue links to: the report, and the incident in PagerDuty."""
    from collector.jobs.handoff import report_link

    try:
        snapshot = json.loads(read_regular_file(out_dir / incident_id / "snapshot.json"))
        pagerduty = str(snapshot["pagerduty"]["incident"].get("html_url") or "")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pagerduty = ""
    return {
        "incident": incident_id,
        "title": str((document.get("incident") or {}).get("title") or incident_id),
        "report": report_link(config, out_dir, incident_id),
        "pagerduty": pagerduty,
    }


def _announce(
    config: Config,
    out_dir: Path,
    incident_id: str,
    facts: FinalFacts,
    document: dict[str, Any],
    text: str,
) -> HandOff:
    from collector.jobs.handoff import FinalAnnouncement, hand_off_final

    final = FinalAnnouncement(
        title=str((document.get("incident") or {}).get("title") or incident_id),
        signed_by=facts.person.signed_by,
        language=facts.person.language,
        final_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        state_file=out_dir / incident_id / STATE_FILE,
        page_url=facts.page_url,
    )
    return hand_off_final(config, out_dir, incident_id, final)


def _count(count: int, noun: str) -> str:
    """'1 fill-in marker', '3 fill-in markers': the command's English lines."""
    return f"{count} {noun}" + ("" if count == 1 else "s")
