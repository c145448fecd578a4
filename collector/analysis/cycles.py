"""Daily and weekly cycles of a binned series: found, measured and taken out before a fit.

A window that ends on a daily peak makes any line fitted on the raw values climb. Removing
the hour-of-day (and day-of-week) profile first leaves only the trend, wherever the window ends.
Profiles are estimated on the residuals of a centred moving average of one period, so a trend,
a step or a late start of growth does not leak into them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY = 86_400.0
WEEK = 7 * DAY
MIN_STRENGTH = 0.3  # share of the detrended variance a profile must explain (beyond chance)
MIN_AMPLITUDE = 2.0  # points, peak to trough of the profile
MIN_COVERAGE = 0.8  # of a moving-average window that must hold data


@dataclass(frozen=True)
class Cycles:
    """The cycles found and the series without them (profiles average to zero)."""

    adjusted: FloatArray
    daily_amplitude: float  # peak-to-trough points of the hour-of-day profile (0 if none)
    weekly_amplitude: float  # of the day-of-week profile (0 if none)

    @property
    def cyclic(self) -> bool:
        """A daily or a weekly cycle is present."""
        return self.daily_amplitude > 0 or self.weekly_amplitude > 0


def remove_cycles(t: FloatArray, v: FloatArray, segment: IntArray, width: float) -> Cycles:
    """Find and subtract the daily then the weekly profile of bins at epoch seconds `t`."""
    adjusted = v.copy()
    daily = 0.0
    if t[-1] - t[0] >= 2 * DAY and width <= DAY / 8:
        hour = np.floor((t % DAY) / 3600).astype(np.int64)
        found = _profile(t, adjusted, segment, width, DAY, hour, 24)
        if found is not None:
            adjusted -= found[hour]
            daily = float(np.ptp(found))
    weekly = 0.0
    if t[-1] - t[0] >= 2 * WEEK:
        # The epoch began on a Thursday; any fixed origin gives the same profile.
        weekday = np.floor(t / DAY).astype(np.int64) % 7
        found = _profile(t, adjusted, segment, width, WEEK, weekday, 7)
        if found is not None:
            adjusted -= found[weekday]
            weekly = float(np.ptp(found))
    return Cycles(adjusted, daily, weekly)


def _profile(
    t: FloatArray,
    v: FloatArray,
    segment: IntArray,
    width: float,
    period: float,
    phase: IntArray,
    phases: int,
) -> FloatArray | None:
    """The median residual per phase when it explains enough of the residuals, else None.

    Enough is judged like an adjusted R²: a profile of `phases` values always explains some of
    the residuals by chance, the more so when few periods were seen. Samples within one phase
    slot (the hours of one day, for a weekly profile) count as one observation.
    """
    residual, valid = _detrend(t, v, segment, width, period)
    observations = float(valid.sum()) * min(width / (period / phases), 1.0)
    if observations < phases * 2:
        return None
    r, p = residual[valid], phase[valid]
    counts = np.bincount(p, minlength=phases)
    if (counts == 0).any():
        return None
    # Medians, not means: a one-off event (a step, a spike) in a single period is no cycle.
    order = np.lexsort((r, p))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranked = r[order]
    profile = (ranked[starts + (counts - 1) // 2] + ranked[starts + counts // 2]) / 2
    profile -= float(np.average(profile, weights=counts))
    total = float(np.var(r))
    if total <= 0:
        return None
    unexplained = float(np.var(r - profile[p])) / total
    strength = 1 - unexplained * (observations - 1) / (observations - phases)
    if strength < MIN_STRENGTH or float(np.ptp(profile)) < MIN_AMPLITUDE:
        return None
    return profile


def _detrend(
    t: FloatArray, v: FloatArray, segment: IntArray, width: float, period: float
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Residuals of a centred moving line over one period, on a regular grid of bins.

    A moving line, not a moving mean: with a gap on one side of the window a mean is pulled
    along the trend, and that bias would repeat with the calendar and pass for a cycle.
    Valid only where the window is well covered and holds no reset.
    """
    slot = np.round((t - t[0]) / width).astype(np.int64)
    size = int(slot[-1]) + 1
    x = slot.astype(np.float64)
    moments = np.zeros((5, size))
    moments[:, slot] = np.vstack([np.ones_like(x), x, v, x * x, x * v])
    sums = np.concatenate([np.zeros((5, 1)), np.cumsum(moments, axis=1)], axis=1)
    half = max(int(round(period / width / 2)), 1)
    low = np.clip(slot - half, 0, size)
    high = np.clip(slot + half, 0, size - 1) + 1
    n, sx, sy, sxx, sxy = sums[:, high] - sums[:, low]
    spread = n * sxx - sx * sx
    slope = np.where(spread > 0, (n * sxy - sx * sy) / np.where(spread > 0, spread, 1.0), 0.0)
    count = np.maximum(n, 1)
    line = sy / count + slope * (x - sx / count)
    full = (slot - half >= 0) & (slot + half < size) & (n >= MIN_COVERAGE * (2 * half + 1))
    # Segments never decrease: fill the empty slots forwards and backwards to compare ends.
    segments = np.full(size, -1, dtype=np.int64)
    segments[slot] = segment
    forward = np.maximum.accumulate(segments)
    backward = np.minimum.accumulate(np.where(segments < 0, size, segments)[::-1])[::-1]
    # A window straddling a reset fits a line through two cycles: not a profile.
    same = backward[low] == forward[high - 1]
    return v - line, full & same
