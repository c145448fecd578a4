"""The few facts a hand-off message carries about a new draft: no words, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from collector.analysis.facts import Verdict
from collector.analysis.incident import Analysis


@dataclass(frozen=True)
class DraftFacts:
    """What a notice says about one drafted incident."""

    incident_id: str
    title: str
    severity: str
    service: str
    duration: timedelta | None
    rto_verdict: Verdict  # the report's own RTO verdict, never judged a second time
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
        rto_verdict=rto.verdict,
        rto_target=rto.target,
        rto_actual=rto.actual,
        incident_url=analysis.incident.link,
    )
