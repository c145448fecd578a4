"""Bad input ends in one line naming the cause: snapshots, durations, templates, YAML, Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
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

from collector.cli import main
from collector.config import ConfigError, load_config
from collector.errors import SnapshotError
from collector.snapshot.store import load_snapshot


def damaged(change: str) -> dict[str, Any]:
    """The demo snapshot with one change applied: `path=json value` or `del path`."""
    data = demo_data()
    delete = change.startswith("del ")
    path, _, value = change.removeprefix("del ").partition("=")
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    target = data
    for key in keys[:-1]:
        target = target[key]
    if delete:
        del target[keys[-1]]
    else:
        target[keys[-1]] = json.loads(value)
    return data


SNAPSHOT_CASES = [
    (
        'pagerduty.log_entries.3.created_at="yesterday"',
        "pagerduty.log_entries[3].created_at: not a time",
    ),
    ("pagerduty.log_entries.0.created_at=1761400000", "log_entries[0].created_at: expected string"),
    ('pagerduty.incident.created_at="2025-13-45T00:00:00Z"', "incident.created_at: not a time"),
    ('pagerduty.incident.resolved_at="soon"', "incident.resolved_at"),
    ('collected_at="0001-01-01T00:00:00Z"', "collected_at: not a time"),
    ('collected_at="2025-10-25T14:32:00"', "collected_at: not a time"),
    ('pagerduty.incident.incident_number="1025"', "incident_number: expected integer or null"),
    ("pagerduty.incident.incident_number=1e30", "incident.incident_number"),
    ('pagerduty.incident.priority="P1"', "incident.priority: expected object or null"),
    ('pagerduty.incident.teams="Data"', "incident.teams: expected array or null"),
    ("pagerduty.incident.title=42", "incident.title: expected string or null"),
    ("pagerduty.log_entries.0.agent=5", "log_entries[0].agent"),
    ("pagerduty.log_entries={}", "pagerduty.log_entries: expected array"),
    ('pagerduty.alerts=["x"]', "pagerduty.alerts[0]: expected object"),
    ("del pagerduty.incident", "pagerduty: 'incident' is missing"),
    ("del pagerduty.incident.created_at", "pagerduty.incident: 'created_at' is missing"),
    ("del collected_at", "'collected_at' is missing"),
    ("del prometheus", "'prometheus' is missing"),
    ('gaps="none"', "gaps: expected array"),
    ("extra=1", "unknown field"),
    ('incident_id="P7DBOOM2"', "pagerduty.incident.id: differs from incident_id"),
    ('prometheus.padding_before_s="30m"', "padding_before_s: expected number"),
    ("prometheus.padding_before_s=1e300", "padding_before_s"),
    ('prometheus.range.start="then"', "prometheus.range.start: not a time"),
    ('prometheus.results.0.thresholds=["80"]', "results[0].thresholds[0]: expected number"),
    ("prometheus.results.0.thresholds=[1e300]", "results[0].thresholds[0]"),
    ('prometheus.results.0.result="weird"', "results[0].result: expected array"),
    ('prometheus.results.0.result.0.values.5=["x", "1"]', "result[0].values[5]: not a [time"),
    ('prometheus.results.0.result.0.values.5=[1e300, "1"]', "result[0].values[5]: not a [time"),
    ("prometheus.results.0.result.0.values.5=[1761400000, {}]", "result[0].values[5]"),
    ('prometheus.results.0.result.0.metric={"a": 1}', "result[0].metric.a: expected string"),
    ("prometheus.results.0.step=0", "results[0].step"),
    ('prometheus.results.0.kind="bogus"', "results[0].kind"),
    ('prometheus.results.1.name="memory_used"', "appears twice"),
    ('prometheus.results.0.name="../../x"', "results[0].name: not a valid name"),
    ("schema_version=3", "not a snapshot of version 2"),
]


@pytest.mark.parametrize(("change", "expected"), SNAPSHOT_CASES)
def test_damaged_snapshot_names_the_field(tmp_path: Path, change: str, expected: str) -> None:
    path = write_json(tmp_path / "snapshot.json", damaged(change))
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(path)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [b"[" * 100_000, b"\xff\xfe not utf-8", b'{"schema_version": 1, "n": ' + b"9" * 5000 + b"}"],
)
def test_unreadable_snapshot_text_is_one_error(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "snapshot.json"
    path.write_bytes(text)
    with pytest.raises(SnapshotError, match="not a snapshot"):
        load_snapshot(path)


def invoke(args: list[str]) -> tuple[int, str, str]:
    """Run the command in-process; exit code, stdout and stderr."""
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("index", [0, 7, 27])
def test_damaged_snapshot_on_the_command_line_is_one_line(tmp_path: Path, index: int) -> None:
    change, expected = SNAPSHOT_CASES[index]
    path = write_json(tmp_path / "snapshot.json", damaged(change))
    code, out, err = invoke(["--snapshot", str(path), "--out", str(tmp_path / "out")])
    assert expected in assert_one_line_failure(err, out, code)
    assert not (tmp_path / "out" / "P7DBOOM").exists()


@pytest.mark.slow
def test_hostile_units_and_states_are_escaped_in_markdown(tmp_path: Path) -> None:
    data = demo_data()
    hostile = "<b onmouseover=alert(1)>x</b>"
    for record in data["prometheus"]["results"]:
        record["unit"] = hostile if record["kind"] != "memory" else "%"
    data["pagerduty"]["incident"]["status"] = hostile
    data["pagerduty"]["incident"]["urgency"] = hostile
    for alert in data["pagerduty"]["alerts"]:
        alert["status"] = hostile
    data["prometheus"]["results"][0]["query"] = "up\n\n<script>x</script> `"
    config = tmp_path / "c.yaml"
    config.write_text("business:\n  currency: '<i>€</i>'\n  revenue_per_minute: 10\n", "utf-8")
    path = write_json(tmp_path / "snapshot.json", data)
    code, out, err = invoke(
        ["--snapshot", str(path), "--config", str(config), "--out", str(tmp_path)]
    )
    assert code == 0, err
    report = (tmp_path / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    code_span = "`up <script>x</script> '`"  # one line, one code span: shown as text
    assert code_span in report
    report = report.replace(code_span, "")
    for raw in ("<b onmouseover", "<i>", "<script>"):
        assert not re.search(rf"(?<!\\){re.escape(raw)}", report), raw
    assert "\\<b onmouseover=alert(1)\\>" in report
    html = (tmp_path / "P7DBOOM" / "report.html").read_text(encoding="utf-8")
    assert "<b onmouseover" not in html and "<script>x" not in html


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("prometheus:\n  lookback: 99999999999w\n", "key 'prometheus.lookback': duration"),
        ("prometheus:\n  padding_after: 600w\n", "at most 10 years"),
        ("batch:\n  created_lookback: 99999999999999999999w\n", "batch.created_lookback"),
        ("targets:\n  rto: 1e400s\n", "targets.rto"),
        ("prometheus:\n  timeout_seconds: .inf\n", "prometheus.timeout_seconds"),
        ("prometheus:\n  queries:\n    - {name: a, query: up, thresholds: [.nan]}\n", "finite"),
        ("business:\n  revenue_per_minute: .nan\n", "business.revenue_per_minute"),
    ],
)
def test_durations_and_numbers_are_bounded(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("window", "expected"),
    [("99999999999w", "at most 10 years"), ("100000w", "at most 10 years"), ("400w", "1830 days")],
)
def test_resolved_since_is_capped_before_any_request(
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
    window: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in environment(fresh_pd_sim, prometheus.url).items():
        monkeypatch.setenv(key, value)
    code, out, err = invoke(["--resolved-since", window, "--out", str(tmp_path)])
    assert expected in assert_one_line_failure(err, out, code, expected=2)
    assert fresh_pd_sim.requests == []


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "prometheus:\n  lookback: 4h\n  lookback: 5h\n",
            "line 3: key 'lookback' appears twice (first at line 2)",
        ),
        (
            "report: {}\nbatch: {}\nreport: {}\n",
            "line 3: key 'report' appears twice (first at line 1)",
        ),
        (
            "prometheus:\n  queries:\n    - name: mem\n      query: up\n"
            "    - name: cpu\n      query: up\n    - name: mem\n      query: down\n",
            "line 7: key 'prometheus.queries': query name 'mem' appears twice (first at line 3)",
        ),
    ],
)
def test_duplicate_keys_and_query_names_are_refused(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value) == f"{path}: {expected}"


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    text = "pagerduty:\n  <<: {timeout_seconds: 5, max_retries: 1}\n  timeout_seconds: 7\n"
    path.write_text(text, encoding="utf-8")
    assert load_config(path, {}).pagerduty.timeout == 7


def test_template_runtime_error_names_file_and_line(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text("# Report\n\n{{ 1/0 }}\n", encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text(f"report:\n  template_dir: {templates}\n", encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, err = invoke(["--demo", "--config", str(config), "--out", str(out)])
    line = assert_one_line_failure(err, stdout, code)
    assert f"{templates / 'report.md.j2'}:3" in line and "ZeroDivisionError" in line
    assert [name for name in fingerprint(out) if not name.endswith(".lock")] == []


def test_unexpected_errors_are_one_line_asking_for_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("collector.jobs.draft.publish_incident", broken)
    code, out, err = invoke(["--demo", "--out", str(tmp_path)])
    line = assert_one_line_failure(err, out, code)
    assert "unexpected RuntimeError: boom second line" in line and "please report it" in line


@pytest.fixture(scope="module")
def demo_seconds(collect_bin: str, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long a whole `collect --demo` takes on this machine (it ends sooner on a fast one):
    the faster of two runs, the first of which may find cold caches."""
    seconds = []
    for _ in range(2):
        out = tmp_path_factory.mktemp("timed-demo")
        started = time.perf_counter()
        command = [collect_bin, "--demo", "--out", str(out)]
        subprocess.run(command, capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    return min(seconds)


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5, 0.7])
def test_ctrl_c_during_start_up_is_one_line_and_130(
    collect_bin: str, tmp_path: Path, share: float, demo_seconds: float
) -> None:
    """A Ctrl-C at a share of a whole demo's time: while the libraries load, while the
    snapshot is read, while the draft is analysed or drawn."""
    process = subprocess.Popen(
        [collect_bin, "--demo", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(share * demo_seconds)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert_one_line_failure(err, out, process.returncode, expected=130)
    assert "interrupted" in err
    assert not list(tmp_path.glob(".*.staging"))


@pytest.mark.slow
def test_ctrl_c_while_fetching_is_one_line_and_130(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    fresh_pd_sim.delay = 1.0
    process = subprocess.Popen(
        [
            collect_bin,
            "--incident",
            "P7DBOOM",
            "--config",
            str(DEMO_CONFIG),
            "--out",
            str(tmp_path),
        ],
        env={"PATH": "/usr/bin:/bin", **environment(fresh_pd_sim, prometheus.url)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not fresh_pd_sim.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert_one_line_failure(err, out, process.returncode, expected=130)
    assert not (tmp_path / "P7DBOOM").exists()


@pytest.mark.slow
def test_extreme_but_finite_values_still_draft(tmp_path: Path) -> None:
    data = demo_data()
    for record in data["prometheus"]["results"]:
        for series in record["result"] + record.get("baseline_result", []):
            series["values"] = [
                [t, "1e300" if i % 2 else "-1e300"] for i, (t, _) in enumerate(series["values"])
            ]
        record["thresholds"] = [1e15, -1e15]
    path = write_json(tmp_path / "snapshot.json", data)
    code, out, err = invoke(["--snapshot", str(path), "--out", str(tmp_path / "out")])
    assert code == 0, err
    assert (tmp_path / "out" / "P7DBOOM" / "report.md").exists()


@pytest.mark.slow
def test_malformed_pagerduty_data_is_one_line(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    data = json.loads((FIXTURES / "pagerduty" / "P7DBOOM.json").read_text(encoding="utf-8"))
    data["incident"]["id"] = "PMALFORMED"
    data["incident"]["incident_number"] = 8888
    data["incident"]["service"] = 5
    fresh_pd_sim.add_incident(data)
    result = run_collect(
        collect_bin,
        ["--incident", "PMALFORMED", "--config", str(DEMO_CONFIG), "--out", str(tmp_path / "out")],
        environment(fresh_pd_sim, prometheus.url),
        tmp_path,
    )
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "PagerDuty answered malformed data: pagerduty.incident.service: expected object" in line
    assert not (tmp_path / "out" / "PMALFORMED").exists()
