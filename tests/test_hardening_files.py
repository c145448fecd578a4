"""Hardening, round 2 (issue #31): what the tool writes and reads back stays inert and whole.

A resolve dated before its trigger, spreadsheet formulas in the CSVs, colliding chart names, a
symlinked `drafts` folder, special files where a report was, templates that try to run code.
"""

from __future__ import annotations

import copy
import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CONFIG, FIXTURES, environment
from hardening_support import (
    assert_one_line_failure,
    demo_data,
    fingerprint,
    run_collect,
    write_json,
)
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer
from prom_stub import prometheus_stub

from collector.config_yaml import read_yaml
from collector.paths import unique_slugs
from report.spreadsheet import inert_cell

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


@pytest.mark.slow
def test_resolve_before_trigger_drafts_from_a_snapshot(collect_bin: str, tmp_path: Path) -> None:
    data = demo_data()
    _skew_resolve(data["pagerduty"]["log_entries"])
    data["pagerduty"]["incident"]["resolved_at"] = SKEWED_RESOLVE
    snapshot = write_json(tmp_path / "snapshot.json", data)
    args = ["--snapshot", str(snapshot), "--lang", "en", "--out", str(tmp_path / "out")]
    result = run_collect(collect_bin, args, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    _check_skewed_report(tmp_path / "out" / "P7DBOOM")


@pytest.mark.slow
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


HOSTILE_HOSTS = ['=HYPERLINK("https://evil.example")', "app-1:9100", "app.1:9100", "app_1:9100"]
FLEET_FOLDER = "memory-trends-2026-03-29"


def run_fleet_review(
    collect_bin: str, tmp_path: Path, bad_value: str | None = None
) -> tuple[Any, Path]:
    """`collect --memory-trends` against the stub, which serves HOSTILE_HOSTS."""
    out = tmp_path / "out"
    with prometheus_stub(HOSTILE_HOSTS, bad_value) as url:
        args = ["--memory-trends", "28d", "--until", "2026-03-29T00:00Z", "--lang", "en"]
        env = {"PROMETHEUS_URL": url, "PAGERDUTY_API_TOKEN": ""}
        result = run_collect(collect_bin, [*args, "--out", str(out)], env, tmp_path)
    return result, out / FLEET_FOLDER


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _formula_cells(path: Path) -> list[str]:
    return [c for c in _cells(path) if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_inert_cell_quotes_formulas_and_keeps_numbers() -> None:
    for text in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tx", "\rx", "-"):
        assert inert_cell(text) == "'" + text
    for kept in ("-3.5", "+2", "-1e3", "12", "", "a=b", 3, -3.5, None):
        assert inert_cell(kept) == kept


@pytest.mark.slow
def test_timeline_csv_cells_are_not_formulas(collect_bin: str, tmp_path: Path) -> None:
    data = demo_data()
    by_type = {e["type"]: e for e in data["pagerduty"]["log_entries"]}
    by_type["status_update_log_entry"]["agent"]["summary"] = "+cmd|' /C calc'!A0"
    by_type["priority_change_log_entry"]["summary"] = "@SUM(1+1)"
    by_type["escalate_log_entry"]["summary"] = "-2+3"
    snapshot = write_json(tmp_path / "snapshot.json", data)
    args = ["--snapshot", str(snapshot), "--lang", "en", "--out", str(tmp_path / "out")]
    result = run_collect(collect_bin, args, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    timeline = tmp_path / "out" / "P7DBOOM" / "timeline.csv"
    assert _formula_cells(timeline) == []
    cells = _cells(timeline)
    assert "'+cmd|' /C calc'!A0" in cells and "'@SUM(1+1)" in cells and "'-2+3" in cells


@pytest.mark.slow
def test_hosts_csv_cells_are_not_formulas(collect_bin: str, tmp_path: Path) -> None:
    result, folder = run_fleet_review(collect_bin, tmp_path)
    assert result.returncode == 0, result.stderr
    hosts = folder / "hosts.csv"
    assert _formula_cells(hosts) == []
    assert "'" + HOSTILE_HOSTS[0] in _cells(hosts)
    # Numbers stay numbers: the growth column is read back as one.
    with hosts.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert all(float(row["growth_percent_per_day"]) > 0 for row in rows)


@pytest.mark.slow
def test_fleet_review_takes_a_non_numeric_sample_as_a_gap(collect_bin: str, tmp_path: Path) -> None:
    # The incident's rule (test_hardening_prometheus): the answer is malformed, a stated gap.
    result, folder = run_fleet_review(collect_bin, tmp_path, bad_value="abc")
    assert result.returncode == 0, result.stderr
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "answered with a malformed body" in report
    text = (folder / "hosts.csv").read_text(encoding="utf-8")
    kinds = {row["kind"] for row in csv.DictReader(text.splitlines())}
    assert "memory" in kinds and "swap" not in kinds


COLLIDING_HOSTS = ["app-1:9100", "app.1:9100", "app_1:9100", ".", "..", ""]


def test_unique_slugs_are_distinct_and_stable() -> None:
    names = unique_slugs(COLLIDING_HOSTS)
    assert len(set(names.values())) == len(COLLIDING_HOSTS)
    assert unique_slugs(reversed(COLLIDING_HOSTS)) == names  # the same in every run
    assert unique_slugs(["db-01:9100", "web"]) == {"db-01:9100": "db_01_9100", "web": "web"}
    # A name shaped like another's hashed slug does not take its file either.
    crafted = [names["app-1:9100"], "app-1:9100", "app.1:9100"]
    assert len(set(unique_slugs(crafted).values())) == 3


@pytest.mark.slow
def test_hosts_whose_names_slug_alike_get_charts_of_their_own(
    collect_bin: str, tmp_path: Path
) -> None:
    data = demo_data()
    [memory] = [r for r in data["prometheus"]["results"] if r["name"] == "memory_used"]
    [series] = memory["result"]
    memory["result"] = [
        {
            "metric": {**series["metric"], "instance": host},
            "values": [[t, str(float(v) * (1 - i / 20))] for t, v in series["values"]],
        }
        for i, host in enumerate(COLLIDING_HOSTS)
    ]
    snapshot = write_json(tmp_path / "snapshot.json", data)
    args = ["--snapshot", str(snapshot), "--lang", "en", "--out", str(tmp_path / "out")]
    result = run_collect(collect_bin, args, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "out" / "P7DBOOM"
    charts = sorted(p.name for p in (folder / "charts").glob("memory_trend_*.png"))
    assert len(charts) == len(COLLIDING_HOSTS), charts
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert all(f"(charts/{name})" in report for name in charts)


def _alias_bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    return "\n".join([*lines, "business:", f"  currency: *l{levels - 1}", ""])


def test_a_yaml_alias_bomb_is_refused_before_it_is_expanded(
    collect_bin: str, tmp_path: Path
) -> None:
    config = tmp_path / "bomb.yaml"
    config.write_text(_alias_bomb(), encoding="utf-8")
    args = ["--demo", "--config", str(config), "--out", str(tmp_path / "out")]
    result = run_collect(collect_bin, args, {}, tmp_path, timeout=20)
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "bomb.yaml: line 6: its aliases (*name) expand to more than 100,000 values" in line
    looped = tmp_path / "loop.yaml"
    looped.write_text("business:\n  currency: &x [*x]\n", encoding="utf-8")
    args = ["--demo", "--config", str(looped), "--out", str(tmp_path / "out")]
    result = run_collect(collect_bin, args, {}, tmp_path, timeout=20)
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "an alias (*name) refers to the value that holds it" in line


def test_aliases_of_a_reasonable_size_still_load(tmp_path: Path) -> None:
    config = tmp_path / "ok.yaml"
    config.write_text(_alias_bomb(levels=3) + "x: &q {a: 1}\ny: *q\n", encoding="utf-8")
    data = read_yaml(config)
    assert len(data["l2"]) == 9 and data["y"] == {"a": 1}


@pytest.mark.slow
def test_a_custom_template_cannot_reach_python(collect_bin: str, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text(
        "{{ cycler.__init__.__globals__.os.popen('echo pwned > "
        + str(tmp_path / "pwned")
        + "').read() }}\n",
        encoding="utf-8",
    )
    config = tmp_path / "collector.yaml"
    config.write_text(f"report:\n  template_dir: {templates}\n", encoding="utf-8")
    args = ["--demo", "--config", str(config), "--out", str(tmp_path / "out")]
    result = run_collect(collect_bin, args, {}, tmp_path)
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "report.md.j2" in line and "unsafe" in line, line
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "out" / "P7DBOOM").exists()


@pytest.mark.slow
def test_a_drafts_link_out_of_out_is_refused(collect_bin: str, tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ["--demo", "--out", str(out)]
    assert run_collect(collect_bin, args, {}, tmp_path).returncode == 0
    report = out / "P7DBOOM" / "report.md"
    report.write_text(report.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    (out / "P7DBOOM" / "drafts").symlink_to("../../elsewhere")
    before = fingerprint(out / "P7DBOOM")
    result = run_collect(collect_bin, args, {}, tmp_path)
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "refusing to write" in line and "outside" in line, line
    assert list(elsewhere.iterdir()) == []
    assert fingerprint(out / "P7DBOOM") == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_special_files_in_a_published_report_are_not_read(
    collect_bin: str, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "out"
    args = ["--demo", "--out", str(out)]
    assert run_collect(collect_bin, args, {}, tmp_path).returncode == 0
    folder = out / "P7DBOOM"
    for name in ("report.md", "figures.json", "snapshot.json", ".collector.json"):
        (folder / name).unlink()
        if kind == "fifo":
            os.mkfifo(folder / name)
        else:
            (folder / name).symlink_to("/dev/zero")
    result = run_collect(collect_bin, args, {}, tmp_path, timeout=60)
    # Not the report the tool wrote: a person's doing, kept; the new draft goes beside it.
    assert result.returncode == 0, result.stderr
    assert "was edited by a person" in result.stdout + result.stderr
    [draft] = (folder / "drafts").iterdir()
    assert (draft / "report.md").stat().st_size > 0
