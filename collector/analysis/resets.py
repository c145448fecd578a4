"""Resets of a memory series: restarts, OOM kills, a counter that starts again from zero.

A reset ends a cycle of a sawtooth; the growth within cycles is the leak, and the drop itself
is never read as negative growth. Pure numpy: no I/O, no words.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from collector.analysis.theilsen import median

FloatArray = npt.NDArray[np.float64]

RESET_MIN_DROP = 10.0  # points: a restart frees far more than noise or a cycle moves in a step
RESET_STEP_SPREADS = 3.0  # the sudden drop, in robust spreads of the steps between samples
RESET_LEVEL_SPREADS = 3.5  # the held drop, between medians of three samples either side


def detect_resets(values: FloatArray) -> list[int]:
    """Indices of the first sample after each reset: a large drop within one or two steps.

    The drop must be sudden: far larger than the usual change over as many steps, and than
    the local descent around it (so the steep side of a daily cycle sampled hourly is not a
    restart). It must hold: the next samples stay low (so a one-sample dip to zero from a
    failed scrape is not one either).
    """
    if len(values) < 3:
        return []
    steps = np.diff(values)
    spread = _spread(steps)
    sudden = (
        max(RESET_MIN_DROP, RESET_STEP_SPREADS * spread),
        max(RESET_MIN_DROP, RESET_STEP_SPREADS * _spread(values[2:] - values[:-2])),
    )
    held = max(RESET_MIN_DROP, RESET_LEVEL_SPREADS * spread)
    drop = -steps >= sudden[0]
    drop[1:] |= (values[:-2] - values[2:]) >= sudden[1]
    resets: list[int] = []
    for index in (np.flatnonzero(drop) + 1).tolist():
        if resets and index - resets[-1] <= 2:
            continue  # the same drop seen over one and two steps
        if not _beyond_local_trend(values, steps, index, sudden):
            continue
        if index >= 2 and steps[index - 2] < steps[index - 1]:
            index -= 1  # over two steps, the reset is the larger of the two drops
        before = median(values[max(index - 4, 0) : max(index - 1, 1)])
        after = median(values[index : index + 3])
        if before - after >= held:
            resets.append(index)
    return resets


def _spread(changes: FloatArray) -> float:
    """Robust standard deviation (scaled median absolute deviation)."""
    return 1.4826 * median(np.abs(changes - median(changes)))


def _beyond_local_trend(
    values: FloatArray, steps: FloatArray, index: int, sudden: tuple[float, float]
) -> bool:
    """The drop ending at `index`, less the descent of the steps around it, is still sudden."""
    span = 1 if values[index - 1] - values[index] >= sudden[0] else 2
    drop = float(values[index - span] - values[index])
    around = np.concatenate(
        [steps[max(index - span - 4, 0) : index - span], steps[index : index + 4]]
    )
    descent = min(median(around), 0.0) if len(around) else 0.0
    return drop + span * descent >= sudden[span - 1]
