"""figures.json: the report's figures for machines (dashboards, BI, comparing incidents).

Built from the same facts the report shows, never recomputed: durations in seconds, times in
ISO 8601 UTC, verdicts and statuses as lowercase words.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from collector.analysis.facts import FigureStatus, Note, Verdict
from collector.analysis.figures import IncidentFigures
from collector.analysis.impact import Figure, Impact, Objective
from collector.records import Incident
from collector.timeutil import iso_utc
from report.model import ReportModel
from report.words import Words

FORMAT_VERSION = 1
# Figures counted in minutes that are durations: shown in minutes, given here in seconds.
_MINUTE_UNITS = ("min",)
ENGLISH = Words("en")


def build_figures_json(model: ReportModel) -> str:
    """The machine-readable figures of one incident, as indented JSON text."""
    document = {
        "format_version": FORMAT_VERSION,
        "incident": _incident(model.incident, model.fig),
        "figures": [_figure(f) for f in _all_figures(model.impact)],
        "objectives": [_objective(o) for o in model.impact.objectives],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def uncomputed_figures(published: str, drafted: str) -> list[str]:
    """The keys of the figures and objectives that the `published` figures.json computed and
    the `drafted` one does not (a figure no longer `ok`, a verdict become `not_configured`),
    in the published order; [] when either text is not a figures.json."""
    old, new = _computed(published), _computed(drafted)
    if old is None or new is None:
        return []
    return [key for key in old if key not in new]


_DECIDED = frozenset(v.value for v in Verdict if v.good or v.bad or v is Verdict.ONGOING)


def _computed(text: str) -> list[str] | None:
    """The keys of a figures.json's computed figures, then objectives; None if unreadable."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    keys = []
    for part, field, done in (
        ("figures", "status", {FigureStatus.OK.value}),
        ("objectives", "verdict", _DECIDED),
    ):
        items = document.get(part)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and item.get(field) in done:
                keys.append(str(item.get("key")))
    return keys


def _incident(incident: Incident, figures: IncidentFigures) -> dict[str, Any]:
    return {
        "id": incident.id,
        "number": incident.number,
        "title": incident.title,
        "service": incident.service,
        "urgency": incident.urgency,
        "priority": incident.priority,
        "severity": figures.severity,
        "status": incident.status,
        "created_at": _json_value(incident.created_at),
        "resolved_at": _json_value(incident.resolved_at),
        "started_at": _json_value(figures.started_at),
        "acknowledged_at": _json_value(figures.acknowledged_at),
    }


def _all_figures(impact: Impact) -> tuple[Figure, ...]:
    return impact.durations + impact.business + impact.technical + impact.team


def _figure(figure: Figure) -> dict[str, Any]:
    value: Any = figure.value
    unit = figure.unit
    if unit in _MINUTE_UNITS:
        unit = "s"
        if isinstance(value, float | int) and not isinstance(value, bool):
            value = (
                float(value) * 60
            )  # not a timedelta: a broken exporter's 1e300 fits no timedelta
    out = {
        "key": figure.key,
        "value": _json_value(value),
        "unit": unit,
        "status": figure.status.value,
        "source": _source(figure.source),
    }
    if figure.total is not None:
        out["total"] = figure.total
    if figure.setting:
        out["setting"] = figure.setting
    return out


def _objective(objective: Objective) -> dict[str, Any]:
    out = {
        "key": objective.name.lower(),
        "target": _json_value(objective.target),
        "actual": _json_value(objective.actual),
        "verdict": objective.verdict.value,
        "source": _source(objective.source),
    }
    if objective.share_used is not None:
        out["share_used_percent"] = _json_value(objective.share_used)
    if objective.setting:
        out["setting"] = objective.setting
    return out


def _json_value(value: Any) -> Any:
    """Durations in seconds, times in ISO 8601 UTC, whole numbers as integers."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        rounded = round(value, 6)
        return int(rounded) if rounded.is_integer() else rounded
    return value


def _source(source: Note | None) -> str:
    """Provenance for machines: in English, whatever the report's language."""
    return ENGLISH.source(source) if source is not None else ""
