"""The demo Prometheus data tells fixtures/STORY.md, checked against a real Prometheus 2.42.

Every expected value comes from demo_facts.json, which the generator writes from the same data.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import prom_server
import pytest
import requests
from prom_server import PrometheusServer, start_prometheus

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "prometheus"
OM_FILE = FIXTURES / "demo.om"
FACTS: dict[str, Any] = json.loads((FIXTURES / "demo_facts.json").read_text(encoding="utf-8"))
MEMORY = FACTS["memory"]
SWAP = FACTS["swap"]
EVAL = 15  # rule-evaluation interval of the ALERTS series
# Count series at 0 even when none are, so the recovery shows as a 0, not as a missing point.
PROBES_DOWN = 'count(probe_success{job="blackbox"} == 0) or vector(0)'


def unix(text: str) -> float:
    """Unix seconds of a facts-file time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def query_range(
    server: PrometheusServer, promql: str, start: str, end: str, step: int = 15
) -> list[dict[str, Any]]:
    """The matrix a /api/v1/query_range call returns, failing the test on any error."""
    response = requests.get(
        f"{server.url}/api/v1/query_range",
        params={"query": promql, "start": unix(start), "end": unix(end), "step": step},
        timeout=10,
    )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def points(
    server: PrometheusServer, promql: str, start: str, end: str, step: int = 15
) -> list[tuple[float, float]]:
    """(time, value) pairs of a query that returns exactly one series."""
    result = query_range(server, promql, start, end, step)
    assert len(result) == 1, f"{promql} returned {len(result)} series"
    return [(float(t), float(v)) for t, v in result[0]["values"]]


def first_at_or_above(samples: list[tuple[float, float]], threshold: float) -> float:
    """Time of the first point at or above the threshold."""
    return next(t for t, v in samples if v >= threshold)


def value_at(samples: list[tuple[float, float]], moment: str) -> float:
    """The value of the point evaluated exactly at a facts-file time."""
    return dict(samples)[unix(moment)]


@pytest.fixture
def prom(prometheus: PrometheusServer) -> PrometheusServer:
    """The session's real Prometheus serving demo.om (see conftest)."""
    return prometheus


@pytest.mark.prometheus
def test_memory_is_steady_before_the_climb(prom: PrometheusServer) -> None:
    """From 10:30 to the climb, db-01 memory stays within 0.5 % of 55 %."""
    samples = points(
        prom, MEMORY["query"], FACTS["ranges"]["trend"]["start"], MEMORY["climb_start"]
    )[:-1]
    assert samples[0][0] == unix(FACTS["ranges"]["trend"]["start"])
    assert all(abs(v - MEMORY["steady_percent"]) <= 0.5 for _, v in samples)


@pytest.mark.prometheus
def test_memory_climbs_linearly_to_80_percent(prom: PrometheusServer) -> None:
    """The climb is a straight line of 20 %/h that reaches 80 % first at 14:24:00."""
    samples = points(prom, MEMORY["query"], MEMORY["climb_start"], MEMORY["surge_start"])
    times = np.array([t for t, _ in samples])
    values = np.array([v for _, v in samples])
    slope, intercept = np.polyfit(times, values, 1)
    assert slope * 3600 == pytest.approx(MEMORY["climb_slope_percent_per_hour"], abs=0.01)
    assert round(values[0], 1) == MEMORY["climb_start_percent"]
    assert round(values[-1], 1) == MEMORY["surge_start_percent"]
    crossing = unix(MEMORY["cross_80"])
    assert first_at_or_above(samples, 80.0) == crossing
    assert round(value_at(samples, MEMORY["cross_80"]), 1) == 80.0
    assert (80.0 - intercept) / slope == pytest.approx(crossing, abs=1.0)


@pytest.mark.prometheus
def test_memory_surge_crosses_95_percent_then_oom(prom: PrometheusServer) -> None:
    """The surge reaches 95 % at 14:30:30 and peaks at 97 %; the OOM kill drops it to ~18 %."""
    samples = points(prom, MEMORY["query"], MEMORY["surge_start"], "2025-10-25T14:40:00Z")
    assert first_at_or_above(samples, 95.0) == unix(MEMORY["cross_95"])
    assert round(max(v for _, v in samples), 1) == MEMORY["peak_percent"]
    assert value_at(samples, MEMORY["oom_kill"]) == pytest.approx(
        MEMORY["after_oom_percent"], abs=0.5
    )
    after = points(prom, MEMORY["query"], MEMORY["restart"], FACTS["ranges"]["trend"]["end"])
    assert all(abs(v - MEMORY["after_restart_percent"]) <= 0.5 for _, v in after)


@pytest.mark.prometheus
def test_swap_crosses_30_percent(prom: PrometheusServer) -> None:
    """Swap is flat at 5 %, then first reaches 30 % at 14:27:00."""
    samples = points(prom, SWAP["query"], FACTS["ranges"]["trend"]["start"], MEMORY["oom_kill"])
    assert first_at_or_above(samples, 30.0) == unix(SWAP["cross_30"])
    before = [v for t, v in samples if t < unix(SWAP["climb_start"])]
    assert all(v == pytest.approx(SWAP["steady_percent"], abs=0.01) for v in before)


@pytest.mark.prometheus
def test_control_host_looks_healthy(prom: PrometheusServer) -> None:
    """db-02 never looks like an incident: memory near 45 %, swap near 2 %."""
    host = FACTS["control_host"]
    mem = MEMORY["query"].replace(MEMORY["instance"], host["instance"])
    swap = SWAP["query"].replace(SWAP["instance"], host["instance"])
    trend = FACTS["ranges"]["trend"]
    assert all(
        abs(v - host["memory_percent"]) <= 0.5
        for _, v in points(prom, mem, trend["start"], trend["end"], 60)
    )
    assert all(
        abs(v - host["swap_percent"]) <= 0.1
        for _, v in points(prom, swap, trend["start"], trend["end"], 60)
    )


@pytest.mark.prometheus
def test_postgres_down_from_oom_to_restart(prom: PrometheusServer) -> None:
    """pg_up is 0 exactly from 14:32:00 until 14:47:00."""
    down = FACTS["postgres"]["down"]
    samples = points(
        prom,
        f'pg_up{{instance="{FACTS["postgres"]["instance"]}"}}',
        FACTS["ranges"]["detail"]["start"],
        FACTS["ranges"]["detail"]["end"],
    )
    zero = [t for t, v in samples if v == 0]
    assert (zero[0], zero[-1] + 15) == (unix(down["start"]), unix(down["end"]))
    assert len(zero) == (unix(down["end"]) - unix(down["start"])) / 15


@pytest.mark.prometheus
def test_all_endpoints_down_then_back_one_by_one(prom: PrometheusServer) -> None:
    """All 47 probes fail from 14:32; they come back from 14:52, the last at 15:10."""
    ep = FACTS["endpoints"]
    samples = points(prom, PROBES_DOWN, "2025-10-25T14:30:00Z", "2025-10-25T15:20:00Z", 60)
    counts = dict(samples)
    assert counts[unix(ep["all_down_at"]) - 60] == 0
    assert counts[unix(ep["all_down_at"])] == ep["count"]
    assert counts[unix("2025-10-25T14:40:00Z")] == ep["count"]
    assert counts[unix(ep["first_back"])] == ep["count"] - 1
    assert counts[unix(ep["last_back"]) - 60] == 1
    assert counts[unix(ep["last_back"])] == 0
    during = [v for t, v in samples if unix(ep["first_back"]) <= t <= unix(ep["last_back"])]
    assert during == sorted(during, reverse=True)
    everything = query_range(
        prom, 'probe_success{job="blackbox"}', ep["all_down_at"], ep["all_down_at"], 60
    )
    assert len(everything) == ep["count"]
    assert all(s["metric"]["instance"].startswith(ep["url_prefix"]) for s in everything)


def alert_runs(server: PrometheusServer) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """[start, end) runs of each (alertname, alertstate), from the ALERTS samples themselves."""
    # Backfilled series carry no staleness markers, so query_range would repeat an alert's last
    # sample for 5 minutes; keeping only points whose sample time is the evaluation time drops
    # those look-back repeats.
    result = query_range(
        server, "timestamp(ALERTS)", "2025-10-25T14:00:00Z", FACTS["ranges"]["detail"]["end"], EVAL
    )
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for series in result:
        key = (series["metric"]["alertname"], series["metric"]["alertstate"])
        fresh = [float(t) for t, v in series["values"] if float(v) == float(t)]
        spans = runs.setdefault(key, [])
        for t in fresh:
            if spans and t == spans[-1][1]:
                spans[-1] = (spans[-1][0], t + EVAL)
            else:
                spans.append((t, t + EVAL))
    return runs


@pytest.mark.prometheus
def test_alert_intervals_as_constructed(prom: PrometheusServer) -> None:
    """Each alert is pending and firing exactly over the intervals of the story."""
    runs = alert_runs(prom)
    expected: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for alert in FACTS["alerts"]:
        for state in ("pending", "firing"):
            if alert[state]:
                expected[(alert["alertname"], state)] = [
                    (unix(alert[state]["start"]), unix(alert[state]["end"]))
                ]
    assert runs == expected
    assert ("HostMemoryHigh", "firing") not in runs


@pytest.mark.prometheus
def test_alerts_for_state_holds_active_at(prom: PrometheusServer) -> None:
    """ALERTS_FOR_STATE carries each alert's ActiveAt, as Prometheus's rule manager writes it."""
    for alert in FACTS["alerts"]:
        last = (alert["firing"] or alert["pending"])["last_sample"]
        samples = points(
            prom, f'ALERTS_FOR_STATE{{alertname="{alert["alertname"]}"}}', alert["active_at"], last
        )
        assert {v for _, v in samples} == {unix(alert["active_at"])}
        result = query_range(
            prom,
            f'ALERTS{{alertname="{alert["alertname"]}"}}',
            alert["active_at"],
            alert["active_at"],
        )
        assert result[0]["metric"]["severity"] == alert["labels"]["severity"]


@pytest.mark.prometheus
def test_business_numbers_just_before_the_outage(prom: PrometheusServer) -> None:
    """9,234 websocket connections and 12,500 active users at the last sample before 14:32."""
    biz = FACTS["business"]
    at = biz["last_sample_before_outage"]
    ws = points(
        prom, "app_websocket_connections", "2025-10-25T14:00:00Z", "2025-10-25T15:00:00Z", 60
    )
    assert value_at(ws, at) == biz["websocket_connections"]
    assert len({v for t, v in ws if t < unix(at)}) > 1  # it varied before
    zero = [t for t, v in ws if v == 0]
    assert (zero[0], zero[-1] + 60) == (
        unix(biz["websockets_zero"]["start"]),
        unix(biz["websockets_zero"]["end"]),
    )
    users = points(prom, "app_active_users", at, at, 60)
    assert users == [(unix(at), biz["active_users"])]


@pytest.mark.prometheus
def test_last_backup_is_the_1402_one(prom: PrometheusServer) -> None:
    """The backup timestamp steps from 02:02 to 14:02 at 14:03."""
    backup = FACTS["backup"]
    samples = points(
        prom,
        "pg_backup_last_success_timestamp_seconds",
        "2025-10-25T14:00:00Z",
        "2025-10-25T14:40:00Z",
        60,
    )
    visible = unix(backup["visible_from"])
    assert {v for t, v in samples if t < visible} == {unix(backup["previous_success"])}
    assert {v for t, v in samples if t >= visible} == {unix(backup["last_success"])}


@pytest.mark.prometheus
def test_traffic_fails_with_the_endpoints_and_has_a_baseline(prom: PrometheusServer) -> None:
    """~200 req/s throughout; all 503 while every endpoint is down; normal a week earlier."""
    rps = FACTS["traffic"]["requests_per_second"]
    total = points(
        prom,
        'sum(rate(http_requests_total{job="api"}[5m]))',
        "2025-10-25T13:00:00Z",
        "2025-10-25T16:00:00Z",
        300,
    )
    assert all(v == pytest.approx(rps, rel=0.1) for _, v in total)
    errors = 'sum(rate(http_requests_total{code="503"}[5m])) / sum(rate(http_requests_total[5m]))'
    ratio = dict(points(prom, errors, "2025-10-25T14:20:00Z", "2025-10-25T15:30:00Z", 60))
    assert ratio[unix("2025-10-25T14:30:00Z")] == 0
    assert ratio[unix("2025-10-25T14:40:00Z")] == pytest.approx(1.0)
    assert 0 < ratio[unix("2025-10-25T15:05:00Z")] < 1
    assert ratio[unix("2025-10-25T15:20:00Z")] == 0
    week_ago = points(
        prom,
        'sum(rate(http_requests_total{code="200"}[5m] offset 1w))',
        "2025-10-25T14:00:00Z",
        "2025-10-25T15:20:00Z",
        300,
    )
    assert all(v == pytest.approx(rps, rel=0.1) for _, v in week_ago)
    # Counters never reset within either stretch, so rate() over them is trustworthy.
    for stretch in ("baseline", "detail"):
        span = FACTS["ranges"][stretch]
        hours = round((unix(span["end"]) - unix(span["start"])) / 3600)
        resets = query_range(
            prom,
            f'resets(http_requests_total{{job="api"}}[{hours}h])',
            span["end"],
            span["end"],
            60,
        )
        assert [float(s["values"][0][1]) for s in resets] == [0.0, 0.0]


def load_generator() -> ModuleType:
    """Import fixtures/prometheus/generate_demo.py, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("generate_demo", FIXTURES / "generate_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve string annotations through sys.modules, so register before running.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_generator_is_deterministic_and_committed_files_are_fresh(tmp_path: Path) -> None:
    """Two generations are identical and match the committed demo.om and demo_facts.json."""
    generator = load_generator()
    om, facts = generator.render()
    assert generator.render() == (om, facts)
    assert generator.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "demo.om").read_bytes() == OM_FILE.read_bytes(), (
        "demo.om is stale: run python fixtures/prometheus/generate_demo.py"
    )
    assert (tmp_path / "demo_facts.json").read_text(encoding="utf-8") == facts
    assert json.loads(facts) == FACTS
    assert generator.main(["--check"]) == 0


def test_om_file_is_valid_backfill_input() -> None:
    """demo.om fits the size budget, ends with # EOF, and every series is in time order."""
    text = OM_FILE.read_text(encoding="utf-8")
    assert len(text.encode()) < 1_500_000
    assert text.endswith("# EOF\n")
    last_seen: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _value, stamp = line.rsplit(" ", 2)
        assert int(stamp) > last_seen.get(series, -1), line
        last_seen[series] = int(stamp)


@pytest.mark.prometheus
def test_start_retries_once_when_the_port_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port taken between choosing and binding costs one retry on a fresh port, not a failure."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy])
        real_free_port = prom_server.free_port
        monkeypatch.setattr(prom_server, "free_port", lambda: next(ports, None) or real_free_port())
        with start_prometheus([OM_FILE], tmp_path) as server:
            assert not server.url.endswith(f":{busy}")
            assert requests.get(f"{server.url}/-/ready", timeout=5).status_code == 200
        assert server.process.poll() is not None


def test_missing_prometheus_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the binaries, start_prometheus says which Debian package to install."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="Debian's `prometheus` package"):
        start_prometheus([OM_FILE], tmp_path / "work")
