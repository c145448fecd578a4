"""Batch mode against the PagerDuty simulator and the demo Prometheus: exactly once, always."""

from __future__ import annotations

import errno
import json
import os
import pty
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CONFIG, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.config import Config, ConfigError, load_config
from collector.jobs import batch, index
from collector.jobs.batch import BatchSummary, DraftStatus, Outcome, run_batch
from collector.output import is_edited

# Slow throughout: each test drafts incidents from the simulator, several runs at once.
pytestmark = pytest.mark.slow

ALL = ["P7DBOOM", "PBIGLOG", "PLOWURG"]  # the fixtures, in the order they were resolved
NOW = datetime(2025, 11, 6, tzinfo=timezone.utc)
WINDOW = timedelta(days=14)  # resolves from 2025-10-25 to 2025-11-05
REPORT_FILES = ("report.md", "report.html", "snapshot.json", "timeline.csv", ".collector.json")


def make_config(sim: PagerDutySimulator, prometheus_url: str, **batch: Any) -> Config:
    config = load_config(DEMO_CONFIG, environment(sim, prometheus_url))
    return replace(config, batch=replace(config.batch, **batch))


def statuses(summary: BatchSummary) -> dict[str, str]:
    return {o.incident_id: o.status for o in summary.outcomes}


def summary_of(stdout: str) -> dict[str, Any]:
    """The machine-readable line: the last line of stdout."""
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("summary: "), stdout
    data: dict[str, Any] = json.loads(last.removeprefix("summary: "))
    return data


def detail_requests(sim: PagerDutySimulator, incident_id: str) -> int:
    """How many times an incident was fetched (once per collected snapshot)."""
    return sum(1 for r in sim.requests if r.path == f"/incidents/{incident_id}")


def published(out: Path) -> list[str]:
    """Incidents with a report in place (a staging folder's report.md is not one)."""
    return sorted(p.parent.name for p in out.glob("*/report.md") if p.parts[-2][0] != ".")


def leftovers(out: Path) -> list[str]:
    """Staging folders and half-swapped folders that a finished run must not leave."""
    return [p.name for p in out.iterdir() if p.name.endswith((".staging", ".old"))]


def assert_complete(out: Path, incident_id: str) -> None:
    folder = out / incident_id
    for name in REPORT_FILES:
        assert (folder / name).is_file(), f"{folder / name} is missing"
    assert not is_edited(folder), "report.md does not match the hash written with it"
    assert not (folder / "drafts").exists(), "a second draft was written beside the report"
    snapshot = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    assert snapshot["incident_id"] == incident_id
    assert (folder / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def cli_window() -> str:
    """A --resolved-since that reaches back to the fixtures from today's real clock."""
    return f"{(date.today() - date(2025, 10, 20)).days}d"


def cli_env(sim: PagerDutySimulator, prometheus: PrometheusServer) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **environment(sim, prometheus.url)}


def cli_args(collect_bin: str, out: Path) -> list[str]:
    config = str(DEMO_CONFIG)
    return [collect_bin, "--resolved-since", cli_window(), "--config", config, "--out", str(out)]


def run_cli(
    collect_bin: str, sim: PagerDutySimulator, prometheus: PrometheusServer, out: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_args(collect_bin, out),
        env=cli_env(sim, prometheus),
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def drafted(
    pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """An out dir where a first run drafted the three incidents; copy it before changing it."""
    out = tmp_path_factory.mktemp("drafted") / "reports"
    summary = run_batch(make_config(pd_sim, prometheus.url), WINDOW, out, now=NOW)
    assert statuses(summary) == dict.fromkeys(ALL, "drafted"), summary.report_lines()
    return out


def copy_of(drafted: Path, tmp_path: Path) -> Path:
    out = tmp_path / "reports"
    shutil.copytree(drafted, out)
    return out


def test_first_run_drafts_each_resolved_incident_with_a_summary(drafted: Path) -> None:
    for incident_id in ALL:
        assert_complete(drafted, incident_id)
    assert leftovers(drafted) == []
    # The index, rebuilt once when the workers are done, lists every draft.
    index = (drafted / "index.html").read_text(encoding="utf-8")
    assert all(f'<td data-label="ID" class="id">{incident_id}</td>' in index for incident_id in ALL)


def test_rerun_drafts_nothing_and_fetches_no_incident(
    fresh_pd_sim: PagerDutySimulator, prometheus: PrometheusServer, drafted: Path, tmp_path: Path
) -> None:
    out = copy_of(drafted, tmp_path)
    before = {i: (out / i / "report.md").read_bytes() for i in ALL}
    summary = run_batch(make_config(fresh_pd_sim, prometheus.url), WINDOW, out, now=NOW)
    assert statuses(summary) == dict.fromkeys(ALL, "skipped")
    assert summary.ok
    assert json.loads(summary.summary_line().removeprefix("summary: ")) == {
        "drafted": 0,
        "skipped": 3,
        "failed": 0,
        "filtered": 0,
        "listing_error": None,
    }
    assert {i: (out / i / "report.md").read_bytes() for i in ALL} == before
    assert {r.path for r in fresh_pd_sim.requests} == {"/incidents"}  # listing only


def test_report_a_person_edited_is_never_touched(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, drafted: Path, tmp_path: Path
) -> None:
    out = copy_of(drafted, tmp_path)
    report = out / "PLOWURG" / "report.md"
    edited = report.read_text(encoding="utf-8") + "\nRoot cause: a person wrote this.\n"
    report.write_text(edited, encoding="utf-8")
    summary = run_batch(make_config(pd_sim, prometheus.url), WINDOW, out, now=NOW)
    outcome = next(o for o in summary.outcomes if o.incident_id == "PLOWURG")
    assert (outcome.status, outcome.reason) == (
        "skipped",
        "already drafted; edited by a person, untouched",
    )
    assert report.read_text(encoding="utf-8") == edited
    assert not (out / "PLOWURG" / "drafts").exists()


def test_two_runs_at_once_draft_each_incident_once(
    fresh_pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    fresh_pd_sim.delay = 0.05  # stretch the runs so that they overlap incident by incident
    config = make_config(fresh_pd_sim, prometheus.url)
    out = tmp_path / "reports"
    start = threading.Barrier(2)
    results: list[BatchSummary] = []

    def one_run() -> None:
        start.wait()
        results.append(run_batch(config, WINDOW, out, now=NOW))

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [o for summary in results for o in summary.outcomes]
    for incident_id in ALL:
        mine = sorted(o.status for o in outcomes if o.incident_id == incident_id)
        assert mine == ["drafted", "skipped"], incident_id
        assert detail_requests(fresh_pd_sim, incident_id) == 1  # collected once, not twice
        assert_complete(out, incident_id)
    assert leftovers(out) == []


def test_overlapping_cron_processes_draft_each_incident_once(
    collect_bin: str, fresh_pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    fresh_pd_sim.delay = 0.05
    out = tmp_path / "reports"
    env = cli_env(fresh_pd_sim, prometheus)
    runs = [
        subprocess.Popen(
            cli_args(collect_bin, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    counts = [summary_of(stdout.decode()) for stdout, _ in outputs]
    assert sum(c["drafted"] for c in counts) == 3
    assert sum(c["skipped"] for c in counts) == 3
    for incident_id in ALL:
        assert detail_requests(fresh_pd_sim, incident_id) == 1
        assert_complete(out, incident_id)
    assert leftovers(out) == []


def test_failing_incident_does_not_stop_the_others_and_fails_the_exit_status(
    collect_bin: str, fresh_pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    fresh_pd_sim.inject(r"^/incidents/PBIGLOG$", "malformed")  # a body cut mid-string
    result = run_cli(collect_bin, fresh_pd_sim, prometheus, out)
    assert result.returncode == 1, result.stderr
    assert summary_of(result.stdout) == {
        "drafted": 2,
        "skipped": 0,
        "failed": 1,
        "filtered": 0,
        "listing_error": None,
    }
    assert (
        "failed: PBIGLOG: PagerDuty answered /incidents/PBIGLOG with a body that is not JSON"
        in (result.stdout)
    )
    assert "[2/3] failed PBIGLOG" in result.stderr  # plain progress lines when not on a terminal
    assert not (out / "PBIGLOG").exists()
    assert_complete(out, "P7DBOOM")
    assert_complete(out, "PLOWURG")
    again = run_cli(collect_bin, fresh_pd_sim, prometheus, out)  # the next scheduled run
    assert again.returncode == 0, again.stderr
    assert summary_of(again.stdout)["drafted"] == 1
    assert_complete(out, "PBIGLOG")


def test_missing_log_is_retried_next_run_missing_alerts_only_noted(
    fresh_pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    config = make_config(fresh_pd_sim, prometheus.url)
    fresh_pd_sim.inject(r"^/incidents/P7DBOOM/alerts$", "malformed")
    # As many 500s as the client makes attempts (1 + max_retries: 2): the next run gets through.
    fresh_pd_sim.inject(r"^/incidents/PLOWURG/log_entries$", 500, times=3)
    summary = run_batch(config, WINDOW, out, now=NOW)
    failed = [o for o in summary.outcomes if o.status == "failed"]
    assert [o.incident_id for o in failed] == ["PLOWURG"]
    assert "PagerDuty log_entries: PagerDuty answered HTTP 500" in failed[0].reason
    assert not summary.ok
    assert not (out / "PLOWURG").exists()  # a report without its log would never be redone
    drafted_p7 = next(o for o in summary.outcomes if o.incident_id == "P7DBOOM")
    assert drafted_p7.status == "drafted" and "(with 1 missing-data note)" in drafted_p7.reason
    report = (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert "Liste PagerDuty alerts : échec de la collecte — PagerDuty answered" in report
    assert [r.status for r in fresh_pd_sim.requests if r.path.endswith("log_entries")].count(
        500
    ) == 3
    assert statuses(run_batch(config, WINDOW, out, now=NOW))["PLOWURG"] == "drafted"


def test_killed_run_completes_on_restart_without_duplicates_or_half_reports(
    collect_bin: str, fresh_pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    fresh_pd_sim.delay = 0.1  # slow enough to be caught between two incidents
    out = tmp_path / "reports"
    run = subprocess.Popen(
        cli_args(collect_bin, out),
        env=cli_env(fresh_pd_sim, prometheus),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not published(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait(timeout=10) == -signal.SIGKILL
    first = published(out)
    assert 1 <= len(first) < 3, "the run was not killed mid-way"
    # What a kill during rendering leaves: a staging folder with half a report in it.
    (out / ".PLOWURG.k1ll3d.staging").mkdir()
    (out / ".PLOWURG.k1ll3d.staging" / "report.md").write_text("# half", encoding="utf-8")
    fresh_pd_sim.delay = 0.0
    result = run_cli(collect_bin, fresh_pd_sim, prometheus, out)
    assert result.returncode == 0, result.stderr
    assert "removed .PLOWURG.k1ll3d.staging" in result.stderr
    assert summary_of(result.stdout)["drafted"] == 3 - len(first)
    assert summary_of(result.stdout)["skipped"] == len(first)
    for incident_id in ALL:
        assert_complete(out, incident_id)
        assert detail_requests(fresh_pd_sim, incident_id) <= 2  # killed once at most
    assert leftovers(out) == []


def test_terminal_gets_a_progress_bar_instead_of_lines(
    collect_bin: str,
    pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    drafted: Path,
    tmp_path: Path,
) -> None:
    out = copy_of(drafted, tmp_path)
    terminal, stderr = pty.openpty()
    try:
        result = subprocess.run(
            cli_args(collect_bin, out),
            env=cli_env(pd_sim, prometheus),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(stderr)
    shown = read_terminal(terminal)
    assert result.returncode == 0
    assert "drafting" in shown and "3/3" in shown
    assert "[1/3]" not in shown
    assert summary_of(result.stdout)["skipped"] == 3


def read_terminal(fd: int) -> str:
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:  # EIO: the other end is closed and everything has been read
        pass
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("batch", "selected", "filtered"),
    [
        ({"services": ("PSVCPG1",)}, ["P7DBOOM"], 0),
        ({"teams": ("PTMDATA",)}, ["P7DBOOM", "PLOWURG"], 0),
        ({"urgencies": ("low",)}, ["PLOWURG"], 0),
        ({"min_priority": "P3"}, ["P7DBOOM", "PLOWURG"], 1),  # PBIGLOG has no priority
        ({"min_priority": "P2"}, ["P7DBOOM"], 2),
        ({"teams": ("PTMDATA",), "min_priority": "P1"}, ["P7DBOOM"], 1),
    ],
)
def test_filters_select_incidents(
    pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    drafted: Path,
    tmp_path: Path,
    batch: dict[str, Any],
    selected: list[str],
    filtered: int,
) -> None:
    out = copy_of(drafted, tmp_path)  # everything drafted: the outcomes show the selection
    summary = run_batch(make_config(pd_sim, prometheus.url, **batch), WINDOW, out, now=NOW)
    assert [o.incident_id for o in summary.outcomes] == selected
    assert summary.filtered == filtered


def test_window_leaves_out_older_resolves(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, drafted: Path, tmp_path: Path
) -> None:
    out = copy_of(drafted, tmp_path)
    config = make_config(pd_sim, prometheus.url)
    summary = run_batch(config, timedelta(days=2), out, now=NOW)  # since 2025-11-04
    assert [o.incident_id for o in summary.outcomes] == ["PLOWURG"]


def test_unusable_min_priority_names_the_key(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    config = make_config(pd_sim, prometheus.url, min_priority="urgent")
    with pytest.raises(ConfigError, match="key 'batch.min_priority': expected a priority name"):
        run_batch(config, WINDOW, tmp_path, now=NOW)


def test_listing_failure_is_reported_and_fails_the_run(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    config = load_config(DEMO_CONFIG, environment(pd_sim, prometheus.url, token="wrong-token"))
    summary = run_batch(config, WINDOW, tmp_path, now=NOW)
    assert not summary.ok and summary.outcomes == []
    assert summary.listing_error is not None and "PAGERDUTY_API_TOKEN" in summary.listing_error
    assert summary.report_lines()[-1].startswith("failed: listing resolved incidents: ")
    assert json.loads(summary.summary_line().removeprefix("summary: "))["listing_error"]


def listed(out: Path) -> list[str]:
    """The incident IDs OUT/index.html lists."""
    page = (out / "index.html").read_text(encoding="utf-8")
    return [i for i in ALL if f'<td data-label="ID" class="id">{i}</td>' in page]


def test_the_index_is_rebuilt_once_at_the_end_and_after_a_failed_draft(
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "reports"
    fresh_pd_sim.inject(r"^/incidents/PBIGLOG$", "malformed")
    rebuilt_with: list[list[str]] = []  # the reports in place at each rebuild
    rebuild = index.rebuild_index

    def counted(out_dir: Path, config: Config) -> Path:
        rebuilt_with.append(published(out_dir))
        return rebuild(out_dir, config)

    monkeypatch.setattr(index, "rebuild_index", counted)
    # One drafting process, this one, so that every rebuild is counted.
    config = make_config(fresh_pd_sim, prometheus.url, workers=1)
    summary = run_batch(config, WINDOW, out, now=NOW)
    assert statuses(summary) == {"P7DBOOM": "drafted", "PBIGLOG": "failed", "PLOWURG": "drafted"}
    assert rebuilt_with == [["P7DBOOM", "PLOWURG"]]
    assert listed(out) == ["P7DBOOM", "PLOWURG"]
    assert summary.index_warning is None
    assert not any("index.html" in line for line in summary.report_lines())


def test_an_interrupted_batch_still_lists_what_it_drafted(
    fresh_pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"

    def interrupt_after_the_first(line: str) -> None:
        if line.startswith("[1/3]"):
            raise KeyboardInterrupt  # a Ctrl-C between two drafts

    config = make_config(fresh_pd_sim, prometheus.url, workers=1)
    with pytest.raises(KeyboardInterrupt):
        run_batch(config, WINDOW, out, now=NOW, progress=interrupt_after_the_first)
    assert len(published(out)) == 1
    assert listed(out) == published(out)


def test_an_index_that_cannot_be_written_is_one_warning_for_the_batch(
    pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def drafted(_config: Config, _out: Path, incident_id: str, **_: Any) -> Outcome:
        return Outcome(incident_id, DraftStatus.DRAFTED, "drafted")

    def full_disk(_out: Path, _config: Config) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(batch, "draft_once", drafted)
    monkeypatch.setattr(index, "rebuild_index", full_disk)
    out = tmp_path / "reports"
    config = make_config(pd_sim, prometheus.url, workers=1)
    summary = run_batch(config, WINDOW, out, now=NOW)
    assert statuses(summary) == dict.fromkeys(ALL, "drafted")
    warning = f"warning: {out / 'index.html'} was not updated (No space left on device)"
    assert [line for line in summary.report_lines() if "index.html" in line] == [warning]
    assert summary.ok  # the reports are in place: the index costs a warning, not the run


@pytest.mark.parametrize(
    ("setting", "cores", "incidents", "processes"),
    [
        (None, 2, 200, 3),  # one more than the cores: one waits on a server, two draw
        (None, 1, 200, 1),  # one core: one at a time, in this process (the least memory)
        (None, 16, 200, 4),  # MAX_WORKERS: each holds a few hundred MiB
        (None, 2, 1, 1),
        (6, 2, 200, 6),  # batch.workers as set, past the default's cap (the settings allow 8)
        (1, 8, 200, 1),
        (3, 2, 0, 1),
    ],
)
def test_a_batch_drafts_one_incident_more_than_the_cores_at_once(
    setting: int | None, cores: int, incidents: int, processes: int
) -> None:
    assert batch.drafting_processes(setting, cores, incidents) == processes
