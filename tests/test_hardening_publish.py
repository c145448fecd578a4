"""No published report is ever lost: poorer re-runs go aside, leftovers go, --out is checked."""

from __future__ import annotations

import errno
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DEMO_CONFIG, environment
from hardening_support import assert_one_line_failure, demo_data, fingerprint, run_collect
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.cli import main
from collector.parallel import usable_cores
from collector.records import Gap, GapKind, LostData, LostPart
from collector.snapshot.gaps import gap_record
from collector.snapshot.store import Snapshot, lost_data
from report.words import lost_line


def published(folder: Path) -> dict[str, str]:
    """The published report's files, without the drafts kept beside it."""
    return {k: v for k, v in fingerprint(folder).items() if not k.startswith("drafts/")}


def draft(collect_bin: str, env: dict[str, str], out: Path, *extra: str) -> tuple[int, str, str]:
    """Draft the demo incident from the servers; exit code, stdout, stderr."""
    args = ["--incident", "P7DBOOM", "--config", str(DEMO_CONFIG), "--out", str(out), *extra]
    result = run_collect(collect_bin, args, env, Path("/"))
    return result.returncode, result.stdout, result.stderr


@pytest.mark.slow
def test_poorer_reruns_never_replace_a_fuller_report(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    env = environment(fresh_pd_sim, prometheus.url)
    code, stdout, stderr = draft(collect_bin, env, out)
    assert code == 0, stderr
    folder = out / "P7DBOOM"
    before = published(folder)
    entries = len(
        json.loads((folder / "snapshot.json").read_text("utf-8"))["pagerduty"]["log_entries"]
    )

    # Prometheus down: every query fails where the published report has series.
    code, stdout, stderr = draft(collect_bin, {**env, "PROMETHEUS_URL": "http://127.0.0.1:9"}, out)
    assert code == 0, stderr
    assert "has more data than the new draft (query 'memory_used': 0 series instead of" in stdout
    assert published(folder) == before
    drafts = sorted((folder / "drafts").iterdir())
    assert len(drafts) == 1 and (drafts[0] / "report.md").exists()
    assert str(drafts[0] / "report.md") in stdout

    # PagerDuty fails on the log mid-run: fewer log entries than published.
    fresh_pd_sim.inject(r"/log_entries$", 500, times=20)
    code, stdout, stderr = draft(collect_bin, env, out)
    assert code == 0, stderr
    assert f"0 PagerDuty log entries instead of {entries}" in stdout
    assert published(folder) == before
    assert len(list((folder / "drafts").iterdir())) == 2

    # --force replaces it, keeping the fuller one as a backup.
    code, stdout, stderr = draft(
        collect_bin, {**env, "PROMETHEUS_URL": "http://127.0.0.1:9"}, out, "--force"
    )
    assert code == 0, stderr
    assert "replaced the report with more data" in stdout
    backups = list(out.glob("P7DBOOM.backup-*"))
    assert len(backups) == 1 and published(backups[0]) == before
    assert published(folder) != before


@pytest.mark.slow
def test_an_equal_rerun_still_replaces(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--demo", "--out", str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["--demo", "--out", str(tmp_path)])
    assert again.exit_code == 0 and "re-drafted" in again.stdout


@pytest.mark.slow
def test_single_runs_clean_staging_left_by_killed_runs(tmp_path: Path) -> None:
    for name in (".P7DBOOM.abc123.staging", ".POTHER.def456.staging"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "snapshot.json").write_bytes(b"x" * 1000)
    result = CliRunner().invoke(main, ["--demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob(".*.staging"))
    assert "removed .P7DBOOM.abc123.staging, left by an interrupted run" in result.stderr


@pytest.mark.parametrize("where", ["under-a-file", "sysfs"])
def test_unwritable_out_is_refused_before_fetching(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
    where: str,
) -> None:
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    out = tmp_path / "file.txt" / "out" if where == "under-a-file" else Path("/sys/collector-out")
    code, stdout, stderr = draft(collect_bin, environment(fresh_pd_sim, prometheus.url), out)
    line = assert_one_line_failure(stderr, stdout, code)
    assert f"--out {out}: cannot write there" in line
    assert fresh_pd_sim.requests == []


@pytest.mark.slow
def test_full_disk_is_one_line_and_leaves_the_published_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--demo", "--out", str(tmp_path)]).exit_code == 0
    before = fingerprint(tmp_path / "P7DBOOM")

    def full(snapshot: Any, path: Path) -> None:
        path.write_bytes(b"{half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("collector.jobs.draft.save_snapshot", full)
    result = runner.invoke(main, ["--demo", "--out", str(tmp_path)])
    line = assert_one_line_failure(result.stderr, result.stdout, result.exit_code)
    assert "no space left on the device" in line
    assert fingerprint(tmp_path / "P7DBOOM") == before
    assert not list(tmp_path.glob(".*.staging"))


def snapshot_of(data: dict[str, Any]) -> Snapshot:
    """A Snapshot record from raw snapshot JSON."""
    return Snapshot.from_json(data)


def said(new: dict[str, Any], published: dict[str, Any] | None) -> list[str]:
    """What the new snapshot lacks, as the CLI words it."""
    return [lost_line(lost) for lost in lost_data(snapshot_of(new), published)]


def test_one_rule_for_poorer_in_batch_and_single_mode() -> None:
    full = demo_data()
    assert said(demo_data(), full) == []
    assert said(demo_data(), None) == []
    no_log = demo_data()
    no_log["pagerduty"]["log_entries"] = []
    why = "PagerDuty answered HTTP 500"
    no_log["gaps"] = [gap_record(Gap("PagerDuty", "log_entries", GapKind.UNFETCHED, why))]
    entries = len(full["pagerduty"]["log_entries"])
    line = "PagerDuty log_entries: PagerDuty answered HTTP 500"
    assert said(no_log, None) == [line]  # batch: never publish it
    assert lost_data(snapshot_of(no_log), full)[0] == LostData(LostPart.LOG_ENTRIES, "", entries)
    assert said(no_log, full) == [f"0 PagerDuty log entries instead of {entries}", line]
    failed = demo_data()
    failed["prometheus"]["results"][1]["error"] = "Prometheus query failed: x"
    assert said(failed, full) == ["Prometheus query 'swap_used': Prometheus query failed: x"]
    fewer = demo_data()
    fewer["prometheus"]["results"][0]["result"] = []
    assert said(fewer, full)[0].startswith("query 'memory_used': 0 series instead")
    # What was already missing from the published report is not a loss.
    assert said(full, failed) == []


def test_a_published_snapshot_is_read_without_its_samples(tmp_path: Path) -> None:
    """A re-draft compares series counts only: the published samples are never held (a big
    incident's would double the memory of the draft)."""
    from collector.snapshot.store import read_published, save_snapshot

    snapshot = snapshot_of(demo_data())
    save_snapshot(snapshot, tmp_path / "snapshot.json")
    published = read_published(tmp_path / "snapshot.json")
    assert published is not None
    results = published["prometheus"]["results"]
    assert results and all("values" not in s for r in results for s in r.get("result") or ())
    assert sum(len(r.get("result") or ()) for r in results) > 0
    assert lost_data(snapshot, published) == []


# The demo drafted with snapshot.json written by a process forked for it (as a big incident's
# is), in a fresh interpreter: pytest's own threads would rule forking out. argv: out, pids,
# and "full" to make that process's disk full.
WRITTEN_BESIDE = """
import errno, os, sys
from pathlib import Path
import collector.jobs.draft as output
from collector.cli import main

out, pids, full = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "full"
output.WRITTEN_BESIDE_FROM = 0
real = output.save_snapshot

def save(snapshot, path):
    with pids.open("a") as f:
        f.write(f"{os.getpid()}\\n")
    if full:
        path.write_bytes(b"{half")
        raise OSError(errno.ENOSPC, "No space left on device")
    real(snapshot, path)

output.save_snapshot = save
pids.write_text(f"{os.getpid()}\\n")
main(["--demo", "--out", str(out)])
"""


@pytest.mark.slow
@pytest.mark.parametrize("disk", ["room", "full"])
def test_a_big_snapshot_is_written_beside_the_draft_and_its_failure_is_one_line(
    tmp_path: Path, disk: str
) -> None:
    if usable_cores() < 2 or not sys.platform.startswith("linux"):
        pytest.skip("one core or not Linux: snapshot.json is written in the draft's process")
    out, pids = tmp_path / "out", tmp_path / "pids"
    assert CliRunner().invoke(main, ["--demo", "--out", str(tmp_path / "here")]).exit_code == 0
    if disk == "full":
        assert CliRunner().invoke(main, ["--demo", "--out", str(out)]).exit_code == 0
    before = fingerprint(out / "P7DBOOM") if disk == "full" else {}
    done = subprocess.run(
        [sys.executable, "-c", WRITTEN_BESIDE, str(out), str(pids), disk],
        capture_output=True,
        text=True,
        timeout=120,
    )
    drafter, *writers = pids.read_text(encoding="utf-8").split()
    assert len(writers) == 1 and writers[0] != drafter  # a process of its own wrote it
    assert not list(out.glob(".*.staging"))
    if disk == "full":
        line = assert_one_line_failure(done.stderr, done.stdout, done.returncode)
        assert "no space left on the device" in line
        assert fingerprint(out / "P7DBOOM") == before
        return
    assert done.returncode == 0, done.stderr
    # The same bytes, but for when each draft was made (the settings it keeps say so).
    written, here = (
        re.sub(rb'"drafted_at":"[^"]*"', b"", (folder / "P7DBOOM" / "snapshot.json").read_bytes())
        for folder in (out, tmp_path / "here")
    )
    assert written == here and b'"settings":' in written


@pytest.mark.slow
def test_a_big_snapshot_that_cannot_be_forked_away_is_written_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork(job: Any, *, forks: bool = False) -> None:
        if forks:  # the chart drawer cannot be forked either: the charts are drawn here
            return None
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr("collector.jobs.draft.WRITTEN_BESIDE_FROM", 0)
    monkeypatch.setattr("collector.jobs.runner.start_background", no_fork)
    result = CliRunner().invoke(main, ["--demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    snapshot = json.loads((tmp_path / "P7DBOOM" / "snapshot.json").read_text(encoding="utf-8"))
    assert snapshot["incident_id"] == "P7DBOOM"
