"""One chat notice per new draft: payloads, retries, and the installed `collect` end to end.

The chat side is a real HTTP receiver on loopback (tests/chat_receiver.py); PagerDuty and
Prometheus are the simulator and the real server of conftest.py.
"""

from __future__ import annotations

import html
import json
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from analysis_support import analyse_snapshot
from chat_receiver import ChatReceiver
from conftest import DEMO_CONFIG, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer
from test_webhook import SECRET, event, post, wait_for

from collector.analysis.facts import Verdict
from collector.analysis.handoff import DraftFacts, draft_facts
from collector.config import ConfigError, NotifySettings, load_config
from collector.jobs.webhook import WebhookReceiver
from collector.sources.notify import NotifyError, post_chat_message
from report.handoff import final_notice_payload, notice_payload, rto_text
from report.words.labels import HANDOFF

BASE_URL = "https://postmortems.example.com/reports"
FACTS = DraftFacts(
    incident_id="P7DBOOM",
    title="db-01 <out of memory> & restarted",
    severity="SEV1",
    service="PostgreSQL Production",
    duration=timedelta(minutes=47),
    rto_verdict=Verdict.MISSED,
    rto_target=timedelta(minutes=30),
    rto_actual=timedelta(minutes=41),
    incident_url="https://acme.pagerduty.com/incidents/P7DBOOM",
)
LINK = f"{BASE_URL}/P7DBOOM/report.html"


# -- the message ------------------------------------------------------------------------------


def test_slack_notice_carries_title_severity_duration_rto_and_link_in_french() -> None:
    payload = notice_payload(FACTS, LINK, "fr", "slack")
    # Slack's fallback text is mrkdwn: it escapes &, < and >, and shows them as they were.
    text = html.unescape(payload["text"])
    assert "<out of memory>" not in payload["text"]
    for part in ("Brouillon de rapport post-incident prêt", FACTS.title, "SEV1", "47 min"):
        assert part in text
    assert "dépassé (41 min > 30 min)" in text and LINK in text
    blocks = json.dumps(payload["blocks"], ensure_ascii=False)
    # Slack's control characters in a PagerDuty title are escaped, never interpreted.
    assert "db-01 &lt;out of memory&gt; &amp; restarted" in blocks
    assert f"<{LINK}|Ouvrir le rapport>" in blocks
    assert "<out of memory>" not in blocks


def test_english_words_and_a_path_when_no_base_url() -> None:
    path = "/srv/postmortems/P7DBOOM/report.html"
    payload = notice_payload(FACTS, path, "en", "slack")
    assert payload["text"].startswith("Post-incident report draft ready: ")
    assert "missed (41 min > 30 min)" in html.unescape(payload["text"])
    assert f"`{path}`" in json.dumps(payload["blocks"])


def test_teams_message_card_and_generic_json() -> None:
    card = notice_payload(FACTS, LINK, "en", "teams")
    assert card["@type"] == "MessageCard" and card["themeColor"] == "E8912D"
    facts = {f["name"]: f["value"] for f in card["sections"][0]["facts"]}
    assert facts["Severity"] == "SEV1" and facts["Report"] == LINK
    assert card["potentialAction"][0]["targets"][0]["uri"] == LINK
    generic = notice_payload(FACTS, LINK, "fr", "json")
    assert generic["rto"] == {
        "verdict": "missed",
        "target_seconds": 1800.0,
        "actual_seconds": 2460.0,
    }
    assert generic["duration_seconds"] == 2820.0 and generic["report_link"] == LINK


def test_the_notice_takes_the_reports_own_rto_verdict(demo_snapshot: dict[str, Any]) -> None:
    config = load_config(DEMO_CONFIG, {})
    now = datetime(2025, 10, 26, tzinfo=timezone.utc)
    analysis = analyse_snapshot(
        demo_snapshot["pagerduty"], demo_snapshot["prometheus"], config, now
    )
    rto = analysis.impact.objective("RTO")
    facts = draft_facts(analysis)
    assert facts.rto_verdict is rto.verdict is Verdict.MISSED
    assert (facts.rto_target, facts.rto_actual) == (rto.target, rto.actual)


@pytest.mark.parametrize(
    "verdict",
    [Verdict.MET, Verdict.MISSED, Verdict.NOT_CONFIGURED, Verdict.NO_DATA, Verdict.ONGOING],
)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_rto_verdict_has_words_and_figures_json_s_word(
    verdict: Verdict, language: str
) -> None:
    facts = replace(FACTS, rto_verdict=verdict)
    words = rto_text(facts, language)
    assert words and "{" not in words
    assert notice_payload(facts, LINK, language, "json")["rto"]["verdict"] == verdict.value


# -- the client -------------------------------------------------------------------------------


def settings(chat: ChatReceiver, retries: int = 3) -> NotifySettings:
    return NotifySettings(webhook_url=chat.url, max_retries=retries, backoff=0.05, timeout=5)


def test_server_errors_are_retried_with_backoff() -> None:
    with ChatReceiver() as chat:
        chat.answer(500, times=2)
        assert post_chat_message(settings(chat), {"text": "hi"}) == 3
    assert [p.body for p in chat.posts] == [{"text": "hi"}] * 3
    assert chat.posts[0].headers["content-type"] == "application/json"


def test_rate_limit_waits_what_retry_after_asks() -> None:
    with ChatReceiver() as chat:
        chat.answer(429, body="rate_limited", Retry_After="1")
        assert post_chat_message(settings(chat), {"text": "hi"}) == 2
    assert chat.posts[1].at - chat.posts[0].at >= 0.95


def test_a_refused_message_is_not_retried_and_the_url_is_never_said() -> None:
    with ChatReceiver() as chat:
        chat.answer(400, body="invalid_payload")
        with pytest.raises(NotifyError) as raised:
            post_chat_message(settings(chat), {"text": "hi"})
    assert len(chat.posts) == 1
    assert str(raised.value) == "the chat webhook answered HTTP 400 (invalid_payload)"


def test_retries_are_bounded_then_reported_without_the_secret() -> None:
    with ChatReceiver() as chat:
        chat.answer(503, times=10, body=f"upstream {chat.path} down")
        with pytest.raises(NotifyError) as raised:
            post_chat_message(settings(chat, retries=2), {"text": "hi"})
        url, secret = chat.url, chat.secret
    assert len(chat.posts) == 3
    assert "HTTP 503" in str(raised.value) and "3 attempts" in str(raised.value)
    assert secret not in str(raised.value) and url not in str(raised.value)


def test_unreachable_webhook_is_reported_without_the_secret() -> None:
    with ChatReceiver() as chat:
        url, secret = chat.url, chat.secret
    gone = NotifySettings(webhook_url=url, max_retries=1, backoff=0.01, timeout=2)
    with pytest.raises(NotifyError) as raised:
        post_chat_message(gone, {"text": "hi"})
    assert "cannot reach the chat webhook (ConnectionError)" in str(raised.value)
    assert secret not in str(raised.value)


def test_webhook_url_is_a_secret_in_the_config() -> None:
    config = load_config(None, {"NOTIFY_WEBHOOK_URL": "https://hooks.example/T/B/s3cr3t"})
    assert config.notify.webhook_url == "https://hooks.example/T/B/s3cr3t"
    assert "s3cr3t" not in repr(config)


# -- the installed command --------------------------------------------------------------------


def write_config(tmp_path: Path, **sections: dict[str, Any]) -> Path:
    """The demo config with hand-off settings added (fast backoff for the tests)."""
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw.setdefault("notify", {}).update({"backoff_seconds": 0.05, "max_retries": 2})
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def collect(
    collect_bin: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
    return subprocess.run(
        [collect_bin, *args], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=180
    )


def window() -> str:
    return f"{(date.today() - date(2025, 10, 20)).days}d"


def assert_secret_nowhere(chat: ChatReceiver, out: Path, *streams: str) -> None:
    for stream in streams:
        assert chat.secret not in stream
    for path in out.rglob("*"):
        if path.is_file():
            assert chat.secret.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_one_notice_per_new_draft_none_on_reruns(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    out = tmp_path / "reports"
    config = write_config(tmp_path, report={"base_url": BASE_URL + "/"})
    with ChatReceiver() as chat:
        env = {**environment(fresh_pd_sim, prometheus.url), "NOTIFY_WEBHOOK_URL": chat.url}
        base = ["--config", str(config), "--out", str(out)]
        first = collect(collect_bin, ["--incident", "P7DBOOM", *base], env, tmp_path)
        assert first.returncode == 0, first.stderr
        assert len(chat.posts) == 1
        message = chat.posts[0].body
        assert f"{BASE_URL}/P7DBOOM/report.html" in message["text"]
        assert "RTO" in message["text"] and "Sévérité" in message["text"]
        state = json.loads((out / "P7DBOOM" / ".collector.json").read_text(encoding="utf-8"))
        assert state["notice"]["report_sha256"] == state["report_sha256"]

        batch = collect(collect_bin, ["--resolved-since", window(), *base], env, tmp_path)
        assert batch.returncode == 0, batch.stderr
        announced = sorted(p.body["text"].split(": ", 1)[1][:20] for p in chat.posts[1:])
        assert len(chat.posts) == 3, announced  # the two new drafts; P7DBOOM was skipped

        again = collect(collect_bin, ["--resolved-since", window(), *base], env, tmp_path)
        assert again.returncode == 0 and len(chat.posts) == 3
    assert_secret_nowhere(chat, out, *(r.stdout + r.stderr for r in (first, batch, again)))


@pytest.mark.slow
def test_failed_notice_is_one_warning_and_keeps_the_draft(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    config = write_config(tmp_path, notify={"format": "teams"})
    with ChatReceiver() as chat:
        chat.answer(500, times=10)
        env = {**live_env, "NOTIFY_WEBHOOK_URL": chat.url}
        args = ["--incident", "P7DBOOM", "--config", str(config), "--out", str(out)]
        result = collect(collect_bin, [*args, "--lang", "en"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(chat.posts) == 3  # the first attempt and notify.max_retries: 2
    assert chat.posts[0].body["@type"] == "MessageCard"
    warnings = [line for line in result.stderr.splitlines() if "chat notice" in line]
    assert warnings == [
        "warning: chat notice for P7DBOOM not sent: the chat webhook answered HTTP 500;"
        " gave up after 3 attempts"
    ]
    assert (out / "P7DBOOM" / "report.md").is_file()
    assert "notice" not in json.loads((out / "P7DBOOM" / ".collector.json").read_text())
    assert_secret_nowhere(chat, out, result.stdout, result.stderr)


@pytest.mark.slow
def test_offline_rerender_announces_nothing(collect_bin: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    with ChatReceiver() as chat:
        result = collect(
            collect_bin, ["--demo", "--out", str(out)], {"NOTIFY_WEBHOOK_URL": chat.url}, tmp_path
        )
    assert result.returncode == 0, result.stderr
    assert chat.posts == []


def test_example_config_states_the_hand_off_defaults() -> None:
    root = Path(__file__).resolve().parents[1]
    config = load_config(root / "config" / "collector.example.yaml", {})
    assert config.notify == NotifySettings()
    assert config.report.base_url is None and config.pagerduty.post_note is False


def test_bad_hand_off_settings_are_named_without_the_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(None, {"NOTIFY_WEBHOOK_URL": "hooks.example/T/B/s3cr3t"})
    assert "NOTIFY_WEBHOOK_URL" in str(raised.value) and "s3cr3t" not in str(raised.value)
    path = tmp_path / "c.yaml"
    path.write_text("report:\n  base_url: postmortems.example.com\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'report.base_url'"):
        load_config(path, {})
    path.write_text("notify:\n  format: discord\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'notify.format'"):
        load_config(path, {})


def test_webhook_drafts_are_announced_once(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    with ChatReceiver() as chat:
        values = {
            **environment(pd_sim, prometheus.url),
            "PAGERDUTY_WEBHOOK_SECRET": SECRET,
            "NOTIFY_WEBHOOK_URL": chat.url,
        }
        logged: list[str] = []
        config = load_config(DEMO_CONFIG, values)
        with WebhookReceiver(config, out, log=logged.append) as rx:
            assert post(rx, event("PLOWURG"), webhook_id="first").status_code == 202
            wait_for(lambda: len(chat.posts) == 1)
            redelivered = post(rx, event("PLOWURG"), webhook_id="second")
            assert redelivered.json()["message"] == "PLOWURG is already drafted"
        assert len(chat.posts) == 1
        assert "PLOWURG" in chat.posts[0].body["text"]
    assert not any(chat.secret in line for line in logged)


def test_every_hand_off_sentence_exists_in_french_and_english() -> None:
    assert HANDOFF["fr"].keys() == HANDOFF["en"].keys()
    assert all(HANDOFF["fr"][key] for key in HANDOFF["fr"])


@pytest.mark.slow
def test_draft_kept_beside_an_edited_report_is_not_announced(
    collect_bin: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    config = write_config(tmp_path)
    args = ["--incident", "P7DBOOM", "--config", str(config), "--out", str(out)]
    with ChatReceiver() as chat:
        env = {**live_env, "NOTIFY_WEBHOOK_URL": chat.url}
        assert collect(collect_bin, args, env, tmp_path).returncode == 0
        (out / "P7DBOOM" / "report.md").write_text("our analysis\n", encoding="utf-8")
        kept = collect(collect_bin, args, env, tmp_path)
        assert "was edited by a person and is kept" in kept.stdout
        assert len(chat.posts) == 1
        forced = collect(collect_bin, [*args, "--force"], env, tmp_path)
        assert forced.returncode == 0, forced.stderr
        assert len(chat.posts) == 2  # a new report replaced the edited one: that is news


@pytest.mark.slow
def test_a_rerun_is_announced_when_the_facts_change_not_the_clock(
    collect_bin: str,
    fresh_pd_sim: PagerDutySimulator,
    prometheus: PrometheusServer,
    tmp_path: Path,
) -> None:
    out = tmp_path / "reports"
    config = write_config(tmp_path)
    args = ["--incident", "P7DBOOM", "--config", str(config), "--out", str(out)]
    with ChatReceiver() as chat:
        env = {**environment(fresh_pd_sim, prometheus.url), "NOTIFY_WEBHOOK_URL": chat.url}
        for _ in range(2):  # report.md says when it was generated: it differs, the facts not
            run = collect(collect_bin, args, env, tmp_path)
            assert run.returncode == 0, run.stderr
        assert "re-drafted" in run.stdout and len(chat.posts) == 1

        # PagerDuty has one more log entry: a new fact, a new notice.
        root = Path(__file__).resolve().parents[1]
        data = json.loads((root / "fixtures/pagerduty/P7DBOOM.json").read_text("utf-8"))
        note = next(e for e in data["log_entries"] if e["type"] == "annotate_log_entry")
        extra = {
            **note,
            "id": "R7DBOOM0000000000000000099",
            "created_at": "2025-10-25T15:05:00Z",
            "summary": "Restored from the replica; watching memory.",
            "channel": {**note["channel"], "summary": "Restored from the replica."},
        }
        fresh_pd_sim.add_incident({**data, "log_entries": [*data["log_entries"], extra]})
        changed = collect(collect_bin, args, env, tmp_path)
        assert changed.returncode == 0, changed.stderr
        assert len(chat.posts) == 2
        again = collect(collect_bin, args, env, tmp_path)
        assert again.returncode == 0 and len(chat.posts) == 2


HOSTILE_TITLE = "<!channel> [x](https://evil.example) <https://evil.example|Open the report>"


def test_a_title_mentions_and_links_nobody_in_slack_or_teams() -> None:
    facts = replace(FACTS, title=HOSTILE_TITLE)
    slack = notice_payload(facts, LINK, "en", "slack")
    everything = slack["text"] + json.dumps(slack["blocks"])
    assert "<!channel>" not in everything and "<https://evil.example|" not in everything
    teams = notice_payload(facts, LINK, "en", "teams")
    assert "[x](https://evil.example)" not in teams["text"]
    assert "\\[x\\]\\(https://evil.example\\)" in teams["text"]
    final_slack = final_notice_payload(HOSTILE_TITLE, None, LINK, "en", "slack")
    final_teams = final_notice_payload(HOSTILE_TITLE, None, LINK, "en", "teams")
    assert "<!channel>" not in final_slack["text"] + json.dumps(final_slack["blocks"])
    assert "[x](https://evil.example)" not in final_teams["text"]
