"""Tests of the PagerDuty simulator itself, driven through the official ``pagerduty`` client."""

from __future__ import annotations

import json
import runpy
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pagerduty
import pytest
from pd_simulator import PagerDutySimulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pagerduty"
TOKEN = "test-token"

# fixtures/STORY.md, PagerDuty column: (time on 2025-10-25, log entry type), oldest first.
DEMO_STORY = [
    ("14:32:00", "trigger_log_entry"),
    ("14:32:00", "assign_log_entry"),
    ("14:33:00", "notify_log_entry"),
    ("14:33:00", "notify_log_entry"),
    ("14:34:00", "acknowledge_log_entry"),
    ("14:35:00", "priority_change_log_entry"),
    ("14:36:00", "escalate_log_entry"),
    ("14:36:00", "notify_log_entry"),
    ("14:37:00", "responder_request_log_entry"),
    ("14:38:00", "status_update_log_entry"),
    ("14:40:00", "annotate_log_entry"),
    ("14:45:00", "annotate_log_entry"),
    ("14:52:00", "annotate_log_entry"),
    ("15:05:00", "status_update_log_entry"),
    ("15:10:00", "resolve_log_entry"),
]


@pytest.fixture
def sim() -> Iterator[PagerDutySimulator]:
    """A fresh simulator per test, so injected faults and counters never leak."""
    with PagerDutySimulator(FIXTURES, TOKEN) as simulator:
        yield simulator
    # A bug inside the server shows up here rather than as a mysterious client error.
    assert simulator.errors == []


def _context(sim: PagerDutySimulator) -> ssl.SSLContext:
    # Built from ca_path here on purpose: this is the recipe other clients follow.
    return ssl.create_default_context(cafile=str(sim.ca_path))


def _client(
    sim: PagerDutySimulator, token: str = TOKEN, **kwargs: Any
) -> pagerduty.RestApiV2Client:
    client = pagerduty.RestApiV2Client(token, base_url=sim.base_url, verify=_context(sim), **kwargs)
    client.sleep_timer = 0.01  # retries back off from here; keep the suite fast
    return client


@pytest.fixture
def client(sim: PagerDutySimulator) -> Iterator[pagerduty.RestApiV2Client]:
    """The official client, trusting the simulator's test CA."""
    with _client(sim) as api:
        yield api


@pytest.fixture
def raw(sim: PagerDutySimulator) -> Iterator[httpx2.Client]:
    """A bare HTTP client for checks the official client hides (headers, statuses)."""
    headers = {"Authorization": f"Token token={TOKEN}"}
    with httpx2.Client(base_url=sim.base_url, verify=_context(sim), headers=headers) as http:
        yield http


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def test_ca_is_trusted_through_ssl_cert_file(
    sim: PagerDutySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients that read ``SSL_CERT_FILE`` trust the simulator with no code change."""
    monkeypatch.setenv("SSL_CERT_FILE", str(sim.ca_path))
    with httpx2.Client(headers={"Authorization": f"Token token={TOKEN}"}) as http:
        assert http.get(f"{sim.base_url}/incidents/P7DBOOM").status_code == 200


def test_untrusted_client_is_refused(sim: PagerDutySimulator) -> None:
    """Without the test CA the TLS handshake fails: the server really is HTTPS."""
    with (
        httpx2.Client(verify=ssl.create_default_context()) as http,
        pytest.raises(httpx2.ConnectError),
    ):
        http.get(f"{sim.base_url}/incidents/P7DBOOM")


def test_fetches_incident_by_id_and_by_number(client: pagerduty.RestApiV2Client) -> None:
    """``{id}`` may be the incident ID or its number, as in the real API."""
    by_id = client.rget("/incidents/P7DBOOM")
    by_number = client.rget("/incidents/1025")
    assert by_id == by_number
    assert by_id["title"] == "PostgreSQL down on db-01 (out of memory)"
    assert (by_id["status"], by_id["urgency"], by_id["priority"]["summary"]) == (
        "resolved",
        "high",
        "P1",
    )


def test_conference_bridge_only_when_included(client: pagerduty.RestApiV2Client) -> None:
    """The API returns ``conference_bridge`` only for ``include[]=conference_bridge``."""
    assert "conference_bridge" not in client.rget("/incidents/P7DBOOM")
    included = client.rget("/incidents/P7DBOOM", params={"include": ["conference_bridge"]})
    assert included["conference_bridge"]["conference_url"].startswith("https://")


def test_iter_all_with_page_size_10_yields_every_entry_once(
    sim: PagerDutySimulator, client: pagerduty.RestApiV2Client
) -> None:
    """Two pages of 10 cover the 15 demo entries, newest first, without duplicates."""
    entries = list(client.iter_all("/incidents/P7DBOOM/log_entries", page_size=10))
    expected = [entry["id"] for entry in _fixture("P7DBOOM")["log_entries"]]
    assert [entry["id"] for entry in entries] == expected[::-1]
    offsets = [r.query["offset"] for r in sim.requests if r.path.endswith("/log_entries")]
    assert offsets == [["0"], ["10"]]


def test_big_incident_pages_through_all_350_entries(client: pagerduty.RestApiV2Client) -> None:
    """The noisy incident needs four pages of 100; every entry arrives exactly once."""
    entries = list(client.iter_all("/incidents/PBIGLOG/log_entries"))
    assert len(entries) == len({entry["id"] for entry in entries}) == 350
    stamps = [entry["created_at"] for entry in entries]
    assert stamps == sorted(stamps, reverse=True)
    alerts = list(client.iter_all("/incidents/PBIGLOG/alerts", page_size=50))
    assert len({alert["id"] for alert in alerts}) == 120


def test_demo_log_tells_the_story(client: pagerduty.RestApiV2Client) -> None:
    """The served demo log matches fixtures/STORY.md to the second."""
    entries = client.list_all("/incidents/P7DBOOM/log_entries", params={"include": ["channels"]})
    timeline = [(entry["created_at"], entry["type"]) for entry in reversed(entries)]
    assert timeline == [(f"2025-10-25T{at}Z", kind) for at, kind in DEMO_STORY]
    trigger = entries[-1]
    assert trigger["channel"]["details"] == {
        "alertname": "PostgresDown",
        "instance": "db-01:9187",
        "severity": "critical",
    }
    request = next(e for e in entries if e["type"] == "responder_request_log_entry")
    assert request["summary"] == "Alice Martin requested Chloé Dubois to respond."


def test_channel_is_cut_down_without_include(client: pagerduty.RestApiV2Client) -> None:
    """Without ``include[]=channels`` only the channel type is returned."""
    entries = client.list_all("/incidents/P7DBOOM/log_entries")
    assert all(set(entry["channel"]) == {"type"} for entry in entries)
    assert entries[-1]["channel"] == {"type": "api"}


def test_notes_via_rget(client: pagerduty.RestApiV2Client) -> None:
    """Notes have no pagination: ``rget`` unwraps the list."""
    notes = client.rget("/incidents/P7DBOOM/notes")
    assert [note["created_at"][11:19] for note in notes] == ["14:40:00", "14:45:00", "14:52:00"]
    assert "`systemctl restart postgresql`" in notes[1]["content"]
    assert "|" in notes[1]["content"]


def test_body_is_utf8_not_escaped(raw: httpx2.Client) -> None:
    """Accented names travel as raw UTF-8, so consumers must decode properly."""
    response = raw.get("/incidents/P7DBOOM/log_entries", params={"include[]": "channels"})
    assert "Chloé".encode() in response.content
    assert response.headers["content-type"].startswith("application/json")


def test_wrong_token_raises_401(sim: PagerDutySimulator) -> None:
    """A bad key is a 401 with PagerDuty's error body; the client does not retry it."""
    with _client(sim, "wrong-token") as api, pytest.raises(pagerduty.HttpError) as caught:
        api.rget("/incidents/P7DBOOM")
    assert caught.value.response.status_code == 401
    assert caught.value.response.json() == {
        "error": {"message": "Authentication failed", "code": 2006}
    }
    assert len(sim.requests) == 1


def test_missing_authorization_is_401(sim: PagerDutySimulator) -> None:
    """No Authorization header at all is refused too."""
    with httpx2.Client(verify=_context(sim)) as http:
        assert http.get(f"{sim.base_url}/incidents/P7DBOOM").status_code == 401


def test_bearer_token_is_accepted(sim: PagerDutySimulator) -> None:
    """OAuth-style ``Bearer`` authorization works like a token."""
    with _client(sim, auth_type="bearer") as api:
        assert api.rget("/incidents/P7DBOOM")["id"] == "P7DBOOM"
    assert sim.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_unknown_incident_and_path_are_404(
    client: pagerduty.RestApiV2Client, raw: httpx2.Client
) -> None:
    """Unknown incidents and unknown routes both answer 404 code 2100."""
    with pytest.raises(pagerduty.HttpError) as caught:
        client.rget("/incidents/PNOPE00/log_entries")
    assert caught.value.response.status_code == 404
    assert caught.value.response.json()["error"]["code"] == 2100
    assert raw.get("/status_updates").status_code == 404
    assert raw.post("/incidents", json={"incident": {}}).status_code == 404


def test_injected_500_raises_then_clears(
    sim: PagerDutySimulator, client: pagerduty.RestApiV2Client
) -> None:
    """A fault hits only the next matching request."""
    sim.inject(r"^/incidents/P7DBOOM$", 500)
    with pytest.raises(pagerduty.ServerHttpError):
        client.rget("/incidents/P7DBOOM")
    assert client.rget("/incidents/P7DBOOM")["id"] == "P7DBOOM"
    assert [r.status for r in sim.requests] == [500, 200]


def test_injected_503_is_html(sim: PagerDutySimulator, raw: httpx2.Client) -> None:
    """Gateway errors are not JSON; clients must not assume an error body."""
    sim.inject("/notes", 503)
    response = raw.get("/incidents/P7DBOOM/notes")
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html"
    assert sim.responses[-1].body is None


def test_injected_429_is_retried(
    sim: PagerDutySimulator, client: pagerduty.RestApiV2Client
) -> None:
    """With ``retry = {429: 2}`` two 429s are absorbed, a third one is raised."""
    client.retry = {429: 2}
    sim.inject("/log_entries", 429, times=2, headers={"ratelimit-reset": "1"})
    assert len(client.list_all("/incidents/P7DBOOM/log_entries")) == 15
    assert [r.status for r in sim.requests] == [429, 429, 200]
    sim.inject("/log_entries", 429, times=3)
    with pytest.raises(pagerduty.HttpError) as caught:
        client.rget("/incidents/P7DBOOM/log_entries")
    assert caught.value.response.status_code == 429


def test_injected_403_has_error_body(sim: PagerDutySimulator, raw: httpx2.Client) -> None:
    """Status faults carry PagerDuty's error shape and any extra headers given."""
    sim.inject("P7DBOOM", 403, headers={"x-test": "yes"})
    response = raw.get("/incidents/P7DBOOM")
    assert response.status_code == 403
    assert response.json() == {"error": {"message": "Access Denied", "code": 2010}}
    assert response.headers["x-test"] == "yes"


def test_malformed_and_empty_bodies_are_rejected_by_the_client(
    sim: PagerDutySimulator, client: pagerduty.RestApiV2Client
) -> None:
    """A truncated body and an empty object both fail in the client, not silently."""
    sim.inject("P7DBOOM$", "malformed")
    with pytest.raises(pagerduty.ServerHttpError, match="invalid JSON"):
        client.rget("/incidents/P7DBOOM")
    sim.inject("P7DBOOM$", "empty")
    with pytest.raises(pagerduty.ServerHttpError, match='key "incident"'):
        client.rget("/incidents/P7DBOOM")


def test_timeout_fault_makes_the_client_time_out(
    sim: PagerDutySimulator, client: pagerduty.RestApiV2Client
) -> None:
    """A stalled answer trips the client timeout; the client's network retry then succeeds."""
    sim.timeout_sleep = 2.0
    client.timeout = 0.3
    sim.inject("P7DBOOM$", "timeout")
    started = time.monotonic()
    assert client.rget("/incidents/P7DBOOM")["id"] == "P7DBOOM"
    assert 0.3 <= time.monotonic() - started < 2.0


def test_rate_limit_headers_and_429(tmp_path: Path) -> None:
    """Past ``rate_limit`` requests per window the answer is 429 code 2020, with headers."""
    with PagerDutySimulator(FIXTURES, TOKEN, rate_limit=2, rate_window=1.0) as sim:
        headers = {"Authorization": f"Token token={TOKEN}"}
        with httpx2.Client(base_url=sim.base_url, verify=_context(sim), headers=headers) as http:
            first, second, third = (http.get("/incidents/P7DBOOM") for _ in range(3))
            time.sleep(1.05)
            after_reset = http.get("/incidents/P7DBOOM")
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in (first, second, third)] == ["1", "0", "0"]
    assert third.headers["ratelimit-limit"] == "2"
    assert int(third.headers["ratelimit-reset"]) >= 1
    assert third.json() == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    assert after_reset.status_code == 200


def test_pagination_parameters(raw: httpx2.Client) -> None:
    """Default 25, clamp to 100, ``total`` only on request, 400 past offset+limit 10000."""
    default = raw.get("/incidents/PBIGLOG/log_entries").json()
    assert (default["limit"], default["offset"], default["more"], default["total"]) == (
        25,
        0,
        True,
        None,
    )
    clamped = raw.get("/incidents/PBIGLOG/log_entries", params={"limit": 500, "total": "true"})
    assert (clamped.json()["limit"], len(clamped.json()["log_entries"])) == (100, 100)
    assert clamped.json()["total"] == 350
    last = raw.get("/incidents/PBIGLOG/log_entries", params={"limit": 100, "offset": 300})
    assert (len(last.json()["log_entries"]), last.json()["more"]) == (50, False)
    too_far = raw.get("/incidents/PBIGLOG/log_entries", params={"limit": 100, "offset": 9901})
    assert too_far.status_code == 400
    assert too_far.json()["error"]["code"] == 2001


def test_log_entry_filters(raw: httpx2.Client) -> None:
    """``since`` (inclusive), ``until`` (exclusive) and ``is_overview`` narrow the log."""
    window = raw.get(
        "/incidents/P7DBOOM/log_entries",
        params={"since": "2025-10-25T14:36:00Z", "until": "2025-10-25T14:40:00Z"},
    )
    assert [e["created_at"][11:19] for e in window.json()["log_entries"]] == [
        "14:38:00",
        "14:37:00",
        "14:36:00",
        "14:36:00",
    ]
    overview = raw.get("/incidents/P7DBOOM/log_entries", params={"is_overview": "true"})
    kinds = {entry["type"] for entry in overview.json()["log_entries"]}
    assert "notify_log_entry" not in kinds and "resolve_log_entry" in kinds
    bad = raw.get("/incidents/P7DBOOM/log_entries", params={"since": "yesterday-ish"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, 2004)


def test_time_zone_renders_offsets(raw: httpx2.Client) -> None:
    """``time_zone`` renders timestamps with that zone's offset."""
    body = raw.get(
        "/incidents/P7DBOOM/log_entries", params={"time_zone": "Europe/Paris", "limit": 100}
    ).json()
    assert body["log_entries"][-1]["created_at"] == "2025-10-25T16:32:00+02:00"


def test_incident_list_window_and_filters(sim: PagerDutySimulator, raw: httpx2.Client) -> None:
    """The list defaults to the last month, refuses windows over 6 months, and filters."""
    assert raw.get("/incidents").json()["incidents"] == []  # the fixtures are from 2025
    every = raw.get("/incidents", params={"date_range": "all"}).json()["incidents"]
    assert [incident["id"] for incident in every] == ["P7DBOOM", "PBIGLOG", "PLOWURG"]
    window = {"since": "2025-10-20T00:00:00Z", "until": "2025-11-04T00:00:00Z"}
    newest_first = raw.get("/incidents", params={**window, "sort_by": "created_at:desc"})
    assert [i["id"] for i in newest_first.json()["incidents"]] == ["PBIGLOG", "P7DBOOM"]
    low = raw.get("/incidents", params={"date_range": "all", "urgencies[]": "low"})
    assert [i["id"] for i in low.json()["incidents"]] == ["PLOWURG"]
    by_service = raw.get(
        "/incidents",
        params=[("date_range", "all"), ("service_ids[]", "PSVCPG1"), ("statuses[]", "resolved")],
    )
    assert [i["id"] for i in by_service.json()["incidents"]] == ["P7DBOOM"]
    too_wide = raw.get("/incidents", params={"since": "2025-01-01", "until": "2025-11-01"})
    assert (too_wide.status_code, too_wide.json()["error"]["code"]) == (400, 2005)


def test_add_incident_serves_a_new_incident(
    sim: PagerDutySimulator, client: pagerduty.RestApiV2Client
) -> None:
    """Tests can add incidents of their own at run time."""
    data = _fixture("PLOWURG")
    data["incident"].update(id="PNEW001", incident_number=2001)
    sim.add_incident(data)
    assert client.rget("/incidents/2001")["id"] == "PNEW001"


def test_concurrent_clients(sim: PagerDutySimulator) -> None:
    """Eight clients in parallel all get complete, correct answers."""
    results: list[int] = []

    def fetch() -> None:
        with _client(sim) as api:
            results.append(len(api.list_all("/incidents/PBIGLOG/log_entries")))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [350] * 8
    assert len(sim.requests) == 8 * 4


def test_delay_slows_every_answer() -> None:
    """``delay`` is applied before each answer (for benchmarks)."""
    with PagerDutySimulator(FIXTURES, TOKEN, delay=0.2) as sim, _client(sim) as api:
        started = time.monotonic()
        api.rget("/incidents/P7DBOOM")
        assert time.monotonic() - started >= 0.2


def test_stop_is_prompt_with_open_connections() -> None:
    """Stopping does not wait for idle keep-alive connections or sleeping faults."""
    sim = PagerDutySimulator(FIXTURES, TOKEN).start()
    sim.timeout_sleep = 30.0
    with _client(sim) as api:
        api.rget("/incidents/P7DBOOM")  # leaves a keep-alive connection open
        sim.inject("notes", "timeout")
        api.timeout = 0.2
        api.max_network_attempts = 0
        with pytest.raises(pagerduty.Error):
            api.rget("/incidents/P7DBOOM/notes")
        started = time.monotonic()
        sim.stop()
        assert time.monotonic() - started < 2.0
    sim.stop()  # idempotent
    assert sim.errors == []


def test_inject_rejects_unknown_faults(sim: PagerDutySimulator) -> None:
    """A typo in a fault name fails loudly instead of never firing."""
    with pytest.raises(ValueError, match="unknown fault"):
        sim.inject("x", "slow")
    with pytest.raises(ValueError, match="HTTP status"):
        sim.inject("x", 42)


def test_big_incident_fixture_is_reproducible() -> None:
    """``make_big_incident.py`` regenerates exactly the committed PBIGLOG.json."""
    # run_path compiles from source: no __pycache__ appears under fixtures/.
    script = runpy.run_path(str(FIXTURES / "make_big_incident.py"))
    assert script["build"]() == _fixture("PBIGLOG")
