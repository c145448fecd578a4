"""The local servers: a real Prometheus loaded by promtool backfill, and the PagerDuty simulator.

Both come from the test suite (`tests/prom_server.py`, `tests/pd_simulator.py`); both listen on
127.0.0.1 only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
    "PagerDutySimulator",
    "PrometheusServer",
    "load_prometheus",
    "prometheus_queries",
    "time_bounds",
]

TOKEN = "bench-token"
QUERY_HANDLERS = ("/api/v1/query", "/api/v1/query_range")


def load_prometheus(
    om_files: Sequence[Path], workdir: Path, checks: Sequence[tuple[str, float]], workers: int = 2
) -> tuple[PrometheusServer, float]:
    """Backfill every file (`workers` promtools at a time), start Prometheus, wait for the data.

    `checks` are (PromQL, unix time) pairs that must return a result before the server counts
    as loaded. Returns the server (the caller stops it) and the backfill time in seconds.
    """
    promtool, _ = find_binaries()
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda path: backfill(promtool, path, data_dir), om_files))
    backfill_seconds = time.perf_counter() - started
    server = start_prometheus([], workdir, timeout=120.0)
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
