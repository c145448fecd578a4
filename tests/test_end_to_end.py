"""The installed `collect` command against the PagerDuty simulator and a real Prometheus."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import DEMO_CONFIG, FIXTURES, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

# Slow throughout: a real Prometheus and the simulator, then whole drafts.
pytestmark = pytest.mark.slow

SEED_HEADINGS = [
    "## Informations Générales",
    "## Chronologie",
    "### Détection",
    "### Escalade",
    "### Réponse",
    "## Root Cause Analysis (5 Whys)",
    "## Timeline Précise",
    "## Impacts Calculés",
    "### Business Impact",
    "### Technical Impact",
    "### Team Impact",
    "## Mise en Œuvre vs PRA",
    "### RPO (Recovery Point Objective)",
    "### RTO (Recovery Time Objective)",
    "### Uptime SLA",
    "## Leçons Apprises",
    "## Actions Correctives",
    "## Suivi des Actions",
    "## Communication & Notification",
    "## Prévention Futures",
    "## Signatures & Approbation",
    "## Archivage",
]


def run(
    collect_bin: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run the installed command with only the given environment (plus PATH)."""
    full_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
    return subprocess.run(
        [collect_bin, *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_incident_drafts_a_full_report_from_live_servers(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    result = run(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(DEMO_CONFIG), "--out", str(tmp_path)],
        live_env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "P7DBOOM"
    assert result.stdout.splitlines()[0] == f"drafted {folder / 'report.md'}"
    assert re.fullmatch(r"\d+ fields left for people", result.stdout.splitlines()[-1])
    report = (folder / "report.md").read_text(encoding="utf-8")
    positions = [report.index(h + "\n") for h in SEED_HEADINGS]
    assert positions == sorted(positions), "seed sections out of order"
    assert "**Date/Heure Début:** 2025-10-25 14:32 UTC (16:32 CEST)" in report
    assert "**Date/Heure Fin:** 2025-10-25 15:10 UTC (17:10 CEST)" in report
    assert "**Durée Totale:** 38 min" in report
    assert "P1 (critical: service down)" in report
    assert "alerte automatique — PostgresDown: PostgreSQL on db-01 is down" in report
    assert "| 14:34 UTC (16:34 CEST) | Acknowledged by Alice Martin. | Alice Martin |" in report
    assert "Chloé Dubois" in report
    assert "[À COMPLÉTER:" in report
    assert "Données manquantes" not in report  # nothing failed, nothing to state


def test_output_folder_holds_every_promised_file(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    run(
        collect_bin,
        ["--incident", "1025", "--config", str(DEMO_CONFIG), "--out", str(tmp_path)],
        live_env,
        tmp_path,
    )
    folder = tmp_path / "P7DBOOM"  # asked by number, filed by ID
    charts = sorted(p.name for p in (folder / "charts").glob("*.png"))
    assert "timeline.png" in charts and "memory_used.png" in charts
    for chart in charts:
        assert (folder / "charts" / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(charts)
    assert not re.search(r'<(img|script|link)[^>]+(src|href)="(https?:)?//', html)
    with (folder / "timeline.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fixture = json.loads((FIXTURES / "pagerduty" / "P7DBOOM.json").read_text(encoding="utf-8"))
    pagerduty_rows = [r for r in rows if r["source"] == "pagerduty"]
    assert len(pagerduty_rows) == len(fixture["log_entries"])
    assert rows[0]["time_utc"].endswith("Z")
    assert {r["source"] for r in rows} == {"pagerduty", "prometheus"}
    snapshot = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    assert snapshot["pagerduty"]["incident"]["id"] == "P7DBOOM"
    assert "test-token" not in (folder / "snapshot.json").read_text(encoding="utf-8")


def test_snapshot_rerenders_offline(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    run(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(DEMO_CONFIG), "--out", str(tmp_path / "live")],
        live_env,
        tmp_path,
    )
    snapshot = tmp_path / "live" / "P7DBOOM" / "snapshot.json"
    offline = run(
        collect_bin,
        [
            "--snapshot",
            str(snapshot),
            "--config",
            str(DEMO_CONFIG),
            "--out",
            str(tmp_path / "offline"),
            "--lang",
            "en",
        ],
        {},
        tmp_path,
    )
    assert offline.returncode == 0, offline.stderr
    report = (tmp_path / "offline" / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert "## General Information" in report and "**Total duration:** 38 min" in report


def test_unknown_incident_names_the_id(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    result = run(collect_bin, ["--incident", "PNOPE42", "--out", str(tmp_path)], live_env, tmp_path)
    assert result.returncode == 1
    assert "PNOPE42" in result.stderr and "404" in result.stderr
    assert not list(tmp_path.iterdir())


def test_wrong_token_names_the_variable_and_is_never_printed(
    collect_bin: str, pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    env = environment(pd_sim, prometheus.url, token="wrong-secret-token")
    result = run(collect_bin, ["--incident", "P7DBOOM", "--out", str(tmp_path)], env, tmp_path)
    assert result.returncode == 1
    assert "PAGERDUTY_API_TOKEN" in result.stderr
    assert "wrong-secret-token" not in result.stderr + result.stdout


def test_missing_token_is_explained(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in live_env.items() if k != "PAGERDUTY_API_TOKEN"}
    result = run(collect_bin, ["--incident", "P7DBOOM", "--out", str(tmp_path)], env, tmp_path)
    assert result.returncode == 1
    assert "set PAGERDUTY_API_TOKEN" in result.stderr


def test_prometheus_down_still_drafts_and_states_the_gap(
    collect_bin: str, pd_sim: PagerDutySimulator, tmp_path: Path
) -> None:
    env = environment(pd_sim, "http://127.0.0.1:9")  # the discard port: nothing listens
    result = run(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(DEMO_CONFIG), "--out", str(tmp_path)],
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "cannot reach Prometheus at http://127.0.0.1:9" in result.stderr
    report = (tmp_path / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert "**⚠️ Données manquantes:**" in report
    assert "cannot reach Prometheus" in report
    assert "**Durée Totale:** 38 min" in report  # PagerDuty's part is complete


def test_bad_promql_fails_only_its_own_figure(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "prometheus:\n  queries:\n"
        "    - {name: broken, query: 'sum(rate(', kind: custom}\n"
        "    - {name: memory_used, query: 'node_memory_MemTotal_bytes', unit: B, kind: memory}\n",
        encoding="utf-8",
    )
    result = run(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(config), "--out", str(tmp_path / "out")],
        live_env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "out" / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert (
        "**Broken**: ⚠️ la requête broken a échoué : Prometheus rejected the query: 1:10:"
        " parse error" in report
    )
    assert "**Memory used**: 2 séries" in report


def test_broken_config_fails_with_file_and_key(collect_bin: str, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("prometheus:\n  lookback: yesterday\n", encoding="utf-8")
    result = run(
        collect_bin, ["--demo", "--config", str(config), "--out", str(tmp_path)], {}, tmp_path
    )
    assert result.returncode == 1
    assert f"{config}: key 'prometheus.lookback'" in result.stderr


@pytest.mark.parametrize("cwd_name", ["elsewhere"])
def test_demo_runs_from_any_folder_without_servers_or_token(
    collect_bin: str, tmp_path: Path, cwd_name: str
) -> None:
    cwd = tmp_path / cwd_name
    cwd.mkdir()
    result = run(collect_bin, ["--demo", "--out", "reports"], {}, cwd)
    assert result.returncode == 0, result.stderr
    report = (cwd / "reports" / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# 📝 POST-INCIDENT REPORT: PostgreSQL down on db-01")
