"""The webhook receiver over real HTTP on loopback, drafting from the simulator and Prometheus."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import DEMO_CONFIG, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.config import Config, ConfigError, WebhookSettings, load_config
from collector.jobs.webhook import WebhookReceiver
from collector.jobs.webhook_http import MAX_BODY
from collector.jobs.webhook_queue import FAILED_DIR, QUEUE_DIR

SECRET = "whsec-test-0123456789"
OLD_SECRET = "whsec-old-secret"

Receiver = Callable[..., WebhookReceiver]


def sign(body: bytes, secret: str = SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event(incident_id: str = "P7DBOOM", event_type: str = "incident.resolved") -> bytes:
    data = {"id": incident_id, "type": "incident", "number": 1025, "status": "resolved"}
    body = {"event": {"id": f"ev-{incident_id}", "event_type": event_type, "data": data}}
    return json.dumps(body).encode()


def post(
    rx: WebhookReceiver,
    body: bytes,
    signature: str | None = "sign",
    webhook_id: str = "wh-1",
) -> requests.Response:
    headers = {"Content-Type": "application/json", "X-Webhook-Id": webhook_id}
    if signature is not None:
        headers["X-PagerDuty-Signature"] = sign(body) if signature == "sign" else signature
    return requests.post(f"http://127.0.0.1:{rx.port}/", data=body, headers=headers, timeout=10)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def drafted(out: Path, incident_id: str) -> bool:
    return (out / incident_id / "report.md").exists()


def queued(out: Path) -> list[str]:
    return sorted(p.name for p in (out / QUEUE_DIR).glob("*.json"))


def make_config(sim: PagerDutySimulator, prometheus_url: str, **env: str) -> Config:
    values = {**environment(sim, prometheus_url), "PAGERDUTY_WEBHOOK_SECRET": SECRET, **env}
    return load_config(DEMO_CONFIG, values)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "reports"


@pytest.fixture
def receiver(prometheus: PrometheusServer, out: Path) -> Iterator[Receiver]:
    """Start receivers on 127.0.0.1, port 0; every one is stopped at the end of the test."""
    started: list[WebhookReceiver] = []

    def start(sim: PagerDutySimulator, **options: Any) -> WebhookReceiver:
        rx = WebhookReceiver(make_config(sim, prometheus.url), out, **options).start()
        started.append(rx)
        return rx

    yield start
    for rx in started:
        rx.stop()


@pytest.mark.slow
def test_signed_incident_resolved_is_accepted_then_drafted(
    receiver: Receiver, pd_sim: PagerDutySimulator, out: Path
) -> None:
    rx = receiver(pd_sim)
    response = post(rx, event("P7DBOOM"))
    assert response.status_code == 202
    assert response.json()["message"] == "queued P7DBOOM"
    wait_for(lambda: drafted(out, "P7DBOOM") and not queued(out))
    assert (out / "P7DBOOM" / "snapshot.json").is_file()
    assert "P7DBOOM/report.html" in (out / "index.html").read_text(encoding="utf-8")
    assert requests.get(f"http://127.0.0.1:{rx.port}/healthz", timeout=5).status_code == 200


def test_rotated_secrets_any_matching_signature_is_accepted(
    receiver: Receiver, pd_sim: PagerDutySimulator, out: Path
) -> None:
    rx = receiver(pd_sim)
    body = event("PLOWURG")
    rotated = f"{sign(body, OLD_SECRET)},{sign(body)}"  # old and new secret, as during rotation
    assert post(rx, body, rotated).status_code == 202
    wait_for(lambda: drafted(out, "PLOWURG"))


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "v1=" + "0" * 64,
        sign(event("P7DBOOM"), OLD_SECRET),
        sign(event("PLOWURG")),  # a real signature, of another body
        sign(event("P7DBOOM")).replace("v1=", "v0="),
        f"v1={'0' * 64},v1=not-hex-at-all",
        "v1=é",
    ],
)
def test_unsigned_or_badly_signed_is_401(
    receiver: Receiver, pd_sim: PagerDutySimulator, out: Path, signature: str | None
) -> None:
    rx = receiver(pd_sim)
    response = post(rx, event("P7DBOOM"), signature)
    assert response.status_code == 401
    assert "X-PagerDuty-Signature" in response.json()["message"]
    assert queued(out) == []


def test_oversized_body_is_413(receiver: Receiver, pd_sim: PagerDutySimulator, out: Path) -> None:
    rx = receiver(pd_sim)
    body = event("P7DBOOM")[:-2] + b', "pad": "' + b"x" * MAX_BODY + b'"}}'
    response = post(rx, body)  # correctly signed: size is checked before anything else
    assert response.status_code == 413
    assert queued(out) == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": {"id": "e1", "event_type": "incident.resol',
        b"\xff\xfe not utf-8",
        b"[]",
        b'{"messages": []}',
        json.dumps({"event": {"id": "e", "event_type": "incident.resolved"}}).encode(),
        json.dumps(
            {"event": {"id": "e", "event_type": "incident.resolved", "data": {"type": "service"}}}
        ).encode(),
        event("../../etc"),
    ],
)
def test_malformed_or_not_an_incident_event_is_400(
    receiver: Receiver, pd_sim: PagerDutySimulator, out: Path, body: bytes
) -> None:
    rx = receiver(pd_sim)
    assert post(rx, body).status_code == 400
    assert queued(out) == []


def test_other_event_types_are_acknowledged_and_ignored(
    receiver: Receiver, pd_sim: PagerDutySimulator, out: Path
) -> None:
    rx = receiver(pd_sim)
    response = post(rx, event("P7DBOOM", "incident.triggered"))
    assert response.status_code == 202  # a 4xx would count as a failed delivery at PagerDuty
    assert response.json()["message"].startswith("ignored: incident.triggered")
    assert queued(out) == [] and not drafted(out, "P7DBOOM")


def test_replayed_delivery_is_drafted_once(
    receiver: Receiver, fresh_pd_sim: PagerDutySimulator, out: Path
) -> None:
    rx = receiver(fresh_pd_sim)
    body = event("PLOWURG")
    answers = [post(rx, body, webhook_id="wh-replay") for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert answers[0].json()["message"] == "queued PLOWURG"
    assert answers[1].json()["message"] in (
        "duplicate event ev-PLOWURG",
        "PLOWURG is already drafted",
    )
    wait_for(lambda: drafted(out, "PLOWURG") and not queued(out))
    later = post(rx, body, webhook_id="wh-replay")
    other_id = post(rx, body, webhook_id="wh-another-delivery")  # same incident, new delivery
    assert later.json()["message"] == other_id.json()["message"] == "PLOWURG is already drafted"
    time.sleep(0.2)
    assert sum(1 for r in fresh_pd_sim.requests if r.path == "/incidents/PLOWURG") == 1
    assert not (out / "PLOWURG" / "drafts").exists()


@pytest.mark.slow
def test_answers_within_the_5_second_budget_and_drafts_in_the_background(
    receiver: Receiver, fresh_pd_sim: PagerDutySimulator, out: Path
) -> None:
    fresh_pd_sim.delay = 1.0  # every PagerDuty call takes a second: a draft takes several
    rx = receiver(fresh_pd_sim)
    started = time.monotonic()
    response = post(rx, event("P7DBOOM"))
    elapsed = time.monotonic() - started
    assert response.status_code == 202
    assert elapsed < 1.0, f"answered after {elapsed:.2f} s"
    assert not drafted(out, "P7DBOOM")  # the answer did not wait for the draft
    wait_for(lambda: drafted(out, "P7DBOOM"))
    assert time.monotonic() - started > 2.0


@pytest.mark.slow
def test_stop_finishes_the_current_draft_and_a_restart_drafts_what_was_pending(
    receiver: Receiver, fresh_pd_sim: PagerDutySimulator, out: Path
) -> None:
    fresh_pd_sim.delay = 0.3
    first = receiver(fresh_pd_sim)
    assert post(first, event("P7DBOOM"), webhook_id="wh-a").status_code == 202
    assert post(first, event("PLOWURG"), webhook_id="wh-b").status_code == 202
    first.stop()  # returns once the draft in progress (if any) is published
    started = any(r.path == "/incidents/P7DBOOM" for r in fresh_pd_sim.requests)
    pending = queued(out)
    assert "ev-PLOWURG.json" in pending and not drafted(out, "PLOWURG")
    assert drafted(out, "P7DBOOM") == started  # a draft begun is finished before stop() returns
    assert ("ev-P7DBOOM.json" in pending) != started  # otherwise it waits in the queue, not lost
    assert list(out.glob(".*.staging")) == []
    fresh_pd_sim.delay = 0.0
    receiver(fresh_pd_sim)  # a new process, as after a restart: only the disk is shared
    wait_for(lambda: drafted(out, "P7DBOOM") and drafted(out, "PLOWURG") and not queued(out))


def test_failing_draft_is_retried_then_set_aside_with_its_reason(
    receiver: Receiver, fresh_pd_sim: PagerDutySimulator, out: Path
) -> None:
    fresh_pd_sim.inject(r"^/incidents/PLOWURG$", "malformed", times=2)
    rx = receiver(fresh_pd_sim, retry_delays=(0.1,))  # one retry, then failed for good
    assert post(rx, event("PLOWURG"), webhook_id="wh-fail").status_code == 202
    failed = out / FAILED_DIR / "ev-PLOWURG.json"
    wait_for(failed.exists)
    record = json.loads(failed.read_text(encoding="utf-8"))
    assert record["incident_id"] == "PLOWURG" and record["attempts"] == 2
    assert "not JSON" in record["last_error"]
    assert queued(out) == [] and not drafted(out, "PLOWURG")
    replay = post(rx, event("PLOWURG"), webhook_id="wh-fail-again")
    assert replay.json()["message"] == "duplicate event ev-PLOWURG"  # not retried forever


def test_missing_secret_refuses_to_start(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, out: Path
) -> None:
    config = make_config(pd_sim, prometheus.url, PAGERDUTY_WEBHOOK_SECRET="")
    with pytest.raises(ConfigError, match="^PAGERDUTY_WEBHOOK_SECRET is not set: "):
        WebhookReceiver(config, out)
    config = replace(config, webhook=WebhookSettings(secret=SECRET))
    with pytest.raises(ConfigError, match="PAGERDUTY_API_TOKEN"):
        WebhookReceiver(replace(config, pagerduty=replace(config.pagerduty, token=None)), out)


def cli_env(sim: PagerDutySimulator, prometheus: PrometheusServer, secret: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **environment(sim, prometheus.url),
        "PAGERDUTY_WEBHOOK_SECRET": secret,
    }


def test_cli_without_secret_exits_1_with_one_line(
    collect_bin: str, pd_sim: PagerDutySimulator, prometheus: PrometheusServer, out: Path
) -> None:
    result = subprocess.run(
        [collect_bin, "--webhook", "127.0.0.1:0", "--out", str(out)],
        env=cli_env(pd_sim, prometheus, ""),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: PAGERDUTY_WEBHOOK_SECRET is not set: ")


@pytest.mark.slow
def test_cli_serves_until_sigterm_then_exits_0(
    collect_bin: str, pd_sim: PagerDutySimulator, prometheus: PrometheusServer, out: Path
) -> None:
    process = subprocess.Popen(
        [collect_bin, "--webhook", "127.0.0.1:0", "--config", str(DEMO_CONFIG), "--out", str(out)],
        env=cli_env(pd_sim, prometheus, SECRET),
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # a hung server must not hang the tests
    watchdog.start()
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        body = event("P7DBOOM")
        headers = {"X-PagerDuty-Signature": sign(body), "X-Webhook-Id": "wh-cli"}
        url = f"http://127.0.0.1:{port}/webhooks/pagerduty"
        assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 202
        wait_for(lambda: drafted(out, "P7DBOOM"))
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, rest
    assert "webhook wh-cli: drafted P7DBOOM" in rest
    assert rest.rstrip().endswith("stopped")
