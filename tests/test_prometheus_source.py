"""The Prometheus source against a real Prometheus loaded with the demo story."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from prom_server import PrometheusServer

import collector.sources.prometheus as prom_source
from collector.analysis.metrics import detect_threshold_crossings
from collector.config import DEFAULT_QUERIES, PrometheusSettings, QuerySpec
from collector.snapshot.prometheus import read_alert_intervals, read_series
from collector.sources.prometheus import (
    MAX_POINTS,
    MIN_PIECE_POINTS,
    QueryRange,
    choose_range,
    fetch_query_results,
    parts_per_query,
    piece_points,
    split_range,
)
from collector.sources.prometheus_api import QueryApi, asks_plain, connect
from collector.timeutil import parse_time

DAY = datetime(2025, 10, 25, tzinfo=timezone.utc)
MEMORY, SWAP = DEFAULT_QUERIES[0], DEFAULT_QUERIES[1]
ALERTS = QuerySpec(name="alerts", title="Alerts", query="ALERTS", kind="alerts")


def at(hhmmss: str) -> datetime:
    """A time of the demo day, e.g. at("14:32:00")."""
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return DAY.replace(hour=h, minute=m, second=s)


def settings(url: str, **changes: Any) -> PrometheusSettings:
    """Settings for a test: no retries to wait for, short timeout."""
    return replace(PrometheusSettings(url=url, timeout=5.0), **changes)


@pytest.mark.parametrize("hours", [0.1, 1, 5, 24, 24 * 7, 24 * 90])
def test_chosen_step_never_exceeds_the_points_limit(hours: float) -> None:
    start = at("10:00:00")
    qrange = choose_range(start, start + timedelta(hours=hours), 720)
    assert qrange.points <= MAX_POINTS
    assert qrange.points <= 2 * 720 + 2  # close to chart resolution, not needlessly fine
    assert qrange.start.timestamp() % qrange.step == 0  # aligned: cacheable, repeatable


def test_split_range_has_no_shared_or_missing_point() -> None:
    qrange = QueryRange(at("10:00:00"), at("14:00:00"), 1)
    chunks = split_range(qrange)
    assert len(chunks) == 2
    assert all(c.points <= MAX_POINTS for c in chunks)
    points = [c.start + timedelta(seconds=i) for c in chunks for i in range(c.points)]
    assert len(points) == len(set(points)) == qrange.points


def test_long_window_is_chunked_and_joined_without_duplicates_at_the_seam(
    prometheus: PrometheusServer,
) -> None:
    qrange = QueryRange(at("13:00:00"), at("16:30:00"), 1)  # 12,601 points: two requests
    fine = fetch_query_results(settings(prometheus.url), None, [MEMORY], qrange, "")[0]
    assert fine["error"] is None
    coarse_range = QueryRange(qrange.start, qrange.end, 60)
    coarse = fetch_query_results(settings(prometheus.url), None, [MEMORY], coarse_range, "")[0]
    fine_frame, coarse_frame = read_series([fine]), read_series([coarse])
    db01 = fine_frame[fine_frame["series"].str.contains("db-01")]
    assert len(db01) == qrange.points
    assert db01["time"].is_unique and db01["time"].is_monotonic_increasing
    merged = coarse_frame.merge(fine_frame, on=["series", "time"], suffixes=("_c", "_f"))
    assert len(merged) == len(coarse_frame)
    assert (merged["value_c"] - merged["value_f"]).abs().max() < 1e-9


def test_crossings_of_the_story_to_the_second(
    prometheus: PrometheusServer, demo_facts: dict[str, Any]
) -> None:
    qrange = choose_range(at("10:30:00"), at("16:00:00"), 720)
    results = fetch_query_results(
        settings(prometheus.url), None, [MEMORY, SWAP], qrange, 'instance="db-01:9100"'
    )
    frame = read_series(results)
    memory = detect_threshold_crossings(frame, "memory_used", [80.0, 95.0])
    swap = detect_threshold_crossings(frame, "swap_used", [30.0])
    assert [c.time for c in memory] == [
        parse_time(demo_facts["memory"]["cross_80"]),
        parse_time(demo_facts["memory"]["cross_95"]),
    ]
    assert [c.time for c in swap] == [parse_time(demo_facts["swap"]["cross_30"])]


def test_alert_history_becomes_exact_intervals(
    prometheus: PrometheusServer, demo_facts: dict[str, Any]
) -> None:
    qrange = choose_range(at("12:00:00"), at("16:00:00"), 720)
    results = fetch_query_results(settings(prometheus.url), None, [ALERTS], qrange, "")
    intervals = {(a.alertname, a.state): a for a in read_alert_intervals(results)}
    for alert in demo_facts["alerts"]:
        for state in ("pending", "firing"):
            expected = alert.get(state)
            if not expected:
                assert (alert["alertname"], state) not in intervals
                continue
            got = intervals[(alert["alertname"], state)]
            assert (got.start, got.end) == (
                parse_time(expected["start"]),
                parse_time(expected["end"]),
            ), (alert["alertname"], state)


def test_one_bad_query_fails_alone(prometheus: PrometheusServer) -> None:
    broken = QuerySpec(name="broken", title="Broken", query="rate(up[", kind="custom")
    qrange = choose_range(at("14:00:00"), at("15:00:00"), 100)
    results = fetch_query_results(settings(prometheus.url), None, [broken, MEMORY], qrange, "")
    assert results[0]["error"].startswith("Prometheus rejected the query: ")
    assert "parse error" in results[0]["error"]
    assert results[1]["error"] is None and results[1]["result"]


def test_the_error_is_prometheus_own_text_whole(prometheus: PrometheusServer) -> None:
    # Prometheus's message quotes the query: the whole `error` field is kept, quotes included.
    broken = QuerySpec(name="quoted", title="Quoted", query='sum by ("a b") (up)', kind="custom")
    qrange = choose_range(at("14:00:00"), at("15:00:00"), 100)
    [result] = fetch_query_results(settings(prometheus.url), None, [broken], qrange, "")
    status, body = _raw_answer(prometheus.url, broken.query, qrange)
    assert status == 400
    assert result["error"] == f"Prometheus rejected the query: {body['error']}"
    assert '"' in body["error"] and "a b" in body["error"]


def _raw_answer(url: str, query: str, qrange: QueryRange) -> tuple[int, dict[str, Any]]:
    answer = requests.get(
        f"{url}/api/v1/query_range",
        params={
            "query": query,
            "start": qrange.start.timestamp(),
            "end": qrange.end.timestamp(),
            "step": qrange.step,
        },
        timeout=10,
    )
    return answer.status_code, answer.json()


def test_unreachable_prometheus_is_named_in_every_query() -> None:
    qrange = choose_range(at("14:00:00"), at("15:00:00"), 100)
    results = fetch_query_results(settings("http://127.0.0.1:9"), None, [MEMORY], qrange, "")
    assert results[0]["error"].startswith("cannot reach Prometheus at http://127.0.0.1:9")
    assert results[0]["result"] == []


def test_empty_result_is_not_an_error_but_no_data(prometheus: PrometheusServer) -> None:
    nothing = QuerySpec(name="nothing", title="Nothing", query='up{job="absent"}')
    qrange = choose_range(at("14:00:00"), at("15:00:00"), 100)
    result = fetch_query_results(settings(prometheus.url), None, [nothing], qrange, "")[0]
    assert result["error"] is None and result["result"] == []


class _TenantProxy(BaseHTTPRequestHandler):
    """A Mimir-like front: /prometheus prefix, tenant header and bearer token required."""

    upstream = ""
    seen: list[dict[str, str]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        return

    def do_GET(self) -> None:
        self.seen.append({k.lower(): v for k, v in self.headers.items()})
        allowed = (
            self.path.startswith("/prometheus/api/v1/")
            and self.headers.get("X-Scope-OrgID") == "team-a"
            and self.headers.get("Authorization") == "Bearer s3cret"
        )
        if not allowed:
            self._reply(401, b'{"status":"error","errorType":"auth","error":"no tenant"}')
            return
        upstream = requests.get(self.upstream + self.path.removeprefix("/prometheus"), timeout=10)
        body = upstream.json()
        body["warnings"] = ["partial response: store eu-1 unreachable"]
        self._reply(upstream.status_code, json.dumps(body).encode())

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def tenant_proxy(prometheus: PrometheusServer) -> Iterator[str]:
    """The URL (with path prefix) of a multi-tenant front in front of the real Prometheus."""
    _TenantProxy.upstream = prometheus.url
    _TenantProxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TenantProxy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/prometheus"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_path_prefix_tenant_header_bearer_token_and_warnings(tenant_proxy: str) -> None:
    qrange = choose_range(at("14:00:00"), at("15:00:00"), 100)
    ok = settings(tenant_proxy, headers={"X-Scope-OrgID": "team-a"}, bearer_token="s3cret")
    result = fetch_query_results(ok, None, [MEMORY], qrange, "")[0]
    assert result["error"] is None and result["result"]
    assert result["warnings"] == ["partial response: store eu-1 unreachable"]
    assert _TenantProxy.seen[-1]["x-scope-orgid"] == "team-a"
    denied = fetch_query_results(settings(tenant_proxy), None, [MEMORY], qrange, "")[0]
    assert denied["error"].startswith("Prometheus refused access (HTTP 401): set PROMETHEUS_")


@pytest.mark.parametrize(
    ("concurrency", "queries", "points", "parts"),
    [
        (8, 2, 721, 4),
        (8, 18, 721, 1),
        (8, 5, 721, 1),
        (8, 1, 200, 1),
        (16, 1, 721, 4),
        (1, 1, 721, 1),
    ],
)
def test_parts_use_the_connections_the_pack_leaves_idle(
    concurrency: int, queries: int, points: int, parts: int
) -> None:
    qrange = QueryRange(at("10:00:00"), at("10:00:00") + timedelta(minutes=points - 1), 60)
    assert qrange.points == points
    assert parts_per_query(concurrency, queries, qrange) == parts


def asked_ranges(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every query_range asked from now on, as (start, end)."""
    asked: list[tuple[int, int]] = []
    get = QueryApi.get

    def counting(self: QueryApi, path: str, params: dict[str, Any]) -> Any:
        if path.endswith("query_range"):
            asked.append((params["start"], params["end"]))
        return get(self, path, params)

    monkeypatch.setattr(QueryApi, "get", counting)
    return asked


def test_a_pack_of_few_queries_is_asked_in_parts_with_the_same_answer(
    prometheus: PrometheusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One range query is evaluated on one core of the server: a pack of two asks each in
    parts side by side, and gets every sample it gets in one piece."""
    qrange = choose_range(at("10:30:00"), at("16:00:00"), 720)
    asked = asked_ranges(monkeypatch)
    pack = [MEMORY, SWAP]
    whole = fetch_query_results(settings(prometheus.url, max_concurrency=1), None, pack, qrange, "")
    assert len(asked) == 2
    asked.clear()
    parts = fetch_query_results(settings(prometheus.url, max_concurrency=8), None, pack, qrange, "")
    assert parts_per_query(8, 2, qrange) == 3  # 661 points
    assert piece_points(qrange, 3) == MIN_PIECE_POINTS  # 12 pieces, 3 of them in flight
    assert len(asked) == 2 * 12
    starts = sorted(set(start for start, _ in asked))
    ends = sorted(set(end for _, end in asked))
    step = qrange.step
    assert starts[0] == qrange.start.timestamp() and ends[-1] == qrange.end.timestamp()
    assert [s - step for s in starts[1:]] == ends[:-1]  # no point shared, none missing
    assert all(r["error"] is None and r["result"] for r in whole)
    assert parts == whole


@pytest.mark.parametrize(
    ("points", "parts", "piece"),
    [(721, 1, MAX_POINTS), (721, 2, 91), (721, 4, 60), (2881, 2, 361), (100, 2, 50)],
)
def test_a_range_asked_in_parts_is_asked_in_pieces(points: int, parts: int, piece: int) -> None:
    qrange = QueryRange(at("10:00:00"), at("10:00:00") + timedelta(minutes=points - 1), 60)
    assert piece_points(qrange, parts) == piece


def test_pieces_are_read_in_order_with_at_most_parts_in_flight() -> None:
    """The next piece is asked as soon as one is read: never more than `parts` at once, and
    the answers come back in the range's order whatever order the server answers in."""
    lock, flying, most = threading.Lock(), [0], [0]

    class SlowApi:
        def get(self, path: str, params: dict[str, Any]) -> int:
            with lock:
                flying[0] += 1
                most[0] = max(most[0], flying[0])
            time.sleep(0.02 if params["start"] % 120 else 0.005)  # out of order
            with lock:
                flying[0] -= 1
            return int(params["start"])

    qrange = QueryRange(at("10:00:00"), at("10:00:00") + timedelta(minutes=19), 60)
    chunks = split_range(qrange, 2)
    answers = list(prom_source._answers(SlowApi(), "up", chunks, 3))  # type: ignore[arg-type]
    assert answers == [round(c.start.timestamp()) for c in chunks]
    assert most[0] == 3


def test_a_query_naming_its_range_ends_is_asked_whole(
    prometheus: PrometheusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = QuerySpec(name="pinned", title="Pinned", query="node_memory_MemTotal_bytes @ end()")
    qrange = choose_range(at("10:30:00"), at("16:00:00"), 720)
    asked = asked_ranges(monkeypatch)
    result = fetch_query_results(settings(prometheus.url), None, [pinned], qrange, "")[0]
    assert result["error"] is None and result["result"]
    assert asked == [(qrange.start.timestamp(), qrange.end.timestamp())]


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("http://127.0.0.1:9090", True),
        ("https://[::1]:9090", True),
        ("http://localhost:9090", True),
        ("http://10.2.3.4:9090", True),
        ("http://172.20.0.5:9090", True),
        ("https://192.168.1.10", True),
        ("http://[fd00::5]:9090", True),
        ("http://169.254.1.1", True),
        ("http://prometheus:9090", True),  # a compose service, a cluster's short name
        ("http://prometheus-k8s.monitoring.svc:9090", True),
        ("http://vm.monitoring.svc.cluster.local:8428", True),
        ("https://metrics.corp.internal", True),
        ("https://prometheus.example.com", False),
        ("https://8.8.8.8", False),
        ("https://[2001:4860::8888]", False),
        ("https://user:pw@prometheus.example.com:443/prefix", False),
        ("http://[::1", False),  # not a URL: the request says so, not this
        ("not a url", False),
    ],
)
def test_compress_auto_asks_plain_json_on_this_host_and_private_networks(
    url: str, plain: bool
) -> None:
    """`prometheus.compress: auto` (the default): plain JSON where the answer crosses a
    private network, gzip elsewhere; told from the URL alone. true and false are kept."""
    assert PrometheusSettings().compress == "auto"
    assert asks_plain(settings(url)) is plain
    assert asks_plain(settings(url, compress=True)) is False
    assert asks_plain(settings(url, compress=False)) is True


def test_compress_false_asks_for_plain_json_and_reads_the_same_answer(
    prometheus: PrometheusServer, tenant_proxy: str
) -> None:
    """`prometheus.compress: false` asks for plain JSON (no gzip on either end, cheaper next to
    Prometheus); the answer read is the same. A header the user set wins."""
    qrange = choose_range(at("14:00:00"), at("15:00:00"), 100)
    plain = fetch_query_results(
        settings(prometheus.url, compress=False), None, [MEMORY], qrange, ""
    )
    packed = fetch_query_results(
        settings(prometheus.url, compress=True), None, [MEMORY], qrange, ""
    )
    assert plain == packed and plain[0]["result"] and plain[0]["error"] is None
    params = {"query": MEMORY.query.replace("$selector", ""), "time": at("14:30:00").timestamp()}
    for compress, encoding in [(False, None), (True, "gzip")]:
        with requests.Session() as session:
            client = connect(session, settings(prometheus.url, compress=compress), None)
            answer = session.get(
                f"{prometheus.url}/api/v1/query", params=params, headers=client.headers, timeout=5
            )
        assert answer.status_code == 200 and answer.json()["data"]["result"]
        assert answer.headers.get("Content-Encoding") == encoding
    # What reaches the server: identity when asked, the client's usual gzip otherwise.
    for compress, own, sent in [
        (False, {}, "identity"),
        (True, {}, "gzip, deflate"),
        (False, {"accept-encoding": "gzip"}, "gzip"),
        ("auto", {}, "identity"),  # 127.0.0.1: this host
    ]:
        ask = settings(tenant_proxy, compress=compress, headers={"X-Scope-OrgID": "team-a", **own})
        assert fetch_query_results(replace(ask, bearer_token="s3cret"), None, [MEMORY], qrange, "")
        assert _TenantProxy.seen[-1]["accept-encoding"].startswith(sent)
