"""The fleet memory-trend review end to end, on two real engines: Prometheus and VictoriaMetrics.

The fleet fixture (fixtures/prometheus/generate_fleet.py) gives every host a shape whose verdict
is known by construction; both engines must give the same rows.
"""

from __future__ import annotations

import copy
import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, FLEET_UNTIL, TOKEN, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer
from vm_server import VictoriaMetricsServer

from collector.cli import main
from report.fleet_draft import CSV_COLUMNS

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]
FOLDER = "memory-trends-2026-03-29"
FLEET_CONFIG = """\
fleet:
  top_n: 9
prometheus:
  services:
    "Fleet web": 'instance=~"grow-0[12]:.*"'
"""


def run_review(
    tmp_path: Path, url: str, *args: str, env: dict[str, str] | None = None
) -> tuple[Any, Path]:
    config = tmp_path / "collector.yaml"
    config.write_text(FLEET_CONFIG, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "--memory-trends",
            "28d",
            "--until",
            FLEET_UNTIL,
            "--config",
            str(config),
            "--out",
            str(out),
            *args,
        ],
        env=env or {"PROMETHEUS_URL": url, "PAGERDUTY_API_TOKEN": ""},
    )
    return result, out / FOLDER


def read_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "hosts.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def verdicts(rows: list[dict[str, str]], kind: str) -> dict[str, str]:
    return {r["instance"]: r["verdict"] for r in rows if r["kind"] == kind}


@pytest.fixture(scope="module")
def prom_review(
    tmp_path_factory: pytest.TempPathFactory, fleet_prometheus: PrometheusServer
) -> tuple[Any, Path]:
    return run_review(tmp_path_factory.mktemp("prom-review"), fleet_prometheus.url, "--lang", "en")


@pytest.fixture(scope="module")
def vm_review(
    tmp_path_factory: pytest.TempPathFactory, fleet_victoria: VictoriaMetricsServer
) -> tuple[Any, Path]:
    return run_review(tmp_path_factory.mktemp("vm-review"), fleet_victoria.url, "--lang", "en")


def test_review_writes_every_file_and_states_the_missing_token(
    prom_review: tuple[Any, Path],
) -> None:
    result, folder = prom_review
    assert result.exit_code == 0, result.output
    assert f"drafted {folder / 'report.md'}" in result.output
    assert "incidents were not linked" in result.output
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {
        "report.md",
        "report.html",
        "hosts.csv",
        "snapshot.json",
        "charts/top_hosts.png",
        "charts/heatmap_memory_used.png",
    } <= names
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(list((folder / "charts").iterdir()))
    snapshot = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    assert snapshot["kind"] == "fleet"
    index = (folder.parent / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{FOLDER}/report.html">' in index  # the review is listed


def test_prometheus_verdicts_are_the_constructed_ones(
    prom_review: tuple[Any, Path], fleet_fixture: Any
) -> None:
    rows = read_rows(prom_review[1])
    assert list(rows[0]) == CSV_COLUMNS
    assert verdicts(rows, "memory") == fleet_fixture.EXPECTED
    assert verdicts(rows, "swap") == fleet_fixture.EXPECTED_SWAP


def test_victoria_metrics_gives_the_same_rows(
    prom_review: tuple[Any, Path], vm_review: tuple[Any, Path], fleet_fixture: Any
) -> None:
    result, folder = vm_review
    assert result.exit_code == 0, result.output
    prom_rows, vm_rows = read_rows(prom_review[1]), read_rows(folder)
    key = ("instance", "kind", "verdict", "restarts")
    same = [tuple(r[k] for k in key) for r in prom_rows]
    assert [tuple(r[k] for k in key) for r in vm_rows] == same
    for prom, vm in zip(prom_rows, vm_rows, strict=True):
        for column in ("current_percent", "growth_percent_per_day"):
            if prom[column]:
                assert float(vm[column]) == pytest.approx(float(prom[column]), abs=0.6), (
                    prom["instance"],
                    column,
                )
    assert verdicts(vm_rows, "memory") == fleet_fixture.EXPECTED
    assert verdicts(vm_rows, "swap") == fleet_fixture.EXPECTED_SWAP


def test_rows_are_sorted_by_urgency_with_exhaustion_first(prom_review: tuple[Any, Path]) -> None:
    rows = read_rows(prom_review[1])
    dated = [r["exhaustion_at_utc"] for r in rows if r["exhaustion_at_utc"]]
    assert dated == sorted(dated) and dated
    first_undated = next(i for i, r in enumerate(rows) if not r["exhaustion_at_utc"])
    assert all(not r["exhaustion_at_utc"] for r in rows[first_undated:])
    leak = next(r for r in rows if r["instance"] == "leak-03:9100" and r["kind"] == "memory")
    # 30 + 20 %/day, restarted at 92 %: a cycle of 3.1 days, about 9 restarts in 28 days.
    assert float(leak["growth_percent_per_day"]) == pytest.approx(20.0, abs=0.5)
    assert 8 <= int(leak["restarts"]) <= 10


def test_the_screen_does_not_scale_with_the_fleet(prom_review: tuple[Any, Path]) -> None:
    snapshot = json.loads((prom_review[1] / "snapshot.json").read_text(encoding="utf-8"))
    prom = snapshot["prometheus"]
    detailed = {len(prom["detail"][q["name"]]["series"]) for q in prom["queries"]}
    # Two screen requests per query (memory, swap), then detail in batches of 60 hosts.
    assert prom["requests"] == 2 * 2 + 2
    assert max(detailed) < 40  # the steady hosts are never fetched in detail
    report = (prom_review[1] / "report.md").read_text(encoding="utf-8")
    assert "Prometheus requests: 6" in report


def test_snapshot_rerenders_offline_in_french(prom_review: tuple[Any, Path]) -> None:
    folder = prom_review[1]
    out = folder.parent.parent / "offline"
    result = CliRunner().invoke(
        main,
        ["--snapshot", str(folder / "snapshot.json"), "--out", str(out), "--lang", "fr"],
        env={"PROMETHEUS_URL": "http://127.0.0.1:9"},
    )
    assert result.exit_code == 0, result.output
    report = (out / FOLDER / "report.md").read_text(encoding="utf-8")
    assert "## Synthèse" in report and "[À COMPLÉTER:" in report
    assert (out / FOLDER / "hosts.csv").read_text() == (folder / "hosts.csv").read_text()


def _incident(number: int, title: str, service: str, created: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "pagerduty" / "P7DBOOM.json").read_text())
    data = copy.deepcopy(data)
    record = data["incident"]
    record.update(
        id=f"PFLEET{number}",
        incident_number=9000 + number,
        title=title,
        description=title,
        created_at=created,
        resolved_at=created,
    )
    record["service"] = {**record["service"], "id": f"PSVC{number}", "summary": service}
    return data


def test_incidents_are_linked_by_service_selector_and_host_name(
    tmp_path: Path,
    fleet_prometheus: PrometheusServer,
    fresh_pd_sim: PagerDutySimulator,
    collect_bin: str,
) -> None:
    fresh_pd_sim.add_incident(
        _incident(1, "Memory high on leak-03 (OOM kill)", "Batch", "2026-03-20T10:00:00Z")
    )
    fresh_pd_sim.add_incident(_incident(2, "Web latency", "Fleet web", "2026-03-22T10:00:00Z"))
    fresh_pd_sim.add_incident(  # outside the window: not linked
        _incident(3, "Memory high on leak-03", "Batch", "2026-01-10T10:00:00Z")
    )
    fresh_pd_sim.add_incident(  # leak-030 is another host
        _incident(4, "Disk full on leak-030", "Batch", "2026-03-21T10:00:00Z")
    )
    config = tmp_path / "collector.yaml"
    config.write_text(FLEET_CONFIG, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
        **environment(fresh_pd_sim, fleet_prometheus.url, TOKEN),
    }
    result = subprocess.run(
        [
            collect_bin,
            "--memory-trends",
            "28d",
            "--until",
            FLEET_UNTIL,
            "--config",
            str(config),
            "--out",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    folder = tmp_path / FOLDER
    counts = {(r["instance"], r["kind"]): int(r["incidents"]) for r in read_rows(folder)}
    assert counts[("leak-03:9100", "memory")] == 1
    assert counts[("grow-01:9100", "memory")] == counts[("grow-02:9100", "memory")] == 1
    assert sum(counts.values()) == 3
    listed = [r for r in fresh_pd_sim.requests if r.path == "/incidents"]
    assert len(listed) == 1  # one list request for the window, not one per host


def test_bad_until_and_lonely_until_are_usage_errors(tmp_path: Path) -> None:
    bad = CliRunner().invoke(main, ["--memory-trends", "28d", "--until", "2026-03-29 00:00"])
    assert bad.exit_code == 2 and "--until" in bad.output
    lonely = CliRunner().invoke(main, ["--demo", "--until", "2026-01-01T00:00:00Z"])
    assert lonely.exit_code == 2 and "--until goes with --memory-trends" in lonely.output
    window = CliRunner().invoke(main, ["--memory-trends", "forever"])
    assert window.exit_code == 2 and "--memory-trends" in window.output


def test_an_edited_review_is_kept_and_the_new_draft_goes_beside_it(
    prom_review: tuple[Any, Path], tmp_path: Path
) -> None:
    snapshot = str(prom_review[1] / "snapshot.json")
    runner = CliRunner()
    first = runner.invoke(main, ["--snapshot", snapshot, "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    report = tmp_path / FOLDER / "report.md"
    report.write_text("my capacity notes", encoding="utf-8")
    second = runner.invoke(main, ["--snapshot", snapshot, "--out", str(tmp_path)])
    assert "was edited by a person and is kept" in second.output
    assert report.read_text(encoding="utf-8") == "my capacity notes"
    assert list((tmp_path / FOLDER / "drafts").glob("*/hosts.csv"))


def test_no_data_at_all_is_an_error_and_publishes_nothing(tmp_path: Path) -> None:
    result, folder = run_review(tmp_path, "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "no memory data for the review: cannot reach Prometheus" in result.output
    assert not folder.exists()


def test_a_selector_that_matches_nothing_is_an_error(
    tmp_path: Path, fleet_prometheus: PrometheusServer
) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text("fleet:\n  selector: 'job=\"nope\"'\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "--memory-trends",
            "28d",
            "--until",
            FLEET_UNTIL,
            "--config",
            str(config),
            "--out",
            str(tmp_path / "out"),
        ],
        env={"PROMETHEUS_URL": fleet_prometheus.url, "PAGERDUTY_API_TOKEN": ""},
    )
    assert result.exit_code == 1
    assert (
        "no series between 2026-03-01T00:00:00Z and 2026-03-29T00:00:00Z"
        " (fleet.selector 'job=\"nope\"')"
    ) in result.output
