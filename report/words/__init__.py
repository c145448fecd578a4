"""Facts into words: one `Words` per report, bound to one language's catalogue.

Analysis hands over numbers, datetimes and enums; everything a reader sees as a sentence is
built here from report/words/catalogues/<language>.toml, so a French report is French throughout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from collector.analysis.facts import FigureStatus, Note, NoteValue, Verdict
from collector.analysis.impact import Figure, Objective
from collector.analysis.timeline import EventGroup
from collector.records import Event, Gap, GapKind, LostData, LostPart
from collector.timeutil import iso_utc
from report.words import formats
from report.words.labels import LABELS

CURRENCY_UNITS = ("$", "€", "£", "¥", "currency")
# Units counted in a word of the catalogue ("12,500 users"); others are symbols ("%", "h").
MAX_MINUTES = timedelta.max / timedelta(minutes=1)
COUNTED_UNITS = ("users", "people", "endpoints", "requests", "connections", "escalations")


def label_pairs(labels: Sequence[tuple[str, str]]) -> str:
    """An alert's labels as the report shows them: 'instance=db-01:9100, job=node'."""
    return ", ".join(f"{k}={v}" for k, v in labels)


class Words:
    """The words of one language, and the few rules that put facts into them."""

    def __init__(self, language: str, currency: str = "$") -> None:
        self.language = language
        self.catalogue: Mapping[str, str] = LABELS[language]
        self.currency = currency

    def say(self, key: str, **values: Any) -> str:
        """The catalogue's sentence `key`, filled with the values."""
        return self.catalogue[key].format(**values)

    def duration(self, span: timedelta | None) -> str:
        """'38 min', '1 min 30 s', '1 h 04' (French) or '1 h 4 min' (English)."""
        return formats.duration(span, self.language)

    def clock(self, moment: datetime, day: datetime | None = None, seconds: bool = False) -> str:
        """A clock time in UTC, dated when not on `day`."""
        return formats.clock(moment, day or moment, seconds=seconds)

    def number(self, value: float | None, digits: int | None = None) -> str:
        """12,500 in English, 12 500 in French; one decimal unless the value is whole."""
        return formats.number(value, digits, self.language)

    def short(self, value: float) -> str:
        """A value as briefly as it was written: '0.5', '90', '1e+06' ('0,5' in French)."""
        return formats.exact(value, self.language)

    def signed(self, value: float, digits: int = 1) -> str:
        """A rate with its sign and one decimal (or `digits`): '+20.0' ('+20,0' in French)."""
        return ("+" if value >= 0 else "−") + self.number(abs(value), digits)

    def label(self, key: str) -> str:
        """A figure's label: 'Time to restore'."""
        return self.catalogue.get(f"fig_{key}", key)

    def labels(self, keys: Sequence[str]) -> str:
        """Several figures' labels, comma-separated."""
        return ", ".join(self.label(key) for key in keys)

    def definition(self, key: str) -> str:
        """What a duration figure measures, from where to where."""
        return self.catalogue.get(f"def_{key}", "—")

    def unit(self, unit: str, count: float = 2) -> str:
        """A unit as shown after `count` of it: 'users', '1 user' ('utilisateur')."""
        return self.plural(f"unit_{unit}", count) if unit in COUNTED_UNITS else unit

    def pagerduty_word(self, value: str, of: str = "incident") -> str:
        """A PagerDuty state or urgency ('resolved', 'high') of an incident or an alert, in the
        report's language; a word the catalogue does not know is shown as PagerDuty sent it."""
        return self.catalogue.get(f"pd_{of}_{value}", value)

    def plural(self, key: str, count: float) -> str:
        """The catalogue's word `key` for `count` things; its forms are 'one|many'. French
        puts 0 and 1 in the singular ('0 escalade'), English only 1 ('0 escalations')."""
        forms = self.catalogue[key].split("|")
        one = abs(count) < 2 if self.language == "fr" else count == 1
        return forms[0] if one or len(forms) == 1 else forms[1]

    def count(self, count: float, key: str) -> str:
        """A count and its word: '1 série', '3 séries', '12 500 users'."""
        return f"{self.number(count)} {self.plural(key, count)}"

    def detected_by(self, how: str) -> str:
        """Who noticed first, from the figures' DetectedBy value."""
        return self.say(f"detected_{how.replace(' ', '_')}")

    def figure(self, figure: Figure) -> str:
        """A computed figure as text; one that could not be computed says why."""
        if figure.status is not FigureStatus.OK:
            status = self.say("status_" + figure.status.value)
            return f"⚠️ {status}: {self.note(figure.note)}" if figure.note else f"⚠️ {status}"
        value = figure.value
        if isinstance(value, bool):
            return self.say("yes" if value else "no")
        if isinstance(value, timedelta):
            return self.duration(value)
        if isinstance(value, datetime):
            return self.clock(value)
        if isinstance(value, int | float) and figure.total is not None:
            total = self.number(figure.total)
            return self.say(
                "of_total",
                value=self.number(value),
                total=total,
                unit=self.unit(figure.unit, figure.total),
            ).strip()
        if isinstance(value, int | float):
            return self._quantity(float(value), figure.unit)
        return str(value)

    def _quantity(self, value: float, unit: str) -> str:
        if unit in CURRENCY_UNITS:
            return f"{self.currency}{self.number(value, 0)}"
        if unit == "%":
            return f"{self.number(value, 1)} %"
        if unit == "min" and abs(value) < MAX_MINUTES:
            return self.duration(timedelta(minutes=value))
        if unit == "min":  # beyond any timedelta: a broken exporter's 1e300, shown as is
            return f"{self.number(value, 1)} min"
        if unit == "h":
            return f"{self.number(value, 1)} h"
        shown = self.number(round(value) if abs(value) >= 100 else value)
        return f"{shown} {self.unit(unit, value)}".strip()

    def verdict(self, objective: Objective) -> str:
        """'MISSED by 8 min', 'ATTEINT', 'pas de données (…)': the objective's verdict."""
        v = objective.verdict
        if v is Verdict.MISSED and objective.actual and objective.target:
            return self.say("verdict_missed", by=self.duration(objective.actual - objective.target))
        if v is Verdict.ONGOING:
            return self.say("objective_ongoing")
        if v is Verdict.MISSED:  # by how much is unknown (a figures.json without the times)
            return self.say("verdict_missed_plain")
        return self.say(f"verdict_{v.value}")

    def objective_status(self, objective: Objective) -> str:
        """The status line of an objective: mark, verdict, and the SLA's share of the budget."""
        mark = "✅ " if objective.verdict.good else "⚠️ " if objective.verdict.bad else ""
        mark = "⏳ " if objective.verdict is Verdict.ONGOING else mark
        text = mark + self.verdict(objective)
        if objective.share_used is not None and objective.target and objective.actual:
            share = self.number(objective.share_used, 0)
            if objective.verdict is Verdict.OVER_BUDGET:
                text += ": " + self.say("sla_over", share=share)
            else:
                left = self.duration(objective.target - objective.actual)
                text += ": " + self.say("sla_within", share=share, left=left)
        why = self.objective_note(objective)
        return f"{text} ({why})" if why else text

    def objective_note(self, objective: Objective) -> str:
        if objective.note:
            return self.note(objective.note)
        if objective.verdict is Verdict.NO_DATA and objective.actual is None:
            return self.say("no_end")
        return self.say("sla_alone") if objective.share_used is not None else ""

    def note(self, note: Note | None) -> str:
        """A figure's note in words: why it is missing, or how to read it."""
        if note is None:
            return ""
        values = {name: self._note_value(value) for name, value in note.values}
        return self.say(f"note_{note.key}", **values)

    def source(self, source: Note | None) -> str:
        """Where a figure comes from, in words; instants stay exact (ISO 8601, UTC)."""
        if source is None:
            return "—"
        values = {name: self._source_value(name, value) for name, value in source.values}
        return self.say(f"src_{source.key}", **values)

    def _source_value(self, name: str, value: NoteValue) -> str:
        if isinstance(value, Note):
            return self.source(value)
        if name == "weekdays" and isinstance(value, str):  # "01234": Monday to Friday
            days = self.say("weekday_names").split(", ")
            return ", ".join(days[int(d)] for d in value) or self.say("none")
        if name in ("who", "names") and value == "":
            return self.say("nobody")
        if isinstance(value, datetime):
            return iso_utc(value)
        if isinstance(value, int):  # counts and IDs as recorded, never grouped
            return str(value)
        if isinstance(value, float):
            return formats.exact(value, self.language)
        if isinstance(value, str):  # the catalogue's backticks alone mark code (a query)
            return value.replace("`", "'")
        return self._note_value(value)

    def _note_value(self, value: NoteValue) -> str:
        if isinstance(value, Note):
            return self.note(value)
        if isinstance(value, datetime):
            return self.clock(value)
        if isinstance(value, timedelta):
            return self.duration(value)
        if isinstance(value, int | float):
            return self.number(value)
        return value

    def event(self, event: Event) -> str:
        """An event of the chronology: PagerDuty's own summary, or one worded from its facts."""
        text = event.summary
        if event.is_alert:
            text = self._alert(event.kind, event.subject, event.labels)
        elif event.kind == "annotate" and event.subject:
            text = self.say("event_note", note=event.subject)
        elif event.kind == "trigger" and event.subject:
            text = self.say("event_triggered", note=event.subject)
        elif event.kind == "notify" and event.targets and event.channel:
            people = ", ".join(event.targets)
            text = self.say("event_notified", people=people, channel=event.channel)
        return self.say("event_reopened", summary=text) if event.reopened else text

    def _alert(self, kind: str, name: str, labels: Sequence[tuple[str, str]]) -> str:
        """'Alert HighMemory firing (instance=db-01:9100)': an alert's state, then its labels."""
        text = self.say("event_alert", name=name, state=self.say(f"event_{kind}"))
        return text + (f" ({label_pairs(labels)})" if labels else "")

    def alert_group(self, group: EventGroup, shown: int = 5) -> str:
        """A run of one alert's transitions over several series: the labels they share once,
        then what tells the first few series apart ('instance=a:9100; instance=b:9100 and 38
        more')."""
        summary = self._alert(group.first.kind, group.first.subject, group.shared_labels)
        varying = [label_pairs(labels) for labels in group.varying_labels]
        which = self.say("series_separator").join(varying[:shown])
        if len(varying) > shown:
            which += " " + self.say("and_more", n=self.number(len(varying) - shown))
        return self.say(
            "group_alert",
            summary=summary,
            count=self.number(group.count),
            n=self.number(len(varying)),
            which=which,
        )

    def gap(self, gap: Gap) -> str:
        """What could not be gathered, from the gap's fields; the source's message verbatim."""
        if not gap.source:
            return gap.detail
        if gap.source == "Prometheus":
            what = self.say(
                "gap_query_days" if gap.days else "gap_query", name=gap.subject, days=gap.days
            )
        else:
            what = self.say("gap_list", name=gap.subject)
        if gap.kind is GapKind.DROPPED and gap.count is not None:
            return self.say("gap_dropped", what=what, n=self.number(gap.count))
        if gap.kind is GapKind.TRUNCATED and gap.count is not None and gap.total is not None:
            n, total = self.number(gap.count), self.number(gap.total)
            return self.say("gap_truncated", what=what, n=n, total=total)
        return self.say("gap_failed", what=what, error=gap.detail)

    def gap_line(self, gap: Gap) -> str:
        """The gap as one line of stderr or of a log: counts as counted, a truncated list's
        endpoint named, the source's message verbatim."""
        if not gap.source:
            return gap.detail
        if gap.source == "Prometheus":
            key = "gap_line_query_days" if gap.days else "gap_query"
            what = self.say(key, name=gap.subject, days=gap.days)
        elif gap.source == "PagerDuty":
            what = self.say("gap_list", name=gap.subject)
        else:
            what = self.say("gap_line_source", source=gap.source, name=gap.subject)
        if gap.kind is GapKind.DROPPED and gap.count is not None:
            return self.say("gap_dropped", what=what, n=gap.count)
        if gap.kind is GapKind.TRUNCATED and gap.count is not None and gap.total is not None:
            key = "gap_line_truncated" if gap.detail else "gap_line_truncated_bare"
            return self.say(key, what=what, n=gap.count, total=gap.total, path=gap.detail)
        return self.say("gap_failed", what=what, error=gap.detail)

    def lost(self, lost: LostData) -> str:
        """What a new draft lacks that the published one has, as one reason."""
        if lost.part is LostPart.LOG_ENTRIES:
            return self.say("lost_log_entries", after=lost.after, before=lost.before)
        if lost.part is LostPart.SERIES:
            return self.say("lost_series", name=lost.subject, after=lost.after, before=lost.before)
        return self.gap_line(lost.gap) if lost.gap is not None else ""

    def query_warning(self, query: str, warning: str) -> str:
        """A warning Prometheus sent with a query's answer, its own words kept."""
        return self.say("gap_warned", name=query, warning=warning)


def gap_line(gap: Gap) -> str:
    """The gap as stderr and logs show it, in English (`Words.gap_line`)."""
    return _ENGLISH.gap_line(gap)


def event_line(event: Event) -> str:
    """The event as timeline.csv says it, in English (`Words.event`)."""
    return _ENGLISH.event(event)


def lost_line(lost: LostData) -> str:
    """What a new draft lacks, as the CLI says it, in English (`Words.lost`)."""
    return _ENGLISH.lost(lost)


# The CLI's lines and timeline.csv are in English whatever the report's language.
_ENGLISH = Words("en")
