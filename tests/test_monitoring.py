"""The collector monitored the Prometheus way: /metrics, the textfile, and the alert rules."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
import requests
from chat_receiver import ChatReceiver
from conftest import DEMO_CONFIG, ROOT, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer
from prometheus_client.parser import text_string_to_metric_families
from test_webhook import SECRET, event, post, wait_for

from collector.config import load_config
from collector.jobs.webhook import WebhookReceiver

DEPLOY = ROOT / "config" / "deploy"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of an exposition, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: apt-get install prometheus"
    return subprocess.run(
        [binary, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_alert_rules_pass_promtool_check_and_their_unit_tests() -> None:
    checked = promtool("check", "rules", str(DEPLOY / "alert-rules.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout
    tested = promtool("test", "rules", str(DEPLOY / "alert-rules.test.yaml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def batch(
    collect_bin: str, env: dict[str, str], out: Path, metrics: Path
) -> subprocess.CompletedProcess[str]:
    window = f"{(date.today() - date(2025, 10, 20)).days}d"
    args = ["--resolved-since", window, "--config", str(DEMO_CONFIG), "--out", str(out)]
    return subprocess.run(
        [collect_bin, *args, "--metrics-file", str(metrics)],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env},
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.slow
def test_batch_runs_add_up_in_the_textfile(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    out, textfiles = tmp_path / "reports", tmp_path / "textfile"
    textfiles.mkdir()
    metrics = textfiles / "collector.prom"
    with ChatReceiver() as chat:
        env = {**environment(fresh_pd_sim, prometheus.url), "NOTIFY_WEBHOOK_URL": chat.url}
        before = time.time()
        first = batch(collect_bin, env, out, metrics)
        assert first.returncode == 0, first.stderr
        found = samples(metrics.read_text(encoding="utf-8"))
        drafts = "incident_collector_drafts_total"
        assert value(found, drafts, mode="batch", outcome="published") == 3
        assert value(found, drafts, mode="batch", outcome="skipped") == 0
        assert value(found, drafts, mode="batch", outcome="failed") == 0
        notices = "incident_collector_notices_total"
        assert value(found, notices, mode="batch", outcome="posted") == 3
        assert value(found, "incident_collector_notes_total", mode="batch", outcome="posted") == 0
        success = value(found, "incident_collector_last_success_timestamp_seconds", mode="batch")
        assert before <= success <= time.time()
        assert value(found, "incident_collector_last_run_duration_seconds", mode="batch") > 0
        assert value(found, "incident_collector_queue_depth", mode="batch") == 0
        lint = promtool("check", "metrics", stdin=metrics.read_text(encoding="utf-8"))
        assert lint.returncode == 0, lint.stdout + lint.stderr

        second = batch(collect_bin, env, out, metrics)  # nothing new: counters carry over
        assert second.returncode == 0, second.stderr
        again = samples(metrics.read_text(encoding="utf-8"))
        assert value(again, drafts, mode="batch", outcome="published") == 3
        assert value(again, drafts, mode="batch", outcome="skipped") == 3
        assert value(again, "incident_collector_runs_total", mode="batch", outcome="ok") == 2
        assert len(chat.posts) == 3

        fresh_pd_sim.inject(r"^/incidents$", 500, times=20)  # the listing fails
        third = batch(collect_bin, env, out, metrics)
    assert third.returncode == 1
    last = samples(metrics.read_text(encoding="utf-8"))
    assert value(last, "incident_collector_runs_total", mode="batch", outcome="failed") == 1
    kept = value(last, "incident_collector_last_success_timestamp_seconds", mode="batch")
    assert kept == value(again, "incident_collector_last_success_timestamp_seconds", mode="batch")
    assert sorted(p.name for p in textfiles.iterdir()) == ["collector.prom", "collector.prom.lock"]


def test_metrics_file_goes_with_batch_only(collect_bin: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [collect_bin, "--demo", "--out", str(tmp_path), "--metrics-file", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--metrics-file goes with --resolved-since" in result.stderr


def test_webhook_serves_metrics_beside_healthz(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    values = {**environment(pd_sim, prometheus.url), "PAGERDUTY_WEBHOOK_SECRET": SECRET}
    out = tmp_path / "reports"
    with WebhookReceiver(load_config(DEMO_CONFIG, values), out) as rx:
        base = f"http://127.0.0.1:{rx.port}"
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        page = requests.get(f"{base}/metrics", timeout=5)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/plain")
        found = samples(page.text)
        drafts = "incident_collector_drafts_total"
        assert value(found, drafts, mode="webhook", outcome="published") == 0
        assert any(name == "process_cpu_seconds_total" for name, _ in found)
        assert post(rx, event("PLOWURG")).status_code == 202
        wait_for(lambda: (out / "PLOWURG" / "report.md").exists())

        def counted() -> bool:
            now = samples(requests.get(f"{base}/metrics", timeout=5).text)
            return value(now, drafts, mode="webhook", outcome="published") == 1

        wait_for(counted)
        after = samples(requests.get(f"{base}/metrics", timeout=5).text)
    assert value(after, "incident_collector_queue_depth", mode="webhook") == 0
    assert value(after, "incident_collector_queue_failed_events", mode="webhook") == 0
    assert value(after, "incident_collector_last_success_timestamp_seconds", mode="webhook") > 0
