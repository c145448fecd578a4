"""The config file's JSON Schema is generated from the typed settings, and the files agree.

config/collector.schema.json is committed for editors and other tools; REGENERATE_SCHEMA=1
rewrites it from the settings (`python -m collector.config --schema` prints the same).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from collector.config import Config, ConfigError, config_schema, load_config

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "config" / "collector.schema.json"
# Every collector config the project ships: the documented example and the fixtures' own.
CONFIG_FILES = sorted(
    [ROOT / "config" / "collector.example.yaml", *(ROOT / "fixtures").glob("*/collector.yaml")]
)


def test_the_committed_schema_is_the_generated_one() -> None:
    generated = config_schema()
    if os.environ.get("REGENERATE_SCHEMA"):
        text = json.dumps(generated, indent=2, ensure_ascii=False)
        COMMITTED.write_text(text + "\n", encoding="utf-8")
    stale = "config/collector.schema.json is stale: run this test with REGENERATE_SCHEMA=1"
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == generated, stale


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(config_schema())


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_config_validates_and_loads(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(config_schema()).validate(raw)
    assert load_config(path, {}).source == str(path)


def test_the_example_documents_every_key_of_the_schema() -> None:
    example = yaml.safe_load(CONFIG_FILES[0].read_text(encoding="utf-8"))
    text = CONFIG_FILES[0].read_text(encoding="utf-8")
    for section, schema in config_schema()["properties"].items():
        assert section in example, section
        for key in schema["properties"]:
            assert f"{key}:" in text, f"{section}.{key} is not in the example"


def test_the_schema_states_the_defaults_as_the_file_writes_them() -> None:
    sections = config_schema()["properties"]
    assert sections["prometheus"]["properties"]["lookback"]["default"] == "4h"
    assert sections["prometheus"]["properties"]["baseline_offset"]["default"] == "1w"
    assert sections["business"]["properties"]["working_days"]["default"] == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    ]
    assert sections["pagerduty"]["properties"]["timeout_seconds"]["default"] == 30


def test_environment_settings_are_not_in_the_schema_nor_the_file(tmp_path: Path) -> None:
    sections = config_schema()["properties"]
    assert "webhook" not in sections and "source" not in sections
    assert "token" not in sections["pagerduty"]["properties"]
    path = tmp_path / "c.yaml"
    path.write_text("pagerduty:\n  token: pasted-by-mistake\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert "key 'pagerduty.token': set from the environment" in str(caught.value)
    assert "pasted-by-mistake" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prometheus:\n  lokback: 4h\n", "'lokback' was unexpected (did you mean 'lookback'?)"),
        ("pagerduty:\n  timeout: 5\n", "did you mean 'timeout_seconds'?"),
        ("fleet:\n  high_level: 80\n", "did you mean 'high_level_percent'?"),
        ("business:\n  working_days: [0, 1]\n", "expected one of mon, tue"),
        ("pagerduty:\n  max_retries: '3'\n", "key 'pagerduty.max_retries': expected a valid int"),
        ("pagerduty:\n  post_note: 1\n", "expected a valid boolean, got 1"),
        ("fleet:\n  top_n: 0\n", "key 'fleet.top_n': expected a number greater than or equal to 1"),
        (
            "business:\n  memory_growth_warning_percent_per_hour: -1\n",
            "key 'business.memory_growth_warning_percent_per_hour': expected a number",
        ),
        ("links:\n  grafana_url: https://g\n", "key 'links.grafana_datasource': required"),
        ("report:\n  base_url: ftp://x\n", "expected an http:// or https:// URL, got 'ftp://x'"),
    ],
)
def test_errors_name_the_key_the_value_and_what_was_expected(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value).startswith(f"{path}: key '")
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_file_names_and_code_names() -> None:
    # The file says timeout_seconds; the code reads and builds `timeout`.
    config = load_config(None, {})
    assert config.pagerduty.timeout == 30.0
    assert config.fleet.high_level == 90.0
    assert Config().pagerduty.timeout == 30.0


def test_an_empty_query_list_is_the_default_pack(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("prometheus:\n  queries: []\n", encoding="utf-8")
    assert load_config(path, {}).prometheus.queries == load_config(None, {}).prometheus.queries


def test_a_query_title_defaults_to_its_name(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("prometheus:\n  queries:\n    - {name: disk_used, query: up}\n", "utf-8")
    assert load_config(path, {}).prometheus.queries[0].title == "Disk used"


def test_python_m_collector_config() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "collector.config", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    schema: dict[str, Any] = json.loads(run("--schema").stdout)
    assert schema == config_schema()
    checked = run(str(CONFIG_FILES[0]))
    assert checked.returncode == 0 and "valid" in checked.stdout


def test_python_m_collector_config_help_prints_usage_and_succeeds() -> None:
    for flag in ("--help", "-h"):
        shown = subprocess.run(
            [sys.executable, "-m", "collector.config", flag],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith("usage: python -m collector.config --schema | FILE...")
        assert "--schema" in shown.stdout and "check a config file" in shown.stdout


@pytest.mark.parametrize(
    ("text", "key", "variable"),
    [
        ("pagerduty:\n  token: s3cr3t\n", "pagerduty.token", "PAGERDUTY_API_TOKEN"),
        ("pagerduty:\n  api_token: s3cr3t\n", "pagerduty.api_token", "PAGERDUTY_API_TOKEN"),
        ("webhook:\n  secret: s3cr3t\n", "webhook", "PAGERDUTY_WEBHOOK_SECRET"),
        (
            "prometheus:\n  bearer_token: s3cr3t\n",
            "prometheus.bearer_token",
            "PROMETHEUS_BEARER_TOKEN",
        ),
        ("prometheus:\n  password: s3cr3t\n", "prometheus.password", "PROMETHEUS_PASSWORD"),
        (
            "prometheus:\n  basic_auth: [me, s3cr3t]\n",
            "prometheus.basic_auth",
            "PROMETHEUS_PASSWORD",
        ),
        ("notify:\n  webhook_url: https://h/s3cr3t\n", "notify.webhook_url", "NOTIFY_WEBHOOK_URL"),
        ("pagerduty:\n  base_url: https://s3cr3t\n", "pagerduty.base_url", "PAGERDUTY_BASE_URL"),
    ],
)
def test_a_secret_in_the_file_is_refused_naming_its_variable(
    tmp_path: Path, text: str, key: str, variable: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    line = str(caught.value)
    assert f"key '{key}': set from the environment, never the file: use " in line
    assert variable in line and "s3cr3t" not in line


def test_every_variable_named_for_a_file_key_is_read() -> None:
    from collector.config.loading import ENVIRONMENT_KEYS

    defaults = load_config(None, {})
    for named in set(ENVIRONMENT_KEYS.values()):
        for variable in named.split(" and "):
            value = "/tmp/ca.pem" if variable == "SSL_CERT_FILE" else "https://x.example/v"
            env = {variable: value, "PROMETHEUS_USERNAME": "me"}
            assert load_config(None, env) != load_config(None, {"PROMETHEUS_USERNAME": "me"}) or (
                variable == "PROMETHEUS_USERNAME" and load_config(None, env) != defaults
            ), variable
