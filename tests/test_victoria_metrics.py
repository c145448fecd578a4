"""The incident draft against VictoriaMetrics: the same demo metrics, the same key figures.

VictoriaMetrics is loaded with fixtures/prometheus/demo.om through its import API; its query
dialect (MetricsQL) differs from PromQL in small ways, which is the point of the comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DEMO_CONFIG, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer
from test_end_to_end import run
from test_prometheus_source import MEMORY, SWAP, at, settings
from vm_server import VictoriaMetricsServer

from collector.sources.prometheus import choose_range, fetch_query_results, parts_per_query

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


def draft(collect_bin: str, env: dict[str, str], out: Path) -> str:
    result = run(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(DEMO_CONFIG), "--out", str(out), "--lang", "en"],
        env,
        out.parent,
    )
    assert result.returncode == 0, result.stderr
    return (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")


def figures(report: str) -> dict[str, str]:
    """Every bold-labelled figure line of the report: '**Label:** value'."""
    return dict(re.findall(r"^\s*[-|]?\s*\*\*([^*]+?):?\*\*:?\s*(.+?)\s*$", report, re.MULTILINE))


def test_demo_incident_draft_has_the_same_key_figures_on_victoria_metrics(
    collect_bin: str,
    pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    demo_victoria: VictoriaMetricsServer,
    tmp_path: Path,
) -> None:
    on_prom = draft(collect_bin, environment(pd_sim, prometheus.url), tmp_path / "prom")
    on_vm = draft(collect_bin, environment(pd_sim, demo_victoria.url), tmp_path / "vm")
    prom_figures, vm_figures = figures(on_prom), figures(on_vm)
    # Single-node VictoriaMetrics keeps no rules (they live in vmalert): its /api/v1/rules
    # answers no group, so the draft names the rule without its expression, and the times read
    # from the ALERTS series stay the same.
    rule = "Alerting rule that fired"
    prom_rule, vm_rule = prom_figures.pop(rule), vm_figures.pop(rule)
    assert vm_rule.startswith("`PostgresDown` (rule not found in /api/v1/rules)")
    assert vm_rule.split(": ", 1)[1] == prom_rule.split(": ", 1)[1]
    assert prom_figures.keys() == vm_figures.keys() and len(prom_figures) > 40
    differing = {k for k in prom_figures if prom_figures[k] != vm_figures[k]}
    # MetricsQL's rate() also uses the last sample before each window, so the lowest and highest
    # request rates of a range move a little; every other figure (durations, impact, memory,
    # thresholds, users, revenue...) must be identical.
    assert differing <= RATE_SUMMARIES, differing
    for key in differing:
        prom_peak, vm_peak = (peak_rate(f[key]) for f in (prom_figures, vm_figures))
        assert vm_peak == pytest.approx(prom_peak, rel=0.01), key
    for key in ("Total duration", "Memory used", "Swap used"):
        assert prom_figures[key] == vm_figures[key]


RATE_SUMMARIES = {"HTTP requests", "HTTP 5xx responses"}


def peak_rate(text: str) -> float:
    """The highest rate of a query summary: '... peak 216.8 req/s (15:22 UTC)'."""
    return float(re.findall(r"peak ([\d.]+) req/s", text)[-1])


def test_a_query_asked_in_parts_has_the_answer_it_has_whole(
    demo_victoria: VictoriaMetricsServer,
) -> None:
    """VictoriaMetrics aligns a range query's start on its step and may cache parts of answers:
    the parts a small pack is asked in (`parts_per_query`) still give the whole's samples."""
    qrange = choose_range(at("10:30:00"), at("16:00:00"), 720)
    pack = [MEMORY, SWAP]
    whole = fetch_query_results(
        settings(demo_victoria.url, max_concurrency=1), None, pack, qrange, ""
    )
    parts = fetch_query_results(
        settings(demo_victoria.url, max_concurrency=8), None, pack, qrange, ""
    )
    assert parts_per_query(8, len(pack), qrange) > 1
    assert all(r["error"] is None and r["result"] for r in whole)
    assert parts == whole
