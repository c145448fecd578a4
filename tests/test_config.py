"""Config loading: defaults, environment, and errors that name file, key and fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from collector.config import (
    DEFAULT_QUERIES,
    Config,
    ConfigError,
    PagerDutySettings,
    PrometheusSettings,
    ReportSettings,
    load_config,
    parse_duration,
)

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_is_valid_and_states_the_defaults() -> None:
    config = load_config(ROOT / "config" / "collector.example.yaml", {})
    assert config.prometheus.queries == DEFAULT_QUERIES
    assert config.prometheus.lookback == timedelta(hours=4)
    assert config.pagerduty.base_url == "https://api.pagerduty.com"
    assert config.prometheus.url == "http://localhost:9090"


def test_environment_supplies_urls_token_and_ca() -> None:
    env = {
        "PAGERDUTY_API_TOKEN": "tok",
        "PAGERDUTY_BASE_URL": "https://pd.local",
        "PROMETHEUS_URL": "https://mimir.local/prometheus",
        "SSL_CERT_FILE": "/etc/ca.pem",
    }
    config = load_config(None, env)
    assert config.pagerduty.token == "tok"
    assert config.pagerduty.base_url == "https://pd.local"
    assert config.prometheus.url == "https://mimir.local/prometheus"
    assert config.ca_bundle == Path("/etc/ca.pem")


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("PROMETHEUS_URL", "http://user:s3cret@[::1", "Invalid IPv6 URL"),
        ("PAGERDUTY_BASE_URL", "https://user:s3cret@pd.local:99999", "Port out of range"),
        ("PROMETHEUS_URL", "http://prometheus:s3cret/", "Port could not be cast"),
        ("NOTIFY_WEBHOOK_URL", "https://hooks.example.com:s3cret/T0/B0", "Port could not be"),
    ],
)
def test_an_environment_url_that_is_not_one_is_named_never_shown(
    variable: str, value: str, problem: str
) -> None:
    """A URL that cannot be read at all stops at the settings, naming the variable and why;
    the value may hold a password and is never said."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, {variable: value})
    said = str(caught.value)
    assert said.startswith(f"{variable}: not a URL ({problem}")
    assert "s3cret" not in said and "\n" not in said


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prometheus:\n  lookback: 4 hours\n", "prometheus.lookback': expected a duration"),
        ("prometheus:\n  lokback: 4h\n", "'lokback' was unexpected"),
        ("links:\n  prometheus_url: https://[::1\n", "links.prometheus_url': not a URL (Invalid"),
        ("jira:\n  url: https://x.atlassian.net:99999\n", "jira.url': not a URL (Port out of"),
        ("report:\n  language: de\n", "report.language"),
        ("report:\n  timezone: Mars/Olympus\n", "unknown time zone"),
        ("prometheus: [1, 2\n", "is not valid YAML"),
        ("prometheus:\n  queries:\n    - name: x\n", "'query' is a required property"),
        (
            "prometheus:\n  queries:\n    - {name: m, query: up, thresholds: [80, 95, 80.0]}\n",
            "queries.0.thresholds': expected each threshold once (80 is listed twice)",
        ),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.yaml", {})


def test_parse_duration() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("7d") == timedelta(days=7)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_fleet_settings_default_and_example_agree() -> None:
    from collector.config import FleetSettings

    example = load_config(ROOT / "config" / "collector.example.yaml", {})
    assert example.fleet == FleetSettings() == load_config(None, {}).fleet
    assert example.fleet.horizon == timedelta(days=30)


def test_fleet_settings_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("fleet:\n  top_n: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="fleet.top_n"):
        load_config(path, {})


def test_every_default_is_the_dataclass_one() -> None:
    assert load_config(None, {}) == Config(
        pagerduty=PagerDutySettings(),
        prometheus=PrometheusSettings(queries=DEFAULT_QUERIES),
        report=ReportSettings(),
    )


def test_an_empty_section_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    sections = ("pagerduty", "prometheus", "report", "targets", "business", "batch", "trends")
    path.write_text("".join(f"{name}: {{}}\n" for name in sections), encoding="utf-8")
    assert load_config(path, {}) == replace(load_config(None, {}), source=str(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("business:\n  memory_growth_warning_percent_per_hour: 7\n", 7.0),
        ("trends:\n  memory_growth_warning_percent_per_hour: 8\n", 8.0),
        (
            "business:\n  memory_growth_warning_percent_per_hour: 7\n"
            "trends:\n  memory_growth_warning_percent_per_hour: 8\n",
            8.0,
        ),
        ("", 5.0),
    ],
)
def test_memory_growth_warning_is_a_trend_setting(
    tmp_path: Path, text: str, expected: float
) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path, {}).trends.memory_growth_warning == expected


def test_the_webhook_secret_is_the_receiver_s() -> None:
    config = load_config(None, {"PAGERDUTY_WEBHOOK_SECRET": "s3cret"})
    assert config.webhook.secret == "s3cret"
    assert "s3cret" not in repr(config)
