"""The fleet review's pure parts: batching regexes, incident links, heatmaps, snapshot kinds."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_SNAPSHOT

from collector.analysis.fleet import review_host
from collector.analysis.fleet_links import (
    FleetIncident,
    LinkedBy,
    link_incidents,
    parse_selector,
    read_fleet_incidents,
    selector_matches,
)
from collector.analysis.fleet_series import ReviewedSeries, choose_detail_hosts, daily_matrix
from collector.config import FleetSettings
from collector.errors import SnapshotError
from collector.records import Gap, GapKind
from collector.snapshot.fleet import FleetSnapshot, load_fleet_snapshot, save_fleet_snapshot
from collector.snapshot.store import snapshot_kind
from collector.sources.fleet import instance_regex
from report.charts.fleet import MAX_HEATMAP_ROWS, draw_heatmap
from report.fleet_draft import gap_line
from report.words.fleet import FLEET_LABELS

UNTIL = datetime(2026, 3, 29, tzinfo=timezone.utc)


def test_instance_regex_matches_exactly_the_batch() -> None:
    names = ["db-01.example.com:9100", "web-1:9100", "a+b(c)[d]|e"]
    promql_string = instance_regex(names)
    pattern = promql_string.replace("\\\\", "\\")  # what PromQL's string unescaping gives RE2
    for name in names:
        assert re.fullmatch(pattern, name)
    for other in ("db-01Xexample.com:9100", "web-1:91000", "web-1", "ab"):
        assert not re.fullmatch(pattern, other)
    assert '"' not in instance_regex(['x"y']).replace('\\"', "")


def test_selector_parsing_and_matching() -> None:
    matchers = parse_selector('instance=~"db-0[12]:.*", job!="blackbox",env="prod"')
    assert matchers == [
        ("instance", "=~", "db-0[12]:.*"),
        ("job", "!=", "blackbox"),
        ("env", "=", "prod"),
    ]
    assert selector_matches(matchers, {"instance": "db-01:9100", "job": "node", "env": "prod"})
    assert not selector_matches(matchers, {"instance": "db-03:9100", "env": "prod"})
    assert not selector_matches(matchers, {"instance": "xdb-01:9100", "env": "prod"})  # anchored
    assert parse_selector("up{job='x'}") is None
    assert not selector_matches([], {"instance": "db-01:9100"})


def _incident(title: str, service: str = "Other", trigger: str = "") -> dict[str, object]:
    minute = len(title) % 60  # distinct titles, distinct times: the links come oldest first
    return {
        "id": f"P{title[:3]}",
        "title": title,
        "created_at": f"2026-03-20T10:{minute:02d}:00Z",
        "service": {"summary": service},
        "first_trigger_log_entry": {"summary": trigger},
    }


def test_incidents_link_by_service_or_by_the_host_name_as_a_word() -> None:
    incidents = read_fleet_incidents(
        [
            _incident("OOM on web-03"),
            _incident("Disk full on web-030"),
            _incident("Latency", service="Shop"),
            _incident("Pager", trigger="HostMemoryHigh: WEB-03 above 95 %"),
        ]
    )
    labels = {"instance": "web-03:9100", "job": "node"}
    links = link_incidents(incidents, labels, {"Shop": 'instance=~"web-0[1-3]:.*"'})
    assert [(h.incident.title, h.linked_by) for h in links] == [
        ("Pager", LinkedBy.NAME),
        ("Latency", LinkedBy.SERVICE),
        ("OOM on web-03", LinkedBy.NAME),
    ]
    assert all(isinstance(h.incident, FleetIncident) for h in links)


def _reviewed(name: str, values: np.ndarray) -> ReviewedSeries:
    times = UNTIL.timestamp() - 3600.0 * np.arange(values.size)[::-1]
    review = review_host(times, values, instance=name, kind="memory", until=UNTIL)
    return ReviewedSeries("memory_used", {"instance": name}, review, times, values, False)


def _grid(series: dict[str, np.ndarray]) -> dict[str, object]:
    start = UNTIL - timedelta(hours=671)
    return {
        "start": start.isoformat(),
        "step": 3600,
        "series": [
            {"metric": {"instance": name}, "values": values.tolist()}
            for name, values in series.items()
        ],
    }


def test_detail_goes_to_the_loud_hosts_most_urgent_first_and_is_capped() -> None:
    rng = np.random.default_rng(1)
    hours = np.arange(672)
    series = {f"calm-{i:03d}": 30 + rng.normal(0, 0.2, 672) for i in range(50)}
    series |= {f"grow-{i}": 30 + (1 + i) * hours / 24 for i in range(3)}  # 1, 2, 3 %/day
    settings = FleetSettings(max_detail_hosts=10)
    assert choose_detail_hosts(_grid(series), {}, settings) == ["grow-2", "grow-1", "grow-0"]
    spike = 30 + rng.normal(0, 0.2, 672)
    spike[300] = 88.0  # one hour near the high level: worth a look at full resolution
    restart = np.where(hours < 400, 60.0, 35.0)  # a drop as large as a restart
    series |= {"calm-007": spike, "calm-008": restart}
    slope = {"slope_week": {'{instance="calm-009"}': 1.0 / 86400}}  # the server's deriv
    chosen = choose_detail_hosts(_grid(series), slope, settings)
    assert set(chosen) == {"grow-0", "grow-1", "grow-2", "calm-007", "calm-008", "calm-009"}
    assert len(choose_detail_hosts(_grid(series), slope, FleetSettings(max_detail_hosts=4))) == 4


def test_daily_matrix_rows_follow_the_ranking_and_days_are_the_averaged_ones() -> None:
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    a = [10.0] * 24 + [20.0, 40.0] + [None] * 22 + [None] * 24 + [99.0]  # the 99 is at `until`
    b = [50.0] * 24 + [60.0] * 24 + [70.0] * 24 + [99.0]
    grid = {
        "start": start.isoformat(),
        "step": 3600,
        "series": [
            {"metric": {"instance": "a"}, "values": a},
            {"metric": {"instance": "b"}, "values": b},
        ],
    }
    frame = daily_matrix(grid, ["b", "a"], start + timedelta(days=3))
    assert list(frame.index) == ["b", "a"]
    assert [str(d) for d in frame.columns] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert frame.loc["a"].tolist()[:2] == [10.0, 30.0] and np.isnan(frame.loc["a"].iloc[2])
    assert frame.loc["b"].tolist() == [50.0, 60.0, 70.0]


def test_a_heatmap_of_2000_hosts_shows_the_top_rows_and_the_fleet_spread(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    days = pd.date_range("2026-03-01", periods=28, freq="D").date
    frame = pd.DataFrame(
        rng.uniform(10, 95, (2000, 28)),
        columns=days,
        index=[f"host-{i:04d}.example.com:9100" for i in range(2000)],
    )
    path = draw_heatmap(frame, "Memory used", FLEET_LABELS["en"], tmp_path / "heatmap.png")
    from matplotlib.image import imread

    height, width = imread(str(path)).shape[:2]
    assert width == 1210 and height < 1800  # MAX_HEATMAP_ROWS rows, not 2,000
    assert MAX_HEATMAP_ROWS == 60


def test_snapshot_kind_is_read_from_the_head_of_the_file(tmp_path: Path) -> None:
    assert snapshot_kind(DEMO_SNAPSHOT) is None
    fleet = tmp_path / "snapshot.json"
    fleet.write_text(json.dumps({"kind": "fleet", "schema_version": 1}), encoding="utf-8")
    assert snapshot_kind(fleet) == "fleet"
    with pytest.raises(SnapshotError, match="incomplete or damaged"):
        load_fleet_snapshot(fleet)
    assert snapshot_kind(tmp_path / "missing.json") is None


# The review's gap lines as collect_fleet has written them since the review began.
GAP_LINES = [
    "Prometheus (memory screen, swap detail): Prometheus answered HTTP 503: overloaded",
    "Prometheus warned: PromQL info: metric might not be a counter",
    "PagerDuty: no API token (PAGERDUTY_API_TOKEN), so incidents were not linked to hosts",
    "PagerDuty: incidents were not linked to hosts: PagerDuty answered HTTP 500 for incidents",
    "PagerDuty incidents: only the first 10000 of 12000 were fetched",
]
GAPS = [
    Gap(
        "Prometheus",
        "memory screen, swap detail",
        GapKind.UNFETCHED,
        "Prometheus answered HTTP 503: overloaded",
    ),
    Gap("Prometheus", "", GapKind.WARNED, "PromQL info: metric might not be a counter"),
    Gap("PagerDuty", "incidents", GapKind.UNFETCHED, GAP_LINES[2].removeprefix("PagerDuty: ")),
    Gap("PagerDuty", "incidents", GapKind.UNFETCHED, GAP_LINES[3].removeprefix("PagerDuty: ")),
    Gap(
        "PagerDuty",
        "incidents",
        GapKind.TRUNCATED,
        "",
        count=10000,
        total=12000,
    ),
]


def _fleet_snapshot(gaps: list[Gap]) -> FleetSnapshot:
    prometheus: dict[str, object] = {"screen": {}, "detail": {}}
    return FleetSnapshot(
        "2026-03-29T00:00:00Z", "0", "2026-03-29T00:00:00Z", 86400.0, prometheus, {}, gaps
    )


def test_fleet_gaps_are_records_on_disk_and_read_as_the_same_lines(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    save_fleet_snapshot(_fleet_snapshot(GAPS), path)
    kept = json.loads(path.read_text(encoding="utf-8"))["gaps"]
    assert kept[1] == {
        "source": "Prometheus",
        "subject": "",
        "kind": "warned",
        "detail": GAPS[1].detail,
    }
    loaded = load_fleet_snapshot(path)
    assert loaded.gaps == GAPS
    assert [gap_line(gap) for gap in loaded.gaps] == GAP_LINES


def test_a_fleet_snapshot_with_gaps_as_lines_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    save_fleet_snapshot(_fleet_snapshot([]), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "gaps": GAP_LINES}), encoding="utf-8")
    loaded = load_fleet_snapshot(path)
    assert [gap_line(gap) for gap in loaded.gaps] == GAP_LINES
    assert loaded.gaps[4] == GAPS[4]  # a list fetched in part reads back as such


def test_review_window_is_what_the_analysis_sees() -> None:
    series = _reviewed("x", 50 + np.zeros(24 * 28))
    assert series.review.first_seen is not None
    assert UNTIL - series.review.first_seen <= timedelta(days=28)


def test_thinning_keeps_every_peak_and_restart() -> None:
    from report.charts.fleet import thin_for_drawing

    times = np.arange(8065, dtype=np.float64) * 300
    values = 30 + (np.arange(8065) % 1000) / 1000 * 60  # a sawtooth, 8 restarts
    thin_t, thin_v = thin_for_drawing(times, values)
    assert thin_t.size <= 1200 and np.all(np.diff(thin_t) > 0)
    assert thin_v.max() == values.max() and thin_v.min() == values.min()
    restarts = np.sum(np.diff(values) < -30)
    assert np.sum(np.diff(thin_v) < -30) == restarts == 8


def test_until_accepts_iso_8601_dates_and_times_with_a_zone() -> None:
    from collector.jobs.modes import parse_until

    assert parse_until("2026-03-29") == UNTIL
    assert parse_until("2026-03-29T02:00:00+02:00") == UNTIL
    with pytest.raises(ValueError, match="without a time zone"):
        parse_until("2026-03-29T00:00:00")


def test_every_fleet_word_exists_in_both_languages_and_the_template_uses_known_ones() -> None:
    assert FLEET_LABELS["fr"].keys() == FLEET_LABELS["en"].keys()
    template = (
        Path(__file__).resolve().parents[1] / "report" / "templates" / "memory_trends.md.j2"
    ).read_text(encoding="utf-8")
    used = set(re.findall(r"\bW\.([a-z_]+)", template))
    assert used and used <= FLEET_LABELS["en"].keys()
    verdicts = ("leak", "growing", "level shift", "cyclic", "high", "steady", "memory", "swap")
    assert all(v in FLEET_LABELS["fr"] for v in verdicts)


def kinded_snapshot(kind: str) -> dict[str, Any]:
    """The smallest snapshot.json of a fleet review or of a review that its loader takes."""
    data: dict[str, Any] = {
        "kind": kind,
        "schema_version": 1,
        "collected_at": "2025-07-01T00:00:00Z",
        "tool_version": "0",
        "until": "2025-07-01T00:00:00Z",
        "window_s": 86400.0,
        "pagerduty": {},
        "gaps": [],
    }
    return data | (
        {"prometheus": {"screen": {}}} if kind == "fleet" else {"reports": {}, "fleet": {}}
    )


@pytest.mark.parametrize("kind", ["fleet", "review"])
@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"window_s": "abc"}, "window_s: expected a positive number of seconds"),
        ({"window_s": -5}, "window_s: expected a positive number of seconds"),
        ({"window_s": True}, "window_s: expected a positive number of seconds"),
        ({"window_s": 1e300}, "window_s: 1e+300 seconds before until is before 1970"),
        ({"until": "9999-01-01T00:00:00Z"}, "until: expected a time from 1970 to 2261"),
        ({"until": 5}, "until: expected a time from 1970 to 2261"),
        ({"until": "soon"}, "Invalid isoformat string"),
    ],
)
def test_a_damaged_review_snapshot_is_named_in_one_line(
    kind: str, change: dict[str, Any], named: str, tmp_path: Path
) -> None:
    """A fleet review's or a review's snapshot.json given to `--snapshot` is checked where
    its analysis would read it: one line naming the file and the field, never a crash."""
    from collector.snapshot.review import load_review_snapshot

    data = kinded_snapshot(kind)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    load = load_fleet_snapshot if kind == "fleet" else load_review_snapshot
    load(path)  # as written, it loads
    path.write_text(json.dumps(data | change), encoding="utf-8")
    with pytest.raises(SnapshotError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: snapshot is incomplete or damaged (")
    assert named in str(caught.value)


@pytest.mark.parametrize(
    "change",
    [{"pagerduty": []}, {"reports": [1]}, {"fleet": 5}, {"pagerduty": {"incidents": "P1"}}],
)
def test_a_review_snapshot_of_other_shapes_is_refused(
    change: dict[str, Any], tmp_path: Path
) -> None:
    from collector.snapshot.review import load_review_snapshot

    data = kinded_snapshot("review") | {"pagerduty": {"incidents": []}}
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data | change), encoding="utf-8")
    with pytest.raises(SnapshotError, match="incomplete or damaged"):
        load_review_snapshot(path)


def test_a_listed_incident_without_a_readable_creation_time_is_left_out() -> None:
    from collector.snapshot.review import ReviewSnapshot, read_review_incidents

    incidents = [
        {"id": "PBAD", "created_at": "nope"},
        {"id": "PFAR", "created_at": "9999-99-01T00:00:00Z"},
        5,
        {"id": "POK", "created_at": "2025-06-30T10:00:00Z", "title": "Disk full"},
    ]
    snapshot = ReviewSnapshot(
        "2025-07-01T00:00:00Z",
        "0",
        "2025-07-01T00:00:00Z",
        86400.0,
        {"incidents": incidents},
        {},
        {},
    )
    assert [i.id for i in read_review_incidents(snapshot)] == ["POK"]
