"""A huge incident drafts a report a person can read: the lists are cut, timeline.csv is whole."""

from __future__ import annotations

import csv
import io
import json
import pickle
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DEMO_CONFIG
from hardening_support import demo_data, huge_incident, write_json

from collector.analysis.timeline import EventGroup
from collector.cli import main
from collector.errors import SnapshotError
from collector.jobs.runner import pickled_up_to
from collector.records import Event
from collector.snapshot import stream
from collector.snapshot.pagerduty import read_log_entries
from collector.snapshot.store import load_snapshot, lost_data, read_published, save_snapshot
from report.model import MAX_GROUPS_LISTED, Listed
from report.words.labels import LABELS

ENTRIES = 20_000
# report.md's lines when every list is cut: the demo's report is some 190, and each of the
# five lists (timeline table, detection, escalation, response, communication) adds at most
# MAX_GROUPS_LISTED + 1.
LINE_BUDGET = 200 + 5 * (MAX_GROUPS_LISTED + 1)


def _group(minute: int, count: int = 1) -> EventGroup:
    at = datetime(2025, 10, 25, 14, 0, tzinfo=timezone.utc) + timedelta(minutes=minute)
    event = Event(at, "pagerduty", "annotate", "response", "A", f"note {minute}", "", "")
    return EventGroup(event, count, at, at, ("A",), (), ())


def test_a_long_list_keeps_its_first_and_last_groups_and_counts_the_rest() -> None:
    groups = [_group(i, count=2) for i in range(25)]
    listed = Listed(groups, most=10)
    assert [g.first.summary for g in listed] == [f"note {i}" for i in (*range(9), 24)]
    assert (listed.cut_at, listed.left_out) == (9, 2 * 15)
    short = Listed(groups[:10], most=10)
    assert list(short) == groups[:10]
    assert (short.cut_at, short.left_out) == (10, 0)


@pytest.mark.slow
def test_a_huge_incident_is_cut_in_the_report_and_whole_in_timeline_csv(tmp_path: Path) -> None:
    snapshot = write_json(tmp_path / "snapshot.json", huge_incident(ENTRIES))
    config = tmp_path / "collector.yaml"
    settings = DEMO_CONFIG.read_text(encoding="utf-8")
    config.write_text(settings.replace("report:\n", "report:\n  pdf: false\n", 1), "utf-8")
    out = tmp_path / "out"
    args = ["--snapshot", str(snapshot), "--config", str(config), "--lang", "en", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    more = LABELS["en"]["more_events"].split("{n}")[1]
    # The timeline table, the response (notes) and the communication (status updates) are cut.
    assert report.count(more) >= 3, report
    assert "| … | … " in report
    assert len(report.splitlines()) < LINE_BUDGET
    with (out / "P7DBOOM" / "timeline.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(row["source"] == "pagerduty" for row in rows) == ENTRIES


def test_a_snapshot_is_read_in_pieces_with_repeated_references_shared(tmp_path: Path) -> None:
    data = huge_incident(300)
    path = write_json(tmp_path / "snapshot.json", data)
    loaded = load_snapshot(path)
    assert loaded.pagerduty == data["pagerduty"]
    entries = loaded.pagerduty["log_entries"]
    # The same agent, service and incident references are one object, not one per entry.
    assert entries[0]["service"] is entries[15]["service"]
    assert entries[0]["agent"] is entries[15]["agent"]
    assert len({id(e["incident"]) for e in entries}) == 1


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_reading_in_pieces_gives_what_json_gives(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "CHUNK", chunk)
    text = json.dumps(demo_data(), indent=1)
    assert stream.load_json(io.StringIO(text)) == json.loads(text)
    with pytest.raises(json.JSONDecodeError) as caught:
        stream.load_json(io.StringIO(text.replace('"log_entries": [', '"log_entries": [}', 1)))
    assert caught.value.lineno == text[: text.index('"log_entries"')].count("\n") + 1


def _entries_left_on_disk(monkeypatch: pytest.MonkeyPatch, bound: int = 100) -> None:
    monkeypatch.setattr(stream, "LEFT_ON_DISK_FROM", bound)


def test_log_entries_past_the_bound_are_left_on_disk_and_written_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = huge_incident(300)
    path = write_json(tmp_path / "snapshot.json", data)
    held = load_snapshot(path)
    save_snapshot(held, tmp_path / "held.json")
    _entries_left_on_disk(monkeypatch)
    left = load_snapshot(path)
    entries = left.pagerduty["log_entries"]
    assert isinstance(entries, stream.OnDisk) and len(entries) == 300
    assert list(entries) == data["pagerduty"]["log_entries"]  # read again, as often as asked
    assert read_log_entries(entries) == read_log_entries(data["pagerduty"]["log_entries"])
    save_snapshot(left, tmp_path / "left.json")
    assert (tmp_path / "left.json").read_bytes() == (tmp_path / "held.json").read_bytes()
    # A re-draft counts the published entries without holding them.
    published = read_published(path)
    assert published is not None and lost_data(left, published) == []
    assert isinstance(published["pagerduty"]["log_entries"], stream.OnDisk)


def test_a_damaged_log_entry_left_on_disk_is_named_as_when_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = huge_incident(300)
    data["pagerduty"]["log_entries"][250]["created_at"] = "yesterday"
    data["pagerduty"]["log_entries"][120]["agent"] = 5
    data["pagerduty"]["log_entries"][30]["assignees"] = "all of us"
    path = write_json(tmp_path / "snapshot.json", data)
    with pytest.raises(SnapshotError) as held:
        load_snapshot(path)
    _entries_left_on_disk(monkeypatch)
    with pytest.raises(SnapshotError) as left:
        load_snapshot(path)
    assert str(left.value) == str(held.value)
    assert "pagerduty.log_entries[120].agent" in str(left.value)


def test_a_snapshot_changed_after_it_was_read_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_json(tmp_path / "snapshot.json", huge_incident(300))
    _entries_left_on_disk(monkeypatch)
    loaded = load_snapshot(path)
    write_json(path, huge_incident(301))
    with pytest.raises(SnapshotError, match="changed while being read"):
        list(loaded.pagerduty["log_entries"])


@pytest.mark.slow
def test_a_draft_from_log_entries_left_on_disk_is_the_same_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = write_json(tmp_path / "snapshot.json", huge_incident(2_000))
    drafts = []
    for name, bound in (("held", stream.LEFT_ON_DISK_FROM), ("left", 100)):
        _entries_left_on_disk(monkeypatch, bound)
        out = tmp_path / name
        args = ["--snapshot", str(snapshot), "--lang", "en", "--out", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        drafts.append(out / "P7DBOOM")
    held, left = drafts
    for name in ("timeline.csv", "figures.json"):
        assert (left / name).read_bytes() == (held / name).read_bytes(), name
    stamped = re.compile(r"^> - Generated .*$", re.M)  # the minute it was drafted
    assert stamped.sub("", (left / "report.md").read_text("utf-8")) == stamped.sub(
        "", (held / "report.md").read_text("utf-8")
    )
    for draft in drafts:
        assert (
            len(
                json.loads((draft / "snapshot.json").read_text("utf-8"))["pagerduty"]["log_entries"]
            )
            == 2_000
        )


def test_chart_jobs_are_pickled_only_up_to_the_bound() -> None:
    small = list(range(10))
    assert pickle.loads(pickled_up_to(small, 1_000) or b"") == small
    assert pickled_up_to(["x" * 100] * 50 + [str(i) * 100 for i in range(50)], 1_000) is None
    assert pickled_up_to(lambda: None, 1_000) is None  # cannot be pickled: drawn here
