"""The sentence under a host's 28-day memory context chart, in the report's language."""

from __future__ import annotations

from collections.abc import Mapping

from collector.analysis.fleet import HostReview


def context_sentence(review: HostReview, words: Mapping[str, str]) -> str:
    """E.g. "Memory over 28 days: growing steadily, a long leak, +1.2 %/day (0.9 to 1.5)"."""
    kind = words[f"kind_{review.kind}"]
    verdict = words["context_" + review.verdict.value.replace(" ", "_")]
    rate, low, high = review.growth_percent_per_day, review.growth_low, review.growth_high
    if rate is None or low is None or high is None:
        text = words["context_no_rate"].format(kind=kind, verdict=verdict)
    else:
        text = words["context_rate"].format(
            kind=kind, verdict=verdict, rate=f"{rate:+.2f}", low=f"{low:+.2f}", high=f"{high:+.2f}"
        )
    return text[:1].upper() + text[1:]
