"""Link PagerDuty incidents to the fleet's series: by service selector, or by the host's name.

An incident belongs to a series when the `prometheus.services` selector of the incident's service
matches the series' labels, or when the host's name (its instance without the port) appears as a
word in the incident's title, description or first alert's summary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from collector.timeutil import parse_time

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


class LinkedBy(str, Enum):
    """Why an incident was linked to a host."""

    SERVICE = "service"
    NAME = "name"


@dataclass(frozen=True)
class FleetIncident:
    """A PagerDuty incident of the review's window, as the fleet review needs it."""

    id: str
    number: int | None
    title: str
    service: str
    created_at: datetime
    link: str
    texts: tuple[str, ...]  # where a host's name may appear: title, description, first alert


@dataclass(frozen=True)
class HostIncident:
    """One incident linked to one host, and why."""

    incident: FleetIncident
    linked_by: LinkedBy


def read_fleet_incidents(raw: Sequence[Mapping[str, Any]]) -> list[FleetIncident]:
    """Raw incidents of the list endpoint (with first trigger entries) as records."""
    incidents = []
    for item in raw:
        trigger = item.get("first_trigger_log_entry") or {}
        channel = trigger.get("channel") or {}
        texts = (
            item.get("title") or item.get("summary") or "",
            item.get("description") or "",
            trigger.get("summary") or "",
            channel.get("summary") or "",
        )
        incidents.append(
            FleetIncident(
                id=str(item["id"]),
                number=item.get("incident_number"),
                title=str(item.get("title") or item.get("summary") or item["id"]),
                service=str((item.get("service") or {}).get("summary", "")),
                created_at=parse_time(item["created_at"]),
                link=str(item.get("html_url", "")),
                texts=tuple(str(t) for t in texts if t),
            )
        )
    return incidents


def parse_selector(selector: str) -> list[tuple[str, str, str]] | None:
    """PromQL label matchers as (label, operator, value); None if the text is not only that."""
    matchers = []
    position = 0
    text = selector.strip()
    while position < len(text):
        match = _MATCHER.match(text, position)
        if match is None:
            return None
        value = re.sub(r"\\(.)", r"\1", match.group(3))
        matchers.append((match.group(1), match.group(2), value))
        position = match.end()
    return matchers


def selector_matches(matchers: Sequence[tuple[str, str, str]], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds for the labels (PromQL semantics: anchored regexes)."""
    if not matchers:
        return False
    return all(_holds(op, labels.get(label, ""), value) for label, op, value in matchers)


def _holds(operator: str, actual: str, value: str) -> bool:
    if operator in ("=", "!="):
        return (actual == value) == (operator == "=")
    try:
        found = re.fullmatch(value, actual) is not None
    except re.error:
        return False
    return found == (operator == "=~")


def host_name(labels: Mapping[str, str]) -> str:
    """The host's name as people write it: the instance label without its port."""
    instance = labels.get("instance", "")
    return re.sub(r":\d+$", "", instance)


def link_incidents(
    incidents: Sequence[FleetIncident],
    labels: Mapping[str, str],
    services: Mapping[str, str],
) -> list[HostIncident]:
    """The incidents that belong to the series with these labels, oldest first."""
    name = host_name(labels)
    word = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", re.IGNORECASE) if name else None
    linked = []
    for incident in incidents:
        matchers = parse_selector(services.get(incident.service, ""))
        if matchers and selector_matches(matchers, labels):
            linked.append(HostIncident(incident, LinkedBy.SERVICE))
        elif word is not None and any(word.search(text) for text in incident.texts):
            linked.append(HostIncident(incident, LinkedBy.NAME))
    return sorted(linked, key=lambda h: (h.incident.created_at, h.incident.id))
