"""Shortcuts the tests take into the analysis; the product goes through
`collector.jobs.draft` (snapshot read once, then analysed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collector.analysis.incident import Analysis, analyse_incident
from collector.analysis.theilsen import FloatArray, fit_incident_window
from collector.config import Config
from collector.snapshot.incident import read_incident_data


def analyse_snapshot(
    pagerduty: dict[str, Any], prometheus: dict[str, Any], config: Config, now: datetime
) -> Analysis:
    """A snapshot's raw parts read into records, then every figure computed from them."""
    data = read_incident_data(pagerduty, prometheus, config.prometheus.queries)
    return analyse_incident(data, config, now)


def fit_theil_sen(x: FloatArray, y: FloatArray) -> tuple[float, float] | None:
    """An incident window's slope and intercept; None if x is constant."""
    fitted = fit_incident_window(x, y)
    return None if fitted is None else (fitted[0].slope, fitted[1])
