"""Reader of a fleet snapshot's grids: raw JSON (one value per step, null = missing) to arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from collector.timeutil import parse_time

FloatArray = npt.NDArray[np.float64]


def read_grid(grid: dict[str, Any]) -> list[tuple[dict[str, str], FloatArray, FloatArray]]:
    """Each series of a grid as (labels, unix seconds, values), missing points dropped."""
    start = parse_time(grid["start"]).timestamp()
    step = float(grid["step"])
    out = []
    for series in grid.get("series") or ():
        raw = np.array(series["values"], dtype=np.float64)  # null (None) becomes NaN
        times = start + step * np.arange(raw.size, dtype=np.float64)
        keep = np.isfinite(raw)
        out.append((dict(series.get("metric", {})), times[keep], raw[keep]))
    return out
