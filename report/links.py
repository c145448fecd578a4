"""Links from a chart back to its live query: Prometheus's graph page and Grafana Explore.

Pure functions: a query, a time range and base URLs in, URLs out. Credentials, query strings
and fragments of the base URLs are never carried into a link.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

# Prometheus's graph page reads `range_input` as one number and one unit ("90m", "6h", "2d").
_RANGE_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


@dataclass(frozen=True)
class LinkTargets:
    """Where people open a query: Prometheus's own page and, when configured, Grafana."""

    prometheus_url: str
    grafana_url: str | None = None
    grafana_datasource: str | None = None  # the data source's UID
    grafana_org_id: int | None = None


@dataclass(frozen=True)
class QueryLinks:
    """The live links of one query drawn on a chart."""

    title: str
    prometheus: str
    grafana: str | None


def build_query_links(
    targets: LinkTargets, title: str, expr: str, start: datetime, end: datetime, step: int
) -> QueryLinks:
    """Both links for one query over [start, end] at the given step."""
    grafana = None
    if targets.grafana_url and targets.grafana_datasource:
        grafana = grafana_explore_url(
            targets.grafana_url,
            targets.grafana_datasource,
            expr,
            start,
            end,
            targets.grafana_org_id,
        )
    return QueryLinks(
        title=title,
        prometheus=prometheus_graph_url(targets.prometheus_url, expr, start, end, step),
        grafana=grafana,
    )


def chart_range(
    visible: tuple[datetime, datetime], fetched: tuple[datetime, datetime], step: int
) -> tuple[datetime, datetime]:
    """The range a chart shows, widened onto the query's step grid and kept within the fetch.

    The grid starts at the fetched range's start, so the live page evaluates the query at the
    very instants the chart's points were taken.
    """
    grid = fetched[0].timestamp()
    first = grid + math.floor((visible[0].timestamp() - grid) / step) * step
    last = grid + math.ceil((visible[1].timestamp() - grid) / step) * step
    first = max(first, grid)
    last = max(min(last, fetched[1].timestamp()), first)
    return _utc(first), _utc(last)


def prometheus_graph_url(
    base_url: str, expr: str, start: datetime, end: datetime, step: int
) -> str:
    """Prometheus's graph page showing `expr` over [start, end] at `step` seconds."""
    end_text = end.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    params = {
        "g0.expr": expr,
        "g0.tab": "0",
        "g0.stacked": "0",
        "g0.range_input": format_range_input(int((end - start).total_seconds())),
        "g0.end_input": end_text,
        "g0.moment_input": end_text,
        "g0.step_input": str(step),
    }
    return f"{public_base_url(base_url)}/graph?{urlencode(params, quote_via=quote)}"


def grafana_explore_url(
    grafana_url: str,
    datasource: str,
    expr: str,
    start: datetime,
    end: datetime,
    org_id: int | None = None,
) -> str:
    """Grafana Explore (10 and later: `schemaVersion=1&panes=`) with `expr` over [start, end]."""
    query = {
        "refId": "A",
        "expr": expr,
        "range": True,
        "instant": False,
        "datasource": {"type": "prometheus", "uid": datasource},
    }
    pane = {
        "datasource": datasource,
        "queries": [query],
        "range": {"from": _millis(start), "to": _millis(end)},
    }
    params = {"schemaVersion": "1", "panes": json.dumps({"a": pane}, separators=(",", ":"))}
    if org_id is not None:
        params["orgId"] = str(org_id)
    return f"{public_base_url(grafana_url)}/explore?{urlencode(params, quote_via=quote)}"


def format_range_input(seconds: int) -> str:
    """A duration in the largest single unit that divides it: '90m', '6h', '2d'."""
    seconds = max(seconds, 1)
    for unit, size in _RANGE_UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"  # pragma: no cover - the last unit always divides


def public_base_url(url: str) -> str:
    """The URL without user name, password, query string, fragment or trailing slash."""
    # A private strip: the hardening work brings one shared redaction helper; until then this
    # keeps credentials (user:password@, ?token=) out of every link written into a report.
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _millis(moment: datetime) -> str:
    return str(int(round(moment.timestamp() * 1000)))
