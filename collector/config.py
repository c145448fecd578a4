"""Load and validate the collector's settings, once, from a YAML file and the environment.

This is the only module that reads the environment. Everything else receives a `Config`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from collector.config_yaml import read_yaml
from collector.errors import ConfigError as ConfigError
from collector.redact import split_userinfo

DEFAULT_PAGERDUTY_URL = "https://api.pagerduty.com"
DEFAULT_PROMETHEUS_URL = "http://localhost:9090"
QUERY_KINDS = (
    "memory",
    "swap",
    "availability",
    "traffic",
    "errors",
    "latency",
    "saturation",
    "connections",
    "users",
    "backup_age",
    "alerts",
    "custom",
)


@dataclass(frozen=True)
class QuerySpec:
    """One named PromQL query of the query pack."""

    name: str
    title: str
    query: str
    unit: str = ""
    kind: str = "custom"
    thresholds: tuple[float, ...] = ()
    # Availability only: what users hit (probes) decides the outage; scrape `up` is context.
    user_facing: bool = False


@dataclass(frozen=True)
class PagerDutySettings:
    """How to reach PagerDuty's REST API v2."""

    base_url: str = DEFAULT_PAGERDUTY_URL
    token: str | None = None
    timeout: float = 30.0
    max_retries: int = 3
    max_concurrency: int = 4
    post_note: bool = False
    from_email: str | None = None


@dataclass(frozen=True)
class PrometheusSettings:
    """How to reach a Prometheus-compatible query API, and what to ask it."""

    url: str = DEFAULT_PROMETHEUS_URL
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    padding_before: timedelta = timedelta(minutes=30)
    padding_after: timedelta = timedelta(minutes=30)
    lookback: timedelta = timedelta(hours=4)
    chart_points: int = 720
    baseline_offset: timedelta | None = timedelta(weeks=1)
    max_concurrency: int = 4
    max_series_shown: int = 6
    insecure_skip_verify: bool = False
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    services: Mapping[str, str] = field(default_factory=dict)
    queries: tuple[QuerySpec, ...] = ()


@dataclass(frozen=True)
class ReportSettings:
    """How the report is written."""

    language: str = "fr"
    timezone: str | None = None
    template_dir: Path | None = None
    severity_by_priority: Mapping[str, str] = field(default_factory=dict)
    base_url: str | None = None
    pdf: bool = True  # report.pdf beside report.html, for the archive


NOTIFY_FORMATS = ("slack", "teams", "json")


@dataclass(frozen=True)
class NotifySettings:
    """Where and how to announce a new draft in chat; `webhook_url` is a secret."""

    webhook_url: str | None = field(default=None, repr=False)
    format: str = "slack"
    timeout: float = 10.0
    max_retries: int = 3
    backoff: float = 1.0


@dataclass(frozen=True)
class LinkSettings:
    """Where the links under each chart open the live query; None means "not configured"."""

    prometheus_url: str | None = None  # the graph page people open; None: the queried URL
    grafana_url: str | None = None
    grafana_datasource: str | None = None  # the Prometheus data source's UID in Grafana
    grafana_org_id: int | None = None


@dataclass(frozen=True)
class Targets:
    """Recovery objectives and service level; None means "not configured"."""

    rto: timedelta | None = None
    rpo: timedelta | None = None
    slo_percent: float | None = None
    slo_period: timedelta = timedelta(days=30)
    alert_to_responder: timedelta | None = None


@dataclass(frozen=True)
class Business:
    """Business figures used to price an incident; None means "not configured"."""

    revenue_per_minute: float | None = None
    currency: str = "$"
    active_users: int | None = None
    working_hours: tuple[int, int] = (9, 18)
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class TrendSettings:
    """How memory and swap trends are judged."""

    # Growth faster than this (percentage points per hour) is worth an alert of its own.
    memory_growth_warning: float = 5.0


@dataclass(frozen=True)
class WebhookSettings:
    """The PagerDuty webhook receiver (`collect --webhook`); `secret` signs its deliveries."""

    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class BatchSettings:
    """Which resolved incidents the scheduled job drafts."""

    services: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    min_priority: str | None = None
    created_lookback: timedelta = timedelta(days=30)
    workers: int | None = None


@dataclass(frozen=True)
class FleetSettings:
    """The memory-trend review of the whole fleet (`collect --memory-trends`)."""

    selector: str = ""
    top_n: int = 12
    high_level: float = 90.0
    horizon: timedelta = timedelta(days=30)
    min_growth: float = 0.5  # percentage points per day
    max_detail_hosts: int = 60  # one request per query (BATCH_HOSTS)


@dataclass(frozen=True)
class Config:
    """Everything the collector needs, validated."""

    pagerduty: PagerDutySettings
    prometheus: PrometheusSettings
    report: ReportSettings
    targets: Targets = field(default_factory=Targets)
    business: Business = field(default_factory=Business)
    batch: BatchSettings = field(default_factory=BatchSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    links: LinkSettings = field(default_factory=LinkSettings)
    fleet: FleetSettings = field(default_factory=FleetSettings)
    trends: TrendSettings = field(default_factory=TrendSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    ca_bundle: Path | None = None
    source: str = "built-in defaults"

    @property
    def ca_file(self) -> str | None:
        """The CA bundle as the clients take it; None: the system's trust store."""
        return str(self.ca_bundle) if self.ca_bundle else None


DEFAULT_QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec(
        name="memory_used",
        title="Memory used",
        query="100 * (1 - node_memory_MemAvailable_bytes{$selector}"
        " / node_memory_MemTotal_bytes{$selector})",
        unit="%",
        kind="memory",
        thresholds=(80.0, 95.0),
    ),
    QuerySpec(
        name="swap_used",
        title="Swap used",
        query="100 * (1 - node_memory_SwapFree_bytes{$selector}"
        " / node_memory_SwapTotal_bytes{$selector})",
        unit="%",
        kind="swap",
        thresholds=(30.0,),
    ),
    QuerySpec(
        name="targets_up", title="Scrape targets up", query="up{$selector}", kind="availability"
    ),
    QuerySpec(
        name="probe_success",
        title="Blackbox probes succeeding",
        query="probe_success",
        kind="availability",
        user_facing=True,
    ),
    QuerySpec(name="alerts", title="Prometheus alerts", query="ALERTS", kind="alerts"),
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PATTERN = r"^\s*\d+(\.\d+)?\s*[smhdw]\s*$"
# No setting needs more: beyond it, date arithmetic overflows (99999999999w).
MAX_DURATION = timedelta(days=3653)

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "pagerduty": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
                "max_retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "max_concurrency": {"type": "integer", "minimum": 1, "maximum": 16},
                "post_note": {"type": "boolean"},
            },
        },
        "notify": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "format": {"enum": list(NOTIFY_FORMATS)},
                "timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
                "max_retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "backoff_seconds": {"type": "number", "minimum": 0, "maximum": 60},
            },
        },
        "prometheus": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
                "padding_before": {"type": "string", "pattern": _DURATION_PATTERN},
                "padding_after": {"type": "string", "pattern": _DURATION_PATTERN},
                "lookback": {"type": "string", "pattern": _DURATION_PATTERN},
                "chart_points": {"type": "integer", "minimum": 50, "maximum": 11000},
                "max_concurrency": {"type": "integer", "minimum": 1, "maximum": 16},
                "max_series_shown": {"type": "integer", "minimum": 1, "maximum": 50},
                "insecure_skip_verify": {"type": "boolean"},
                "baseline_offset": {
                    "anyOf": [{"type": "string", "pattern": _DURATION_PATTERN}, {"type": "null"}]
                },
                "services": {"type": "object", "additionalProperties": {"type": "string"}},
                "queries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "query"],
                        "properties": {
                            "name": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,99}$"},
                            "title": {"type": "string"},
                            "query": {"type": "string", "minLength": 1},
                            "unit": {"type": "string"},
                            "kind": {"enum": list(QUERY_KINDS)},
                            "thresholds": {"type": "array", "items": {"type": "number"}},
                            "user_facing": {"type": "boolean"},
                        },
                    },
                },
            },
        },
        "targets": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "rto": {"type": "string", "pattern": _DURATION_PATTERN},
                "rpo": {"type": "string", "pattern": _DURATION_PATTERN},
                "slo_percent": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
                "slo_period": {"type": "string", "pattern": _DURATION_PATTERN},
                "alert_to_responder": {"type": "string", "pattern": _DURATION_PATTERN},
            },
        },
        "business": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "revenue_per_minute": {"type": "number", "minimum": 0},
                "currency": {"type": "string"},
                "active_users": {"type": "integer", "minimum": 0},
                "working_hours": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0, "maximum": 24},
                    "minItems": 2,
                    "maxItems": 2,
                },
                "working_days": {
                    "type": "array",
                    "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
                },
                # Read as trends.memory_growth_warning_percent_per_hour, where it now lives.
                "memory_growth_warning_percent_per_hour": {"type": "number", "minimum": 0},
            },
        },
        "trends": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "memory_growth_warning_percent_per_hour": {"type": "number", "minimum": 0},
            },
        },
        "batch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "services": {"type": "array", "items": {"type": "string"}},
                "teams": {"type": "array", "items": {"type": "string"}},
                "urgencies": {"type": "array", "items": {"enum": ["high", "low"]}},
                "min_priority": {"type": ["string", "null"]},
                "created_lookback": {"type": "string", "pattern": _DURATION_PATTERN},
                "workers": {"type": ["integer", "null"], "minimum": 1, "maximum": 8},
            },
        },
        "fleet": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "selector": {"type": "string"},
                "top_n": {"type": "integer", "minimum": 1, "maximum": 100},
                "high_level_percent": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "exclusiveMaximum": 100,
                },
                "horizon": {"type": "string", "pattern": _DURATION_PATTERN},
                "min_growth_percent_per_day": {"type": "number", "minimum": 0},
                "max_detail_hosts": {"type": "integer", "minimum": 0, "maximum": 5000},
            },
        },
        "report": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "language": {"enum": ["fr", "en"]},
                "timezone": {"type": ["string", "null"]},
                "template_dir": {"type": ["string", "null"]},
                "severity_by_priority": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
                "base_url": {"type": ["string", "null"], "pattern": "^https?://"},
                "pdf": {"type": "boolean"},
            },
        },
        "links": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "prometheus_url": {"type": ["string", "null"], "pattern": "^https?://"},
                "grafana_url": {"type": ["string", "null"], "pattern": "^https?://"},
                "grafana_datasource": {"type": ["string", "null"], "minLength": 1},
                "grafana_org_id": {"type": ["integer", "null"], "minimum": 1},
            },
        },
    },
}


def parse_duration(text: str) -> timedelta:
    """Parse '90s', '30m', '4h', '7d' or '2w' into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text[:40]!r} (expected e.g. 30m, 4h, 7d)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {text.strip()[:40]!r} is too long: at most 10 years (520w)")
    return timedelta(seconds=seconds)


def load_config(path: Path | None, env: Mapping[str, str]) -> Config:
    """Read the YAML file (if any) and the environment into a validated Config."""
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        raw = read_yaml(path)
        source = str(path)
    _validate(raw, source)
    base = Path(path).parent if path is not None else Path.cwd()
    return Config(
        pagerduty=_pagerduty_settings(raw.get("pagerduty", {}), env),
        prometheus=_prometheus_settings(raw.get("prometheus", {}), env),
        report=_report_settings(raw.get("report", {}), base, source),
        targets=_targets(raw.get("targets", {})),
        business=_business(raw.get("business", {})),
        batch=_batch(raw.get("batch", {})),
        notify=_notify(raw.get("notify", {}), env),
        links=_links(raw.get("links", {}), source),
        fleet=_fleet(raw.get("fleet", {})),
        trends=_trends(raw.get("trends", {}), raw.get("business", {})),
        webhook=WebhookSettings(secret=env.get("PAGERDUTY_WEBHOOK_SECRET") or None),
        ca_bundle=_ca_bundle(env),
        source=source,
    )


def _validate(raw: dict[str, Any], source: str) -> None:
    validator = jsonschema.Draft202012Validator(_SCHEMA)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        key = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ConfigError(f"{source}: key '{key}': {_explain(first)}")
    _check_bounds(raw, source)


def _check_bounds(raw: dict[str, Any], source: str) -> None:
    # What the schema cannot say: numbers are finite, durations at most MAX_DURATION.
    for key, number in _numbers(raw, ""):
        if not math.isfinite(number):
            raise ConfigError(f"{source}: key '{key}': expected a finite number, got {number}")
    for key in _duration_keys(_SCHEMA, ""):
        section, _, name = key.partition(".")
        text = (raw.get(section) or {}).get(name)
        try:
            parse_duration(text) if isinstance(text, str) else None
        except ValueError as exc:
            raise ConfigError(f"{source}: key '{key}': {exc}") from exc


def _duration_keys(schema: Mapping[str, Any], prefix: str) -> Iterator[str]:
    # Every key whose schema asks for a duration, e.g. "prometheus.lookback".
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}.{name}" if prefix else name
        options = [sub, *sub.get("anyOf", ())]
        if any(o.get("pattern") == _DURATION_PATTERN for o in options):
            yield key
        elif sub.get("type") == "object":
            yield from _duration_keys(sub, key)


def _numbers(value: Any, key: str) -> Iterator[tuple[str, float]]:
    # YAML has .nan and .inf, which pass every minimum and maximum of the schema.
    if isinstance(value, float):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _numbers(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numbers(item, f"{key}.{index}")


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"{error.message}; see config/collector.example.yaml for the known keys"
    if error.validator == "pattern" and "smhdw" in str(error.validator_value):
        return f"expected a duration such as 30m, 4h or 7d, got {str(error.instance)[:40]!r}"
    if error.validator == "pattern" and "https?" in str(error.validator_value):
        return f"expected an http:// or https:// URL, got {str(error.instance)[:80]!r}"
    return str(error.message)[:300]


def _pagerduty_settings(raw: Mapping[str, Any], env: Mapping[str, str]) -> PagerDutySettings:
    return PagerDutySettings(
        base_url=split_userinfo(env.get("PAGERDUTY_BASE_URL") or DEFAULT_PAGERDUTY_URL)[0],
        token=env.get("PAGERDUTY_API_TOKEN") or None,
        from_email=env.get("PAGERDUTY_FROM_EMAIL") or None,
        **_given(
            raw,
            timeout_seconds=("timeout", float),
            max_retries=("max_retries", int),
            max_concurrency=("max_concurrency", int),
            post_note=("post_note", bool),
        ),
    )


def _notify(raw: Mapping[str, Any], env: Mapping[str, str]) -> NotifySettings:
    url = env.get("NOTIFY_WEBHOOK_URL") or None
    if url is not None and not url.startswith(("https://", "http://")):
        # The value is a secret: say what is wrong with it, never what it is.
        raise ConfigError("NOTIFY_WEBHOOK_URL: expected an https:// URL (the chat webhook)")
    return NotifySettings(
        webhook_url=url,
        **_given(
            raw,
            format=("format", str),
            timeout_seconds=("timeout", float),
            max_retries=("max_retries", int),
            backoff_seconds=("backoff", float),
        ),
    )


def _prometheus_settings(raw: Mapping[str, Any], env: Mapping[str, str]) -> PrometheusSettings:
    queries = tuple(
        QuerySpec(
            name=q["name"],
            title=q.get("title", q["name"].replace("_", " ").capitalize()),
            query=q["query"],
            **_given(
                q,
                unit=("unit", str),
                kind=("kind", str),
                thresholds=("thresholds", lambda ts: tuple(float(t) for t in ts)),
                user_facing=("user_facing", bool),
            ),
        )
        for q in raw.get("queries", ())
    )
    # A user and password in the URL are basic auth, kept out of the URL shown and stored.
    url, userinfo = split_userinfo(env.get("PROMETHEUS_URL") or DEFAULT_PROMETHEUS_URL)
    return PrometheusSettings(
        url=url,
        bearer_token=env.get("PROMETHEUS_BEARER_TOKEN") or None,
        basic_auth=_basic_auth(env) or userinfo,
        queries=queries or DEFAULT_QUERIES,
        **_given(
            raw,
            headers=("headers", dict),
            timeout_seconds=("timeout", float),
            padding_before=("padding_before", parse_duration),
            padding_after=("padding_after", parse_duration),
            lookback=("lookback", parse_duration),
            chart_points=("chart_points", int),
            max_concurrency=("max_concurrency", int),
            max_series_shown=("max_series_shown", int),
            insecure_skip_verify=("insecure_skip_verify", bool),
            # null (or empty): no baseline is fetched.
            baseline_offset=("baseline_offset", lambda v: parse_duration(v) if v else None),
            services=("services", dict),
        ),
    )


def _report_settings(raw: Mapping[str, Any], base: Path, source: str) -> ReportSettings:
    tz = raw.get("timezone")
    if tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"{source}: key 'report.timezone': unknown time zone {tz!r};"
                " expected an IANA name such as Europe/Paris"
            ) from exc
    template_dir = raw.get("template_dir")
    resolved = (base / template_dir).resolve() if template_dir else None
    if resolved is not None and not resolved.is_dir():
        raise ConfigError(f"{source}: key 'report.template_dir': {resolved} is not a directory")
    return ReportSettings(
        timezone=tz,
        template_dir=resolved,
        base_url=(raw.get("base_url") or "").rstrip("/") or None,
        **_given(
            raw,
            language=("language", str),
            severity_by_priority=("severity_by_priority", dict),
            pdf=("pdf", bool),
        ),
    )


def _links(raw: Mapping[str, Any], source: str) -> LinkSettings:
    if raw.get("grafana_url") and not raw.get("grafana_datasource"):
        raise ConfigError(
            f"{source}: key 'links.grafana_datasource': required with links.grafana_url;"
            " expected the UID of Grafana's Prometheus data source"
        )
    return LinkSettings(
        prometheus_url=raw.get("prometheus_url"),
        grafana_url=raw.get("grafana_url"),
        grafana_datasource=raw.get("grafana_datasource"),
        grafana_org_id=raw.get("grafana_org_id"),
    )


def _targets(raw: Mapping[str, Any]) -> Targets:
    return Targets(
        **_given(
            raw,
            rto=("rto", parse_duration),
            rpo=("rpo", parse_duration),
            slo_percent=("slo_percent", _as_is),
            slo_period=("slo_period", parse_duration),
            alert_to_responder=("alert_to_responder", parse_duration),
        )
    )


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _business(raw: Mapping[str, Any]) -> Business:
    return Business(
        **_given(
            raw,
            revenue_per_minute=("revenue_per_minute", _as_is),
            currency=("currency", str),
            active_users=("active_users", _as_is),
            working_hours=("working_hours", lambda h: (int(h[0]), int(h[1]))),
            working_days=("working_days", lambda days: tuple(_DAYS.index(d) for d in days)),
        )
    )


def _trends(raw: Mapping[str, Any], business: Mapping[str, Any]) -> TrendSettings:
    # Older files set it under business: the same key there still counts, trends: wins.
    key = "memory_growth_warning_percent_per_hour"
    return TrendSettings(**_given({**business, **raw}, **{key: ("memory_growth_warning", float)}))


def _batch(raw: Mapping[str, Any]) -> BatchSettings:
    return BatchSettings(
        **_given(
            raw,
            services=("services", tuple),
            teams=("teams", tuple),
            urgencies=("urgencies", tuple),
            min_priority=("min_priority", _as_is),
            created_lookback=("created_lookback", parse_duration),
            workers=("workers", _as_is),
        )
    )


def _fleet(raw: Mapping[str, Any]) -> FleetSettings:
    return FleetSettings(
        **_given(
            raw,
            selector=("selector", str),
            top_n=("top_n", int),
            high_level_percent=("high_level", float),
            horizon=("horizon", parse_duration),
            min_growth_percent_per_day=("min_growth", float),
            max_detail_hosts=("max_detail_hosts", int),
        )
    )


def _given(raw: Mapping[str, Any], **keys: tuple[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """Settings for the keys the file gives, as (field, conversion) per YAML key.

    A key the file leaves out is not passed, so each default is stated once: on its dataclass.
    """
    return {name: convert(raw[key]) for key, (name, convert) in keys.items() if key in raw}


def _as_is(value: Any) -> Any:
    """The value as the file gives it (the schema has checked its type)."""
    return value


def _basic_auth(env: Mapping[str, str]) -> tuple[str, str] | None:
    user = env.get("PROMETHEUS_USERNAME")
    return (user, env.get("PROMETHEUS_PASSWORD", "")) if user else None


def _ca_bundle(env: Mapping[str, str]) -> Path | None:
    # requests reads REQUESTS_CA_BUNDLE, OpenSSL reads SSL_CERT_FILE: honour both, for both APIs.
    value = env.get("REQUESTS_CA_BUNDLE") or env.get("SSL_CERT_FILE")
    return Path(value) if value else None
