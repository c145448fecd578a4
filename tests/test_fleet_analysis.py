"""Fleet memory review: series built by construction, with the answer known in advance."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import numpy.typing as npt

from collector.analysis.fleet import Verdict, rank_reviews, review_host

UNTIL = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday, midnight UTC
FloatArray = npt.NDArray[np.float64]


def grid(days: float, step: timedelta = timedelta(minutes=5)) -> FloatArray:
    """Epoch seconds of `days` of samples every `step`, the last one at UNTIL."""
    count = int(days * 86_400 / step.total_seconds())
    return UNTIL.timestamp() - step.total_seconds() * np.arange(count, dtype=np.float64)[::-1]


def test_linear_growth_is_growing_with_its_rate_inside_the_interval() -> None:
    t = grid(28)
    days = (t - t[0]) / 86_400
    values = 40 + 1.0 * days + np.random.default_rng(1).normal(0, 1, len(t))
    review = review_host(t, values, instance="a", kind="memory", until=UNTIL)
    assert review.verdict is Verdict.GROWING
    assert review.growth_low is not None and review.growth_high is not None
    assert review.growth_low <= 1.0 <= review.growth_high


def test_rank_puts_the_soonest_exhaustion_first() -> None:
    t = grid(7)
    days = (t - t[0]) / 86_400
    slow = review_host(t, 20 + 1.0 * days, instance="slow", kind="memory", until=UNTIL)
    fast = review_host(t, 20 + 8.0 * days, instance="fast", kind="memory", until=UNTIL)
    flat = review_host(t, 20 + 0 * days, instance="flat", kind="memory", until=UNTIL)
    assert [r.instance for r in rank_reviews([flat, slow, fast])] == ["fast", "slow", "flat"]
