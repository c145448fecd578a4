"""Hardening round 2, the smaller rows: times past what the tools compute with, a quote in an
instance name, and links made harmless that must not turn into server paths (issue #31, 15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hardening_support import assert_one_line_failure, demo_data, run_collect, write_json

from collector.snapshot.prometheus import label_text, series_label_value


@pytest.mark.slow
def test_an_until_past_2261_is_a_bad_option_not_a_bug(collect_bin: str, tmp_path: Path) -> None:
    for until in ("9999-12-31T23:59Z", "2300-01-01"):
        args = ["--memory-trends", "28d", "--until", until, "--out", str(tmp_path / "out")]
        done = run_collect(collect_bin, args, {}, tmp_path)
        line = assert_one_line_failure(done.stderr, done.stdout, done.returncode, expected=2)
        assert "--until: expected a time from 1970 to 2261" in line and "bug" not in line


def test_a_snapshot_dated_past_2261_is_refused_in_one_line(
    collect_bin: str, tmp_path: Path
) -> None:
    data = demo_data()
    data["pagerduty"]["incident"]["created_at"] = "2300-01-01T00:00:00Z"
    snapshot = write_json(tmp_path / "late.json", data)
    done = run_collect(
        collect_bin, ["--snapshot", str(snapshot), "--out", str(tmp_path)], {}, tmp_path
    )
    line = assert_one_line_failure(done.stderr, done.stdout, done.returncode)
    assert "pagerduty.incident.created_at: not a time from 1970 to 2261" in line


@pytest.mark.parametrize("value", ['db"01:9100', "a\\b", 'q"\\"x', "plain:9100"])
def test_a_label_value_reads_back_whole(value: str) -> None:
    text = label_text({"instance": value, "job": 'n"ode'})
    assert series_label_value(text, "instance") == value
    assert series_label_value(text, "job") == 'n"ode'


@pytest.mark.slow
def test_a_quote_in_an_instance_name_is_kept_whole(collect_bin: str, tmp_path: Path) -> None:
    data = demo_data()
    for query in data["prometheus"]["results"]:
        for series in query.get("result") or ():
            if series["metric"].get("instance") == "db-01:9100":
                series["metric"]["instance"] = "db\"0'1:9100"
    snapshot = write_json(tmp_path / "quote.json", data)
    done = run_collect(
        collect_bin, ["--snapshot", str(snapshot), "--out", str(tmp_path)], {}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "P7DBOOM" / "report.html").read_text(encoding="utf-8")
    assert 'alt="Tendance mémoire : db&quot;0\'1:9100"' in html


@pytest.mark.slow
def test_a_harmless_link_is_text_not_a_server_path(collect_bin: str, tmp_path: Path) -> None:
    # A javascript: link from PagerDuty is made "#" (escape_url); "#" must not reach the pages.
    data = demo_data()
    data["pagerduty"]["incident"]["html_url"] = "javascript:alert(1)"
    config = tmp_path / "pdf.yaml"
    config.write_text("report:\n  pdf: always\n", encoding="utf-8")
    snapshot = write_json(tmp_path / "link.json", data)
    args = ["--snapshot", str(snapshot), "--out", str(tmp_path), "--config", str(config)]
    done = run_collect(args=args, collect_bin=collect_bin, env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "P7DBOOM"
    assert 'href="#"' not in (folder / "report.html").read_text(encoding="utf-8")
    pdf = (folder / "report.pdf").read_bytes()
    assert not re.search(rb"file://|staging", pdf)


def test_a_missed_verdict_without_its_times_is_worded() -> None:
    from datetime import timedelta

    from collector.analysis.facts import Verdict
    from collector.analysis.impact import Objective
    from report.words import Words

    fields = Objective.__dataclass_fields__
    values = {name: None for name in fields}
    values.update(name="RTO", verdict=Verdict.MISSED)
    bare = Objective(**values)  # type: ignore[arg-type]
    assert Words("en").verdict(bare) == "MISSED" and Words("fr").verdict(bare) == "DÉPASSÉ"
    timed = Objective(
        **{**values, "target": timedelta(minutes=30), "actual": timedelta(minutes=38)}
    )  # type: ignore[arg-type]
    assert Words("en").verdict(timed) == "MISSED by 8 min"


@pytest.mark.slow
def test_finalize_does_not_hang_on_a_fifo_report(collect_bin: str, tmp_path: Path) -> None:
    import os

    out = tmp_path / "out"
    assert run_collect(collect_bin, ["--demo", "--out", str(out)], {}, tmp_path).returncode == 0
    report = out / "P7DBOOM" / "report.md"
    report.unlink()
    os.mkfifo(report)
    args = ["--finalize", "P7DBOOM", "--out", str(out)]
    done = run_collect(collect_bin, args, {}, tmp_path, timeout=60)
    line = assert_one_line_failure(done.stderr, done.stdout, done.returncode)
    assert "not a regular file" in line
