"""The few facts a hand-off message carries about a new draft: no words, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from collector.analysis.incident import Analysis


class RtoVerdict(Enum):
    """How the time to restore compares with the RTO target."""

    MET = "met"
    MISSED = "missed"
    NOT_CONFIGURED = "not_configured"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DraftFacts:
    """What a notice says about one drafted incident."""

    incident_id: str
    title: str
    severity: str
    service: str
    duration: timedelta | None
    rto_verdict: RtoVerdict
    rto_target: timedelta | None
    rto_actual: timedelta | None
    incident_url: str


def draft_facts(analysis: Analysis) -> DraftFacts:
    """Pick the notice's facts from the analysis the report was drafted from."""
    rto = analysis.impact.objective("RTO")
    return DraftFacts(
        incident_id=analysis.incident.id,
        title=analysis.incident.title,
        severity=analysis.figures.severity,
        service=analysis.incident.service,
        duration=analysis.figures.duration,
        rto_verdict=rto_verdict(rto.target, rto.actual),
        rto_target=rto.target,
        rto_actual=rto.actual,
        incident_url=analysis.incident.link,
    )


def rto_verdict(target: timedelta | None, actual: timedelta | None) -> RtoVerdict:
    """MET when the service was restored within the target, as the report's RTO line says."""
    if target is None:
        return RtoVerdict.NOT_CONFIGURED
    if actual is None:
        return RtoVerdict.UNKNOWN
    return RtoVerdict.MET if actual <= target else RtoVerdict.MISSED
