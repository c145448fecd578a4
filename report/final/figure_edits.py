"""Which computed figures a person changed: the draft as written against report.md as left.

The two texts are aligned line by line (difflib); in a changed line, the figures the draft
wrote (durations, clock times, dates, counts, percentages, money, verdicts) are aligned with
the person's, kind by kind. A figure whose value differs is an edit; one the person added, or a
line a person deleted, is not. Lines that carried a data suggestion are the person's to rewrite
("to keep or delete"), and the draft's header (the generation note, the report's date) holds
no computed figure. Text in, records out; no I/O.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from report.final.markers import SUGGESTION, _lines_in_sections
from report.words.labels import LABELS
from report.words.markers import MARKER

# Hiding places of digits that are no figure: link targets, code spans (queries), autolinks.
_NOT_FIGURES = re.compile(r"\]\([^)]*\)|`[^`]*`|<https?://[^>]*>|https?://\S+")
_NUM = r"\d{1,3}(?:[ \u00a0\u202f,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_UNIT = r"(?:ms|s|secs?|seconds?|min|mins|minutes?|h|hrs?|hours?|heures?|j|jours?|d|days?)"
_DURATION_PART = rf"(?:{_NUM})\s?{_UNIT}(?![\w])"
_CURRENCY = r"[$€£¥]"


def _verdict_words() -> dict[str, str]:
    """Each verdict word of every catalogue ("DÉPASSÉ", "MET") and the verdict it says."""
    words = {}
    keys = ("verdict_met", "verdict_missed", "verdict_within_budget", "verdict_over_budget")
    for labels in LABELS.values():
        for key in keys:
            # "DÉPASSÉ de {by}": the verdict is the capitals, whatever follows in small letters.
            said = labels[key].split("{")[0].split()
            while len(said) > 1 and said[-1].islower():
                said.pop()
            words[" ".join(said)] = key.removeprefix("verdict_")
    return words


VERDICTS = _verdict_words()
_VERDICT = "|".join(re.escape(w) for w in sorted(VERDICTS, key=len, reverse=True))
TOKEN = re.compile(
    rf"(?<![\w.:/-])(?:"
    rf"(?P<date>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|(?P<time>\d{{1,2}}:\d{{2}}(?::\d{{2}})?)(?![\d:])"
    rf"|(?P<money>{_CURRENCY}\s?(?:{_NUM})|(?:{_NUM})\s?{_CURRENCY})"
    rf"|(?P<percent>(?:{_NUM})\s?%)"
    rf"|(?P<duration>{_DURATION_PART}(?:\s(?:{_DURATION_PART}|\d{{2}}(?![\w:])))*)"
    rf"|(?P<count>{_NUM})(?![\w:]|[.,]\d)"
    rf")|(?<!\w)(?P<verdict>{_VERDICT})(?!\w)"
)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "j": 86400, "d": 86400}


@dataclass(frozen=True)
class Figure:
    """One figure as written in a line: its kind, its value for comparing, its text."""

    kind: str  # date, time, money, percent, duration, count, verdict
    value: str | float
    text: str


@dataclass(frozen=True)
class FigureEdit:
    """A computed figure a person changed: where, what it is called, both values."""

    line: int  # in the person's report.md, from 1
    section: str
    label: str  # the line's own words before the figure ("Revenue loss", "Réel")
    person: str
    computed: str
    source: str = ""  # where the computed value came from (figures.json), when one matches


def find_figure_edits(
    drafted: str, person: str, figures: Mapping[str, Any] | None = None
) -> list[FigureEdit]:
    """The figures of `drafted` (report.md as the collector wrote it) that `person` changed."""
    old_lines, new_lines = drafted.splitlines(), person.splitlines()
    sections = {number: section for number, section, _ in _lines_in_sections(new_lines)}
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace":
            continue
        for old, new in _paired_lines(old_lines, new_lines, range(i1, i2), range(j1, j2)):
            for was, now in changed_figures(old_lines[old], new_lines[new]):
                label = _label(old_lines[old], was)
                section = sections.get(new + 1, "")
                source = _source(was, figures, section) if figures else ""
                edits.append(FigureEdit(new + 1, section, label, now.text, was.text, source))
    return edits


def changed_figures(drafted: str, person: str) -> list[tuple[Figure, Figure]]:
    """In one line: each figure the draft wrote and the person's in its place, when they
    differ (same kind, in order); none in a line that carried a data suggestion or the draft's
    header."""
    if SUGGESTION.search(drafted) or drafted.lstrip().startswith(">"):
        return []
    was, now = figures_in(drafted), figures_in(person)
    keys = difflib.SequenceMatcher(
        None, [(f.kind, f.value) for f in was], [(f.kind, f.value) for f in now], autojunk=False
    )
    changed = []
    for tag, i1, i2, j1, j2 in keys.get_opcodes():
        if tag != "replace":
            continue
        free = list(now[j1:j2])
        for figure in was[i1:i2]:
            match = next((f for f in free if f.kind == figure.kind), None)
            if match is not None:
                free.remove(match)
                changed.append((figure, match))
    return changed


def figures_in(line: str) -> list[Figure]:
    """The figures written in one line, in order (not in markers, links or code)."""
    text = _NOT_FIGURES.sub(" ", MARKER.sub(" ", line)).replace("\\", "")
    found = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or "count"
        written = match.group(kind).strip()
        found.append(Figure(kind, _value(kind, written), written))
    return found


def _value(kind: str, text: str) -> str | float:
    if kind == "verdict":
        return VERDICTS[text]
    if kind == "time":
        return text[:5].zfill(5) if len(text) <= 5 else text.zfill(8)
    if kind == "date":
        return text
    if kind == "duration":
        return _duration_seconds(text)
    return _round(_number(re.sub(rf"{_CURRENCY}|%", "", text)))


def _duration_seconds(text: str) -> float:
    total = 0.0
    for amount, unit in re.findall(rf"({_NUM})\s?({_UNIT})?", text):
        scale = _SECONDS.get(unit[:2] if unit == "ms" else unit[:1], 0) if unit else 60
        total += _number(amount) * scale
    return _round(total)


def _number(text: str) -> float:
    """A written number in either language's marks: "1 900 000", "1,900,000", "88,0", "1.3"."""
    digits = re.sub(r"[ \u00a0\u202f]", "", text.strip())
    if "," in digits and "." in digits:
        decimal = max(digits.rfind(","), digits.rfind("."))
        digits = re.sub(r"[,.]", "", digits[:decimal]) + "." + digits[decimal + 1 :]
    elif re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
        digits = digits.replace(",", "")
    return float(digits.replace(",", "."))


def _round(value: float) -> float:
    return float(f"{value:.6g}") if math.isfinite(value) else value


def _paired_lines(
    old: Sequence[str], new: Sequence[str], olds: range, news: range
) -> Iterator[tuple[int, int]]:
    """Each changed draft line with the person's line most like it (None: rewritten away)."""
    free = list(news)
    for i in olds:
        if not figures_in(old[i]):
            continue
        best = max(free, key=lambda j: _likeness(old[i], new[j]), default=None)
        if best is not None and _likeness(old[i], new[best]) >= 0.5:
            free.remove(best)
            yield i, best


def _likeness(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _label(line: str, figure: Figure) -> str:
    """The words before a figure in its line, without Markdown: "Revenue loss", "Réel"."""
    before = line.split(figure.text, 1)[0]
    words = re.sub(r"[*_`>#|\[\]]|^\s*(?:[-+]|\d+\.)\s+", "", before)
    words = re.sub(r"[^\w)]+$", "", words)  # the colon, an emoji before a verdict
    return " ".join(words.split())[-60:]


def _source(figure: Figure, figures: Mapping[str, Any], section: str) -> str:
    """Where the computed value came from: the one source of every figures.json entry with
    that value (an objective named in the section first); "" when they disagree or none."""
    entries = _candidates(figure, figures)
    named = [e for e in entries if str(e.get("key", "")).lower() in section.lower().split()]
    sources = {_short(str(e.get("source") or "")) for e in named or entries} - {""}
    return sources.pop() if len(sources) == 1 else ""


def _candidates(figure: Figure, figures: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if figure.kind not in ("duration", "money", "percent", "count"):
        return []
    found = []
    for entry in figures.get("figures") or ():
        if _same(figure, entry.get("value"), str(entry.get("unit") or "")):
            found.append(entry)
    for entry in figures.get("objectives") or ():
        if figure.kind == "duration" and any(
            _same(figure, entry.get(k), "s") for k in ("actual", "target")
        ):
            found.append(entry)
    return found


def _same(figure: Figure, value: Any, unit: str) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    kind = {"s": "duration", "%": "percent"}.get(unit, "money" if unit in "$€£¥" else "count")
    if unit and kind != figure.kind:
        return False
    return isinstance(figure.value, float) and math.isclose(
        figure.value, float(value), rel_tol=0.06, abs_tol=0.5
    )


def _short(source: str) -> str:
    """A source without its time range: "endpoints_up `probe_success`"."""
    return source.split(" (", 1)[0].strip()
