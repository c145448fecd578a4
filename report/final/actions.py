"""The action items a person left in report.md: "Actions Correctives" and "Suivi des Actions".

Text in, records out; no I/O. The checklist lines are as the template writes them
(`- [ ] text — Owner: X — ETA: date`) or as a person edits them: the owner and due date may come
in another order, in parentheses, with another word for the key (every catalogue's
`action_owner_keys`, `action_due_keys`), a date written day first. An action in both the checklist
and the tracking table is one action: the table's status wins, and each fills what the other lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum

from report.final.markers import section_lines
from report.words.labels import FILED, LABELS
from report.words.markers import MARKER, catalogue_words


class Horizon(str, Enum):
    """When an action is due, by the checklist's subsection it sits in."""

    IMMEDIATE = "immediate"
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


# The subsection labels (every catalogue's) that name each horizon.
_HORIZON_LABELS = {
    Horizon.IMMEDIATE: "immediate",
    Horizon.SHORT: "short_term",
    Horizon.MEDIUM: "mid_term",
    Horizon.LONG: "long_term",
}
DONE, OPEN, IN_PROGRESS = "done", "open", "in_progress"
# What a tracking table's status cell says, as a person writes it, by the status it means.
_STATUS_WORDS = {
    DONE: ("✅", "✔", "done", "fait", "terminé", "termine", "closed", "fermé", "x"),
    IN_PROGRESS: ("🔄", "⚙", "in progress", "en cours", "started", "wip"),
    OPEN: ("⏳", "⬜", "open", "todo", "to do", "à faire", "a faire", "pending", "ouvert", ""),
}


@dataclass(frozen=True)
class ActionItem:
    """One action: its words, owner, due date, horizon, status, and where report.md has it.

    `due_text` is what the person wrote when it is no date we read (`due_date` then None)."""

    line: int
    section: str
    text: str
    owner: str | None
    due_date: date | None
    horizon: Horizon | None
    status: str
    due_text: str | None = None
    notes: str | None = None
    table_line: int | None = None  # its row in the tracking table, if it has one

    @property
    def key(self) -> str:
        """The action's identity across finalizations: its words, case and spaces aside."""
        return " ".join(self.text.casefold().split())


def _keywords(key: str) -> list[str]:
    """Every catalogue's words for `key` (written `owner|assignee`), the longest first."""
    words = {w.strip() for lang in FILED for w in FILED[lang][key].split("|")}
    return sorted(words - {""}, key=len, reverse=True)


_SEP = r"\s+[—–]\s+|\s+-\s+|\s*[|;,(){}\[\]]\s*"
_OWNER_KEYS = {w.casefold() for w in _keywords("action_owner_keys")}
_KEYED = re.compile(
    rf"(?:^|{_SEP})(?P<key>{'|'.join(map(re.escape, _keywords('action_owner_keys')))}|"
    rf"{'|'.join(map(re.escape, _keywords('action_due_keys')))})"
    rf"\s*:\s*?(?P<value>.*?)\s*(?=$|{_SEP})",
    re.IGNORECASE,
)
_CHECKBOX = re.compile(r"^\s*[-*+]\s+\[(?P<mark>[ xX])\]\s*(?P<text>.*)$")
_SUGGESTED = re.compile(rf"^_(?:{catalogue_words('suggestion')})\s*:_\s*")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>])")
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


def read_actions(text: str) -> tuple[ActionItem, ...]:
    """Every action of report.md, checklist first, each once (see the module's docstring)."""
    lines = text.splitlines()
    checklist = list(_checklist(lines))
    by_key = {item.key: at for at, item in enumerate(checklist)}
    extra = []
    for row in _tracking_rows(lines):
        at = by_key.get(row.key)
        if at is None:
            extra.append(row)
        else:
            checklist[at] = _merged(checklist[at], row)
    return (*checklist, *extra)


def _merged(item: ActionItem, row: ActionItem) -> ActionItem:
    return replace(
        item,
        owner=item.owner or row.owner,
        due_date=item.due_date or row.due_date,
        due_text=item.due_text if item.due_date or not row.due_text else row.due_text,
        status=row.status,
        notes=row.notes,
        table_line=row.line,
    )


def _checklist(lines: list[str]) -> Iterator[ActionItem]:
    heading = _labels("actions")
    horizon: Horizon | None = None
    for number, sub, line in section_lines(lines, heading):
        if line.startswith("###"):
            horizon = _horizon(sub)
            continue
        box = _CHECKBOX.match(line)
        if box is None:
            continue
        words = _plain(_SUGGESTED.sub("", box["text"]))
        if not words:
            continue
        status = DONE if box["mark"] in "xX" else OPEN
        action, owner, due = _split_keyed(words, status == DONE)
        section = f"{_section_name(lines, heading)} › {sub}" if sub else heading[0]
        yield _item(number, section, action, owner, due, horizon, status)


def _split_keyed(words: str, done: bool) -> tuple[str, str | None, str | None]:
    """The action's words, its owner and its due date as written (`Owner: X — ETA: Y`).

    A done action the draft suggested ends with who did it (`… — Alice Martin`): its owner."""
    owner = due = None
    for match in _KEYED.finditer(words):
        value = match["value"].strip() or None
        if match["key"].casefold() in _OWNER_KEYS:
            owner = owner or value
        else:
            due = due or value
    first = _KEYED.search(words)
    action = words[: first.start()] if first else words
    parts = re.split(r"\s+[—–]\s+", action)
    if done and owner is None and len(parts) > 1 and len(parts[-1].split()) <= 4:
        action, owner = " — ".join(parts[:-1]), parts[-1]
    return action.strip(" —–-,;(").strip(), owner, due


def _item(
    number: int,
    section: str,
    action: str,
    owner: str | None,
    due: str | None,
    horizon: Horizon | None,
    status: str,
    notes: str | None = None,
) -> ActionItem:
    when = read_due_date(due) if due else None
    return ActionItem(
        line=number,
        section=section,
        text=action,
        owner=owner or None,
        due_date=when,
        horizon=horizon,
        status=status,
        due_text=due if due and when is None else None,
        notes=notes or None,
    )


def read_due_date(text: str) -> date | None:
    """`2025-11-04`, `2025/11/04`, `04/11/2025` (day first, as the template's languages write
    it; month first when that is the only valid reading), else None."""
    if match := _ISO.search(text):
        year, month, day = (int(g) for g in match.groups())
        return _date(year, month, day)
    if match := _DAY_FIRST.search(text):
        first, second, year = (int(g) for g in match.groups())
        return _date(year, second, first) or _date(year, first, second)
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _tracking_rows(lines: list[str]) -> Iterator[ActionItem]:
    """The rows of the "Suivi des Actions" table, by its header's column names."""
    heading = _labels("follow_up")
    columns: list[str] | None = None
    for number, _sub, line in section_lines(lines, heading):
        if not line.strip().startswith("|"):
            continue
        cells = _cells(line)
        if columns is None:
            columns = [_column(cell) for cell in cells]
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue
        row = dict(zip(columns, (_plain(cell) for cell in cells), strict=False))
        if not row.get("action"):
            continue
        status = _status(row.get("status", ""))
        item = _item(
            number,
            _section_name(lines, heading),
            row["action"],
            row.get("owner"),
            row.get("due"),
            None,
            status,
            row.get("notes"),
        )
        yield replace(item, table_line=number)


def tracking_table_lines(lines: list[str]) -> list[int]:
    """The line numbers (from 1) of the tracking table's lines, header and rule included."""
    heading = _labels("follow_up")
    return [n for n, _sub, line in section_lines(lines, heading) if line.strip().startswith("|")]


def _cells(line: str) -> list[str]:
    inner = line.strip().strip("|")
    # A cell's `\|` is text, not a column: split on the others only.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner)]


def _column(header: str) -> str:
    """`action`, `owner`, `status`, `due` or `notes` for a header cell in any catalogue."""
    name = header.strip().casefold()
    for column in ("action", "owner", "status", "due", "notes"):
        if name in {labels[f"col_{column}"].casefold() for labels in LABELS.values()}:
            return column
    return name


def _status(cell: str) -> str:
    said = cell.strip().casefold()
    for status, words in _STATUS_WORDS.items():
        if said in words or any(w and said.startswith(w) for w in words if not w.isalpha()):
            return status
    return cell.strip()


def _plain(text: str) -> str:
    """A cell or item as words: markers out, Markdown escapes undone, spaces collapsed."""
    return " ".join(_ESCAPE.sub(r"\1", MARKER.sub("", text)).split())


def _labels(key: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(labels[key] for labels in LABELS.values()))


def _section_name(lines: list[str], names: tuple[str, ...]) -> str:
    return next((line[3:].strip() for line in lines if line[3:].strip() in names), names[0])


def _horizon(sub: str) -> Horizon | None:
    """The horizon a subsection names, also when a person shortened its label."""
    said = sub.casefold()
    for horizon, key in _HORIZON_LABELS.items():
        for labels in LABELS.values():
            short = labels[key].split("(")[0].strip().casefold()
            if said.startswith(short):
                return horizon
    return None
