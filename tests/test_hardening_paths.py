"""Names from a snapshot, a server or the command line never make a path outside --out."""

from __future__ import annotations

import json
from pathlib import Path

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

from collector.errors import OutputError
from collector.paths import incident_id_problem, path_under, shorten, slug


def victim(tmp_path: Path) -> Path:
    """A sibling of --out holding a file that must survive."""
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious", encoding="utf-8")
    return folder


def test_snapshot_incident_id_cannot_reach_a_sibling_folder(
    collect_bin: str, tmp_path: Path
) -> None:
    kept = victim(tmp_path)
    data = demo_data()
    data["incident_id"] = "../victim"
    data["pagerduty"]["incident"]["id"] = "../victim"
    snapshot = write_json(tmp_path / "hostile.json", data)
    out = tmp_path / "out"
    result = run_collect(
        collect_bin, ["--snapshot", str(snapshot), "--out", str(out)], {}, tmp_path
    )
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "incident_id" in line
    assert fingerprint(kept) == {"keep.txt": fingerprint(kept)["keep.txt"]}
    assert (kept / "keep.txt").read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.json", "out", "victim"]


def test_snapshot_query_name_cannot_write_a_chart_outside(collect_bin: str, tmp_path: Path) -> None:
    data = demo_data()
    data["prometheus"]["results"][0]["name"] = "../../../x"
    snapshot = write_json(tmp_path / "hostile.json", data)
    out = tmp_path / "a" / "b" / "out"
    result = run_collect(
        collect_bin, ["--snapshot", str(snapshot), "--out", str(out)], {}, tmp_path
    )
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "prometheus.results[0].name" in line
    assert not list(tmp_path.rglob("x.png"))
    assert not list(tmp_path.rglob("*.png"))


@pytest.mark.slow
def test_incident_id_answered_by_pagerduty_is_checked(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    data = json.loads((FIXTURES / "pagerduty" / "P7DBOOM.json").read_text(encoding="utf-8"))
    data["incident"]["id"] = "../PWNED"
    data["incident"]["incident_number"] = 7777
    fresh_pd_sim.add_incident(data)
    out = tmp_path / "out"
    result = run_collect(
        collect_bin,
        ["--incident", "7777", "--config", str(DEMO_CONFIG), "--out", str(out)],
        environment(fresh_pd_sim, prometheus.url),
        tmp_path,
    )
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "'../PWNED' is not a PagerDuty ID" in line
    assert not list(tmp_path.rglob("PWNED*"))
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p for p in out.iterdir() if not p.name.startswith(".write-test")] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("incident", "expected"),
    [
        ("../../etc", "is not a PagerDuty incident ID"),
        ("?x=1", "is not a PagerDuty incident ID"),
        ("4711/../4711", "is not a PagerDuty incident ID"),
        ("P7D BOOM", "is not a PagerDuty incident ID"),
        ("", "the incident ID is empty"),
        ("   ", "the incident ID is empty"),
        ("A" * 5000, "is too long"),
        ("%2e%2e", "is not a PagerDuty incident ID"),
    ],
)
def test_bad_incident_ids_are_refused_before_any_request(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
    incident: str,
    expected: str,
) -> None:
    out = tmp_path / "out"
    result = run_collect(
        collect_bin,
        ["--incident", incident, "--config", str(DEMO_CONFIG), "--out", str(out)],
        environment(fresh_pd_sim, prometheus.url),
        tmp_path,
    )
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode, expected=2)
    assert expected in line
    assert len(line) < 200, "a long ID is not echoed back in full"
    assert fresh_pd_sim.requests == []
    assert not out.exists()


@pytest.mark.parametrize("relative", ["../x", "/etc/passwd", "a/../../x", ".", "charts/../.."])
def test_path_under_refuses_what_leaves_the_root(tmp_path: Path, relative: str) -> None:
    with pytest.raises(OutputError, match="would land outside"):
        path_under(tmp_path, relative)


def test_path_under_keeps_what_stays_inside(tmp_path: Path) -> None:
    assert path_under(tmp_path, "charts/memory_used.png") == tmp_path / "charts/memory_used.png"


def test_path_under_sees_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "charts").symlink_to(tmp_path)
    with pytest.raises(OutputError):
        path_under(tmp_path / "root", "charts/x.png")


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", "db-01:9100", "é\n\x00", ""])
def test_slugs_are_plain_file_names(name: str) -> None:
    text = slug(name)
    assert text and all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in text)


def test_ids_and_numbers_are_accepted_and_long_values_shortened() -> None:
    assert incident_id_problem("P7DBOOM") is None
    assert incident_id_problem("1025") is None
    assert len(shorten("x" * 5000)) < 70
