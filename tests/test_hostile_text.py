"""Hostile text from PagerDuty (titles, notes, names) stays text: Markdown, HTML and charts."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CONFIG, FIXTURES, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

# Slow throughout: whole drafts of hostile incidents.
pytestmark = pytest.mark.slow

HOSTILE_TITLE = (
    "DB <script>alert('x')</script> | down\n{{ 7*7 }} {% raw %} $\\frac{a}{b}$ ``` **x**"
)
HOSTILE_NOTE = (
    "| col | injected |\n|---|---|\n<img src=x onerror=alert(1)> [link](javascript:alert(1))"
)
HOSTILE_NAME = "Eve | <b>Mallory</b> `rm -rf /`"


def hostile_incident() -> dict[str, Any]:
    """The demo incident with hostile text in its title, a note and an agent's name."""
    data = json.loads((FIXTURES / "pagerduty" / "P7DBOOM.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["incident"]["id"] = "PHOSTILE"
    data["incident"]["incident_number"] = 6666
    data["incident"]["title"] = HOSTILE_TITLE
    data["incident"]["summary"] = HOSTILE_TITLE
    for entry in data["log_entries"]:
        entry["incident"]["id"] = "PHOSTILE"
        if entry["type"] == "annotate_log_entry":
            entry["channel"]["summary"] = HOSTILE_NOTE
        if entry["type"] == "acknowledge_log_entry":
            entry["agent"]["summary"] = HOSTILE_NAME
    for item in data["alerts"]:
        item["incident"]["id"] = "PHOSTILE"
    return data


def test_hostile_text_cannot_break_the_report(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    fresh_pd_sim.add_incident(hostile_incident())
    env = {"PATH": "/usr/bin:/bin", **environment(fresh_pd_sim, prometheus.url)}
    result = subprocess.run(
        [
            collect_bin,
            "--incident",
            "PHOSTILE",
            "--config",
            str(DEMO_CONFIG),
            "--out",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "PHOSTILE"
    report = (folder / "report.md").read_text(encoding="utf-8")
    table = report.split("## Timeline Précise", 1)[1].split("\n---", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert all(row.count("|") - row.count("\\|") == 5 for row in rows), "a row was split"
    assert "{{ 7*7 }}" in report.replace("\\", "") and "49" not in report.split("\n", 1)[0]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert 'href="javascript' not in html
    assert "<b>Mallory</b>" not in html
    assert "&lt;script&gt;" in html
    assert (folder / "charts" / "timeline.png").stat().st_size > 10_000
    assert re.search(r"<title>DB &lt;script&gt;", html)


def test_one_alert_over_many_series_is_one_line_and_its_labels_stay_text(
    collect_bin: str, demo_snapshot: dict[str, Any], tmp_path: Path
) -> None:
    """Seven series of one alert (hostile instance labels) fire: the chronology and the
    timeline say it once, with the count and the series, and no label breaks out."""
    snapshot = copy.deepcopy(demo_snapshot)
    alerts = next(r for r in snapshot["prometheus"]["results"] if r["name"] == "alerts")
    start = 1761402780  # 14:33 UTC, during the demo's outage
    for i in range(7):
        alerts["result"].append(
            {
                "metric": {
                    "__name__": "ALERTS",
                    "alertname": "DiskFull",
                    "alertstate": "firing",
                    "job": "node",
                    "instance": f"db-{i}|<script>x</script>`;",
                },
                "values": [[start + 30 * (i + k), "1"] for k in range(20)],
            }
        )
    source = tmp_path / "snapshot.json"
    source.write_text(json.dumps(snapshot), encoding="utf-8")
    result = subprocess.run(
        [collect_bin, "--snapshot", str(source), "--out", str(tmp_path / "out"), "--lang", "en"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "out" / snapshot["incident_id"]
    report = (folder / "report.md").read_text(encoding="utf-8")
    lines = [line for line in report.splitlines() if "DiskFull" in line]
    # Firing and stopped firing, each once in the chronology and once in the timeline.
    assert len(lines) == 4, lines
    assert all("7 times on 7 series" in line for line in lines)
    assert all("(job=node)" in line and "and 2 more" in line for line in lines)
    table = report.split("## Detailed Timeline", 1)[1].split("\n---", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert all(row.count("|") - row.count("\\|") == 5 for row in rows), "a row was split"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    csv = (folder / "timeline.csv").read_text(encoding="utf-8")
    assert csv.count("Alert DiskFull") == 14  # every transition stays in timeline.csv
