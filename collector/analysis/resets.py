"""Resets of a memory series: restarts, OOM kills, a counter that starts again from zero.

A reset ends a cycle of a sawtooth; the growth within cycles is the leak, and the drop itself
is never read as negative growth. Pure numpy: no I/O, no words.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

RESET_MIN_DROP = 10.0  # points: a restart frees far more than noise or a cycle moves in a step
RESET_STEP_SPREADS = 3.0  # the sudden drop, in robust spreads of the steps between samples
RESET_LEVEL_SPREADS = 3.5  # the held drop, between medians of three samples either side


def detect_resets(values: FloatArray) -> list[int]:
    """Indices of the first sample after each reset: a large drop within one or two steps.

    The drop must be sudden (far larger than the usual step, so a smooth daily decline is not
    a restart) and must hold (the level of the next samples stays low, so a one-sample dip to
    zero from a failed scrape is not one either).
    """
    if len(values) < 2:
        return []
    steps = np.diff(values)
    spread = 1.4826 * float(np.median(np.abs(steps - np.median(steps))))
    sudden = max(RESET_MIN_DROP, RESET_STEP_SPREADS * spread)
    held = max(RESET_MIN_DROP, RESET_LEVEL_SPREADS * spread)
    drop = -steps >= sudden
    drop[1:] |= (values[:-2] - values[2:]) >= sudden
    resets: list[int] = []
    for index in (np.flatnonzero(drop) + 1).tolist():
        if resets and index - resets[-1] <= 2:
            continue  # the same drop seen over one and two steps
        before = float(np.median(values[max(index - 4, 0) : max(index - 1, 1)]))
        after = float(np.median(values[index : index + 3]))
        if before - after >= held:
            resets.append(index)
    return resets
