"""One note on the PagerDuty incident per drafted incident, never twice, never a failure.

The installed `collect` runs against the PagerDuty simulator (which records the POSTs) and the
real Prometheus of conftest.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import DEMO_CONFIG, FIXTURES, TOKEN, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.jobs.handoff import NOTES_DIR

# Slow throughout: each test drafts incidents from the simulator.
pytestmark = pytest.mark.slow

SENDER = "oncall@example.com"
BASE_URL = "https://postmortems.example.com"


@pytest.fixture
def sim() -> Iterator[PagerDutySimulator]:
    """A simulator of the test's own (notes change it), with a read-only token too."""
    with PagerDutySimulator(FIXTURES / "pagerduty", TOKEN, read_only_tokens=["ro-token"]) as s:
        yield s
    assert s.errors == []


def write_config(tmp_path: Path, post_note: bool = True) -> Path:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["pagerduty"]["post_note"] = post_note
    raw["report"] = {**raw.get("report", {}), "base_url": BASE_URL}
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def collect(
    collect_bin: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
    return subprocess.run(
        [collect_bin, *args], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=180
    )


def note_posts(sim: PagerDutySimulator) -> list[tuple[str, str, int]]:
    """(incident path, content, status) of every note POST the simulator saw."""
    return [
        (r.path, r.body["note"]["content"], r.status)  # type: ignore[index]
        for r in sim.requests
        if r.method == "POST"
    ]


def test_one_note_per_incident_across_reruns_and_batch(
    collect_bin: str, sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    env = {**environment(sim, prometheus.url), "PAGERDUTY_FROM_EMAIL": SENDER}
    base = ["--config", str(write_config(tmp_path)), "--out", str(out)]
    first = collect(collect_bin, ["--incident", "P7DBOOM", *base], env, tmp_path)
    assert first.returncode == 0, first.stderr
    link = f"{BASE_URL}/P7DBOOM/report.html"
    assert note_posts(sim) == [
        ("/incidents/P7DBOOM/notes", f"Rapport post-incident rédigé : {link}", 201)
    ]
    post = next(r for r in sim.requests if r.method == "POST")
    assert post.headers["from"] == SENDER
    marker = out / NOTES_DIR / "P7DBOOM.json"
    created = next(r.body for r in sim.responses if r.method == "POST")
    assert json.loads(marker.read_text(encoding="utf-8"))["note_id"] == created["note"]["id"]  # type: ignore[index]

    again = collect(collect_bin, ["--incident", "P7DBOOM", "--force", *base], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(note_posts(sim)) == 1  # the marker says it is done

    # A run that died after posting, before its marker: the incident's notes tell.
    marker.unlink()
    lost = collect(collect_bin, ["--incident", "P7DBOOM", *base], env, tmp_path)
    assert lost.returncode == 0, lost.stderr
    assert len(note_posts(sim)) == 1 and marker.is_file()

    window = f"{(date.today() - date(2025, 10, 20)).days}d"
    batch = collect(collect_bin, ["--resolved-since", window, *base], env, tmp_path)
    assert batch.returncode == 0, batch.stderr
    posted = sorted(path for path, _, _ in note_posts(sim))
    assert posted == [
        "/incidents/P7DBOOM/notes",
        "/incidents/PBIGLOG/notes",
        "/incidents/PLOWURG/notes",
    ]
    rerun = collect(collect_bin, ["--resolved-since", window, *base], env, tmp_path)
    assert rerun.returncode == 0 and len(note_posts(sim)) == 3


def test_read_only_token_is_one_warning_not_a_failure(
    collect_bin: str, sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    env = {
        **environment(sim, prometheus.url, token="ro-token"),
        "PAGERDUTY_FROM_EMAIL": SENDER,
    }
    args = ["--incident", "P7DBOOM", "--config", str(write_config(tmp_path)), "--out", str(out)]
    result = collect(collect_bin, [*args, "--lang", "en"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "P7DBOOM" / "report.md").is_file()
    assert [status for _, _, status in note_posts(sim)] == [403]
    assert [line for line in result.stderr.splitlines() if "note" in line] == [
        "warning: PagerDuty note not added to P7DBOOM: PagerDuty refused a note on incident"
        " P7DBOOM (HTTP 403): the API token is read-only; give it write access, or set"
        " pagerduty.post_note: false"
    ]
    assert not (out / NOTES_DIR / "P7DBOOM.json").exists()  # the next run may try again


def test_without_a_sender_the_note_is_one_warning(
    collect_bin: str, sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    args = ["--incident", "P7DBOOM", "--config", str(write_config(tmp_path)), "--out", str(out)]
    result = collect(collect_bin, args, environment(sim, prometheus.url), tmp_path)
    assert result.returncode == 0, result.stderr
    assert note_posts(sim) == []
    assert "set PAGERDUTY_FROM_EMAIL" in result.stderr


def test_no_note_unless_asked(
    collect_bin: str, sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    config = write_config(tmp_path, post_note=False)
    env = {**environment(sim, prometheus.url), "PAGERDUTY_FROM_EMAIL": SENDER}
    args = ["--incident", "P7DBOOM", "--config", str(config), "--out", str(out)]
    assert collect(collect_bin, args, env, tmp_path).returncode == 0
    assert note_posts(sim) == []
