"""What a person left in report.md: fill-in markers, kept suggestions, the sign-off names.

Text in, records out; no I/O. The marker and suggestion words are every catalogue's (`todo`,
`suggestion`): a French report finished with an English marker pasted in still has a marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from report.words.labels import LABELS
from report.words.markers import CODE_SPAN, MARKER, catalogue_words

ROLES = ("prepared_by", "reviewed_by", "approved_by", "filed_by")
FIELDS = ("name", "role", "date")


@dataclass(frozen=True)
class Marker:
    """One fill-in marker left: its line (from 1), its section and what it asks for."""

    line: int
    section: str
    hint: str


@dataclass(frozen=True)
class Signature:
    """One sign-off of the "Signatures & Approbation" block; None where still a marker."""

    role: str  # one of ROLES
    name: str | None
    title: str | None
    date: str | None


@dataclass(frozen=True)
class PersonText:
    """What finalizing needs to know of report.md as a person left it."""

    language: str
    markers: tuple[Marker, ...]
    suggestions_kept: int
    signatures: tuple[Signature, ...]

    @property
    def signed_by(self) -> str | None:
        """Who the final is by: the approver, else whoever prepared it, else any signer."""
        by_role = {s.role: s.name for s in self.signatures if s.name}
        order = ("approved_by", "prepared_by", *ROLES)
        return next((by_role[r] for r in order if r in by_role), None)


SUGGESTION = re.compile(rf"_(?:{catalogue_words('suggestion')})\s*:_")
_HEADING = re.compile(r"^(#{2,3})\s+(.*?)\s*#*\s*$")


def read_person_text(text: str) -> PersonText:
    """The markers left (in order), the suggestions kept and the sign-off block of report.md."""
    lines = text.splitlines()
    markers = tuple(
        Marker(number, section, " ".join((match["hint"] or "").split()))
        for number, section, line in _lines_in_sections(lines)
        for match in MARKER.finditer(CODE_SPAN.sub("", line))
    )
    kept = sum(1 for line in lines if SUGGESTION.search(line))
    language = report_language(lines)
    return PersonText(language, markers, kept, tuple(_signatures(lines, language)))


def report_language(lines: list[str]) -> str:
    """The catalogue whose level-2 headings report.md uses most (the first one on a tie)."""
    headings = {m[2] for line in lines if (m := _HEADING.match(line)) and m[1] == "##"}
    counts = {lang: len(headings & set(labels.values())) for lang, labels in LABELS.items()}
    return max(counts, key=lambda lang: counts[lang])


def _lines_in_sections(lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """Each line with its number and section ("Section › Subsection")."""
    section, sub = "", ""
    for number, line in enumerate(lines, start=1):
        heading = _HEADING.match(line)
        if heading is not None:
            # "Question 2: [TO COMPLETE: Why?]" is section "Question 2".
            name = MARKER.sub("", heading[2]).strip(" :")
            if heading[1] == "##":
                section, sub = name, ""
            else:
                sub = name
        yield number, f"{section} › {sub}" if section and sub else section or sub, line


def _signatures(lines: list[str], language: str) -> Iterator[Signature]:
    labels = LABELS[language]
    block = _section(lines, labels["signatures"])
    who = {f"**{labels[role]}:**": role for role in ROLES}
    field_of = {labels[field]: field for field in FIELDS}
    current: str | None = None
    values: dict[str, dict[str, str | None]] = {}
    for line in block:
        stripped = line.strip()
        if stripped in who:
            current = who[stripped]
            values[current] = {}
            continue
        label, colon, value = stripped.lstrip("-* ").partition(":")
        if current is not None and colon and label.strip() in field_of:
            values[current][field_of[label.strip()]] = _filled(value)
    for role in ROLES:
        found = values.get(role, {})
        yield Signature(role, found.get("name"), found.get("role"), found.get("date"))


def section_lines(lines: list[str], headings: tuple[str, ...]) -> Iterator[tuple[int, str, str]]:
    """Each line under a level-2 heading among `headings` (any catalogue's word for it), with
    its number (from 1) and its level-3 subsection; the subsection headings themselves too."""
    inside, sub = False, ""
    for number, line in enumerate(lines, start=1):
        match = _HEADING.match(line)
        if match is not None and match[1] == "##":
            inside, sub = match[2] in headings, ""
            continue
        if inside and match is not None:
            sub = match[2]
        if inside:
            yield number, sub, line


def _section(lines: list[str], heading: str) -> list[str]:
    """The lines under the level-2 heading `heading`, up to the next level-2 heading."""
    inside, block = False, []
    for line in lines:
        match = _HEADING.match(line)
        if match is not None and match[1] == "##":
            inside = match[2] == heading
            continue
        if inside:
            block.append(line)
    return block


def _filled(value: str) -> str | None:
    """A field's value, or None while it is empty or still a marker."""
    text = " ".join(MARKER.sub("", value).split())
    return text or None
