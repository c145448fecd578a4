"""Load and validate the collector's settings, once, from a YAML file and the environment.

`load_config` is the only reader of the environment; everything else receives a `Config`.
The settings, their defaults and bounds are stated once, on the typed sections of `settings`;
the config file's JSON Schema is generated from them (`config_schema`, `python -m
collector.config --schema`, committed as config/collector.schema.json).
"""

from __future__ import annotations

from collector.config.fields import MAX_DURATION, parse_duration
from collector.config.loading import config_schema, load_config
from collector.config.settings import (
    DEFAULT_PAGERDUTY_URL,
    DEFAULT_PROMETHEUS_URL,
    DEFAULT_QUERIES,
    NOTIFY_FORMATS,
    QUERY_KINDS,
    BatchSettings,
    Business,
    Config,
    FleetSettings,
    LinkSettings,
    NotifySettings,
    PagerDutySettings,
    PrometheusSettings,
    QuerySpec,
    ReportSettings,
    Targets,
    TrendSettings,
    WebhookSettings,
)
from collector.errors import ConfigError

__all__ = [
    "DEFAULT_PAGERDUTY_URL",
    "DEFAULT_PROMETHEUS_URL",
    "DEFAULT_QUERIES",
    "MAX_DURATION",
    "NOTIFY_FORMATS",
    "QUERY_KINDS",
    "BatchSettings",
    "Business",
    "Config",
    "ConfigError",
    "FleetSettings",
    "LinkSettings",
    "NotifySettings",
    "PagerDutySettings",
    "PrometheusSettings",
    "QuerySpec",
    "ReportSettings",
    "Targets",
    "TrendSettings",
    "WebhookSettings",
    "config_schema",
    "load_config",
    "parse_duration",
]
