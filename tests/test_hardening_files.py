"""Hardening, round 2 (issue #31): what the tool writes and reads back stays inert and whole.

A resolve dated before its trigger, spreadsheet formulas in the CSVs, colliding chart names, a
symlinked `drafts` folder, special files where a report was, templates that try to run code.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from conftest import DEMO_CONFIG, FIXTURES, environment
from hardening_support import demo_data, run_collect, write_json
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

SKEWED_RESOLVE = "2025-10-25T13:00:00Z"  # 92 min before the trigger (14:32), past the padding
WARNING = "PagerDuty's resolve (13:00 UTC) is dated before its first trigger (14:32 UTC)"


def _skew_resolve(entries: list[dict[str, Any]]) -> None:
    """Date the resolve before the trigger, with enough notifications for a density lane."""
    notify = next(e for e in entries if e["type"] == "notify_log_entry")
    for entry in entries:
        if entry["type"] == "resolve_log_entry":
            entry["created_at"] = SKEWED_RESOLVE
    entries.extend({**copy.deepcopy(notify), "id": f"NSKEW{i:03d}"} for i in range(40))


def _check_skewed_report(folder: Path) -> None:
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert WARNING in report
    assert "**Total duration:** ⚠️ not computed" in report
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    duration = next(f for f in figures["figures"] if f["key"] == "duration")
    assert (duration["value"], duration["status"]) == (None, "no_data")
    assert (folder / "charts" / "timeline.png").stat().st_size > 0


def test_resolve_before_trigger_drafts_from_a_snapshot(collect_bin: str, tmp_path: Path) -> None:
    data = demo_data()
    _skew_resolve(data["pagerduty"]["log_entries"])
    data["pagerduty"]["incident"]["resolved_at"] = SKEWED_RESOLVE
    snapshot = write_json(tmp_path / "snapshot.json", data)
    args = ["--snapshot", str(snapshot), "--lang", "en", "--out", str(tmp_path / "out")]
    result = run_collect(collect_bin, args, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    _check_skewed_report(tmp_path / "out" / "P7DBOOM")


def test_resolve_before_trigger_drafts_live(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    data = json.loads((FIXTURES / "pagerduty" / "P7DBOOM.json").read_text(encoding="utf-8"))
    data["incident"]["id"] = "PSKEWED"
    data["incident"]["incident_number"] = 8801
    _skew_resolve(data["log_entries"])
    fresh_pd_sim.add_incident(data)
    args = ["--incident", "PSKEWED", "--config", str(DEMO_CONFIG), "--lang", "en"]
    result = run_collect(
        collect_bin,
        [*args, "--out", str(tmp_path / "out")],
        environment(fresh_pd_sim, prometheus.url),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    _check_skewed_report(tmp_path / "out" / "PSKEWED")
