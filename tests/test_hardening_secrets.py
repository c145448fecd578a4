"""Secrets never leak: no token, password or header value in any file written or any stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEMO_CONFIG, FIXTURES
from hardening_support import demo_data, run_collect, write_json
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.config import load_config
from collector.redact import redact_url, split_userinfo

# Slow throughout: whole drafts and finals, searched for every secret.
pytestmark = pytest.mark.slow

PD_TOKEN = "pdtok-SECRET-1111"
PROM_PASSWORD = "prompw-SECRET-2222"
BEARER = "bearer-SECRET-3333"
HEADER_VALUE = "header-SECRET-4444"
WEBHOOK_SECRET = "webhook-SECRET-5555"
PD_URL_PASSWORD = "pdurlpw-SECRET-6666"
SECRETS = (PD_TOKEN, PROM_PASSWORD, BEARER, HEADER_VALUE, WEBHOOK_SECRET, PD_URL_PASSWORD)


@pytest.fixture
def secret_sim() -> Iterator[PagerDutySimulator]:
    """A simulator that accepts only the secret token."""
    with PagerDutySimulator(FIXTURES / "pagerduty", PD_TOKEN) as sim:
        yield sim


def config_with_header(tmp_path: Path) -> Path:
    """The demo settings plus a Prometheus header carrying a secret value."""
    raw: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["prometheus"]["headers"] = {"X-Scope-OrgID": HEADER_VALUE}
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def secret_env(sim: PagerDutySimulator, prometheus_url: str) -> dict[str, str]:
    """Every secret the collector may be given, in the environment."""
    base = sim.base_url.replace("https://", f"https://pduser:{PD_URL_PASSWORD}@")
    return {
        "PAGERDUTY_API_TOKEN": PD_TOKEN,
        "PAGERDUTY_BASE_URL": base,
        "PAGERDUTY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PROMETHEUS_URL": prometheus_url.replace("http://", f"http://admin:{PROM_PASSWORD}@"),
        "PROMETHEUS_BEARER_TOKEN": BEARER,
        "SSL_CERT_FILE": str(sim.ca_path),
    }


def assert_no_secret(out: Path, *streams: str) -> None:
    """No secret in any file under `out` (text or binary) nor in the streams."""
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files, "the run wrote nothing to check"
    for secret in SECRETS:
        for stream in streams:
            assert secret not in stream
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"{secret} in {path}"


def test_no_secret_in_reports_snapshots_or_streams(
    collect_bin: str, secret_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    config = config_with_header(tmp_path)
    out = tmp_path / "out"
    env = secret_env(secret_sim, prometheus.url)
    good = run_collect(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(config), "--out", str(out)],
        env,
        tmp_path,
    )
    assert good.returncode == 0, good.stderr
    report = (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    assert f"Prometheus {prometheus.url}" in report  # shown without its user and password
    snapshot = json.loads((out / "P7DBOOM" / "snapshot.json").read_text(encoding="utf-8"))
    assert all(r["result"] for r in snapshot["prometheus"]["results"] if r["kind"] == "memory")
    down = run_collect(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(config), "--out", str(tmp_path / "down")],
        {**env, "PROMETHEUS_URL": f"http://admin:{PROM_PASSWORD}@127.0.0.1:9"},
        tmp_path,
    )
    assert down.returncode == 0, down.stderr
    assert "cannot reach Prometheus at http://127.0.0.1:9" in down.stderr
    refused = run_collect(
        collect_bin,
        ["--incident", "P7DBOOM", "--config", str(config), "--out", str(tmp_path / "down")],
        {**env, "PAGERDUTY_API_TOKEN": PD_TOKEN + "-wrong"},
        tmp_path,
    )
    assert refused.returncode == 1
    assert_no_secret(tmp_path / "out", good.stdout, good.stderr)
    assert_no_secret(tmp_path / "down", down.stdout, down.stderr, refused.stdout, refused.stderr)


def test_an_old_snapshot_with_a_password_is_rendered_redacted(
    collect_bin: str, tmp_path: Path
) -> None:
    data = demo_data()
    data["prometheus"]["url"] = f"http://admin:{PROM_PASSWORD}@prometheus.invalid:9090"
    data["pagerduty"]["base_url"] = f"https://x:{PD_URL_PASSWORD}@api.pagerduty.invalid"
    snapshot = write_json(tmp_path / "old.json", data)
    out = tmp_path / "out"
    result = run_collect(
        collect_bin, ["--snapshot", str(snapshot), "--out", str(out)], {}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    for name in ("report.md", "report.html"):
        text = (out / "P7DBOOM" / name).read_text(encoding="utf-8")
        assert PROM_PASSWORD not in text and PD_URL_PASSWORD not in text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://admin:pw@host:9090/prom", "http://***@host:9090/prom"),
        ("https://token@host", "https://***@host"),
        ("http://host:9090", "http://host:9090"),
        ("http://a:b@c@host/", "http://***@host/"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_userinfo_becomes_basic_auth() -> None:
    assert split_userinfo("http://ad%40min:p%3Aw@host:9090/x") == (
        "http://host:9090/x",
        ("ad@min", "p:w"),
    )
    assert split_userinfo("http://host") == ("http://host", None)


def test_prometheus_url_userinfo_is_basic_auth_and_leaves_the_url() -> None:
    config = load_config(None, {"PROMETHEUS_URL": f"http://admin:{PROM_PASSWORD}@prom:9090/p"})
    assert config.prometheus.url == "http://prom:9090/p"
    assert config.prometheus.basic_auth == ("admin", PROM_PASSWORD)


NOTIFY_SECRET = "notify-SECRET-7777"
LINK_PASSWORD = "linkpw-SECRET-8888"


def test_the_settings_a_snapshot_keeps_hold_no_secret(collect_bin: str, tmp_path: Path) -> None:
    """Every secret the settings can hold, in the file and the environment: snapshot.json keeps
    the draft's settings (targets, business, the query pack), never one of them."""
    raw: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["prometheus"]["headers"] = {"Authorization": f"Bearer {HEADER_VALUE}"}
    raw["links"] = {
        "prometheus_url": f"https://viewer:{LINK_PASSWORD}@prometheus.example.com",
        "grafana_url": f"https://viewer:{LINK_PASSWORD}@grafana.example.com",
        "grafana_datasource": "prom",
    }
    raw["report"]["base_url"] = f"https://viewer:{LINK_PASSWORD}@reports.example.com"
    config = tmp_path / "collector.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    env = {
        "PAGERDUTY_API_TOKEN": PD_TOKEN,
        "PAGERDUTY_BASE_URL": f"https://pduser:{PD_URL_PASSWORD}@api.pagerduty.invalid",
        "PAGERDUTY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PAGERDUTY_FROM_EMAIL": "oncall@example.com",
        "PROMETHEUS_URL": f"http://admin:{PROM_PASSWORD}@prometheus.invalid:9090",
        "PROMETHEUS_USERNAME": "admin",
        "PROMETHEUS_PASSWORD": PROM_PASSWORD,
        "PROMETHEUS_BEARER_TOKEN": BEARER,
        "NOTIFY_WEBHOOK_URL": f"https://hooks.example.com/services/{NOTIFY_SECRET}",
    }
    out = tmp_path / "out"
    result = run_collect(
        collect_bin,
        ["--snapshot", str(DEMO_CONFIG.parent / "snapshot.json"), "--config", str(config)]
        + ["--out", str(out)],
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    text = (out / "P7DBOOM" / "snapshot.json").read_text(encoding="utf-8")
    kept = json.loads(text)["settings"]["config"]
    assert kept["targets"]["rto"] == "30m" and kept["prometheus"]["queries"]  # it kept them
    for secret in (*SECRETS, NOTIFY_SECRET, LINK_PASSWORD, "oncall@example.com"):
        assert secret not in text
    # No server's address either (the distribution list's e-mail addresses are settings).
    hosts = ("grafana.example.com", "reports.example.com", "hooks.example.com", ".invalid")
    assert not [host for host in hosts if host in json.dumps(kept)]
