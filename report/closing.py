"""The closing fields' suggestions in words: author, initial symptom, on-call hours, immediate
actions, and the archive block from the settings.

Each is one line of plain text (the template escapes it and marks it "suggested by the data");
an empty one leaves the field's fill-in marker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from collector.analysis.closing import Closing, OnCall
from collector.config.settings import ReportSettings
from report.words import Words, formats

MAX_ACTIONS = 12


@dataclass(frozen=True)
class ClosingText:
    """The closing fields as the report shows them; "" where the data has nothing."""

    author: str = ""
    symptom: str = ""
    on_call: str = ""
    actions: tuple[str, ...] = ()
    retention: str = ""
    distribution: str = ""
    review: str = ""


def word_closing(
    closing: Closing, settings: ReportSettings, words: Words, day: datetime
) -> ClosingText:
    """The suggestions of the closing fields, times as the report's chronology gives them."""

    def at(moment: datetime) -> str:
        return formats.clock(moment, day, settings.timezone)

    symptom = []
    if closing.first_alert is not None:
        alert = closing.first_alert
        symptom.append(words.say("symptom_alert", at=at(alert.created_at), summary=alert.summary))
    if closing.first_signal is not None:
        signal = closing.first_signal
        symptom.append(words.say("symptom_signal", title=signal.title, at=at(signal.at)))
    author = closing.author
    actions = [f"{at(e.time)}: {words.event(e)} — {e.actor}" for e in closing.actions]
    if len(actions) > MAX_ACTIONS:
        actions[MAX_ACTIONS:] = [words.say("and_more", n=len(actions) - MAX_ACTIONS)]
    return ClosingText(
        author=words.say(f"author_{author.basis.value}", name=author.name) if author else "",
        symptom="; ".join(symptom),
        on_call="; ".join(_on_call(span, closing, words, at) for span in closing.on_call),
        actions=tuple(actions),
        retention=settings.retention or "",
        distribution=", ".join(settings.distribution),
        review=words.say(
            "review_after",
            date=closing.review_on.isoformat(),
            days=settings.review_after_days,
        )
        if closing.review_on
        else "",
    )


def _on_call(span: OnCall, closing: Closing, words: Words, at: Callable[[datetime], str]) -> str:
    """'Alice Martin: 37 min from the first notification (14:33 UTC) to the resolve, none
    of it at night (22:00–07:00)'."""
    line = words.say(
        "oncall_span", name=span.person, span=words.duration(span.span), at=at(span.start)
    )
    if span.night is None:
        return line
    dusk, dawn = closing.night_hours
    hours = f"{dusk:02d}:00–{dawn:02d}:00"
    if not span.night:
        return f"{line}, {words.say('oncall_no_night', hours=hours)}"
    return f"{line}, {words.say('oncall_night', night=words.duration(span.night), hours=hours)}"
