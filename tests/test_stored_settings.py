"""A snapshot keeps the settings its draft was made with; a re-render uses them (issue #26).

The README's `collect --snapshot reports/P7DBOOM/snapshot.json --lang en` (no --config) used to
replace the demo report with one whose RTO, RPO, SLA, revenue and time zone read "[TO
COMPLETE]". A draft that would lose figures the published report computed is kept aside.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT
from hardening_support import demo_data, run_collect, write_json

from collector.config import load_config
from collector.config.stored import settings_record, stored_settings_problem, with_stored_settings
from collector.errors import SnapshotError
from collector.snapshot.store import load_snapshot
from report.figures_json import uncomputed_figures

DRAFTED = datetime(2025, 10, 26, 9, 0, tzinfo=timezone.utc)


def _objectives(folder: Path) -> dict[str, str]:
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    return {o["key"]: o["verdict"] for o in figures["objectives"]}


def test_stored_settings_read_back_as_the_same_settings() -> None:
    demo = load_config(DEMO_CONFIG, {})
    record = settings_record(demo, DRAFTED)
    assert record["drafted_at"] == "2025-10-26T09:00:00Z"
    assert record["config_file"] == "collector.yaml"
    assert record["config"]["targets"]["rto"] == "30m"
    again = with_stored_settings(load_config(None, {"PAGERDUTY_API_TOKEN": "t"}), record)
    for section in ("targets", "business", "trends"):
        assert getattr(again, section) == getattr(demo, section)
    assert again.report.timezone == "Europe/Paris"
    assert again.prometheus.queries == demo.prometheus.queries
    assert again.pagerduty.token == "t"  # the environment's, as before
    assert settings_record(again, DRAFTED) == record


@pytest.mark.parametrize(
    ("section", "values", "problem"),
    [
        ("targets", {"rto": "soon"}, "key 'targets.rto': expected a duration"),
        ("report", {"template_dir": "/etc"}, "key 'report.template_dir': not a setting a snapshot"),
        ("links", {"grafana_url": "https://g"}, "key 'links': not a setting a snapshot keeps"),
        ("pagerduty", {"token": "x"}, "key 'pagerduty': not a setting a snapshot keeps"),
    ],
)
def test_damaged_or_foreign_stored_settings_are_refused_naming_the_key(
    section: str, values: dict[str, Any], problem: str, tmp_path: Path
) -> None:
    data = demo_data()
    data["settings"]["config"][section] = values
    with pytest.raises(SnapshotError, match=f"settings.config: {problem}"):
        load_snapshot(write_json(tmp_path / "snapshot.json", data))
    assert stored_settings_problem(data["settings"]) is not None


def test_a_snapshot_without_settings_still_loads(tmp_path: Path) -> None:
    data = demo_data()
    del data["settings"]
    assert load_snapshot(write_json(tmp_path / "old.json", data)).settings is None
    assert load_snapshot(DEMO_SNAPSHOT).settings is not None


def test_uncomputed_figures_names_what_the_new_draft_lacks() -> None:
    old = {
        "figures": [{"key": "revenue_impact", "status": "ok"}, {"key": "x", "status": "failed"}],
        "objectives": [{"key": "rto", "verdict": "missed"}, {"key": "rpo", "verdict": "met"}],
    }
    new = {
        "figures": [{"key": "revenue_impact", "status": "not_configured"}],
        "objectives": [
            {"key": "rto", "verdict": "not_configured"},
            {"key": "rpo", "verdict": "met"},
        ],
    }
    assert uncomputed_figures(json.dumps(old), json.dumps(new)) == ["revenue_impact", "rto"]
    assert uncomputed_figures(json.dumps(new), json.dumps(old)) == []
    assert uncomputed_figures("not json", json.dumps(old)) == []


@pytest.mark.slow
def test_re_render_uses_the_stored_settings_and_a_poorer_one_is_kept_aside(
    collect_bin: str, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    demo = run_collect(collect_bin, ["--demo", "--out", str(out)], {}, tmp_path)
    assert demo.returncode == 0, demo.stderr
    folder = out / "P7DBOOM"
    verdicts = _objectives(folder)
    assert verdicts == {"rto": "missed", "rpo": "met", "sla": "within_budget"}

    # The README's re-render, without --config: the same figures, in English.
    snapshot = str(folder / "snapshot.json")
    english = run_collect(collect_bin, ["--snapshot", snapshot, "--lang", "en"], {}, tmp_path)
    assert english.returncode == 0, english.stderr
    assert "settings: those stored in the snapshot (drafted " in english.stderr
    assert "from collector.yaml)" in english.stderr
    assert "re-drafted" in english.stdout
    assert _objectives(folder) == verdicts
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "Revenue impact:** $50,000/min" in report
    assert "[TO COMPLETE: targets." not in report
    assert "[TO COMPLETE: business." not in report
    assert "Europe/Paris" in report

    # A config without targets nor business figures: a poorer draft, kept aside.
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    del raw["targets"], raw["business"]
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump(raw), encoding="utf-8")
    args = ["--snapshot", snapshot, "--config", str(bare), "--out", str(out)]
    poorer = run_collect(collect_bin, args, {}, tmp_path)
    assert poorer.returncode == 0, poorer.stderr
    assert f"settings: from --config {bare}" in poorer.stderr
    assert "has more data than the new draft (figures it no longer computes:" in poorer.stdout
    for key in ("revenue_impact", "error_budget", "rto", "rpo", "sla"):
        assert key in poorer.stdout
    (kept,) = (folder / "drafts").iterdir()
    assert _objectives(kept)["rto"] == "not_configured"
    assert _objectives(folder) == verdicts  # the published report stays

    forced = run_collect(collect_bin, [*args, "--force"], {}, tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "replaced the report with more data" in forced.stdout
    assert _objectives(folder)["rto"] == "not_configured"
    (backup,) = out.glob("P7DBOOM.backup-*")
    assert _objectives(backup) == verdicts


@pytest.mark.slow
def test_a_snapshot_that_keeps_no_settings_says_so(collect_bin: str, tmp_path: Path) -> None:
    data = demo_data()
    del data["settings"]
    old = write_json(tmp_path / "old.json", data)
    out = tmp_path / "out"
    result = run_collect(collect_bin, ["--snapshot", str(old), "--out", str(out)], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "settings: defaults; this snapshot stores none" in result.stderr
    assert _objectives(out / "P7DBOOM")["rto"] == "not_configured"
    # Its draft keeps the settings it was made with from now on.
    assert "settings" in json.loads((out / "P7DBOOM" / "snapshot.json").read_text("utf-8"))
