"""The sentence under a host's memory context chart, in the report's language."""

from __future__ import annotations

from datetime import timedelta

from collector.analysis.memory_context import MIN_LONG_TREND_SPAN, HostContext
from report.words import Words


def context_sentence(context: HostContext, words: Words) -> str:
    """E.g. "Memory over 28 days: growing steadily, a long leak, +1.20 %/day (0.90 to 1.50)",
    or how little history there is when it is too short for a long-trend verdict."""
    review = context.review
    kind = words.say(f"kind_{review.kind}")
    if not context.judged:
        text = words.say(
            "context_short",
            kind=kind,
            history=span_words(context.history, words),
            needed=span_words(MIN_LONG_TREND_SPAN, words),
        )
        return text[:1].upper() + text[1:]
    span = span_words(context.shown_span, words)
    key = "idle" if context.idle else review.verdict.value.replace(" ", "_")
    verdict = words.say("context_" + key)
    rate, low, high = review.growth_percent_per_day, review.growth_low, review.growth_high
    if rate is None or low is None or high is None or context.idle:
        text = words.say("context_no_rate", kind=kind, span=span, verdict=verdict)
    elif words.signed(low, 2) == words.signed(high, 2):  # "+0.00 to +0.00" reads as a bug
        text = words.say(
            "context_rate_exact", kind=kind, span=span, verdict=verdict, rate=words.signed(rate, 2)
        )
    else:
        text = words.say(
            "context_rate",
            kind=kind,
            span=span,
            verdict=verdict,
            # Two decimals: a rate per day over weeks is small ("+0.35").
            rate=words.signed(rate, 2),
            low=words.signed(low, 2),
            high=words.signed(high, 2),
        )
    return text[:1].upper() + text[1:]


def span_words(span: timedelta, words: Words) -> str:
    """A history's length as people say it: whole days from two days on, else whole hours
    (at least one: a history of minutes is not "0 h")."""
    if span >= timedelta(days=2):
        return words.duration(timedelta(days=round(span / timedelta(days=1))))
    return words.duration(timedelta(hours=max(round(span / timedelta(hours=1)), 1)))
