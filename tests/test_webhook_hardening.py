"""The webhook receiver under hostile or unlucky clients (issue #31): bursts, slow clients and
SIGTERM, replayed bodies, hostile payloads, early hang-ups, and an incident the API still reads
open. Real receiver on loopback, drafting from the simulator and the real Prometheus."""

from __future__ import annotations

import copy
import json
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CONFIG, FIXTURES
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer
from test_webhook import (
    Receiver,
    cli_env,
    drafted,
    event,
    out,  # noqa: F401 - a fixture
    post,
    queued,
    receiver,  # noqa: F401 - a fixture
    sign,
    wait_for,
)

from collector.jobs.webhook_queue import FAILED_DIR, QUEUE_DIR

BURST = 200


def raw_request(port: int, body: bytes, webhook_id: str, timeout: float = 20.0) -> bytes:
    """One signed POST over a bare socket; the whole answer, or the error's name."""
    head = (
        f"POST /webhooks/pagerduty HTTP/1.0\r\nContent-Length: {len(body)}\r\n"
        f"X-PagerDuty-Signature: {sign(body)}\r\nX-Webhook-Id: {webhook_id}\r\n\r\n"
    )
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(head.encode() + body)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            return answer
    except OSError as exc:
        return type(exc).__name__.encode()


def message(answer: bytes) -> str:
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "none"
    text = json.loads(answer.split(b"\r\n\r\n", 1)[1])["message"] if status != "none" else ""
    return f"{status} {text}" if status != "none" else answer.decode()


@pytest.mark.slow
def test_burst_of_simultaneous_deliveries_is_all_answered_and_drafted_once(
    receiver: Receiver,  # noqa: F811
    fresh_pd_sim: PagerDutySimulator,
    out: Path,  # noqa: F811
) -> None:
    rx = receiver(fresh_pd_sim)
    body = event("P7DBOOM")
    start = threading.Barrier(BURST)
    answers: list[str] = []

    def deliver(number: int) -> None:
        start.wait()
        answers.append(message(raw_request(rx.port, body, f"wh-burst-{number}")))

    began = time.monotonic()
    clients = [threading.Thread(target=deliver, args=(n,)) for n in range(BURST)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    elapsed = time.monotonic() - began
    kinds = Counter(answer.split(" ")[0] for answer in answers)
    assert kinds == {"202": BURST}, kinds  # no reset, no timeout: every delivery answered
    assert answers.count("202 queued P7DBOOM") == 1
    assert elapsed < 20, f"{BURST} deliveries took {elapsed:.1f} s"
    wait_for(lambda: drafted(out, "P7DBOOM") and not queued(out))
    assert sum(1 for r in fresh_pd_sim.requests if r.path == "/incidents/P7DBOOM") == 1
    assert not (out / "P7DBOOM" / "drafts").exists()


def test_a_captured_body_sent_again_with_new_webhook_ids_is_queued_once(
    receiver: Receiver,  # noqa: F811
    fresh_pd_sim: PagerDutySimulator,
    out: Path,  # noqa: F811
) -> None:
    fresh_pd_sim.delay = 0.2  # the draft is still running while the copies arrive
    rx = receiver(fresh_pd_sim)
    body = event("PLOWURG")
    answers = [post(rx, body, webhook_id=f"wh-forged-{n}").json()["message"] for n in range(50)]
    assert answers[0] == "queued PLOWURG"
    assert set(answers[1:]) <= {"duplicate event ev-PLOWURG", "PLOWURG is already drafted"}
    wait_for(lambda: drafted(out, "PLOWURG") and not queued(out))
    assert sum(1 for r in fresh_pd_sim.requests if r.path == "/incidents/PLOWURG") == 1


def test_a_signed_deeply_nested_body_is_400_in_one_line(
    receiver: Receiver,  # noqa: F811
    pd_sim: PagerDutySimulator,
    out: Path,  # noqa: F811
    capfd: pytest.CaptureFixture[str],
) -> None:
    rx = receiver(pd_sim)
    body = b'{"event": ' + b"[" * 30000 + b"]" * 30000 + b"}"
    response = post(rx, body)
    assert response.status_code == 400
    assert response.json()["message"] == "body is JSON nested too deeply"
    assert queued(out) == []
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("length", ["²", "9" * 5000, "-1", "1e3"])
def test_a_content_length_that_is_no_plain_number_is_400(
    receiver: Receiver,  # noqa: F811
    pd_sim: PagerDutySimulator,
    length: str,
) -> None:
    rx = receiver(pd_sim)
    with socket.create_connection(("127.0.0.1", rx.port), timeout=10) as sock:
        sock.sendall(f"POST / HTTP/1.0\r\nContent-Length: {length}\r\n\r\n".encode("latin-1"))
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.0 400 "), answer


def test_clients_hanging_up_early_make_one_line_each_and_no_traceback(
    receiver: Receiver,  # noqa: F811
    pd_sim: PagerDutySimulator,
    capfd: pytest.CaptureFixture[str],
) -> None:
    logged: list[str] = []
    rx = receiver(pd_sim, log=logged.append)
    body = event("P7DBOOM", "incident.triggered")
    for cut_at in (40, 80, 10_000):  # in the headers, in the body, after the whole request
        head = f"POST / HTTP/1.0\r\nContent-Length: {len(body)}\r\n"
        request = (head + f"X-PagerDuty-Signature: {sign(body)}\r\n\r\n").encode() + body
        sock = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(request[:cut_at])
        time.sleep(0.05)
        sock.close()  # with linger 0: a reset, as a client that gives up sends
    time.sleep(0.3)
    assert "Traceback" not in capfd.readouterr().err
    early = [line for line in logged if "closed the connection early" in line]
    assert 1 <= len(early) <= 3, logged
    assert all("\n" not in line for line in logged)


def test_a_slow_client_is_cut_at_the_read_deadline(
    receiver: Receiver,  # noqa: F811
    pd_sim: PagerDutySimulator,
) -> None:
    rx = receiver(pd_sim, read_deadline=1.0)
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", rx.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.0\r\n")
        assert trickle_headers(sock, seconds=8.0) < 3.0  # each line in time, the whole not
    assert time.monotonic() - began < 4.0
    assert post(rx, event("P7DBOOM", "incident.triggered")).status_code == 202  # still serving


def trickle_headers(sock: socket.socket, seconds: float, every: float = 0.2) -> float:
    """Send a header line every `every` s until the server hangs up; when it did (s)."""
    began = time.monotonic()
    sock.settimeout(every)
    while time.monotonic() - began < seconds:
        try:
            sock.sendall(b"X-Slow: still here\r\n")
            if sock.recv(4096) == b"":
                return time.monotonic() - began
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - began
    return seconds


@pytest.mark.slow
def test_sigterm_is_not_held_by_a_slow_client(
    collect_bin: str,
    pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    out: Path,  # noqa: F811
) -> None:
    process = subprocess.Popen(
        [collect_bin, "--webhook", "127.0.0.1:0", "--config", str(DEMO_CONFIG), "--out", str(out)],
        env=cli_env(pd_sim, prometheus, "whsec-test-0123456789"),
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # a hung server must not hang the tests
    watchdog.start()
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"POST / HTTP/1.0\r\n")
        slow = threading.Thread(target=trickle_headers, args=(sock, 30.0, 0.5))
        slow.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        began = time.monotonic()
        _, rest = process.communicate(timeout=30)
        took = time.monotonic() - began
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.communicate()
    slow.join()
    sock.close()
    assert process.returncode == 0, rest
    assert took < 5.0, f"exited {took:.1f} s after SIGTERM"
    assert rest.rstrip().endswith("stopped")


def open_copy(incident_id: str) -> dict[str, Any]:
    """The fixture incident as the API serves it while it still reads open."""
    data = json.loads((FIXTURES / "pagerduty" / f"{incident_id}.json").read_text("utf-8"))
    still_open = copy.deepcopy(data)
    still_open["incident"].update(status="acknowledged", resolved_at=None)
    return still_open


@pytest.mark.slow
def test_resolved_delivery_for_an_incident_still_open_is_looked_at_again_then_drafted(
    receiver: Receiver,  # noqa: F811
    fresh_pd_sim: PagerDutySimulator,
    out: Path,  # noqa: F811
) -> None:
    resolved = json.loads((FIXTURES / "pagerduty" / "P7DBOOM.json").read_text("utf-8"))
    fresh_pd_sim.add_incident(open_copy("P7DBOOM"))
    logged: list[str] = []
    rx = receiver(fresh_pd_sim, recheck_delays=(0.3, 0.3, 30.0), log=logged.append)
    assert post(rx, event("P7DBOOM")).status_code == 202
    pending = out / QUEUE_DIR / "ev-P7DBOOM.json"

    def looks() -> int:
        return int(json.loads(pending.read_text("utf-8"))["rechecks"]) if pending.exists() else 0

    wait_for(lambda: looks() >= 2)
    assert not drafted(out, "P7DBOOM")  # never drafted "ongoing"
    assert any("still reports it acknowledged; again in 0.3 s" in line for line in logged)
    fresh_pd_sim.add_incident(resolved)  # the API catches up
    wait_for(lambda: drafted(out, "P7DBOOM") and not queued(out), timeout=60)
    snapshot = json.loads((out / "P7DBOOM" / "snapshot.json").read_text("utf-8"))
    assert snapshot["pagerduty"]["incident"]["status"] == "resolved"


def test_an_incident_open_after_every_look_is_set_aside_undrafted(
    receiver: Receiver,  # noqa: F811
    fresh_pd_sim: PagerDutySimulator,
    out: Path,  # noqa: F811
) -> None:
    fresh_pd_sim.add_incident(open_copy("PLOWURG"))
    rx = receiver(fresh_pd_sim, recheck_delays=(0.1,))
    assert post(rx, event("PLOWURG")).status_code == 202
    failed = out / FAILED_DIR / "ev-PLOWURG.json"
    wait_for(failed.exists)
    record = json.loads(failed.read_text(encoding="utf-8"))
    assert record["rechecks"] == 1
    assert record["last_error"] == (
        "PagerDuty still reports it acknowledged after 2 looks; a batch run drafts it once resolved"
    )
    assert queued(out) == [] and not drafted(out, "PLOWURG")
    assert sum(1 for r in fresh_pd_sim.requests if r.path == "/incidents/PLOWURG") == 2
