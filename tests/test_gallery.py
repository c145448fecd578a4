"""The gallery: incident shapes nobody tuned for, collected from the PagerDuty simulator and a
real Prometheus, drafted in French and English, and asserted figure by figure.

The fixtures and their exact answers (`fixtures/gallery/facts.json`) come from
`fixtures/gallery/make_gallery.py`; `fixtures/STORY.md` tells each shape.
"""

from __future__ import annotations

import csv
import io
import json
import os
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

# Slow throughout: each incident collected from the simulator and a real Prometheus.
pytestmark = pytest.mark.slow

GALLERY = FIXTURES / "gallery"
CONFIG_TEXT = (GALLERY / "collector.yaml").read_text(encoding="utf-8")
FACTS: dict[str, Any] = json.loads((GALLERY / "facts.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Drafted:
    """One gallery incident: its snapshot, its analysis, and its report in each language."""

    snapshot: Snapshot
    analysis: Analysis
    reports: dict[str, str]
    folders: dict[str, Path]

    def csv_rows(self) -> list[dict[str, str]]:
        text = (self.folders["en"] / "timeline.csv").read_text(encoding="utf-8")
        return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def gallery_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PagerDutySimulator, PrometheusServer]]:
    server = start_prometheus(
        [GALLERY / "gallery.om"],
        tmp_path_factory.mktemp("gallery-prometheus"),
        rule_files=[GALLERY / "gallery_rules.yml"],
    )
    try:
        with PagerDutySimulator(GALLERY / "pagerduty", TOKEN) as sim:
            yield sim, server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def draft(
    gallery_servers: tuple[PagerDutySimulator, PrometheusServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    sim, server = gallery_servers
    config = load_config(GALLERY / "collector.yaml", environment(sim, server.url))
    cache: dict[str, Drafted] = {}

    def run(incident_id: str, now: datetime | None = None) -> Drafted:
        if incident_id not in cache:
            cache[incident_id] = _draft(config, incident_id, now, tmp_path_factory)
        return cache[incident_id]

    return run


def _draft(
    config: Config, incident_id: str, now: datetime | None, tmp: pytest.TempPathFactory
) -> Drafted:
    raw = json.loads((GALLERY / "pagerduty" / f"{incident_id}.json").read_text("utf-8"))
    end = raw["incident"]["resolved_at"]
    # Drafted a day after the resolve, unless the test drafts an open incident on demand.
    now = now or parse_time(end) + timedelta(days=1)
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
        assert "not configured" not in report and "None" not in report
        found = foreign_sentences(report, language, data)
        assert not found, f"{incident_id} ({language}):\n" + "\n".join(found)
    return Drafted(snapshot, analysis, reports, folders)


def minutes(value: object) -> float:
    assert isinstance(value, timedelta), value
    return value.total_seconds() / 60


def charts_of(drafted: Drafted) -> list[str]:
    return sorted(p.name for p in (drafted.folders["fr"] / "charts").glob("*.png"))


def test_partial_degradation(draft: Any) -> None:
    facts = FACTS["partial"]
    d = draft("PGPARTL")
    impact = d.analysis.impact
    assert [impact.outage_start, impact.outage_end] == [parse_time(t) for t in facts["outage"]]
    down = impact.figure("endpoints_down")
    assert [down.value, down.total] == facts["endpoints_down"]
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    assert minutes(impact.figure("time_to_acknowledge").value) == facts["time_to_acknowledge_min"]
    rto = impact.objective("RTO")
    assert rto.verdict is Verdict.MISSED and rto.actual is not None and rto.target is not None
    assert f"MISSED by {minutes(rto.actual - rto.target):g} minutes" == facts["rto"]
    assert impact.signal is not None and impact.signal.basis is OutageBasis.USER_FACING
    (context,) = impact.signal.context
    assert (context.name, context.start, context.series) == ("targets_up", None, 3)
    idle = {(g.level, g.instances) for g in d.analysis.idle_trends}
    assert idle == {
        (TrendLevel.ABSENT, tuple(facts["no_swap"])),
        (TrendLevel.ZERO, tuple(facts["zero_swap"])),
    }
    assert "ce que voient les utilisateurs" in d.reports["fr"]
    assert "pas de swap sur app-2:9100" in d.reports["fr"]
    assert "no swap on app-2:9100" in d.reports["en"]
    assert "swap at 0 % on app-3:9100" in d.reports["en"]
    assert "**swap app-2" not in d.reports["en"]  # summarised, never listed
    assert "Scrape targets up (not user-facing): no series down" in d.reports["en"]
    # Three hosts' memory trends, and no chart for the absent or idle swap.
    assert "memory_trend_app_1_9100.png" in charts_of(d)


def test_flapping_alert(draft: Any) -> None:
    facts = FACTS["flapping"]
    d = draft("PGFLAPS")
    impact = d.analysis.impact
    assert [impact.outage_start, impact.outage_end] == [parse_time(t) for t in facts["outage"]]
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    firing = [a for a in d.analysis.alerts if a.state == "firing"]
    assert len(firing) == facts["fires"]
    rows = d.csv_rows()
    assert sum(r["kind"] == "alert_firing" for r in rows) == facts["fires"]
    assert sum(r["kind"] == "alert_resolved" for r in rows) == facts["fires"]
    line = "Alert SiteDown firing (instance=https://flappy.example/check/00, job=blackbox)"
    assert f"{line} — 5 times" in d.reports["en"]
    french = "Alerte SiteDown déclenchée (firing) (instance=https://flappy.example/check/00,"
    assert f"{french} job=blackbox) — 5 fois" in d.reports["fr"]
    assert d.reports["en"].count(line) == 2  # one grouped line in the chronology, one in the table


def test_several_services(draft: Any) -> None:
    facts = FACTS["several_services"]
    d = draft("PGMULTI")
    impact = d.analysis.impact
    assert [impact.outage_start, impact.outage_end] == [parse_time(t) for t in facts["outage"]]
    down = impact.figure("endpoints_down")
    assert [down.value, down.total] == facts["endpoints_down"]
    assert minutes(impact.figure("time_to_mitigate").value) == facts["time_to_mitigate_min"]
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    assert impact.figure("revenue_impact").value == 1000 * facts["time_to_restore_min"]


def test_three_day_incident(draft: Any) -> None:
    facts = FACTS["three_days"]
    d = draft("PGLONG3")
    assert d.snapshot.prometheus["range"]["step"] == facts["step"]
    impact = d.analysis.impact
    assert [impact.outage_start, impact.outage_end] == [parse_time(t) for t in facts["outage"]]
    assert minutes(impact.figure("time_to_restore").value) == facts["time_to_restore_min"]
    sla = impact.objective("SLA")
    assert (
        sla.verdict is Verdict.OVER_BUDGET
        and round(sla.share_used or 0) == facts["sla_share_percent"]
    )
    assert "7,500 % of the error budget used, none left" in d.reports["en"]
    assert "7 500 % du budget d'erreur consommé, il n'en reste plus" in d.reports["fr"]
    # Every time off the start day carries its date, in UTC and in Paris time.
    assert "2025-11-19 16:05 UTC (2025-11-19 17:05 CET)" in d.reports["en"]
    assert "**End:** 2025-11-20 10:00 UTC (11:00 CET)" in d.reports["en"]


def test_no_metrics_at_all(draft: Any) -> None:
    d = draft("PGNODAT")
    impact = d.analysis.impact
    assert impact.signal is not None and impact.signal.basis is OutageBasis.NONE
    assert minutes(impact.figure("duration").value) == FACTS["no_metrics"]["duration_min"]
    assert impact.outage_start is None
    assert charts_of(d) == ["timeline.png"]  # no empty panel
    for name in ("memory_used", "swap_used", "targets_up", "probe_success"):
        assert f"(`{name}`): no series in the window, no chart" in d.reports["en"]
    assert "no availability signal answered: the durations come from PagerDuty" in d.reports["en"]
    assert "aucun signal de disponibilité n'a répondu" in d.reports["fr"]


def test_incident_still_open(draft: Any) -> None:
    facts = FACTS["still_open"]
    now = parse_time(facts["now"])
    d = draft("PGOPEN1", now)
    impact = d.analysis.impact
    assert impact.outage_start == parse_time(facts["outage_start"]) and impact.outage_end is None
    down = impact.figure("endpoints_down")
    assert [down.value, down.total] == facts["endpoints_down"]
    assert impact.figure("time_to_restore").value is None
    # Figures so far, up to the last sample: 60 minutes of downtime, 60,000 € at 1,000 €/min.
    assert impact.so_far_until == now
    assert impact.figure("downtime").value == facts["open_min"]
    assert impact.figure("revenue_impact").value == 1000 * facts["open_min"]
    rto = impact.objective("RTO")
    assert rto.verdict is Verdict.MISSED and rto.actual == timedelta(minutes=facts["open_min"])
    assert impact.objective("SLA").verdict is Verdict.OVER_BUDGET
    assert "counted up to 11:00 UTC (12:00 CET) (last sample)" in d.reports["en"]
    assert d.reports["fr"].splitlines()[0].endswith("(⏳ en cours)")
    assert "(⏳ ongoing)" in d.reports["en"].splitlines()[0]
    assert facts["open_min"] == 60
    assert "open for 1 h when collected" in d.reports["en"]
    assert "ouvert depuis 1 h à la collecte" in d.reports["fr"]


def test_leak_that_began_hours_before_the_page(draft: Any) -> None:
    facts = FACTS["leak"]
    d = draft("PGLEAKS")
    a = d.analysis
    assert a.delay_from_rule and a.rule_condition is not None
    assert a.rule_condition.alertname == facts["rule"]
    assert a.rule_condition.held_from == parse_time(facts["held_from"])
    assert a.rule_condition.fired_at == parse_time(facts["fired_at"])
    assert a.rule_condition.rule is not None
    assert a.rule_condition.rule.for_duration == timedelta(hours=1)
    assert minutes(a.impact.figure("detection_delay").value) == facts["detection_delay_min"]
    (trend,) = [t for t in a.trends if t.kind == "memory"]
    assert trend.growing and trend.growth_per_hour == pytest.approx(
        facts["growth_per_hour"], abs=0.01
    )
    assert trend.exhaustion_at is not None
    assert abs(trend.exhaustion_at - parse_time(facts["exhaustion_at"])) < timedelta(minutes=1)
    assert "measured on the alerting rule's own condition" in d.reports["en"]
    assert "mesuré sur la condition de la règle d'alerte" in d.reports["fr"]
    assert "> 14`, `for` 1 h" in d.reports["en"]
    assert "2025-11-25 04:30 UTC" in d.reports["en"]  # exhaustion the next day, dated


def test_merged_incidents(draft: Any) -> None:
    facts = FACTS["merged"]
    merged_away, survivor = draft("PGMERGB"), draft("PGMERGA")
    assert merged_away.analysis.incident.merged_into == "[#1058] Checkout errors"
    assert minutes(merged_away.analysis.figures.duration) == facts["b_duration_min"]
    assert "**Merged into:** \\[\\#1058\\] Checkout errors" in merged_away.reports["en"]
    assert "**Fusionné dans:** \\[\\#1058\\] Checkout errors" in merged_away.reports["fr"]
    assert minutes(survivor.analysis.figures.duration) == facts["a_duration_min"]
    assert survivor.analysis.figures.reopened == facts["a_reopened"]
    assert survivor.analysis.incident.merged_into is None


def test_three_hundred_notifications(draft: Any) -> None:
    facts = FACTS["notifications"]
    d = draft("PGNOTIF")
    rows = d.csv_rows()
    assert sum(r["kind"] == "notify" for r in rows) == facts["notifications"]
    people = ", ".join(facts["people"])
    line = f"Notified {people} by email — 300 notifications"
    assert line in d.reports["en"]
    assert f"Notifié·es : {people} par email — 300 notifications" in d.reports["fr"]
    assert "00:52 UTC (01:52 CET) → 02:16 UTC (03:16 CET)" in d.reports["en"]
    assert len(d.reports["en"].splitlines()) < 450
    assert d.reports["en"].count("Notified") <= 3


def test_figures_json_of_a_gallery_incident_matches_its_golden_file(draft: Any) -> None:
    """The partial degradation's figures.json, kept as a golden file like the demo's
    (`REGENERATE_GOLDEN=1` rewrites it; review the diff)."""
    d = draft("PGPARTL")
    document = json.loads((d.folders["en"] / "figures.json").read_text(encoding="utf-8"))
    assert document == json.loads((d.folders["fr"] / "figures.json").read_text("utf-8"))
    golden = Path(__file__).parent / "golden" / "gallery_PGPARTL_figures.json"
    if os.environ.get("REGENERATE_GOLDEN") == "1":
        golden.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert document == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "incident_id", sorted(p.stem for p in (GALLERY / "pagerduty").glob("P*.json"))
)
def test_each_chart_is_drawn_at_the_size_planned_for_it(draft: Any, incident_id: str) -> None:
    """report.pdf is laid out around placeholders of each chart's planned size: a chart drawn
    at another size would make it lay the pages out again."""
    from collector.analysis.memory_context import review_context
    from collector.snapshot.prometheus import read_memory_context
    from report.draft import link_targets, plan_all_charts
    from report.png import png_header

    open_now = parse_time(FACTS["still_open"]["now"]) if incident_id == "PGOPEN1" else None
    d = draft(incident_id, open_now)
    config = load_config(GALLERY / "collector.yaml", {})
    for language, folder in d.folders.items():
        localised = replace(config, report=replace(config.report, language=language))
        targets = link_targets(localised, d.snapshot.prometheus.get("url", ""))
        context = read_memory_context(d.snapshot.prometheus) or []
        instances = {t.instance for t in d.analysis.trends}
        reviewed = review_context(context, instances, d.analysis.incident.created_at)
        plan = plan_all_charts(d.analysis, reviewed, localised, folder, targets)
        drawn = {}
        for path in plan.pixels:
            header = png_header(path.read_bytes())
            assert header is not None, path
            drawn[path] = (int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big"))
        assert drawn == plan.pixels
        assert set(plan.pixels) == set((folder / "charts").glob("*.png"))
