"""The collector's settings: each one, its default and its bounds, stated once, here.

Each section is a frozen pydantic dataclass: the code reads attributes (`config.prometheus.
lookback`), the YAML file gives the keys (`lookback: 4h`, `timeout_seconds: 30` for `timeout`),
and the file's JSON Schema is generated from these classes (`config_schema()`). Settings marked
`FromEnvironment` come from environment variables only (see `load_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic.dataclasses import dataclass

from collector.config.fields import (
    Bool,
    Day,
    Duration,
    Float,
    FromEnvironment,
    Int,
    QueryName,
    Text,
    Url,
    distinct_thresholds,
    folder,
    time_zone,
)

DEFAULT_PAGERDUTY_URL = "https://api.pagerduty.com"
DEFAULT_PROMETHEUS_URL = "http://localhost:9090"
QueryKind = Literal[
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
]
QUERY_KINDS: tuple[str, ...] = get_args(QueryKind)
Language = Literal["fr", "en"]  # one catalogue each in report/
NotifyFormat = Literal["slack", "teams", "json"]
# When report.pdf is written: for the final only (`collect --finalize`), with every draft too, or
# never. A draft is read on screen; WeasyPrint was ~30 % of a demo draft's CPU.
PdfMode = Literal["final", "always", "never"]
Compress = Literal["auto"] | Bool
NOTIFY_FORMATS: tuple[str, ...] = get_args(NotifyFormat)

# Unknown keys are refused; a setting with a YAML name of its own (timeout_seconds) is still
# built by its attribute name in code (PagerDutySettings(timeout=5)), never in the file.
SECTION = ConfigDict(
    extra="forbid",
    allow_inf_nan=False,
    validate_by_name=True,
    validate_by_alias=True,
)
Headers = Mapping[Text, Text]


@dataclass(frozen=True, kw_only=True, config=SECTION)
class QuerySpec:
    """One named PromQL query of the query pack."""

    name: QueryName
    title: Text = ""  # "" or absent: the name as a title ("memory_used" -> "Memory used")
    query: Annotated[Text, Field(min_length=1)]
    unit: Text = ""
    kind: QueryKind = "custom"
    thresholds: Annotated[tuple[Float, ...], AfterValidator(distinct_thresholds)] = ()
    # Availability only: what users hit (probes) decides the outage; scrape `up` is context.
    user_facing: Bool = False

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", self.name.replace("_", " ").capitalize())


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


def _query_pack(queries: tuple[QuerySpec, ...]) -> tuple[QuerySpec, ...]:
    # A file without queries (or with an empty list) gets the default pack.
    return queries or DEFAULT_QUERIES


@dataclass(frozen=True, config=SECTION)
class PagerDutySettings:
    """How to reach PagerDuty's REST API v2."""

    base_url: FromEnvironment[Text] = DEFAULT_PAGERDUTY_URL
    token: FromEnvironment[Text | None] = Field(default=None, repr=False)
    timeout: Float = Field(default=30.0, validation_alias="timeout_seconds", gt=0, le=3600)
    max_retries: Int = Field(default=3, ge=0, le=10)
    max_concurrency: Int = Field(default=4, ge=1, le=16)
    post_note: Bool = False
    from_email: FromEnvironment[Text | None] = None


@dataclass(frozen=True, config=SECTION)
class PrometheusSettings:
    """How to reach a Prometheus-compatible query API, and what to ask it."""

    url: FromEnvironment[Text] = DEFAULT_PROMETHEUS_URL
    headers: Headers = Field(default_factory=dict)
    timeout: Float = Field(default=30.0, validation_alias="timeout_seconds", gt=0, le=3600)
    padding_before: Duration = timedelta(minutes=30)
    padding_after: Duration = timedelta(minutes=30)
    lookback: Duration = timedelta(hours=4)
    chart_points: Int = Field(default=720, ge=50, le=11000)
    baseline_offset: Duration | None = timedelta(weeks=1)  # null: no baseline is fetched
    # Each request is a round trip: the demo's pack is 18 of them, 5 waits at 4 in flight.
    # Prometheus itself runs 20 queries at once by default (--query.max-concurrency). A pack
    # of fewer queries asks each in parts of its range (`sources.prometheus.parts_per_query`).
    max_concurrency: Int = Field(default=8, ge=1, le=16)
    max_series_shown: Int = Field(default=6, ge=1, le=50)
    insecure_skip_verify: Bool = False
    # Answers gzip-compressed (true), or plain JSON (false): Prometheus's gzip is a third of the
    # server's CPU for a big answer, besides the client's own decompression (benchmarks/README.md).
    # "auto": plain to a server on this host or a private network, gzip elsewhere
    # (`sources.prometheus_api.asks_plain`).
    compress: Compress = "auto"
    bearer_token: FromEnvironment[Text | None] = Field(default=None, repr=False)
    basic_auth: FromEnvironment[tuple[Text, Text] | None] = Field(default=None, repr=False)
    services: Headers = Field(default_factory=dict)  # PagerDuty service name -> label matchers
    queries: Annotated[tuple[QuerySpec, ...], AfterValidator(_query_pack)] = Field(
        default=DEFAULT_QUERIES, validate_default=True
    )


def _no_trailing_slash(url: str | None) -> str | None:
    return url.rstrip("/") or None if url else None


def _pdf_mode(value: object) -> object:
    # Files written before the final existed said `pdf: true` (the default then) or `false`.
    if value is True:
        return "final"
    return "never" if value is False else value


@dataclass(frozen=True, config=SECTION)
class ReportSettings:
    """How the report is written."""

    language: Language = "fr"
    timezone: Annotated[Text | None, AfterValidator(time_zone)] = None
    # Relative to the config file's folder.
    template_dir: Annotated[Path | None, BeforeValidator(folder)] = None
    severity_by_priority: Headers = Field(default_factory=dict)
    base_url: Annotated[Url | None, AfterValidator(_no_trailing_slash)] = None
    pdf: Annotated[PdfMode, BeforeValidator(_pdf_mode)] = "final"  # report.pdf, for the archive
    # The archive block of each report, offered as suggestions: how long it is kept ("5 years"),
    # who receives it, and the review date, this many days after the resolve.
    retention: Text | None = None
    distribution: tuple[Text, ...] = ()
    review_after_days: Int | None = Field(default=None, ge=1, le=3650)

    @property
    def pdf_for_drafts(self) -> bool:
        """Whether a draft writes report.pdf (the final writes it unless `never`)."""
        return self.pdf == "always"


@dataclass(frozen=True, config=SECTION)
class NotifySettings:
    """Where and how to announce a new draft in chat; `webhook_url` is a secret."""

    webhook_url: FromEnvironment[Text | None] = Field(default=None, repr=False)
    format: NotifyFormat = "slack"
    timeout: Float = Field(default=10.0, validation_alias="timeout_seconds", gt=0)
    max_retries: Int = Field(default=3, ge=0, le=10)
    backoff: Float = Field(default=1.0, validation_alias="backoff_seconds", ge=0, le=60)


def _datasource_with_grafana(datasource: str | None, info: ValidationInfo) -> str | None:
    if info.data.get("grafana_url") and not datasource:
        raise ValueError(
            "required with links.grafana_url; expected the UID of Grafana's Prometheus data source"
        )
    return datasource


@dataclass(frozen=True, config=SECTION)
class LinkSettings:
    """Where the links under each chart open the live query; None means "not configured"."""

    prometheus_url: Url | None = None  # the graph page people open; None: the queried URL
    grafana_url: Url | None = None
    # The Prometheus data source's UID in Grafana.
    grafana_datasource: Annotated[
        Annotated[Text, Field(min_length=1)] | None, AfterValidator(_datasource_with_grafana)
    ] = Field(default=None, validate_default=True)
    grafana_org_id: Int | None = Field(default=None, ge=1)


@dataclass(frozen=True, config=SECTION)
class Targets:
    """Recovery objectives and service level; None means "not configured"."""

    rto: Duration | None = None
    rpo: Duration | None = None
    slo_percent: Float | None = Field(default=None, gt=0, lt=100)
    slo_period: Duration = timedelta(days=30)
    alert_to_responder: Duration | None = None  # acknowledge within this after the page


@dataclass(frozen=True, config=SECTION)
class Business:
    """Business figures used to price an incident; None means "not configured"."""

    revenue_per_minute: Float | None = Field(default=None, ge=0)
    currency: Text = "$"
    active_users: Int | None = Field(default=None, ge=0)
    working_hours: tuple[Annotated[Int, Field(ge=0, le=24)], Annotated[Int, Field(ge=0, le=24)]] = (
        9,
        18,
    )
    working_days: tuple[Day, ...] = (0, 1, 2, 3, 4)  # Monday is 0


@dataclass(frozen=True, config=SECTION)
class TrendSettings:
    """How memory and swap trends are judged."""

    # Growth faster than this (percentage points per hour) is worth an alert of its own.
    memory_growth_warning: Float = Field(
        default=5.0, validation_alias="memory_growth_warning_percent_per_hour", ge=0
    )


@dataclass(frozen=True, config=SECTION)
class WebhookSettings:
    """The PagerDuty webhook receiver (`collect --webhook`); `secret` signs its deliveries."""

    secret: FromEnvironment[Text | None] = Field(default=None, repr=False)


@dataclass(frozen=True, config=SECTION)
class BatchSettings:
    """Which resolved incidents the scheduled job drafts."""

    services: tuple[Text, ...] = ()
    teams: tuple[Text, ...] = ()
    urgencies: tuple[Literal["high", "low"], ...] = ()
    min_priority: Text | None = None
    created_lookback: Duration = timedelta(days=30)
    # Incidents drafted at once; None: one more than the cores, up to 4; 1 on one core.
    workers: Int | None = Field(default=None, ge=1, le=8)


@dataclass(frozen=True, config=SECTION)
class FleetSettings:
    """The memory-trend review of the whole fleet (`collect --memory-trends`)."""

    selector: Text = ""
    top_n: Int = Field(default=12, ge=1, le=100)
    high_level: Float = Field(default=90.0, validation_alias="high_level_percent", gt=0, lt=100)
    horizon: Duration = timedelta(days=30)
    # Percentage points per day.
    min_growth: Float = Field(default=0.5, validation_alias="min_growth_percent_per_day", ge=0)
    # One request per query (BATCH_HOSTS).
    max_detail_hosts: Int = Field(default=60, ge=0, le=5000)


@dataclass(frozen=True, config=SECTION)
class AtlassianCredentials:
    """The Atlassian account that files (ATLASSIAN_USER, ATLASSIAN_API_TOKEN): environment only."""

    user: Text | None = None
    api_token: Text | None = Field(default=None, repr=False)


def _no_userinfo(url: str | None) -> str | None:
    if url and "@" in url.split("://", 1)[-1].split("/", 1)[0]:
        raise ValueError(
            "expected the site's URL without a user or password (they go in ATLASSIAN_USER"
            " and ATLASSIAN_API_TOKEN)"
        )
    return url


@dataclass(frozen=True, config=SECTION)
class JiraSettings:
    """Where `collect --finalize` files the final's action items; None: not filed."""

    url: Annotated[Url | None, AfterValidator(_no_userinfo)] = None  # https://SITE.atlassian.net
    project: Annotated[Text, Field(min_length=1, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")] | None = None
    issue_type: Annotated[Text, Field(min_length=1)] = "Task"
    # Jira Cloud (e-mail + API token, the enhanced JQL search); false: Data Center (a personal
    # access token in ATLASSIAN_API_TOKEN, ATLASSIAN_USER unset).
    cloud: Bool = True
    timeout: Float = Field(default=20.0, validation_alias="timeout_seconds", gt=0, le=300)

    @property
    def configured(self) -> bool:
        """Both the site and the project are set: finalize files the action items."""
        return bool(self.url and self.project)


@dataclass(frozen=True, config=SECTION)
class ConfluenceSettings:
    """Where `collect --finalize` publishes the final report as a page; None: not published."""

    # https://SITE.atlassian.net/wiki (Cloud), or Data Center's base URL.
    url: Annotated[Url | None, AfterValidator(_no_userinfo)] = None
    space: Annotated[Text, Field(min_length=1, pattern=r"^~?[A-Za-z0-9_]+$")] | None = None
    parent_title: Annotated[Text, Field(min_length=1, max_length=255)] | None = None
    timeout: Float = Field(default=20.0, validation_alias="timeout_seconds", gt=0, le=300)

    @property
    def configured(self) -> bool:
        """Both the site and the space are set: finalize publishes the final report."""
        return bool(self.url and self.space)


@dataclass(frozen=True, config=SECTION)
class Config:
    """Everything the collector needs, validated."""

    pagerduty: PagerDutySettings = Field(default_factory=PagerDutySettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    targets: Targets = Field(default_factory=Targets)
    business: Business = Field(default_factory=Business)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    links: LinkSettings = Field(default_factory=LinkSettings)
    fleet: FleetSettings = Field(default_factory=FleetSettings)
    trends: TrendSettings = Field(default_factory=TrendSettings)
    jira: JiraSettings = Field(default_factory=JiraSettings)
    confluence: ConfluenceSettings = Field(default_factory=ConfluenceSettings)
    webhook: FromEnvironment[WebhookSettings] = Field(default_factory=WebhookSettings)
    atlassian: FromEnvironment[AtlassianCredentials] = Field(default_factory=AtlassianCredentials)
    ca_bundle: FromEnvironment[Path | None] = None
    source: FromEnvironment[Text] = "built-in defaults"  # the file read, for messages

    @property
    def ca_file(self) -> str | None:
        """The CA bundle as the clients take it; None: the system's trust store."""
        return str(self.ca_bundle) if self.ca_bundle else None
