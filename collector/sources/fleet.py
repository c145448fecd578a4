"""Fleet source: screen every memory and swap series in the server, then fetch a few in detail.

The screen is two PromQL requests per query whatever the fleet's size: the slope over the last
week (`deriv` of a subquery) and an hourly range of every series, which the review reads (the
heatmap's daily averages come from it too). Then `fetch_detail` asks for the hosts that need it
at full resolution, many hosts per request (`instance=~"a|b|c"`).

Measured on Prometheus (benchmarks/fleet.py; figures in benchmarks/README.md): a window peak at
full resolution (`max_over_time` of a 5-minute subquery) took far longer than the hourly range,
as long as fetching every host in detail; a daily-average range query cost as much as the hourly
range it can be computed from. So peaks come from the data fetched (hourly, or 5-minute for the
hosts fetched in detail), and no such query is made.

Ranges are kept on their grid: `{"start": ISO, "step": s, "series": [{"metric": {...},
"values": [v or None, ...]}]}`, value i at start + i * step (`collector.snapshot.fleet.read_grid`
turns one back into arrays). Only this module and `collector.sources.prometheus*` talk to
Prometheus.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import requests
from prometheus_api_client import PrometheusConnect

from collector.config import PrometheusSettings, QuerySpec
from collector.snapshot.fleet import FloatArray
from collector.snapshot.prometheus import label_text
from collector.snapshot.samples import sample_columns
from collector.sources import prometheus as prom_source
from collector.sources.http_guard import GuardedSession
from collector.sources.prometheus_api import (
    MALFORMED_ERRORS,
    connect,
    explain_failure,
    explain_malformed,
)
from collector.timeutil import from_unix, iso_utc

FLEET_KINDS = ("memory", "swap")
DETAIL_STEP = 300  # seconds: the resolution node_exporter is commonly scraped at, or coarser
COARSE_STEP = 3600  # the hourly range every series gets
WEEK = 7 * 86400
BATCH_HOSTS = 60  # instances per detail request: keeps the URL and the answer small
_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\-])")


@dataclass
class FleetConnection:
    """One session to the server, counting the HTTP requests it makes."""

    connection: PrometheusConnect
    session: requests.Session
    settings: PrometheusSettings
    requests_made: int = 0
    warnings: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Session hook: one more HTTP answer; its `warnings` (partial results) kept."""
        found: list[str] = []
        # A fleet's answers run to tens of MB: parse them a second time only when they warn.
        if b'"warnings"' in response.content:
            try:
                found = [str(w) for w in response.json().get("warnings") or ()]
            except (ValueError, AttributeError):
                found = []
        with self._lock:
            self.requests_made += 1
            self.warnings.extend(w for w in found if w not in self.warnings)


def open_connection(settings: PrometheusSettings, ca_bundle: str | None) -> FleetConnection:
    """A connection to the configured server; close its `session` when done."""
    session = GuardedSession()
    connection = connect(session, settings, ca_bundle)
    fleet = FleetConnection(connection, session, settings)
    session.hooks["response"] = [fleet.count]  # instead of the incident's per-thread hook
    return fleet


def fleet_specs(queries: Sequence[QuerySpec]) -> list[QuerySpec]:
    """The pack's memory and swap queries: what the fleet review screens."""
    return [spec for spec in queries if spec.kind in FLEET_KINDS]


def align_until(until: datetime) -> datetime:
    """The end of the window, on the detail grid (so every range shares its points)."""
    return from_unix(int(until.timestamp()) // DETAIL_STEP * DETAIL_STEP)


def screen_fleet(
    fleet: FleetConnection,
    specs: Sequence[QuerySpec],
    selector: str,
    until: datetime,
    window: timedelta,
) -> dict[str, Any]:
    """Every screen request for every query, side by side; failures recorded, never fatal."""
    start = until - window
    jobs: list[tuple[str, str, Callable[[], Any]]] = []
    for spec in specs:
        promql = f"({prom_source.expand_query(spec, selector)})"
        slope = f"deriv({promql}[{WEEK}s:{COARSE_STEP}s])"
        jobs.append((spec.name, "slope_week", _instant_job(fleet, slope, until)))
        jobs.append((spec.name, "coarse", _range_job(fleet, promql, start, until, COARSE_STEP)))
    screen: dict[str, Any] = {spec.name: {"errors": []} for spec in specs}
    with ThreadPoolExecutor(max_workers=fleet.settings.max_concurrency) as pool:
        futures = [(name, stat, pool.submit(job)) for name, stat, job in jobs]
        for name, stat, future in futures:
            value, error = future.result()
            screen[name][stat] = value
            if error:
                screen[name]["errors"].append(f"{stat}: {error}")
    return screen


def fetch_detail(
    fleet: FleetConnection,
    spec: QuerySpec,
    selector: str,
    instances: Sequence[str],
    start: datetime,
    until: datetime,
) -> tuple[dict[str, Any], list[str]]:
    """The named instances' series at full resolution, BATCH_HOSTS instances per request."""
    batches = [instances[i : i + BATCH_HOSTS] for i in range(0, len(instances), BATCH_HOSTS)]
    grid = _empty_grid(start, DETAIL_STEP)
    errors: list[str] = []
    for batch in batches:
        matcher = f'instance=~"{instance_regex(batch)}"'
        narrowed = f"{selector},{matcher}" if selector.strip() else matcher
        promql = f"({prom_source.expand_query(spec, narrowed)})"
        part, error = _range_job(fleet, promql, start, until, DETAIL_STEP)()
        if error:
            errors.append(f"detail: {error}")
        grid["series"].extend(part["series"])
    return grid, errors


def instance_regex(instances: Iterable[str]) -> str:
    """An RE2 alternation matching exactly these values, escaped for a PromQL string."""
    escaped = (_REGEX_SPECIAL.sub(r"\\\1", name) for name in instances)
    return "|".join(escaped).replace("\\", "\\\\").replace('"', '\\"')


def _instant_job(
    fleet: FleetConnection, promql: str, at: datetime
) -> Callable[[], tuple[dict[str, float], str | None]]:
    def run() -> tuple[dict[str, float], str | None]:
        def ask() -> dict[str, float]:
            result = fleet.connection.custom_query(
                promql, params={"time": at.timestamp()}, timeout=fleet.settings.timeout
            )
            return {label_text(s.get("metric", {})): float(s["value"][1]) for s in result}

        return _guarded(fleet, ask, {})

    return run


def _range_job(
    fleet: FleetConnection, promql: str, start: datetime, end: datetime, step: int
) -> Callable[[], tuple[dict[str, Any], str | None]]:
    def run() -> tuple[dict[str, Any], str | None]:
        def ask() -> dict[str, Any]:
            by_label: dict[str, dict[str, Any]] = {}
            for chunk in prom_source.split_range(prom_source.QueryRange(start, end, step)):
                result = fleet.connection.custom_query_range(
                    promql, chunk.start, chunk.end, str(step), timeout=fleet.settings.timeout
                )
                # The incident's rule: non-finite samples left out, "abc" a malformed answer.
                _add_to_grid(by_label, prom_source.checked_series(result, {}), start, end, step)
            series = [
                {"metric": s["metric"], "values": _as_json_values(s["values"])}
                for s in by_label.values()
            ]
            return _empty_grid(start, step) | {"series": series}

        return _guarded(fleet, ask, _empty_grid(start, step))

    return run


def _empty_grid(start: datetime, step: int) -> dict[str, Any]:
    return {"start": iso_utc(start), "step": step, "series": []}


def _add_to_grid(
    by_label: dict[str, dict[str, Any]],
    result: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    step: int,
) -> None:
    origin = start.timestamp()
    size = int((end.timestamp() - origin) // step) + 1
    for series in result:
        metric = series.get("metric", {})
        key = label_text(metric)
        entry = by_label.setdefault(key, {"metric": metric, "values": np.full(size, np.nan)})
        times, values = sample_columns(series.get("values") or ())
        index = np.rint((times - origin) / step).astype(np.int64)
        inside = (index >= 0) & (index < size)
        entry["values"][index[inside]] = np.round(values[inside], 3)


def _as_json_values(values: FloatArray) -> list[float | None]:
    # JSON has no NaN: a missing point is null.
    return [None if v != v else v for v in values.tolist()]


def _guarded(fleet: FleetConnection, ask: Callable[[], Any], empty: Any) -> tuple[Any, str | None]:
    try:
        return ask(), None
    except MALFORMED_ERRORS:
        return empty, explain_malformed(fleet.settings)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a stated gap
        message = explain_failure(exc, fleet.settings)
        if message is None:
            raise
        return empty, message
