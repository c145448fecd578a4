"""The final's pages: report.md as a person left it, with the final's first lines, in HTML and PDF.

report.md itself is not changed: the lines this module adds (who finalized it and when, what
was left incomplete, which figures a person changed) go to the pages and figures.json only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from collector.paths import path_under
from collector.records import FiledIssue
from collector.timeutil import iso_utc
from report.final.action_table import action_rows, linked_lines
from report.final.actions import ActionItem
from report.final.figure_edits import FigureEdit
from report.final.markers import PersonText
from report.render import escape_markdown, inline_images, render_html
from report.words import formats
from report.words.labels import FINAL, LABELS

_CHART = re.compile(r'src="(charts/[^"/]+\.png)"')
STATUS = "final"


@dataclass(frozen=True)
class FinalFacts:
    """What finalizing found: the person's text, the figures they changed, the action items
    (with the tracker issues filed for them, by action key), the Confluence page, and when."""

    finalized_at: datetime
    person: PersonText
    edits: tuple[FigureEdit, ...]
    actions: tuple[ActionItem, ...] = ()
    filed: Mapping[str, FiledIssue] = field(default_factory=dict)
    page_url: str | None = None  # the final report's Confluence page, once published

    @property
    def incomplete(self) -> bool:
        """Finalized with fill-in markers left (`--allow-incomplete`)."""
        return bool(self.person.markers)


def final_markdown(text: str, facts: FinalFacts) -> str:
    """The person's report.md with the final's first lines under its title and the changed
    figures in its provenance (or, with no provenance heading, in the first lines)."""
    language = facts.person.language
    # Links first: the actions' line numbers are report.md's, before any line is added.
    lines = linked_lines(text.splitlines(), facts.actions, facts.filed)
    edits = _edit_lines(facts)
    provenance = f"### {LABELS[language]['provenance']}"
    at = next((i for i, line in enumerate(lines) if line.strip() == provenance), None)
    if at is not None and edits:
        lines[at + 1 : at + 1] = ["", *edits]
    first = _first_lines(facts) + ([] if at is not None else [">", *(f"> {e}" for e in edits)])
    # The draft's note ("Draft generated automatically. Fields marked …") no longer holds: the
    # final's first lines take its place, above the generation facts it opened.
    note = f"> {LABELS[language]['draft_note']}"
    drafted = next((i for i, line in enumerate(lines) if line.startswith(note)), None)
    if drafted is not None:
        lines[drafted : drafted + 1] = first
    else:
        title = 1 if lines and lines[0].startswith("# ") else 0
        lines[title:title] = ["", *first, ""]
    return "\n".join(lines) + "\n"


def _first_lines(facts: FinalFacts) -> list[str]:
    words = FINAL[facts.person.language]
    date = formats.date(facts.finalized_at)
    name = facts.person.signed_by
    if name:
        said = words["final_on"].format(date=date, name=name)
    else:
        said = words["final_on_unsigned"].format(date=date)
    lines = [f"> **{words['final_title']}.** {escape_markdown(said)}"]
    if facts.incomplete:
        marker = f"`[{LABELS[facts.person.language]['todo']}: …]`"
        count = len(facts.person.markers)
        lines += [">", f"> {words['final_incomplete'].format(count=count, marker=marker)}"]
    return lines


def _edit_lines(facts: FinalFacts) -> list[str]:
    if not facts.edits:
        return []
    words = FINAL[facts.person.language]
    lines = [f"- **{words['final_edits']}:**"]
    for edit in facts.edits:
        # A query's backticks would show as such: escape_markdown keeps them literal.
        plain = edit.source.replace("`", "")
        source = words["final_edit_source"].format(source=plain) if plain else ""
        said = words["final_edit"].format(
            line=edit.line,
            label=edit.label or edit.section,
            person=edit.person,
            computed=edit.computed,
            source=source,
        )
        lines.append(f"  - {escape_markdown(said)}")
    return lines


@dataclass(frozen=True)
class FinalPages:
    """The final's HTML with its charts as links (for report.pdf), and with them inlined."""

    linked: str
    inlined: str


def final_pages(
    markdown: str, title: str, language: str, folder: Path, template_dir: Path | None
) -> FinalPages:
    """The final's page from its Markdown, with the draft's charts from `folder`."""
    linked = render_html(markdown, title, {}, language, template_dir)
    images = {}
    for name in dict.fromkeys(_CHART.findall(linked)):
        try:
            images[name] = path_under(folder, name).read_bytes()
        except (OSError, ValueError):  # a chart a person linked that is not there: a link
            continue
    return FinalPages(linked, inline_images(linked, images))


def final_figures_json(document: dict[str, Any], facts: FinalFacts) -> str:
    """figures.json of the final: the draft's figures, its status, who signed, what changed."""
    person = facts.person
    final = {
        **document,
        "status": STATUS,
        "finalized_at": iso_utc(facts.finalized_at),
        "finalized_by": person.signed_by,
        "signatures": [
            {"role": s.role, "name": s.name, "title": s.title, "date": s.date}
            for s in person.signatures
        ],
        "markers_left": len(person.markers),
        "suggestions_kept": person.suggestions_kept,
        "edits": [
            {
                "line": e.line,
                "section": e.section,
                "label": e.label,
                "person": e.person,
                "computed": e.computed,
                "source": e.source,
            }
            for e in facts.edits
        ],
        "actions": action_rows(facts.actions, facts.filed),
        "confluence_url": facts.page_url,
    }
    return json.dumps(final, indent=2, ensure_ascii=False) + "\n"
