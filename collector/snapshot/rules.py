"""Reader of the snapshot's alerting rules: the rules Prometheus evaluates, and when each
rule's expression, evaluated over the window, returned samples."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from collector.snapshot import prometheus as prom_reader


@dataclass(frozen=True)
class AlertRule:
    """An alerting rule as Prometheus evaluates it."""

    name: str
    query: str
    for_duration: timedelta
    labels: tuple[tuple[str, str], ...]
    group: str


def read_alerting_rules(raw: Mapping[str, Any] | None) -> list[AlertRule]:
    """The rules kept in the snapshot; nothing when the snapshot has none."""
    rules = (raw or {}).get("rules") or []
    return [
        AlertRule(
            name=str(r.get("name", "")),
            query=str(r.get("query", "")),
            for_duration=timedelta(seconds=float(r.get("duration_s") or 0)),
            labels=tuple(sorted((str(k), str(v)) for k, v in (r.get("labels") or {}).items())),
            group=str(r.get("group", "")),
        )
        for r in rules
        if isinstance(r, Mapping)
    ]


def rule_held_times(raw: dict[str, Any]) -> tuple[dict[str, list[datetime]], timedelta]:
    """When each evaluated rule expression returned samples, and the evaluation step."""
    evaluations = [r for r in raw.get("evaluations") or () if not r.get("error")]
    frame = prom_reader.read_series(evaluations)
    held = {
        str(name): [t.to_pydatetime() for t in group["time"]]
        for name, group in frame.groupby("query")
    }
    steps = [float(r.get("step") or 60) for r in evaluations]
    return held, timedelta(seconds=max(steps, default=60.0))
