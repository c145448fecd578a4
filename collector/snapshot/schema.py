"""The snapshot's schema (version 2): every field the analysis reads, with its type.

`check_snapshot` proves that a parsed snapshot.json has the shape the readers expect, so that a
damaged or hostile file ends in one line naming the field (`pagerduty.log_entries[3].created_at:
not a time`) instead of a crash deep in the analysis. Metric samples, which can number millions,
are checked by a plain loop rather than by the schema validator (`snapshot.samples`). An older
snapshot is migrated to this version before it is checked (`snapshot.migrate`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from collector.config import QUERY_KINDS
from collector.config.stored import stored_settings_problem
from collector.paths import INCIDENT_ID
from collector.snapshot.gaps import GAP_KINDS
from collector.snapshot.samples import check_queries
from collector.snapshot.stream import OnDisk
from collector.timeutil import in_bounds, parse_time

if TYPE_CHECKING:
    import jsonschema

SCHEMA_VERSION = 2
# A duration stored in seconds (padding, baseline offset): at most about ten years.
MAX_SECONDS = 10 * 366 * 86400
# A stored number (threshold, incident number) beyond this is damage, not data.
MAX_NUMBER = 1e15

_TEXT = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "time"}
_OPTIONAL_TIME = {"anyOf": [_TIME, {"type": "null"}]}
_NUMBER = {"type": "number", "format": "finite"}
_SECONDS = {"type": "number", "format": "finite", "minimum": 0, "maximum": MAX_SECONDS}
# Free text PagerDuty sends as a string or as an object with a summary (read by `_text`).
_SUMMARY = {"type": ["string", "object", "null"]}
_REFERENCE = {
    "type": ["object", "null"],
    "properties": {"summary": _TEXT, "id": _TEXT, "name": _TEXT, "type": _TEXT},
}
_REFERENCES = {"type": ["array", "null"], "items": {**_REFERENCE, "type": "object"}}

_INCIDENT = {
    "type": "object",
    "required": ["id", "created_at"],
    "properties": {
        "id": {"type": "string", "pattern": INCIDENT_ID.pattern},
        "incident_number": {
            "type": ["integer", "null"],
            "minimum": 0,
            "maximum": MAX_NUMBER,
        },
        "title": _TEXT,
        "summary": _TEXT,
        "status": {"type": "string"},
        "urgency": {"type": "string"},
        "priority": _REFERENCE,
        "service": _REFERENCE,
        "escalation_policy": _REFERENCE,
        "teams": _REFERENCES,
        "created_at": _TIME,
        "resolved_at": _OPTIONAL_TIME,
        "html_url": _TEXT,
        "resolve_reason": _SUMMARY,
        "conference_bridge": {
            "type": ["object", "null"],
            "properties": {"conference_url": _TEXT, "conference_number": _TEXT},
        },
    },
}

_LOG_ENTRY = {
    "type": "object",
    "required": ["created_at"],
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string"},
        "created_at": _TIME,
        "agent": _REFERENCE,
        "channel": {
            "type": ["object", "null"],
            "properties": {
                "type": {"type": "string"},
                "summary": _SUMMARY,
                "description": _SUMMARY,
                "responders": _REFERENCES,
            },
        },
        "assignees": _REFERENCES,
        "user": _REFERENCE,
        "summary": _SUMMARY,
        "note": _SUMMARY,
        "html_url": _TEXT,
    },
}

_ALERT = {
    "type": "object",
    "required": ["created_at"],
    "properties": {
        "id": {"type": "string"},
        "created_at": _TIME,
        "resolved_at": _OPTIONAL_TIME,
        "severity": _TEXT,
        "alert_key": _TEXT,
        "summary": _SUMMARY,
        "status": {"type": "string"},
        "html_url": _TEXT,
    },
}

_COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_NUMBER}
# What could not be gathered, as facts (`records.Gap`); `report.words` words them.
_GAP = {
    "type": "object",
    "additionalProperties": False,
    "required": ["source", "subject", "kind", "detail"],
    "properties": {
        **dict.fromkeys(("source", "subject", "detail"), {"type": "string"}),
        "kind": {"enum": list(GAP_KINDS)},
        **dict.fromkeys(("count", "total", "days"), _COUNT),
    },
}

_SERIES_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "metric": {"type": "object", "additionalProperties": {"type": "string"}},
            "values": {"type": "array"},  # samples: checked by `_check_samples`
        },
    },
}

_RESULT: dict[str, Any] = {
    "type": "object",
    "required": ["name", "query", "result"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,99}$"},
        "title": {"type": "string"},
        "query": {"type": "string"},
        "kind": {"enum": list(QUERY_KINDS)},
        "unit": {"type": "string"},
        "thresholds": {"type": "array", "items": {**_NUMBER, "maximum": MAX_NUMBER}},
        "start": {"type": "string"},
        "end": {"type": "string"},
        "step": {"type": "number", "format": "finite", "exclusiveMinimum": 0},
        "result": _SERIES_LIST,
        "baseline_result": _SERIES_LIST,
        "baseline_offset_s": _SECONDS,
        "warnings": {"type": "array", "items": {"type": "string"}},
        "error": _TEXT,
        "user_facing": {"type": "boolean"},
    },
}

# A paged rule's own expression evaluated over the range: named after the rule, not the pack.
_EVALUATION = {
    **_RESULT,
    "properties": {**_RESULT["properties"], "name": {"type": "string", "maxLength": 200}},
}

_ALERTING_RULES = {
    "type": "object",
    "properties": {
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "group": {"type": "string"},
                    "name": {"type": "string"},
                    "query": {"type": "string"},
                    "duration_s": _SECONDS,
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "summary": _TEXT,
                },
            },
        },
        "note": _TEXT,
        "evaluations": {"type": "array", "items": _EVALUATION},
    },
}

# Optional: the settings the draft was made with, checked by the typed settings themselves.
_SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["drafted_at", "config"],
    "properties": {
        "drafted_at": _TIME,
        "config_file": {"type": "string", "maxLength": 200},
        "config": {"type": "object"},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema_version",
        "incident_id",
        "collected_at",
        "tool_version",
        "pagerduty",
        "prometheus",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "incident_id": {"type": "string", "pattern": INCIDENT_ID.pattern},
        "collected_at": _TIME,
        "tool_version": {"type": "string"},
        "gaps": {"type": "array", "items": _GAP},
        "settings": _SETTINGS,
        "pagerduty": {
            "type": "object",
            "required": ["incident"],
            "properties": {
                "base_url": {"type": "string"},
                "incident": _INCIDENT,
                "log_entries": {"type": "array", "items": _LOG_ENTRY},
                "alerts": {"type": "array", "items": _ALERT},
                "notes": {"type": "array"},
            },
        },
        "prometheus": {
            "type": "object",
            "properties": {
                "url": {"type": "string"},
                "selector": {"type": "string"},
                "range": {
                    "type": "object",
                    "properties": {"start": _TIME, "end": _TIME, "step": _NUMBER},
                },
                "padding_before_s": _SECONDS,
                "padding_after_s": _SECONDS,
                "results": {"type": "array", "items": _RESULT},
                "memory_context": {"type": "array", "items": _RESULT},  # optional: 28 days
                "alerting_rules": _ALERTING_RULES,
            },
        },
    },
}

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type keyword reports it
    return in_bounds(parse_time(value))


def _is_finite(value: object) -> bool:
    return not isinstance(value, (int, float)) or math.isfinite(value)


class _Validators(NamedTuple):
    snapshot: jsonschema.Draft202012Validator
    pagerduty: jsonschema.Draft202012Validator
    log_entry: jsonschema.Draft202012Validator


@functools.cache
def _validators() -> _Validators:
    """The compiled validators, built at the first check: the bundled demo snapshot, proven
    valid by tests/test_demo_snapshot.py, is read unchecked (`store.load_snapshot`), so the
    demo never loads jsonschema."""
    import jsonschema

    formats = jsonschema.FormatChecker(formats=())
    formats.checks("time", raises=(ValueError, OverflowError))(_is_time)
    formats.checks("finite")(_is_finite)
    validator = jsonschema.Draft202012Validator
    return _Validators(
        snapshot=validator(SCHEMA, format_checker=formats),
        pagerduty=validator(SCHEMA["properties"]["pagerduty"], format_checker=formats),
        log_entry=validator(_LOG_ENTRY, format_checker=formats),
    )


_LOG_ENTRIES = ("pagerduty", "log_entries")


def check_snapshot(data: Any) -> str | None:
    """What is wrong with a parsed snapshot, as 'field.path: problem', or None when it is valid."""
    if isinstance(data, dict) and data.get("schema_version") not in (None, SCHEMA_VERSION):
        return f"schema_version: version {data.get('schema_version')!r} is not {SCHEMA_VERSION}"
    # Log entries left on disk (`stream.OnDisk`) were checked as they were read.
    entries = _entries_on_disk(data)
    if entries is not None:
        data = {**data, "pagerduty": {**data["pagerduty"], "log_entries": []}}
    errors = sorted(
        _validators().snapshot.iter_errors(data), key=lambda e: _sort_key(e.absolute_path)
    )
    found = [(_sort_key(e.absolute_path), _said(e.absolute_path, e)) for e in errors[:1]]
    if entries is not None and entries.problem is not None:
        found.append(entries.problem)
    if found:
        return str(min(found)[1])
    prometheus = data["prometheus"]
    problem = check_queries(prometheus.get("results", []), "prometheus.results")
    if problem is None:
        context = prometheus.get("memory_context", [])
        problem = check_queries(context, "prometheus.memory_context")
    if problem is None:
        evaluations = (prometheus.get("alerting_rules") or {}).get("evaluations", [])
        problem = check_queries(evaluations, "prometheus.alerting_rules.evaluations")
    if problem is None and data["pagerduty"]["incident"]["id"] != data["incident_id"]:
        problem = "pagerduty.incident.id: differs from incident_id"
    if problem is None and "settings" in data:
        problem = stored_settings_problem(data["settings"])
    return problem


def check_log_entry(index: int, entry: Any) -> tuple[list[str], str] | None:
    """The first problem of one log entry, as `check_snapshot` sorts and says it (an
    `stream.ItemCheck`), or None when it is valid."""
    errors = [
        ([*_LOG_ENTRIES, index, *e.absolute_path], e)
        for e in _validators().log_entry.iter_errors(entry)
    ]
    if not errors:
        return None
    path, error = min(errors, key=lambda found: _sort_key(found[0]))
    return _sort_key(path), _said(path, error)


def _entries_on_disk(data: Any) -> OnDisk | None:
    pagerduty = data.get("pagerduty") if isinstance(data, dict) else None
    entries = pagerduty.get("log_entries") if isinstance(pagerduty, dict) else None
    return entries if isinstance(entries, OnDisk) else None


def _sort_key(path: Iterable[Any]) -> list[str]:
    return list(map(str, path))


def _said(path: Iterable[Any], error: jsonschema.ValidationError) -> str:
    return f"{field_path(path)}: {_explain(error)}"


def check_pagerduty(data: Any) -> str | None:
    """What is wrong with PagerDuty's part of a snapshot, just fetched; None when it is valid."""
    for error in _validators().pagerduty.iter_errors(data):
        return f"{field_path(['pagerduty', *error.absolute_path])}: {_explain(error)}"
    return None


def field_path(parts: Iterable[Any]) -> str:
    """A JSON path as people read it: `pagerduty.log_entries[3].created_at`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.match(str(part)):  # a hostile key stays on one line, quoted
            text += f"[{str(part)[:40]!r}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "format":
        if error.validator_value == "time":
            return "not a time from 1970 to 2261"
        return "not a finite number"
    if error.validator == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        return f"expected {' or '.join(map(str, names))}, got {_json_type(error.instance)}"
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is missing")
    if error.validator == "pattern":
        return "not a valid name (letters and digits only)"
    if error.validator == "additionalProperties":
        return "unknown field (" + str(error.message).split("(", 1)[-1]
    return str(error.message)[:200]


def _json_type(value: object) -> str:
    names = {bool: "boolean", str: "string", int: "integer", float: "number", list: "array"}
    return "null" if value is None else names.get(type(value), "object")
