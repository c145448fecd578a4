"""Time one `collect --incident` stage by stage, in process; run by run.py as a subprocess.

The product is not changed: its public functions are wrapped with timers for the length of
the run, and every HTTP request is recorded (method, URL, start, end) at the client. After the
normal fetch, the recorded requests are replayed one at a time (the sequential baseline), and
the fetch is repeated with both concurrency caps at 1 where the config has them.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import time

IMPORT_START = time.perf_counter()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import dataclasses  # noqa: E402
import functools  # noqa: E402
import heapq  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import ssl  # noqa: E402
import threading  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402
from unittest import mock  # noqa: E402
from urllib.parse import parse_qs, urlsplit  # noqa: E402

import httpx2  # noqa: E402
import requests  # noqa: E402

from collector.config import Config, load_config  # noqa: E402
from collector.jobs import draft, runner  # noqa: E402
from collector.sources import pagerduty_incident  # noqa: E402
from collector.sources import prometheus as prom_source  # noqa: E402
from collector.sources.collect import collect_snapshot  # noqa: E402
from collector.sources.prometheus import expand_query  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - IMPORT_START

# (module, function name, stage): the names draft_incident and collect_snapshot look up at call
# time, so wrapping the module attribute times exactly what the CLI runs.
# PagerDuty's lists are fetched beside Prometheus's metrics: the two stages overlap.
FETCH_STAGES = (
    (pagerduty_incident, "fetch_incident", "fetch_pagerduty"),
    (pagerduty_incident, "fetch_incident_lists", "fetch_pagerduty"),
    (prom_source, "fetch_query_results", "fetch_prometheus"),
)
DRAFT_STAGES = (
    # Reading the snapshot into records and frames counts as analysis.
    (draft, "read_incident_data", "analysis"),
    (draft, "analyse_incident", "analysis"),
    # Where no chart drawer runs; with one, `Runner.draw` waits for it.
    (runner, "run_jobs", "charts"),
    (draft, "render_texts", "rendering"),
    # The PDF is laid out in a forked process while the charts are drawn: what is timed here
    # is what is left of it once they are (all of it where nothing is forked).
    (runner.Runner, "finish_pdf", "pdf"),
    (draft, "save_snapshot", "write_snapshot"),
)


@dataclasses.dataclass(frozen=True)
class Call:
    """One HTTP request as the client saw it."""

    api: str  # "pagerduty" | "prometheus"
    method: str
    url: str
    start: float
    end: float
    status: int


class Recorder:
    """Records every request the PagerDuty (httpx2) and Prometheus (requests) clients send."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Wrap both clients' `send` while the block runs."""
        with (
            mock.patch.object(httpx2.Client, "send", self._wrap("pagerduty", httpx2.Client.send)),
            mock.patch.object(
                requests.Session, "send", self._wrap("prometheus", requests.Session.send)
            ),
        ):
            yield

    def _wrap(self, api: str, send: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            status = 0
            try:
                response = send(client, request, *args, **kwargs)
                status = response.status_code
                return response
            finally:
                call = Call(
                    api, request.method, str(request.url), start, time.perf_counter(), status
                )
                with self._lock:
                    self.calls.append(call)

        return recorded

    def of(self, api: str) -> list[Call]:
        """The calls made to one API, in start order."""
        return sorted((c for c in self.calls if c.api == api), key=lambda c: c.start)


class Stages:
    """Accumulated seconds per stage, from timers wrapped around product functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def timing(self, targets: tuple[tuple[ModuleType, str, str], ...]) -> Iterator[None]:
        """Wrap each (module, function, stage) that exists while the block runs."""
        with contextlib.ExitStack() as stack:
            for module, name, stage in targets:
                if hasattr(module, name):
                    timed = self._timed(stage, getattr(module, name))
                    stack.enter_context(mock.patch.object(module, name, timed))
            yield

    def _timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start

        return timed


def sequential_chain(calls: list[Call]) -> int:
    """Most requests that ran strictly one after another: the round trips on the critical path.

    The largest set of pairwise non-overlapping intervals (earliest end first) is a chain.
    """
    count, last_end = 0, float("-inf")
    for call in sorted(calls, key=lambda c: c.end):
        if call.start >= last_end:
            count, last_end = count + 1, call.end
    return count


def scheduled_round_trips(calls: list[Call], order: list[str], workers: int) -> int:
    """Round trips on the critical path if every Prometheus request took the same time.

    Requests of one query (range chunks, then the baseline) run in order; queries go to
    `workers` threads in the order of the query pack (`order`, expanded PromQL), as
    `fetch_query_results` submits them.
    """
    per_query = dict.fromkeys(order, 0)
    for call in calls:
        sent = parse_qs(urlsplit(call.url).query).get("query", [call.url])[0]
        # The alerts query is sent as a range selector: `<promql>[<seconds>s]`.
        key = next((q for q in order if sent == q or sent.startswith(q + "[")), sent)
        per_query[key] = per_query.get(key, 0) + 1
    free = [0] * max(1, workers)
    for count in per_query.values():
        if count:
            heapq.heappush(free, heapq.heappop(free) + count)
    return max(free)


def replay(calls: list[Call], token: str, ca_file: str | None) -> dict[str, float]:
    """Send the recorded answered requests again, one at a time, and decode them; seconds per API.

    Requests the server refused (429 and the like) were retried by the client: the retry is in
    the record too, so only answered ones are replayed.
    """
    seconds: dict[str, float] = {"pagerduty": 0.0, "prometheus": 0.0}
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    headers = {
        "Authorization": f"Token token={token}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }
    with (
        httpx2.Client(verify=verify, headers=headers, timeout=60.0) as pd_client,
        requests.Session() as prom_session,
    ):
        for call in sorted(calls, key=lambda c: c.start):
            if call.status != 200:
                continue
            start = time.perf_counter()
            # Decoding the JSON as the product does keeps the comparison fair.
            if call.api == "pagerduty":
                answer: Any = pd_client.get(call.url)
            else:
                answer = prom_session.get(call.url, timeout=60.0)
            answer.json()
            status = answer.status_code
            seconds[call.api] += time.perf_counter() - start
            if status != call.status:
                raise RuntimeError(f"replay of {call.url} got {status}, not {call.status}")
    return seconds


def caps_of_one(config: Config) -> Config | None:
    """The config with PagerDuty's and Prometheus's concurrency caps at 1 (None if no knob)."""
    fields = {f.name for f in dataclasses.fields(config.prometheus)}
    if "max_concurrency" not in fields:
        return None
    return dataclasses.replace(
        config,
        pagerduty=dataclasses.replace(config.pagerduty, max_concurrency=1),
        prometheus=dataclasses.replace(config.prometheus, max_concurrency=1),
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Fetch and draft once with timers; then the sequential baselines."""
    config = load_config(args.config, os.environ)
    stages, recorder = Stages(), Recorder()
    profiler = cProfile.Profile() if args.profile else None
    with contextlib.ExitStack() as stack:
        if profiler is not None:
            stack.enter_context(profiler)
        with recorder.active(), stages.timing(FETCH_STAGES):
            start = time.perf_counter()
            snapshot = collect_snapshot(config, args.incident)
            fetch = time.perf_counter() - start
        with stages.timing(DRAFT_STAGES):
            start = time.perf_counter()
            with runner.Runner() as run:
                draft.publish_incident(snapshot, config, run, args.out, force=True)
            drafting = time.perf_counter() - start
    if profiler is not None:
        profiler.dump_stats(args.profile)
    named_stages = ("analysis", "charts", "rendering", "pdf", "write_snapshot")
    named = sum(stages.seconds[s] for s in named_stages)
    selector = snapshot.prometheus.get("selector", "")
    result: dict[str, Any] = {
        "imports": IMPORT_SECONDS,
        "fetch": fetch,
        **stages.seconds,
        "draft_total": drafting,
        "write_other": drafting - named,
        "gaps": [gap.text for gap in snapshot.gaps],
        "requests": {api: len(recorder.of(api)) for api in ("pagerduty", "prometheus")},
        "round_trips": {
            "pagerduty": sequential_chain(recorder.of("pagerduty")),
            "prometheus": sequential_chain(recorder.of("prometheus")),
            "prometheus_scheduled": scheduled_round_trips(
                recorder.of("prometheus"),
                [expand_query(spec, selector) for spec in config.prometheus.queries],
                getattr(config.prometheus, "max_concurrency", 4),
            ),
        },
    }
    if args.sequential:
        result.update(measure_baselines(config, args.incident, recorder.calls))
    return result


def measure_baselines(config: Config, incident: str, calls: list[Call]) -> dict[str, Any]:
    """The recorded requests one at a time, and the product's fetch with its caps at 1."""
    token = os.environ.get("PAGERDUTY_API_TOKEN", "")
    replayed = replay(calls, token, os.environ.get("SSL_CERT_FILE"))
    result: dict[str, Any] = {"sequential": {**replayed, "fetch": sum(replayed.values())}}
    capped = caps_of_one(config)
    if capped is not None:
        start = time.perf_counter()
        collect_snapshot(capped, incident)
        result["caps_of_one_fetch"] = time.perf_counter() - start
    return result


def main() -> None:
    """Parse the options, measure, print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--incident", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sequential", action="store_true", help="also measure the baselines")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the run here")
    print(json.dumps(measure(parser.parse_args())))


if __name__ == "__main__":
    main()
