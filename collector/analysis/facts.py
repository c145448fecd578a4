"""The verdicts analysis hands to the report: enums, never strings someone parses later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeAlias


class FigureStatus(Enum):
    """Whether a figure could be computed, and if not, why."""

    OK = "ok"
    NOT_CONFIGURED = "not_configured"  # a target, query or setting is missing from the config
    FAILED = "failed"  # the query that feeds it failed
    NO_DATA = "no_data"  # configured and answered, but nothing to compute from


class Verdict(Enum):
    """A recovery objective (RTO, RPO) or error budget (SLA) against what happened."""

    MET = "met"
    MISSED = "missed"
    WITHIN_BUDGET = "within_budget"
    OVER_BUDGET = "over_budget"
    NOT_CONFIGURED = "not_configured"
    NO_DATA = "no_data"
    FAILED = "failed"
    ONGOING = "ongoing"  # the incident is open and the target not yet exceeded: undecided

    @property
    def good(self) -> bool:
        """The objective held."""
        return self in (Verdict.MET, Verdict.WITHIN_BUDGET)

    @property
    def bad(self) -> bool:
        """The objective did not hold."""
        return self in (Verdict.MISSED, Verdict.OVER_BUDGET)


class DetectedBy(Enum):
    """Who noticed first, from the first trigger log entry."""

    AUTOMATED_ALERT = "automated alert"
    CUSTOMER_REPORT = "customer report"
    MANUAL_REPORT = "manual report"
    UNKNOWN = "unknown"


NoteValue: TypeAlias = "str | int | float | datetime | timedelta | Note"


@dataclass(frozen=True)
class Note:
    """Why a figure is missing, or how to read it: a reason and the facts it names.

    `key` is a catalogue key (report/words/catalogues/<language>.toml has `note_<key>`);
    `values` are data (query names, times, counts), never words.
    """

    key: str
    values: tuple[tuple[str, NoteValue], ...] = ()

    def value(self, name: str) -> NoteValue | None:
        return dict(self.values).get(name)


def note(key: str, /, **values: NoteValue) -> Note:
    """A note with its values: note("no_samples", query="errors")."""
    return Note(key, tuple(values.items()))


def source(key: str, /, **values: NoteValue) -> Note:
    """Where a figure comes from (its provenance): a catalogue key `src_<key>` and the facts it
    names, such as log entry IDs, a query and its range, or the samples used."""
    return Note(key, tuple(values.items()))
