"""`collect --review` through the real CLI against the PagerDuty simulator, on a year of
incidents whose answers are known by construction (tests/review_data.py)."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import TOKEN
from pd_simulator import PagerDutySimulator
from review_data import write_year

from collector.analysis import review as facts
from collector.snapshot.review import ReviewAction, load_review_snapshot, read_review_incidents
from report.review_draft import CSV_COLUMNS


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PagerDutySimulator, Path]]:
    """The simulator serving the year, and a folder holding its reports."""
    root = tmp_path_factory.mktemp("review")
    write_year(root / "pd", root / "seed")
    with PagerDutySimulator(root / "pd", TOKEN) as sim:
        yield sim, root / "seed"


def run_review(collect_bin: str, sim: PagerDutySimulator, out: Path, lang: str) -> Path:
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PAGERDUTY_API_TOKEN": TOKEN,
        "PAGERDUTY_BASE_URL": sim.base_url,
        "SSL_CERT_FILE": str(sim.ca_path),
    }
    args = ["--review", "181d", "--until", "2025-07-01", "--out", str(out), "--lang", lang]
    done = subprocess.run(
        [collect_bin, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr
    return out / "review-2025-07-01"


@pytest.fixture(scope="module", params=["en", "fr"])
def review(
    request: pytest.FixtureRequest,
    year: tuple[PagerDutySimulator, Path],
    collect_bin: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, Path]:
    import shutil

    sim, seed = year
    out = tmp_path_factory.mktemp(f"out-{request.param}") / "reports"
    shutil.copytree(seed, out)
    before = len(sim.requests)
    folder = run_review(collect_bin, sim, out, request.param)
    listing = [r for r in sim.requests[before:] if r.path == "/incidents"]
    assert len(sim.requests) - before == len(listing), "one request per page of the listing"
    return request.param, folder


def rows(folder: Path) -> dict[str, dict[str, str]]:
    text = (folder / "incidents.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == CSV_COLUMNS
    return {row["incident_id"]: row for row in reader}


@pytest.mark.slow
def test_files_are_published_and_listed(review: tuple[str, Path]) -> None:
    _, folder = review
    for name in ("report.md", "report.html", "incidents.csv", "snapshot.json"):
        assert (folder / name).is_file(), name
    charts = sorted(p.name for p in (folder / "charts").glob("*.png"))
    assert charts == [
        "pages_per_alert.png",
        "rto_by_month.png",
        "time_to_acknowledge.png",
        "time_to_restore.png",
    ]
    assert 'href="review-2025-07-01/report.html"' in (folder.parent / "index.html").read_text()
    assert "data:image/png;base64," in (folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_incidents_csv_joins_reports_and_leaves_unknown_empty(review: tuple[str, Path]) -> None:
    _, folder = review
    table = rows(folder)
    assert len(table) == 18 + 6 + 26  # Checkout, Search, node-07 in the window
    checkout = table["PRV01024"]  # 2025-01-01: acknowledged in 5 min, restored in 25
    assert checkout["time_to_acknowledge_s"] == "300"
    assert checkout["outage_s"] == "1500"
    assert checkout["detection_delay_s"] == "120"
    assert checkout["rto_verdict"] == "met"
    assert checkout["report_status"] == "draft"
    assert checkout["actions_total"] == ""  # a draft: no actions known, not zero
    search = next(r for r in table.values() if r["service"] == "Search")
    assert search["time_to_resolve_s"] == "2400"  # PagerDuty alone gives this
    for column in ("time_to_acknowledge_s", "outage_s", "rto_verdict", "report_status"):
        assert search[column] == "", column
    final = table["PRV01048"]
    assert final["report_status"] == "final"
    assert (final["actions_total"], final["actions_open"], final["actions_overdue"]) == (
        "3",
        "2",
        "1",
    )


def test_report_states_the_known_figures(review: tuple[str, Path]) -> None:
    lang, folder = review
    text = (folder / "report.md").read_text(encoding="utf-8")
    checkout = next(line for line in text.splitlines() if line.startswith("| Checkout API | 17"))
    # MTTA 5 min → 8.5 min (median of 18 values), restore 20 → 37.5 min, RTO 100 % → 33 %.
    if lang == "en":
        assert "5 min → 8 min 30 s" in checkout
        assert "20 min → 37 min 30 s" in checkout
        assert "100 % (17 of 17) → 33 % (6 of 18)" in checkout
        assert "| Checkout API | 2025-03 | 3 | 8 min (p90 8 min 48 s; 3) | 35 min" in text
        assert "3 of 3 (too few for a percentage)" in text
        assert "node-07:9100: 26 pages, memory leak +8.0 %/day, restarts every \\~7 days" in text
        assert "| NodeMemoryHigh on node-07 | Batch Jobs | 26 |" in text
        assert "| alice | 2 | 1 | 1 |" in text
        assert "[OPS-12](https://jira.example/OPS-12)" in text
    else:
        assert "100 % (17 sur 17) → 33 % (6 sur 18)" in checkout
        assert "3 sur 3 (trop peu pour un pourcentage)" in text
        assert "node-07:9100 : 26 appels, fuite mémoire +8,0 %/jour" in text
        assert "Actions en retard" in text


def test_snapshot_replays_to_the_same_facts(review: tuple[str, Path]) -> None:
    _, folder = review
    snapshot = load_review_snapshot(folder / "snapshot.json")
    until = datetime(2025, 7, 1, tzinfo=timezone.utc)
    current, previous = facts.split_window(
        read_review_incidents(snapshot), until, timedelta(days=181)
    )
    worse = {c.service: c for c in facts.changes(current, previous)}["Checkout API"]
    assert worse.previous.acknowledge.median == 300
    assert worse.current.acknowledge.median == 510
    assert worse.current.count == 18 and worse.previous.count == 17
    months = [g for g in facts.by_service_and_month(current) if g.service == "Checkout API"]
    # Month m: 3 values m+4, m+5, m+6 min: median m+5, p90 m+5.8 (linear interpolation).
    assert [g.acknowledge.median for g in months] == [(m + 5) * 60 for m in range(1, 7)]
    assert [g.acknowledge.p90 for g in months] == pytest.approx(
        [(m + 5.8) * 60 for m in range(1, 7)]
    )
    assert [g.rto.met for g in months] == [3, 3, 0, 0, 0, 0]
    assert [g.budget_used for g in months] == [30.0] * 6
    runs = facts.repeat_runs(current)
    assert [(r.alert, len(r.incidents), r.typical_gap) for r in runs] == [
        ("NodeMemoryHigh on node-07", 26, timedelta(days=7))
    ]


def test_the_review_is_drafted_again_from_its_snapshot_offline(
    review: tuple[str, Path], collect_bin: str, tmp_path: Path
) -> None:
    """`collect --snapshot` of a review's snapshot.json: the same review from what was listed
    and read then, in the other language, with no token and nothing to ask."""
    lang, folder = review
    other = "fr" if lang == "en" else "en"
    out = tmp_path / "again"
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PAGERDUTY_BASE_URL": "https://127.0.0.1:9"}
    args = ["--snapshot", str(folder / "snapshot.json"), "--out", str(out), "--lang", other]
    done = subprocess.run(
        [collect_bin, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    again = out / folder.name
    assert "incidents listed" in done.stdout and str(again) in done.stdout
    assert rows(again) == rows(folder)
    assert (again / "snapshot.json").read_bytes() == (folder / "snapshot.json").read_bytes()
    assert sorted(p.name for p in (again / "charts").glob("*.png")) == sorted(
        p.name for p in (folder / "charts").glob("*.png")
    )
    text = (again / "report.md").read_text(encoding="utf-8")
    assert ("Actions en retard" in text) == (other == "fr")


def test_a_share_of_fewer_than_five_is_marked_few() -> None:
    assert facts.Share(3, 4).few and not facts.Share(3, 5).few
    assert facts.Share(0, 0).percent is None


def test_overdue_needs_open_and_past_due() -> None:
    def action(status: str, due: date | None) -> ReviewAction:
        done = status == "done"
        return ReviewAction("P1", "S", "a", "o", due, status, "", "", done)

    today = date(2025, 7, 1)
    assert facts.is_overdue(action("open", date(2025, 6, 30)), today)
    assert not facts.is_overdue(action("open", date(2025, 7, 1)), today)
    assert not facts.is_overdue(action("done", date(2025, 1, 1)), today)
    assert not facts.is_overdue(action("open", None), today)


def test_hosts_are_linked_by_name_and_only_when_worrying() -> None:
    from collector.snapshot.review import FleetHost, ReviewIncident

    def page(n: int, title: str) -> ReviewIncident:
        created = datetime(2025, 1, 1 + n, tzinfo=timezone.utc)
        return ReviewIncident(f"P{n}", n, title, "S", "", "", created, None, title, (title,))

    hosts = [
        FleetHost("node-07:9100", "leak", 8.0, 4, 28.0),
        FleetHost("node-070:9100", "growing", 1.0, 0, 28.0),
        FleetHost("node-09:9100", "steady", 0.0, 0, 28.0),
    ]
    pages = [page(1, "High memory on node-07"), page(2, "node-09 down"), page(3, "node-07 OOM")]
    links = facts.host_links(pages, hosts)
    assert [(link.host.instance, link.pages) for link in links] == [
        ("node-07:9100", 2),
        ("node-070:9100", 0),
    ]
    assert links[0].restart_every == timedelta(days=7)
    assert links[1].restart_every is None
