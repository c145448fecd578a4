"""Real shapes: what real hosts and real Prometheus servers look like, beside the gallery's.

Each shape is collected from the PagerDuty simulator and a real Prometheus, drafted in French and
English, and asserted figure by figure from `fixtures/real_shapes/facts.json`, written by
`fixtures/real_shapes/make_real_shapes.py` (true by construction, never copied from a report).
Shape (e), a Prometheus that answers only `up`, has a Prometheus of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from analysis_support import analyse_snapshot
from conftest import FIXTURES, TOKEN, environment
from language_check import foreign_sentences, strings_in
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer, start_prometheus
from test_end_to_end import run

from collector.analysis.facts import Verdict
from collector.analysis.incident import Analysis
from collector.analysis.memory import TrendLevel
from collector.analysis.outage import OutageBasis
from collector.config import Config, load_config
from collector.jobs.draft import draft_incident
from collector.jobs.runner import Runner
from collector.snapshot.store import Snapshot
from collector.sources.collect import collect_snapshot
from collector.timeutil import parse_time

# Slow throughout: each shape is drafted from the simulator and a real Prometheus.
pytestmark = pytest.mark.slow

SHAPES = FIXTURES / "real_shapes"
CONFIG_PATH = SHAPES / "collector.yaml"
CONFIG_TEXT = CONFIG_PATH.read_text(encoding="utf-8")
FACTS: dict[str, Any] = json.loads((SHAPES / "facts.json").read_text(encoding="utf-8"))
FILL_IN = {"fr": "[À COMPLÉTER:", "en": "[TO COMPLETE:"}


@dataclass(frozen=True)
class Drafted:
    """One shape's incident: its snapshot, its analysis, and its report in each language."""

    snapshot: Snapshot
    analysis: Analysis
    reports: dict[str, str]
    folders: dict[str, Path]


@pytest.fixture(scope="module")
def simulator() -> Iterator[PagerDutySimulator]:
    with PagerDutySimulator(SHAPES / "pagerduty", TOKEN) as sim:
        yield sim


def _prometheus(om_name: str, tmp: pytest.TempPathFactory, rules: bool) -> PrometheusServer:
    rule_files = [SHAPES / "real_shapes_rules.yml"] if rules else []
    return start_prometheus([SHAPES / om_name], tmp.mktemp(om_name), rule_files=rule_files)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PrometheusServer]]:
    """One Prometheus per OpenMetrics file: shapes (a)-(d) share one, (e) has its own."""
    shared = _prometheus("real_shapes.om", tmp_path_factory, rules=True)
    try:
        alone = _prometheus("up_only.om", tmp_path_factory, rules=False)
    except BaseException:
        shared.stop()
        raise
    try:
        yield {"real_shapes.om": shared, "up_only.om": alone}
    finally:
        shared.stop()
        alone.stop()


def env_for(shape: str, sim: PagerDutySimulator, servers: dict[str, PrometheusServer]) -> dict:
    return environment(sim, servers[FACTS[shape]["metrics"]].url)


@pytest.fixture(scope="module")
def draft(
    simulator: PagerDutySimulator,
    servers: dict[str, PrometheusServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    cache: dict[str, Drafted] = {}

    def run(shape: str) -> Drafted:
        if shape not in cache:
            config = load_config(CONFIG_PATH, env_for(shape, simulator, servers))
            (incident_id,) = FACTS[shape]["incidents"]
            cache[shape] = _draft(config, incident_id, tmp_path_factory)
        return cache[shape]

    return run


def _draft(config: Config, incident_id: str, tmp: pytest.TempPathFactory) -> Drafted:
    raw = json.loads((SHAPES / "pagerduty" / f"{incident_id}.json").read_text("utf-8"))
    now = parse_time(raw["incident"]["resolved_at"]) + timedelta(days=1)
    snapshot = collect_snapshot(config, incident_id, now=now)
    analysis = analyse_snapshot(snapshot.pagerduty, snapshot.prometheus, config, now)
    reports, folders = {}, {}
    for language in ("fr", "en"):
        folder = tmp.mktemp(f"{incident_id}-{language}")
        localised = replace(config, report=replace(config.report, language=language))
        draft_incident(snapshot, localised, Runner(), folder, now)
        reports[language] = (folder / "report.md").read_text(encoding="utf-8")
        folders[language] = folder
    data = [*strings_in(asdict(snapshot)), *strings_in(yaml.safe_load(CONFIG_TEXT))]
    for language, report in reports.items():
        assert "Traceback" not in report and "None" not in report
        assert FILL_IN[language] in report
        found = foreign_sentences(report, language, data)
        assert not found, f"{incident_id} ({language}):\n" + "\n".join(found)
    return Drafted(snapshot, analysis, reports, folders)


def minutes(value: object) -> float:
    assert isinstance(value, timedelta), value
    return value.total_seconds() / 60


def times(facts: list[str]) -> list[datetime]:
    return [parse_time(t) for t in facts]


def line_of(report: str, start: str) -> str:
    """The report's first line that starts with `start`."""
    return next(line for line in report.splitlines() if line.startswith(start))


def test_host_without_swap(draft: Any) -> None:
    """(a) SwapTotal 0: swap_used is NaN on its only series; memory grows 3 %/hour."""
    facts = FACTS["no_swap"]
    d = draft("no_swap")
    impact = d.analysis.impact
    assert [impact.outage_start, impact.outage_end] == times(facts["outage"])
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    assert minutes(d.analysis.figures.duration) == facts["duration_min"]
    (trend,) = [t for t in d.analysis.trends if t.kind == "memory"]
    assert trend.growing and trend.growth_per_hour == pytest.approx(
        facts["growth_per_hour"], abs=0.01
    )
    assert trend.exhaustion_at is not None
    assert abs(trend.exhaustion_at - parse_time(facts["exhaustion_at"])) < timedelta(minutes=1)
    assert {(g.level, g.instances) for g in d.analysis.idle_trends} == {
        (TrendLevel.ABSENT, (facts["host"],))
    }
    en, fr = d.reports["en"], d.reports["fr"]
    assert "change +3.0 %/hour before the page" in en and "évolution +3,0 %/h avant" in fr
    assert "exhausted at 2025-12-09 01:30 UTC" in en  # 53.5 % at 10:00, 100 % 15.5 h later
    assert f"no swap on {facts['host']}" in en and f"pas de swap sur {facts['host']}" in fr
    assert "Swap used (`swap_used`): no number in the window" in en
    assert "Swap used (`swap_used`) : aucune valeur chiffrée sur la période" in fr
    assert "every sample of swap\\_used is NaN" in en
    assert "swap_used.png" not in en  # no empty chart


def test_memory_pressure_with_no_outage(draft: Any) -> None:
    """(b) Paged on memory, every probe and target up: no downtime, and said so."""
    facts = FACTS["pressure_no_outage"]
    d = draft("pressure_no_outage")
    impact, condition = d.analysis.impact, d.analysis.rule_condition
    assert impact.outage_start is None and impact.outage_end is None
    assert impact.signal is not None and impact.signal.basis is OutageBasis.USER_FACING
    assert minutes(impact.figure("time_to_acknowledge").value) == facts["time_to_acknowledge_min"]
    assert minutes(d.analysis.figures.duration) == facts["duration_min"]
    assert condition is not None and condition.alertname == facts["rule"]
    assert (condition.held_from, condition.fired_at) == tuple(
        times([facts["held_from"], facts["fired_at"]])
    )
    assert minutes(impact.figure("detection_delay").value) == 5
    for key in ("downtime", "revenue_impact", "time_to_restore"):
        assert impact.figure(key).value is None, key
    for name in ("RTO", "SLA"):
        assert impact.objective(name).verdict is Verdict.NO_DATA, name
    down = impact.figure("endpoints_down")
    assert (down.value, down.total) == (None, None) or down.value == 0
    en, fr = d.reports["en"], d.reports["fr"]
    nothing = "probe\\_success shows no series down during the incident"
    assert f"- **Status:** no data ({nothing})" in en
    assert "- **Status:** pas de données (probe\\_success ne montre aucune série en panne" in fr
    assert f"Revenue loss: ⚠️ no data: {nothing}" in en
    for false in ("MISSED", "OVER BUDGET", "€45,000", "45 min of downtime"):
        assert false not in en, false
    assert "crossed 80 % at 09:40 UTC" in en and "seuil de 80 % franchi à 09:40 UTC" in fr
    assert "- **Time to acknowledge:** 4 min" in en or "Time to acknowledge: 4 min" in en


def test_memory_pressure_sla_line_says_nothing_down_once(draft: Any) -> None:
    en = draft("pressure_no_outage").reports["en"]
    assert line_of(en, "- SLA impact:").count("shows no series down") == 1


def test_memory_pressure_summary_reads_forward_in_time(draft: Any) -> None:
    # 92 % is reached at 10:04 and held to 10:24; 50 % comes at 10:25, after the restart.
    en = draft("pressure_no_outage").reports["en"]
    assert "from 50.0% (10:25 UTC (11:25 CET)) to 92.0% (10:24" not in en


def test_flat_series_is_no_sudden_spike(draft: Any) -> None:
    # Swap flat at 10 % all day (b); memory flat at 45 % and 50 % (d).
    for shape in ("pressure_no_outage", "node_exporter_only"):
        assert (
            "Swap over 28 days: steady before the incident, a sudden spike"
            not in (draft(shape).reports["en"])
        )


def test_context_names_the_span_it_had(draft: Any) -> None:
    d = draft("no_swap")  # Prometheus holds 06:00-10:50 of that day, nothing before
    assert "Memory over 28 days" not in d.reports["en"]
    assert "Mémoire sur 28 jours" not in d.reports["fr"]


def test_one_is_singular(draft: Any) -> None:
    d = draft("no_swap")
    assert "1 séries" not in d.reports["fr"] and "1 personnes" not in d.reports["fr"]
    assert "1 people" not in d.reports["en"]


def test_alert_fired_and_resolved_within_two_minutes(draft: Any) -> None:
    """(c) SiteDown 10:00-10:02, resolved by the integration, never acknowledged."""
    facts = FACTS["short_alert"]
    d = draft("short_alert")
    (alert,) = [a for a in d.analysis.alerts if a.state == "firing"]
    assert alert.alertname == facts["alert"]
    assert [alert.start, alert.end] == times(facts["firing"])
    impact = d.analysis.impact
    assert [impact.outage_start, impact.outage_end] == times(facts["outage"])
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    assert minutes(d.analysis.figures.duration) == facts["duration_min"]
    assert not facts["acknowledged"] and impact.figure("time_to_acknowledge").value is None
    en, fr = d.reports["en"], d.reports["fr"]
    assert "- 10:00 UTC (11:00 CET): Alert SiteDown firing (instance=https://blip" in en
    assert "- 10:02 UTC (11:02 CET): Alert SiteDown stopped firing (instance=https://blip" in en
    assert "Time to acknowledge: ⚠️ no data: no acknowledgement in PagerDuty" in en
    assert "⚠️ pas de données: aucun acquittement dans PagerDuty" in fr
    assert "- **Total duration:** 2 min" in en and "- **Durée Totale:** 2 min" in fr


def test_node_exporter_only(draft: Any) -> None:
    """(d) node_exporter's metrics only: no probes, no ALERTS; the outage read from `up`."""
    facts = FACTS["node_exporter_only"]
    d = draft("node_exporter_only")
    impact = d.analysis.impact
    assert impact.signal is not None and impact.signal.basis is OutageBasis.USER_FACING_SILENT
    assert [impact.outage_start, impact.outage_end] == times(facts["outage"])
    # Scrape targets are down, not endpoints users call: counted in the outage's source only.
    down, restore = impact.figure("endpoints_down"), impact.figure("time_to_restore")
    assert down.value is None and down.note is not None and down.note.key == "not_endpoints"
    assert restore.source is not None
    assert [restore.source.value("worst"), restore.source.value("series")] == facts["targets_down"]
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    assert minutes(impact.figure("time_to_acknowledge").value) == facts["time_to_acknowledge_min"]
    assert not d.analysis.alerts and d.analysis.rule_condition is None
    assert_missing_said(d, facts["missing"])
    assert (
        "the user-facing signals returned nothing: the outage is read from Scrape targets up"
        in (d.reports["en"])
    )


def test_prometheus_answering_only_up(draft: Any) -> None:
    """(e) Only `up` in Prometheus: every other query is named as answering nothing."""
    facts = FACTS["up_only"]
    d = draft("up_only")
    impact = d.analysis.impact
    assert impact.signal is not None and impact.signal.basis is OutageBasis.USER_FACING_SILENT
    assert [impact.outage_start, impact.outage_end] == times(facts["outage"])
    # Scrape targets are down, not endpoints users call: counted in the outage's source only.
    down, restore = impact.figure("endpoints_down"), impact.figure("time_to_restore")
    assert down.value is None and down.note is not None and down.note.key == "not_endpoints"
    assert restore.source is not None
    assert [restore.source.value("worst"), restore.source.value("series")] == facts["targets_down"]
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    assert minutes(d.analysis.figures.duration) == facts["duration_min"]
    assert not d.analysis.trends and not d.analysis.alerts
    assert_missing_said(d, facts["missing"])
    assert "No memory or swap series to analyse" in d.reports["en"]


def assert_missing_said(d: Drafted, queries: list[str]) -> None:
    """Each query that answered nothing named in the missing-data block, in both languages;
    ALERTS answering nothing is no gap (no alert fired), it is simply not shown."""
    titles = {q["name"]: q["title"] for q in yaml.safe_load(CONFIG_TEXT)["prometheus"]["queries"]}
    for name in queries:
        if name == "alerts":
            continue
        assert f"> - {titles[name]} (`{name}`): no series in the window" in d.reports["en"]
        assert f"> - {titles[name]} (`{name}`) : aucune série sur la période" in d.reports["fr"]
    assert "Missing data" in d.reports["en"] and "Données manquantes" in d.reports["fr"]


def test_scrape_targets_are_not_called_endpoints(draft: Any) -> None:
    # The two `up` series are db-1's node_exporter and Prometheus itself: no API, no endpoint.
    en = draft("up_only").reports["en"]
    assert "- APIs down: 1 of 2 endpoints" not in en


@pytest.mark.parametrize("language", ["fr", "en"])
def test_installed_collect_drafts_the_up_only_shape(
    collect_bin: str,
    simulator: PagerDutySimulator,
    servers: dict[str, PrometheusServer],
    tmp_path: Path,
    language: str,
) -> None:
    """(e) end to end: the installed `collect --incident` over HTTPS to the simulator and to the
    Prometheus that holds only `up`."""
    facts = FACTS["up_only"]
    (incident_id,) = facts["incidents"]
    args = ["--incident", incident_id, "--config", str(CONFIG_PATH), "--out", str(tmp_path)]
    result = run(
        collect_bin, [*args, "--lang", language], env_for("up_only", simulator, servers), tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    report = (tmp_path / incident_id / "report.md").read_text(encoding="utf-8")
    assert FILL_IN[language] in report and "Traceback" not in report
    data = [*strings_in(json.loads((tmp_path / incident_id / "snapshot.json").read_text("utf-8")))]
    assert not foreign_sentences(
        report, language, [*data, *strings_in(yaml.safe_load(CONFIG_TEXT))]
    )
    restored = {"fr": "rétablissement en: 12 min", "en": "service restored in: 12 min"}
    duration = {"fr": "**Durée Totale:** 15 min", "en": "**Total duration:** 15 min"}
    assert restored[language] in report and duration[language] in report
    missing = {"fr": "aucune série sur la période", "en": "no series in the window"}
    for name in ("memory_used", "swap_used", "probe_success"):
        assert f"(`{name}`){' :' if language == 'fr' else ':'} {missing[language]}" in report


def test_nobody_engaged_is_said_not_counted_as_zero_hours(draft: Any) -> None:
    # (c) triggered and resolved by the integration: no person acted in PagerDuty.
    d = draft("short_alert")
    en, fr = d.reports["en"], d.reports["fr"]
    assert "0 people" not in en and "0 personne" not in fr
    assert "no one acted in PagerDuty" in line_of(en, "- Engineering hours:")
    assert "personne n'a agi dans PagerDuty" in line_of(fr, "- Engineering hours:")


def test_a_level_series_is_said_level_once(draft: Any) -> None:
    # (d) memory flat at 45 % and 50 %: no rate of +0.0 and then "not growing" again.
    en = draft("node_exporter_only").reports["en"]
    memory = [line for line in en.splitlines() if line.startswith("- **memory ")]
    assert memory and all("level before the page" in line for line in memory), memory
    assert all("+0.0" not in line and "interval includes zero" not in line for line in memory)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_pagerduty_states_are_in_the_report_language(draft: Any, language: str) -> None:
    report = draft("no_swap").reports[language]
    incident = line_of(
        report, "- **Incident PagerDuty:**" if language == "fr" else "- **PagerDuty incident:**"
    )
    if language == "fr":
        assert "résolu" in incident and "resolved" not in incident and "high" not in incident
