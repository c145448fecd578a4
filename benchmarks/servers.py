"""The local servers: a real Prometheus loaded by promtool backfill, and the PagerDuty simulator.

Both come from the test suite (`tests/prom_server.py`, `tests/pd_simulator.py`); both listen on
127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from pd_simulator import PagerDutySimulator  # noqa: E402
from prom_server import (  # noqa: E402
    PrometheusServer,
    backfill,
    find_binaries,
    start_prometheus,
    time_bounds,
)

__all__ = [
    "DelayingProxy",
    "PagerDutySimulator",
    "PrometheusServer",
    "load_prometheus",
    "prometheus_queries",
    "prometheus_with_delay",
    "time_bounds",
]

TOKEN = "bench-token"
QUERY_HANDLERS = ("/api/v1/query", "/api/v1/query_range")


def load_prometheus(
    om_files: Sequence[Path],
    workdir: Path,
    checks: Sequence[tuple[str, float]],
    workers: int = 2,
    rule_files: Sequence[Path] = (),
) -> tuple[PrometheusServer, float]:
    """Backfill every file (`workers` promtools at a time), start Prometheus, wait for the data.

    `checks` are (PromQL, unix time) pairs that must return a result before the server counts
    as loaded; `rule_files`, alerting rules the server serves (`/api/v1/rules`), as a deployed
    one does. Returns the server (the caller stops it) and the backfill time in seconds.
    """
    promtool, _ = find_binaries()
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda path: backfill(promtool, path, data_dir), om_files))
    backfill_seconds = time.perf_counter() - started
    server = start_prometheus([], workdir, timeout=120.0, rule_files=rule_files)
    try:
        _wait_for_data(server.url, checks, deadline=time.monotonic() + 120.0)
    except BaseException:
        server.stop()
        raise
    return server, backfill_seconds


def _wait_for_data(url: str, checks: Sequence[tuple[str, float]], deadline: float) -> None:
    with requests.Session() as session:
        for query, moment in checks:
            while not _has_result(session, url, query, moment):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Prometheus at {url} has no data for {query} at {moment}")
                time.sleep(0.2)


def _has_result(session: requests.Session, url: str, query: str, moment: float) -> bool:
    try:
        response = session.get(
            f"{url}/api/v1/query", params={"query": query, "time": str(moment)}, timeout=30
        )
        return bool(response.ok and response.json()["data"]["result"])
    except (requests.RequestException, ValueError, KeyError):
        return False


def prometheus_queries(url: str) -> int:
    """Query API requests Prometheus has answered so far (`prometheus_http_requests_total`)."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    total = 0
    for line in text.splitlines():
        if not line.startswith("prometheus_http_requests_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        if any(f'handler="{handler}"' in labels for handler in QUERY_HANDLERS):
            total += int(float(value))
    return total


class _Forward(BaseHTTPRequestHandler):
    """Forwards one request to the proxy's target after the proxy's delay."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the product's clients expect
    server: DelayingProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        time.sleep(self.server.delay)
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
        answer = self.server.session.request(
            self.command, self.server.target + self.path, data=body, headers=headers, timeout=300
        )
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)


FORWARDED_HEADERS = ("content-type", "accept", "authorization")


class DelayingProxy(ThreadingHTTPServer):
    """A plain HTTP proxy on 127.0.0.1 that waits `delay` seconds before forwarding each
    request to `target` (Prometheus): network latency for a server that has none."""

    daemon_threads = True

    def __init__(self, target: str, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.target, self.delay = target.rstrip("/"), delay
        self.session = requests.Session()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> DelayingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.session.close()


@contextlib.contextmanager
def prometheus_with_delay(url: str, delay: float) -> Iterator[str]:
    """Prometheus's URL, behind a delaying proxy when `delay` > 0."""
    if delay <= 0:
        yield url
        return
    with DelayingProxy(url, delay) as proxy:
        yield proxy.url
