"""Links from each chart to its live query: pure URL building, then the real Prometheus."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from analysis_support import analyse_snapshot
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.config import ConfigError, load_config
from collector.jobs.draft import draft_incident
from collector.jobs.runner import Runner
from collector.snapshot.store import load_snapshot
from collector.sources.collect import collect_snapshot
from collector.timeutil import parse_time
from report.links import (
    LinkTargets,
    build_query_links,
    chart_range,
    format_range_input,
    grafana_explore_url,
    prometheus_graph_url,
    public_base_url,
)

T0 = datetime(2025, 10, 25, 14, 0, tzinfo=timezone.utc)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def link_params(url: str) -> dict[str, str]:
    """The query parameters of a link, decoded, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def link_range(url: str) -> tuple[datetime, datetime, int]:
    """The start, end and step a Prometheus graph link asks for, read as its page reads them."""
    params = link_params(url)
    end = datetime.strptime(params["g0.end_input"], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=timezone.utc
    )
    match = re.fullmatch(r"(\d+)([smhd])", params["g0.range_input"])
    assert match, params["g0.range_input"]
    seconds = int(match.group(1)) * UNITS[match.group(2)]
    return end - timedelta(seconds=seconds), end, int(params["g0.step_input"])


def test_graph_link_carries_expression_range_end_and_step() -> None:
    url = prometheus_graph_url(
        "http://prom:9090/", 'sum(rate(x{code=~"5.."}[2m]))', T0, T0 + timedelta(minutes=90), 30
    )
    assert url.startswith("http://prom:9090/graph?")
    params = link_params(url)
    assert params["g0.expr"] == 'sum(rate(x{code=~"5.."}[2m]))'
    assert params["g0.tab"] == "0"
    assert params["g0.range_input"] == "90m"
    assert params["g0.end_input"] == params["g0.moment_input"] == "2025-10-25 15:30:00"
    assert params["g0.step_input"] == "30"
    assert " " not in url and "+" not in url  # spaces as %20, as the page decodes them


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5400, "90m"), (21600, "6h"), (172800, "2d"), (90, "90s"), (3630, "3630s"), (0, "1s")],
)
def test_range_input_uses_one_unit(seconds: int, text: str) -> None:
    assert format_range_input(seconds) == text


@pytest.mark.parametrize(
    "url",
    [
        "https://alice:s3cret@prom.example.com:9443/prometheus/?token=s3cret#x",
        "https://s3cret@prom.example.com:9443/prometheus",
    ],
)
def test_credentials_never_reach_a_link(url: str) -> None:
    assert public_base_url(url) == "https://prom.example.com:9443/prometheus"
    links = build_query_links(
        LinkTargets(
            url, grafana_url="https://bob:s3cret@grafana.example.com/", grafana_datasource="P1"
        ),
        "t",
        "up",
        T0,
        T0 + timedelta(hours=1),
        60,
    )
    assert "s3cret" not in links.prometheus and "s3cret" not in str(links.grafana)
    assert links.prometheus.startswith("https://prom.example.com:9443/prometheus/graph?")
    assert str(links.grafana).startswith("https://grafana.example.com/explore?")


def test_grafana_explore_link_holds_one_pane_with_query_source_and_range() -> None:
    url = grafana_explore_url(
        "https://grafana.example.com", "prom-uid", "up{job='x'}", T0, T0 + timedelta(hours=2), 3
    )
    params = link_params(url)
    assert params["schemaVersion"] == "1" and params["orgId"] == "3"
    (pane,) = json.loads(params["panes"]).values()
    assert pane["datasource"] == "prom-uid"
    assert pane["queries"][0]["expr"] == "up{job='x'}"
    assert pane["queries"][0]["datasource"] == {"type": "prometheus", "uid": "prom-uid"}
    assert pane["range"] == {
        "from": str(int(T0.timestamp() * 1000)),
        "to": str(int((T0 + timedelta(hours=2)).timestamp() * 1000)),
    }


def test_no_grafana_link_without_a_data_source() -> None:
    links = build_query_links(
        LinkTargets("http://p", grafana_url="http://g"), "t", "up", T0, T0, 30
    )
    assert links.grafana is None


def test_chart_range_widens_onto_the_query_grid_within_the_fetch() -> None:
    fetched = (T0, T0 + timedelta(hours=3))
    visible = (T0 + timedelta(seconds=75), T0 + timedelta(seconds=7290))
    start, end = chart_range(visible, fetched, 30)
    assert (start, end) == (T0 + timedelta(seconds=60), T0 + timedelta(seconds=7290))
    start, end = chart_range((T0 - timedelta(hours=1), T0 + timedelta(hours=5)), fetched, 30)
    assert (start, end) == fetched


def test_grafana_url_without_data_source_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("links:\n  grafana_url: https://grafana.example.com\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="links.grafana_datasource"):
        load_config(path, {})
    path.write_text("links:\n  prometheus_url: prom.example.com\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="links.prometheus_url.*http"):
        load_config(path, {})


def chart_links(report: str) -> dict[str, list[tuple[str, str | None]]]:
    """Each chart of report.md (by its PNG path) with the links printed under it."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    chart = None
    for line in report.splitlines():
        image = re.match(r"!\[.*\]\((charts/[^)]+\.png)\)", line)
        if image:
            chart = image.group(1)
            found[chart] = []
        elif chart and "[Prometheus](" in line:
            prom = re.search(r"\[Prometheus\]\(([^)]+)\)", line)
            grafana = re.search(r"\[Grafana Explore\]\(([^)]+)\)", line)
            assert prom
            found[chart].append((prom.group(1), grafana.group(1) if grafana else None))
    return found


@pytest.mark.slow
def test_demo_report_links_every_metric_chart_and_grafana_when_configured(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "collector.yaml"
    config_file.write_text(
        DEMO_CONFIG.read_text(encoding="utf-8")
        + "links:\n  grafana_url: https://grafana.example.com\n  grafana_datasource: prom\n",
        encoding="utf-8",
    )
    config = load_config(config_file, {})
    draft_incident(load_snapshot(DEMO_SNAPSHOT), config, Runner(), tmp_path)
    links = chart_links((tmp_path / "report.md").read_text(encoding="utf-8"))
    metric_charts = {c for c in links if c != "charts/timeline.png"}
    assert metric_charts and all(links[c] for c in metric_charts)
    assert links["charts/timeline.png"] == []
    assert all(
        g and g.startswith("https://grafana.example.com/explore?")
        for c in metric_charts
        for _, g in links[c]
    )
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count(">Prometheus</a>") == sum(len(v) for v in links.values())


def _series_values(result: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    return {
        json.dumps(s["metric"], sort_keys=True): [
            (float(t), v) for t, v in s["values"] if start <= float(t) <= end
        ]
        for s in result
    }


@pytest.mark.slow
@pytest.mark.prometheus
def test_each_link_asks_the_real_prometheus_for_what_its_chart_drew(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    config = load_config(DEMO_CONFIG, environment(pd_sim, prometheus.url))
    snapshot = collect_snapshot(config, "P7DBOOM")
    draft_incident(snapshot, config, Runner(), tmp_path)
    links = chart_links((tmp_path / "report.md").read_text(encoding="utf-8"))
    records = {r["query"]: r for r in snapshot.prometheus["results"]}
    now = datetime.now(timezone.utc)
    window = analyse_snapshot(snapshot.pagerduty, snapshot.prometheus, config, now).window
    checked = 0
    for chart, chart_urls in links.items():
        for url, _ in chart_urls:
            assert url.startswith(f"{prometheus.url}/graph?"), url
            expr = link_params(url)["g0.expr"]
            record = records[expr]  # the query exactly as the snapshot sent it
            start, end, step = link_range(url)
            assert step == record["step"]
            if chart.startswith("charts/memory_trend"):  # drawn over all that was fetched
                assert (start, end) == (parse_time(record["start"]), parse_time(record["end"]))
            else:  # the chart's window, on the query's grid
                assert start <= window[0] < start + timedelta(seconds=step)
                assert end - timedelta(seconds=step) < window[1] <= end
            answer = requests.get(
                f"{prometheus.url}/api/v1/query_range",
                params={
                    "query": expr,
                    "start": start.timestamp(),
                    "end": end.timestamp(),
                    "step": step,
                },
                timeout=30,
            ).json()
            assert answer["status"] == "success"
            live = _series_values(answer["data"]["result"], start.timestamp(), end.timestamp())
            drawn = _series_values(record["result"], start.timestamp(), end.timestamp())
            assert live == drawn and any(live.values()), chart
            checked += 1
    assert checked >= 9
