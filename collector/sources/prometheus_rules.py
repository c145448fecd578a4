"""Prometheus alerting rules: read the rules the server evaluates, and evaluate the paged
ones' own expressions over the incident's range.

The fallback for when Prometheus's ALERTS series does not tell when a condition began.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from collector.config import PrometheusSettings, QuerySpec
from collector.snapshot.prometheus import RawResult
from collector.sources import prometheus
from collector.sources.http_guard import GuardedSession
from collector.sources.prometheus_api import connect

MAX_RULES_EVALUATED = 5


def fetch_alerting_rules(settings: PrometheusSettings, ca_bundle: str | None) -> dict[str, Any]:
    """The alerting rules Prometheus evaluates (`/api/v1/rules?type=alert`), kept raw-ish.

    Some backends have no rules API (404) or answer with no group: that is not a fault of the
    report, so it is recorded quietly as `{"rules": [], "note": ...}`, never raised.
    """
    with GuardedSession() as session:
        connection = connect(session, settings, ca_bundle)
        try:
            response = session.get(
                f"{connection.url}/api/v1/rules",
                params={"type": "alert"},
                headers=connection.headers,
                auth=connection.auth,
                timeout=settings.timeout,
            )
            response.raise_for_status()
            groups = response.json()["data"]["groups"]
        except (requests.exceptions.RequestException, ValueError, KeyError, TypeError) as exc:
            return {"rules": [], "note": f"no alerting rules read: {type(exc).__name__}"}
    rules = [
        _rule_record(group, rule)
        for group in groups or ()
        if isinstance(group, dict)
        for rule in group.get("rules") or ()
        if isinstance(rule, dict) and rule.get("type") == "alerting"
    ]
    return {"rules": rules, "note": None if rules else "the server has no alerting rule"}


def _rule_record(group: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "group": str(group.get("name", "")),
        "name": str(rule.get("name", "")),
        "query": str(rule.get("query", "")),
        "duration_s": _seconds(rule.get("duration")),
        "labels": {str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
        "summary": str((rule.get("annotations") or {}).get("summary", "")),
    }


def _seconds(value: object) -> float:
    """A rule's `for`, in seconds; anything but a finite, sane number counts as none."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return seconds if 0 <= seconds <= 10 * 366 * 86400 else 0.0


def evaluate_rules(
    settings: PrometheusSettings,
    ca_bundle: str | None,
    rules: Sequence[dict[str, Any]],
    alertnames: Sequence[str],
    qrange: prometheus.QueryRange,
) -> list[RawResult]:
    """Each paged rule's own expression over the range: where it returns samples, it held."""
    wanted = [r for r in rules if r.get("name") in alertnames][:MAX_RULES_EVALUATED]
    specs = [
        QuerySpec(name=str(r["name"]), title=str(r["name"]), query=str(r["query"]))
        for r in wanted
        if r.get("query")
    ]
    # Looked up on the module: the benchmarks time every query run through it.
    return prometheus.fetch_query_results(settings, ca_bundle, specs, qrange, "") if specs else []
