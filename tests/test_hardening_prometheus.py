"""Prometheus answers that are malformed, non-finite or slow fail one query, never the run."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from conftest import DEMO_CONFIG, environment
from hardening_support import run_collect
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.config import PrometheusSettings, QuerySpec
from collector.snapshot.prometheus import read_series
from collector.sources.prometheus import choose_range, fetch_query_results

START = datetime(2025, 10, 25, 14, 0, tzinfo=timezone.utc)
QRANGE = choose_range(START, START.replace(hour=15), 60)
SLOW_SECONDS = 2.5


def matrix(result: Any) -> dict[str, Any]:
    """A query API answer whose data.result is `result`."""
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


def series(*values: str) -> list[dict[str, Any]]:
    """One series with the given sample values, a minute apart."""
    t0 = int(START.timestamp())
    return [{"metric": {"job": "x"}, "values": [[t0 + 60 * i, v] for i, v in enumerate(values)]}]


# What the stub answers (HTTP 200) for each query, by its PromQL text.
ANSWERS: dict[str, tuple[str, bytes]] = {
    "html": ("text/html", b"<html><body><h1>Sign in</h1></body></html>"),
    "weird": ("application/json", json.dumps(matrix("weird")).encode()),
    "nodata": ("application/json", b'{"status": "success"}'),
    "notpairs": ("application/json", json.dumps(matrix([{"metric": {}, "values": [1]}])).encode()),
    "labels": ("application/json", json.dumps(matrix([{"metric": [], "values": []}])).encode()),
    "huge": ("application/json", json.dumps(matrix(series("1", "1e400", "NaN", "2"))).encode()),
    "good": ("application/json", json.dumps(matrix(series("1", "2", "3"))).encode()),
}


class _Stub(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._answer(parse_qs(urlsplit(self.path).query))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self._answer(parse_qs(self.rfile.read(length).decode()))

    def _answer(self, params: dict[str, list[str]]) -> None:
        name = re.sub(r"\[\d+s\]$", "", params.get("query", [""])[0])
        if name == "slow":
            time.sleep(SLOW_SECONDS)
            name = "good"
        content_type, body = ANSWERS.get(name, ANSWERS["good"])
        body = _in_range(body, params)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout)


def _in_range(body: bytes, params: dict[str, list[str]]) -> bytes:
    """The samples of a query_range answer that fall in the range asked, as Prometheus
    answers: a range asked in parts (`parts_per_query`) gets each sample once."""
    if "start" not in params or "end" not in params:
        return body
    try:
        answer = json.loads(body)
        result = answer["data"]["result"]
    except (ValueError, KeyError, TypeError):
        return body
    if not isinstance(result, list):
        return body
    low, high = float(params["start"][0]), float(params["end"][0])
    for one in result:
        if isinstance(one, dict) and isinstance(one.get("values"), list):
            one["values"] = [
                v
                for v in one["values"]
                if not (isinstance(v, list) and v and isinstance(v[0], int | float))
                or low <= v[0] <= high
            ]
    return json.dumps(answer).encode()


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    """A loopback server answering 200 with the bodies above."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str, names: list[str], kind: str = "custom", **changes: Any) -> dict[str, Any]:
    """Run one query per name against `url`; the records by name."""
    specs = [QuerySpec(name=n, title=n, query=n, kind=kind) for n in names]
    settings = replace(PrometheusSettings(url=url, timeout=5.0, baseline_offset=None), **changes)
    return {r["name"]: r for r in fetch_query_results(settings, None, specs, QRANGE, "")}


@pytest.mark.parametrize("name", ["html", "weird", "nodata", "notpairs", "labels"])
@pytest.mark.parametrize("kind", ["custom", "alerts"])
def test_malformed_200_fails_only_its_query(stub_url: str, name: str, kind: str) -> None:
    records = fetch(stub_url, [name, "good"], kind=kind)
    assert "answered with a malformed body" in records[name]["error"]
    assert records[name]["result"] == []
    assert records["good"]["error"] is None and records["good"]["result"]


def test_non_finite_samples_are_dropped_and_counted(stub_url: str) -> None:
    record = fetch(stub_url, ["huge"])["huge"]
    assert record["error"] is None
    assert [v for _, v in record["result"][0]["values"]] == ["1", "2"]
    assert record["dropped"] == 2


def test_non_finite_values_in_an_old_snapshot_are_not_drawn() -> None:
    record = {"name": "q", "kind": "custom", "result": series("1", "NaN", "+Inf", "-Inf", "2")}
    assert read_series([record])["value"].tolist() == [1.0, 2.0]


@pytest.mark.slow
def test_timeout_says_timed_out_and_after_how_long(stub_url: str) -> None:
    began = time.monotonic()
    record = fetch(stub_url, ["slow"], timeout=1.0)["slow"]
    assert record["error"].startswith(f"Prometheus at {stub_url} timed out after 1 s (3 attempts)")
    assert "cannot reach" not in record["error"]
    assert time.monotonic() - began < 3 * SLOW_SECONDS + 5


def test_real_prometheus_nan_and_inf_are_dropped(prometheus: PrometheusServer) -> None:
    specs = [
        QuerySpec(name="nan", title="nan", query="vector(0) / 0"),
        QuerySpec(name="inf", title="inf", query="vector(1) / 0"),
        QuerySpec(name="ninf", title="ninf", query="-vector(1) / 0"),
    ]
    settings = PrometheusSettings(url=prometheus.url, baseline_offset=None)
    for record in fetch_query_results(settings, None, specs, QRANGE, ""):
        assert record["error"] is None
        assert record["dropped"] > 0
        assert all(not s["values"] for s in record["result"])


@pytest.mark.slow
def test_a_run_against_a_broken_prometheus_still_drafts(
    collect_bin: str,
    pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    stub_url: str,
    tmp_path: Path,
) -> None:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["prometheus"]["queries"] = [
        {"name": name, "query": name, "unit": "%"} for name in ("html", "weird", "huge", "good")
    ]
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = tmp_path / "out"
    result = run_collect(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(config), "--out", str(out), "--lang", "en"],
        {**environment(pd_sim, prometheus.url), "PROMETHEUS_URL": stub_url},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert "'html': Prometheus at" in report and "malformed body" in report
    assert "'huge': 2 samples that are not finite numbers (NaN, ±Inf) were left out" in report
    huge = next(line for line in report.splitlines() if line.startswith("- **Huge**"))
    assert "low 1 % (14:00 UTC" in huge and "peak 2 % (14:03 UTC" in huge
    assert not re.search(r"nan|inf", huge.lower())
    assert (out / "P7DBOOM" / "charts" / "good.png").exists()


@pytest.mark.parametrize(
    "sample",
    [
        [None, "1"],
        [1_700_000_000, None],
        [True, "1"],
        [1_700_000_000, False],
        [1_700_000_000],
        [1_700_000_000, "1", "2"],
        "12",
        [1_700_000_000, "abc"],
        [-1, "1"],
        [float("nan"), "1"],
        [1_700_000_000, ["1"]],
        [1_700_000_000, {"v": "1"}],
        [],
    ],
)
def test_a_sample_that_is_not_a_time_and_a_number_makes_the_answer_malformed(
    sample: object,
) -> None:
    """The samples are read by numpy at once: what numpy would quietly accept (None as NaN,
    a boolean as 1, "12" as a pair of characters) is still refused, as it was one by one."""
    from collector.sources.prometheus import checked_series

    good = [1_700_000_000, "1.5"]
    with pytest.raises((ValueError, TypeError)):
        checked_series([{"metric": {}, "values": [good, sample, good]}], {})
    with pytest.raises((ValueError, TypeError)):  # every sample alike
        checked_series([{"metric": {}, "values": [sample, sample]}], {})


def test_finite_samples_are_read_as_numbers_and_the_others_counted() -> None:
    from collector.sources.prometheus import checked_series

    values = [
        [1_700_000_000, "1.5"],
        [1_700_000_060, "NaN"],
        [1_700_000_120, "+Inf"],
        [1_700_000_180, "1e999"],
        [1_700_000_240, "2"],
    ]
    record: dict[str, object] = {}
    [series] = checked_series([{"metric": {"a": 1}, "values": values}], record)
    assert series["metric"] == {"a": "1"}
    assert series["values"].times.tolist() == [1_700_000_000, 1_700_000_240]
    assert series["values"].values.tolist() == [1.5, 2.0]
    assert series["values"].pairs() == [(1_700_000_000, "1.5"), (1_700_000_240, "2")]
    assert record["dropped"] == 3


def test_an_answer_is_read_into_columns_as_it_is_parsed() -> None:
    """A big answer's samples are read as numbers while the JSON is parsed, each series'
    lists freed at once; what is not a list of number pairs is left for the check to refuse."""
    import json

    from collector.snapshot.samples import Samples
    from collector.sources.prometheus_api import read_answer_samples

    answer = json.loads(
        '[{"metric": {"i": "a"}, "values": [[1700000000, "1.5"], [1700000060.5, "2"]]},'
        ' {"metric": {"i": "c"}, "values": [[1700000000, "7"], "12", [1, 2, 3]]},'
        ' {"metric": {"i": "d"}, "values": [[[1], "7"]]},'
        ' {"metric": {"i": "e"}, "values": [[1700000000, true]]}]',
        object_hook=read_answer_samples,
    )
    first, odd, nested, boolean = answer
    assert isinstance(first["values"], Samples)
    assert first["values"].times.tolist() == [1700000000.0, 1700000060.5]
    assert first["values"].values.tolist() == [1.5, 2.0]
    assert odd["values"] == [[1700000000, "7"], "12", [1, 2, 3]]
    assert nested["values"] == [[[1], "7"]]
    assert boolean["values"] == [[1700000000, True]]


def test_samples_written_by_threads_side_by_side_keep_their_own_times() -> None:
    """The webhook server drafts in threads: the time grid the writer keeps for the next
    series is never another draft's."""
    import json
    import threading

    import numpy as np

    from collector.snapshot.samples import Samples

    grids = [
        Samples(np.arange(1000, 1000 + 60 * 500, 60, dtype=float), np.ones(500)),
        Samples(np.arange(5000, 5000 + 30 * 500, 30, dtype=float), np.full(500, 2.0)),
    ]
    wrong: list[object] = []

    def write(samples: Samples) -> None:
        for _ in range(200):
            pairs = json.loads(samples.json_text())
            if [t for t, _ in pairs] != samples.times.tolist():
                wrong.append(pairs[0])

    threads = [threading.Thread(target=write, args=(grid,)) for grid in grids * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_samples_are_written_back_in_prometheus_notation() -> None:
    """snapshot.json keeps each value as Prometheus writes it (Go's FormatFloat 'f', -1): the
    fewest digits that read back the same, no exponent, no `.0`; whole times as integers."""
    from collector.snapshot.samples import read_samples

    texts = ["1.5", "12", "-0", "0.00001", "1000000000000000000000", "0.1", "123456.789"]
    pairs = [[1_700_000_000 + i, text] for i, text in enumerate(texts)]
    samples = read_samples([*pairs, [1_700_000_100.25, "3"]])
    assert samples.json_text() == (
        "[" + ",".join(f'[{t},"{v}"]' for t, v in pairs) + ',[1700000100.25,"3"]]'
    )
