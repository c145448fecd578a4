"""Issue #31, items 1 and 2: no configured credential follows a redirect to another server, and
a server trickling its answer holds no request past its timeout (every client)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from conftest import DEMO_CONFIG, environment
from hardening_support import run_collect
from net_stubs import StubServer, write_ca
from pd_simulator import PagerDutySimulator

from collector.config import NotifySettings, PagerDutySettings, PrometheusSettings, QuerySpec
from collector.sources import pagerduty as pd_source
from collector.sources.fleet import open_connection, screen_fleet
from collector.sources.http_guard import origin
from collector.sources.notify import NotifyError, post_chat_message
from collector.sources.prometheus import choose_range, fetch_query_results
from collector.sources.prometheus_rules import fetch_alerting_rules

API_KEY = "apikey-SECRET-7777"
BEARER = "bearer-SECRET-8888"
PASSWORD = "password-SECRET-9999"
PD_TOKEN = "pdtoken-SECRET-0000"
START = datetime(2025, 10, 25, 14, 0, tzinfo=timezone.utc)
QRANGE = choose_range(START, START.replace(hour=15), 60)
ONE_QUERY = (QuerySpec(name="requests", title="Requests", query="up", kind="traffic"),)
MARGIN = 5.0  # seconds of backoff and scheduling a bounded run may take on a busy machine


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    return write_ca(ca, tmp_path)


def prometheus_settings(url: str, **changes: Any) -> PrometheusSettings:
    """Settings with every credential Prometheus may be given."""
    values: dict[str, Any] = {
        "url": url,
        "headers": {"X-Api-Key": API_KEY},
        "bearer_token": BEARER,
        "basic_auth": ("admin", PASSWORD),
        "timeout": 5.0,
        "baseline_offset": None,
        "queries": ONE_QUERY,
    }
    return PrometheusSettings(**(values | changes))


def pd_settings(url: str, **changes: Any) -> PagerDutySettings:
    return PagerDutySettings(**({"base_url": url, "token": PD_TOKEN} | changes))


def assert_secrets_absent(*texts: str) -> None:
    for text in texts:
        for secret in (API_KEY, BEARER, PASSWORD, PD_TOKEN):
            assert secret not in text


# -- 1. credentials stay on the configured server ---------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[StubServer]:
    """The other server a redirect points to: it records whatever reaches it."""
    with StubServer() as stub:
        yield stub


@pytest.fixture
def redirector(elsewhere: StubServer) -> Iterator[StubServer]:
    with StubServer(redirect_to=elsewhere.url) as stub:
        yield stub


def test_prometheus_query_not_redirected_to_another_host(
    redirector: StubServer, elsewhere: StubServer
) -> None:
    [record] = fetch_query_results(prometheus_settings(redirector.url), None, ONE_QUERY, QRANGE, "")
    assert redirector.seen and redirector.seen[0].headers["x-api-key"] == API_KEY
    assert elsewhere.seen == []
    assert record["error"].startswith(
        f"Prometheus at {redirector.url} redirected to {origin(elsewhere.url)}, another server:"
        " not followed"
    )
    assert_secrets_absent(record["error"])


def test_prometheus_rules_and_fleet_not_redirected(
    redirector: StubServer, elsewhere: StubServer
) -> None:
    settings = prometheus_settings(redirector.url)
    rules = fetch_alerting_rules(settings, None)
    fleet = open_connection(settings, None)
    try:
        screen = screen_fleet(fleet, ONE_QUERY, "", START, QRANGE.end - QRANGE.start)
    finally:
        fleet.session.close()
    assert rules["rules"] == [] and "RedirectRefused" in rules["note"]
    assert any("redirected to" in e for e in screen["requests"]["errors"])
    assert len(redirector.seen) >= 3 and elsewhere.seen == []


def test_prometheus_same_server_redirect_still_followed() -> None:
    # A proxy that moves the API under a path prefix: the same server, so credentials go along.
    with StubServer() as server:
        server.redirect_to = f"{server.url}/moved"
        [record] = fetch_query_results(prometheus_settings(server.url), None, ONE_QUERY, QRANGE, "")
    assert record["error"] is None
    assert [seen.path.split("?")[0] for seen in server.seen] == [
        "/api/v1/query_range",
        "/moved/api/v1/query_range",
    ]
    assert all(seen.headers.get("x-api-key") == API_KEY for seen in server.seen)


def test_chat_webhook_not_redirected(redirector: StubServer, elsewhere: StubServer) -> None:
    settings = NotifySettings(webhook_url=f"{redirector.url}/hooks/T0/B0/SECRETPART", max_retries=2)
    with pytest.raises(NotifyError) as raised:
        post_chat_message(settings, {"text": "hello"}, sleep=lambda _: None)
    assert str(raised.value).startswith(
        f"the chat webhook redirected to {origin(elsewhere.url)}, another server"
    )
    assert "SECRETPART" not in str(raised.value)
    assert len(redirector.seen) == 1 and elsewhere.seen == []  # refused, not retried


@pytest.fixture
def tls_elsewhere(ca: trustme.CA) -> Iterator[StubServer]:
    with StubServer(ca=ca, body=b'{"incident": {}}') as stub:
        yield stub


@pytest.fixture
def tls_redirector(ca: trustme.CA, tls_elsewhere: StubServer) -> Iterator[StubServer]:
    with StubServer(redirect_to=tls_elsewhere.url, ca=ca) as stub:
        yield stub


def test_pagerduty_read_and_note_not_redirected(
    tls_redirector: StubServer, tls_elsewhere: StubServer, ca_file: str
) -> None:
    settings = pd_settings(tls_redirector.url, from_email="a@example.com")
    with (
        pd_source.make_client(settings, ca_file) as client,
        pytest.raises(pd_source.PagerDutyError) as read,
    ):
        pd_source.get_object(client, "/incidents/P1", "incident", {}, "incident P1")
    with pytest.raises(pd_source.PagerDutyError) as note:
        pd_source.post_incident_note(settings, ca_file, "P1", "a note")
    target = origin(tls_elsewhere.url)
    assert str(read.value).startswith(
        f"PagerDuty answered incident P1 with a redirect (HTTP 302) to {target}: not followed"
    )
    assert f"with a redirect (HTTP 302) to {target}" in str(note.value)
    assert len(tls_redirector.seen) == 2 and tls_elsewhere.seen == []
    assert PD_TOKEN in tls_redirector.seen[0].headers["authorization"]  # the configured host
    assert_secrets_absent(str(read.value), str(note.value))


# -- 2. each attempt ends within its timeout, all reads together ------------------------


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    began = time.monotonic()
    result = run()
    return result, time.monotonic() - began


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["trickle", "trickle_body"])
def test_prometheus_trickle_is_cut_at_the_timeout(mode: str) -> None:
    with StubServer(mode) as stub:
        settings = prometheus_settings(stub.url, timeout=1.0, max_concurrency=1)
        [record], took = timed(lambda: fetch_query_results(settings, None, ONE_QUERY, QRANGE, ""))
    assert record["error"].startswith(f"Prometheus at {stub.url} timed out after 1 s")
    assert record["result"] == []
    assert took < 3 * 1.0 + MARGIN, took  # three attempts of one second, and backoff


@pytest.mark.slow
def test_chat_trickle_is_cut_at_the_timeout() -> None:
    # The chat notice is sent holding the incident's lock: batch and webhook wait on it.
    with StubServer("trickle") as stub:
        settings = NotifySettings(webhook_url=stub.url, timeout=1.0, max_retries=1, backoff=0)
        began = time.monotonic()
        with pytest.raises(NotifyError) as raised:
            post_chat_message(settings, {"text": "x"})
        took = time.monotonic() - began
    assert str(raised.value) == (
        "the chat webhook did not answer within 1 s; gave up after 2 attempts"
    )
    assert took < 2 * 1.0 + MARGIN, took


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["trickle", "trickle_body"])
def test_pagerduty_trickle_is_cut_at_the_timeout(mode: str, ca: trustme.CA, ca_file: str) -> None:
    with StubServer(mode, ca=ca) as stub:
        settings = pd_settings(stub.url, timeout=1.0, max_retries=1)
        began = time.monotonic()
        with (
            pd_source.make_client(settings, ca_file) as client,
            pytest.raises(pd_source.PagerDutyError) as raised,
        ):
            pd_source.get_object(client, "/incidents/P1", "incident", {}, "incident P1")
        took = time.monotonic() - began
    assert str(raised.value).startswith(
        "PagerDuty did not answer incident P1 within 1 s (2 attempts)"
    )
    assert took < 2 * 1.0 + MARGIN, took


def test_pagerduty_note_trickle_is_cut_at_the_timeout(ca: trustme.CA, ca_file: str) -> None:
    with StubServer("trickle", ca=ca) as stub:
        settings = pd_settings(stub.url, timeout=1.0, max_retries=0, from_email="a@example.com")
        began = time.monotonic()
        with pytest.raises(pd_source.PagerDutyError) as raised:
            pd_source.post_incident_note(settings, ca_file, "P1", "a note")
        took = time.monotonic() - began
    assert str(raised.value).startswith(
        "PagerDuty did not answer a note on incident P1 within 1 s (1 attempts)"
    )
    assert took < 1.0 + MARGIN, took


@pytest.mark.slow
def test_a_run_against_a_trickling_prometheus_drafts_and_says_what_timed_out(
    collect_bin: str, pd_sim: PagerDutySimulator, tmp_path: Path
) -> None:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["prometheus"].update(
        timeout_seconds=1,
        baseline_offset=None,
        queries=[{"name": "requests", "query": "up", "kind": "traffic", "unit": "req/s"}],
    )
    raw.setdefault("report", {})["pdf"] = False
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = tmp_path / "out"
    with StubServer("trickle") as stub:
        began = time.monotonic()
        result = run_collect(
            collect_bin,
            ["--incident", "P7DBOOM", "--config", str(config), "--out", str(out), "--lang", "en"],
            {**environment(pd_sim, stub.url)},
            tmp_path,
        )
        took = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    report = (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert f"query requests failed: Prometheus at {stub.url} timed out after 1 s" in report
    # The rules, then the query in parts side by side: three attempts of a second each, twice,
    # besides the drafting itself.
    assert took < 2 * 3 * 1.0 + 25, took
