"""A final report outlives every later run: the scheduled batch and a webhook delivery for the
same incident leave it as it was signed, and the team's index shows it final (issue #27)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from conftest import DEMO_CONFIG
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer
from test_batch import NOW, WINDOW
from test_batch import make_config as batch_config
from test_webhook import event, post, queued, wait_for
from test_webhook import make_config as webhook_config

from collector.jobs.batch import run_batch
from collector.jobs.webhook import WebhookReceiver

# Slow throughout: batch and webhook runs over finalized reports.
pytestmark = pytest.mark.slow

FROZEN = ("report.md", "report.html", "report.pdf", "figures.json")


def _digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FROZEN}


def test_batch_and_webhook_leave_a_final_untouched(
    collect_bin: str, pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    first = run_batch(batch_config(pd_sim, prometheus.url), WINDOW, out, now=NOW)
    assert any(o.incident_id == "P7DBOOM" and o.status == "drafted" for o in first.outcomes)
    folder = out / "P7DBOOM"
    finalize = [
        collect_bin,
        "--finalize",
        "P7DBOOM",
        "--out",
        str(out),
        "--config",
        str(DEMO_CONFIG),
    ]
    done = subprocess.run(
        [*finalize, "--allow-incomplete"], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((folder / "figures.json").read_text(encoding="utf-8"))["status"] == "final"
    frozen = _digests(folder)

    # The scheduled job: the incident is drafted already, and final; nothing is replaced.
    again = run_batch(batch_config(pd_sim, prometheus.url), WINDOW, out, now=NOW)
    outcome = next(o for o in again.outcomes if o.incident_id == "P7DBOOM")
    assert outcome.status != "drafted", outcome
    assert _digests(folder) == frozen

    # A webhook delivery for it, once handled: a new draft may be kept beside, never over it.
    rx = WebhookReceiver(webhook_config(pd_sim, prometheus.url), out).start()
    try:
        assert post(rx, event("P7DBOOM")).status_code == 202
        wait_for(lambda: not queued(out), 60)
    finally:
        rx.stop()
    assert _digests(folder) == frozen
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "P7DBOOM/report.pdf" in index and ("final le" in index or "final on" in index)


def test_finalize_without_config_keeps_the_drafts_settings(
    collect_bin: str, tmp_path: Path
) -> None:
    # The demo is drafted with Europe/Paris; finalizing it with no --config must not lose that.
    out = tmp_path / "reports"
    drafted = subprocess.run(
        [collect_bin, "--demo", "--out", str(out)], capture_output=True, text=True, check=False
    )
    assert drafted.returncode == 0, drafted.stderr
    args = [collect_bin, "--finalize", "P7DBOOM", "--out", str(out), "--allow-incomplete"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Europe/Paris" in index and "16:32" in index, index
