"""PagerDuty reader: the raw API JSON kept in the snapshot, turned into typed records.

`Incident`, `LogEntry` and `Alert` (collector.records), oldest first, and the `alertname`s the
incident was paged with. Pure: no network import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.records import Alert, Incident, LogEntry
from collector.timeutil import parse_time


def read_incident(raw: dict[str, Any]) -> Incident:
    """Turn the raw incident object into an `Incident` record."""
    priority = raw.get("priority") or {}
    bridge = raw.get("conference_bridge") or {}
    resolved = raw.get("resolved_at")
    return Incident(
        id=raw["id"],
        number=raw.get("incident_number"),
        title=raw.get("title") or raw.get("summary") or raw["id"],
        status=raw.get("status", "unknown"),
        urgency=raw.get("urgency", "unknown"),
        priority=priority.get("summary") or priority.get("name"),
        service=(raw.get("service") or {}).get("summary", ""),
        service_id=(raw.get("service") or {}).get("id", ""),
        escalation_policy=(raw.get("escalation_policy") or {}).get("summary", ""),
        teams=tuple(t.get("summary", t.get("id", "")) for t in raw.get("teams") or ()),
        created_at=parse_time(raw["created_at"]),
        resolved_at=parse_time(resolved) if resolved else None,
        link=raw.get("html_url", ""),
        resolve_reason=_text(raw.get("resolve_reason")),
        conference_bridge=bridge.get("conference_url") or bridge.get("conference_number"),
        merged_into=_merged_into(raw.get("resolve_reason")),
    )


def _merged_into(reason: Any) -> str | None:
    """The incident this one was merged into (ResolveReason `merge_resolve_reason`)."""
    if not isinstance(reason, dict) or reason.get("type") != "merge_resolve_reason":
        return None
    target = reason.get("incident") or {}
    return _text(target.get("summary")) or _text(target.get("id")) or "?"


def read_alerts(raw: list[dict[str, Any]]) -> list[Alert]:
    """Turn raw alerts into `Alert` records, oldest first."""
    alerts = [
        Alert(
            id=item.get("id", ""),
            created_at=parse_time(item["created_at"]),
            resolved_at=parse_time(item["resolved_at"]) if item.get("resolved_at") else None,
            severity=item.get("severity") or "unknown",
            alert_key=item.get("alert_key") or "",
            summary=_text(item.get("summary")) or "",
            status=item.get("status", ""),
            link=item.get("html_url") or "",
        )
        for item in raw
    ]
    return sorted(alerts, key=lambda a: a.created_at)


def read_log_entries(raw: Iterable[dict[str, Any]]) -> list[LogEntry]:
    """Turn raw log entries (as the API lists them, newest first) into records, oldest first.
    `raw` is read once, in order: a huge incident's are read from the file (`stream.OnDisk`)."""
    # Entries often share a second (trigger and assign); reversing the API's order before a
    # stable sort on time keeps them in the order PagerDuty recorded them.
    entries = [_read_log_entry(item) for item in raw]
    entries.reverse()
    entries.sort(key=lambda e: e.time)
    return entries


def _read_log_entry(item: dict[str, Any]) -> LogEntry:
    agent = item.get("agent") or {}
    channel = item.get("channel") or {}
    targets = [a.get("summary", "") for a in item.get("assignees") or ()]
    if item.get("user"):
        targets.append(item["user"].get("summary", ""))
    targets.extend(r.get("summary", "") for r in channel.get("responders") or ())
    note = ""
    if item.get("type") == "annotate_log_entry":
        note = _text(channel.get("summary")) or _text(item.get("note")) or ""
    elif item.get("type") == "trigger_log_entry":
        # With include[]=channels the trigger carries the alert's own summary: say what fired.
        note = _text(channel.get("summary")) or _text(channel.get("description")) or ""
    return LogEntry(
        id=item.get("id", ""),
        type=_canonical_type(item.get("type", "unknown_log_entry")),
        time=parse_time(item["created_at"]),
        agent=agent.get("summary") or agent.get("name") or "PagerDuty",
        agent_type=agent.get("type", "system") if agent else "system",
        channel=channel.get("type", ""),
        summary=_text(item.get("summary")) or "",
        note=note,
        targets=tuple(t for t in targets if t),
        link=item.get("html_url") or "",
    )


def _canonical_type(kind: str) -> str:
    # The schema's AcknowledgeLogEntry spells it differently from the enum and real traffic.
    return "acknowledge_log_entry" if kind == "acknowledgement_log_entry" else kind


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _text(value.get("summary") or value.get("content") or value.get("description"))
    return str(value)


def read_paged_alertnames(data: dict[str, Any]) -> list[str]:
    """The `alertname`s the incident was paged with (trigger details and alert bodies)."""
    names: list[str] = []
    for entry in data.get("log_entries") or ():
        if isinstance(entry, dict) and entry.get("type") == "trigger_log_entry":
            names.append(str(((entry.get("channel") or {}).get("details") or {}).get("alertname")))
    for alert in data.get("alerts") or ():
        if isinstance(alert, dict):
            names.append(str(((alert.get("body") or {}).get("details") or {}).get("alertname")))
    return [n for n in dict.fromkeys(names) if n and n != "None"]
