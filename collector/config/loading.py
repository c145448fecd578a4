"""Read the settings once: the YAML file, validated by the typed settings, then the environment.

This is the only module that reads the environment (through the `env` mapping it is given).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import (
    ErrorDetails,
    PydanticSerializationError,
    SchemaError,
    SchemaSerializer,
    core_schema,
)

from collector.config.fields import FileOrigin, unreadable_url
from collector.config.settings import (
    DEFAULT_PAGERDUTY_URL,
    DEFAULT_PROMETHEUS_URL,
    AtlassianCredentials,
    Config,
    NotifySettings,
    PagerDutySettings,
    PrometheusSettings,
    WebhookSettings,
)
from collector.config_yaml import read_yaml
from collector.errors import ConfigError
from collector.redact import split_userinfo

# A setting only the environment gives, and how a file may try to write it: the variable to set.
ENVIRONMENT_KEYS = {
    ("pagerduty", "token"): "PAGERDUTY_API_TOKEN",
    ("pagerduty", "api_token"): "PAGERDUTY_API_TOKEN",
    ("pagerduty", "api_key"): "PAGERDUTY_API_TOKEN",
    ("pagerduty", "base_url"): "PAGERDUTY_BASE_URL",
    ("pagerduty", "url"): "PAGERDUTY_BASE_URL",
    ("pagerduty", "from_email"): "PAGERDUTY_FROM_EMAIL",
    ("prometheus", "url"): "PROMETHEUS_URL",
    ("prometheus", "bearer_token"): "PROMETHEUS_BEARER_TOKEN",
    ("prometheus", "token"): "PROMETHEUS_BEARER_TOKEN",
    ("prometheus", "basic_auth"): "PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD",
    ("prometheus", "username"): "PROMETHEUS_USERNAME",
    ("prometheus", "password"): "PROMETHEUS_PASSWORD",
    ("notify", "webhook_url"): "NOTIFY_WEBHOOK_URL",
    ("notify", "url"): "NOTIFY_WEBHOOK_URL",
    ("webhook",): "PAGERDUTY_WEBHOOK_SECRET",
    ("webhook", "secret"): "PAGERDUTY_WEBHOOK_SECRET",
    ("ca_bundle",): "SSL_CERT_FILE",
    ("atlassian",): "ATLASSIAN_USER and ATLASSIAN_API_TOKEN",
    ("atlassian", "user"): "ATLASSIAN_USER",
    ("atlassian", "api_token"): "ATLASSIAN_API_TOKEN",
    ("jira", "user"): "ATLASSIAN_USER",
    ("jira", "username"): "ATLASSIAN_USER",
    ("jira", "email"): "ATLASSIAN_USER",
    ("jira", "token"): "ATLASSIAN_API_TOKEN",
    ("jira", "api_token"): "ATLASSIAN_API_TOKEN",
    ("jira", "password"): "ATLASSIAN_API_TOKEN",
    ("confluence", "user"): "ATLASSIAN_USER",
    ("confluence", "username"): "ATLASSIAN_USER",
    ("confluence", "token"): "ATLASSIAN_API_TOKEN",
    ("confluence", "api_token"): "ATLASSIAN_API_TOKEN",
    ("confluence", "password"): "ATLASSIAN_API_TOKEN",
}
# Keys read where older files put them: (old section, key) -> new section.
MOVED_KEYS = {("business", "memory_growth_warning_percent_per_hour"): "trends"}
_EXAMPLE = "see config/collector.example.yaml for the known keys"


@cache
def _adapter() -> TypeAdapter[Config]:
    return TypeAdapter(Config)


class _FileSchema(GenerateJsonSchema):
    """The file's schema as people read it: no generated titles, every section inline."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        # The default as the file writes it ("30m", [mon, ...]), by the field's own serializer.
        value = super().default_schema(schema)
        if "default" in value and "default" in schema:
            try:
                serializer = SchemaSerializer(schema["schema"])
                value["default"] = serializer.to_python(schema["default"], mode="json")
            except (TypeError, ValueError, PydanticSerializationError, SchemaError):
                pass  # a section (a reference): pydantic's own encoding is right
        return value

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> JsonSchemaValue:
        value = super().dataclass_schema(schema)
        value.pop("title", None)
        return value


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, generated from the typed settings."""
    schema = _adapter().json_schema(schema_generator=_FileSchema)
    definitions = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, definitions)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Incident Timeline Collector settings (collect --config FILE)",
        **inlined,
    }


def _inline(value: Any, definitions: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if "$ref" in value:
            return _inline(definitions[value["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inline(item, definitions) for key, item in value.items()}
    if isinstance(value, list):
        return [_inline(item, definitions) for item in value]
    return value


def load_config(path: Path | None, env: Mapping[str, str]) -> Config:
    """Read the YAML file (if any) and the environment into a validated Config."""
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        raw = read_yaml(path)
        source = str(path)
    folder = Path(path).parent if path is not None else Path.cwd()
    return _with_environment(parse_settings(raw, source, folder), env)


def parse_settings(
    raw: dict[str, Any], source: str, folder: Path, *, by_name: bool = False
) -> Config:
    """Settings as a config file gives them (no environment), validated; ConfigError naming
    `source` and the key. Relative paths start at `folder`; `by_name`: also take a setting's
    name in code (`timeout` for `timeout_seconds`), as `dump_section` writes it."""
    moved = _move_old_keys(raw)
    try:
        config = _adapter().validate_python(
            moved, by_alias=True, by_name=by_name, context=FileOrigin(folder)
        )
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_error(exc.errors()[0], raw)}") from None
    return replace(config, source=source)


def dump_section(section: object) -> dict[str, Any]:
    """One section of the settings as the config file writes it ("30m", [mon, ...])."""
    data: dict[str, Any] = TypeAdapter(type(section)).dump_python(
        section, mode="json", by_alias=True
    )
    return data


def _move_old_keys(raw: dict[str, Any]) -> dict[str, Any]:
    # Older files set some keys elsewhere: there they still count; the new place wins.
    moved = dict(raw)
    for (old, key), new in MOVED_KEYS.items():
        section, target = raw.get(old), raw.get(new, {})
        if isinstance(section, dict) and key in section:
            moved[old] = {name: value for name, value in section.items() if name != key}
            if isinstance(target, dict):
                moved[new] = {key: section[key], **target}
    return moved


def _where_given(where: list[str], raw: Mapping[str, Any]) -> list[str]:
    # A moved key is named where the file gives it.
    for (old, key), new in MOVED_KEYS.items():
        target = raw.get(new)
        if where[:2] == [new, key] and not (isinstance(target, dict) and key in target):
            return [old, *where[1:]]
    return where


def _with_environment(config: Config, env: Mapping[str, str]) -> Config:
    """The settings that differ per deployment: URLs, credentials and secrets."""
    notify_url = env.get("NOTIFY_WEBHOOK_URL") or None
    if notify_url is not None and not notify_url.startswith(("https://", "http://")):
        # The value is a secret: say what is wrong with it, never what it is.
        raise ConfigError("NOTIFY_WEBHOOK_URL: expected an https:// URL (the chat webhook)")
    if notify_url is not None and (problem := unreadable_url(notify_url)):
        raise ConfigError(f"NOTIFY_WEBHOOK_URL: not a URL ({problem}) (the chat webhook)")
    for variable in ("PROMETHEUS_URL", "PAGERDUTY_BASE_URL"):
        if problem := unreadable_url(env.get(variable) or ""):
            # It may hold a password: say what is wrong with it, never what it is.
            raise ConfigError(f"{variable}: not a URL ({problem}); expected e.g. https://host:port")
    # A user and password in a URL are basic auth, kept out of the URL shown and stored.
    prometheus_url, userinfo = split_userinfo(env.get("PROMETHEUS_URL") or DEFAULT_PROMETHEUS_URL)
    user = env.get("PROMETHEUS_USERNAME")
    # requests reads REQUESTS_CA_BUNDLE, OpenSSL reads SSL_CERT_FILE: honour both, for both APIs.
    ca_bundle = env.get("REQUESTS_CA_BUNDLE") or env.get("SSL_CERT_FILE")
    pagerduty: PagerDutySettings = replace(
        config.pagerduty,
        base_url=split_userinfo(env.get("PAGERDUTY_BASE_URL") or DEFAULT_PAGERDUTY_URL)[0],
        token=env.get("PAGERDUTY_API_TOKEN") or None,
        from_email=env.get("PAGERDUTY_FROM_EMAIL") or None,
    )
    prometheus: PrometheusSettings = replace(
        config.prometheus,
        url=prometheus_url,
        bearer_token=env.get("PROMETHEUS_BEARER_TOKEN") or None,
        basic_auth=(user, env.get("PROMETHEUS_PASSWORD", "")) if user else userinfo,
    )
    notify: NotifySettings = replace(config.notify, webhook_url=notify_url)
    return replace(
        config,
        pagerduty=pagerduty,
        prometheus=prometheus,
        notify=notify,
        webhook=WebhookSettings(secret=env.get("PAGERDUTY_WEBHOOK_SECRET") or None),
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
        atlassian=AtlassianCredentials(
            user=env.get("ATLASSIAN_USER") or None,
            api_token=env.get("ATLASSIAN_API_TOKEN") or None,
        ),
    )


def describe_error(error: ErrorDetails, raw: Mapping[str, Any]) -> str:
    """One validation error on one line: "key 'a.b': what was expected, got what"."""
    loc = [str(part) for part in error["loc"] if part != "[key]"]
    kind = error["type"]
    variable = ENVIRONMENT_KEYS.get(tuple(loc))
    if variable and kind in ("environment_only", "unexpected_keyword_argument", "extra_forbidden"):
        where, what = loc, f"set from the environment, never the file: use {variable}"
    elif kind == "missing":
        where, what = loc[:-1], f"{loc[-1]!r} is a required property"
    elif kind in ("unexpected_keyword_argument", "extra_forbidden"):
        unknown = f"unknown key: {loc[-1][:60]!r} was unexpected{_did_you_mean(loc)}"
        where, what = loc, f"{unknown}; {_EXAMPLE}"
    elif kind == "environment_only":
        where, what = loc, "set from the environment, never the file (see README: Settings)"
    else:
        where, what = loc, _expected(error)
    return f"key '{'.'.join(_where_given(where, raw)) or '(top level)'}': {what}"


def _expected(error: ErrorDetails) -> str:
    """What the setting takes, in the words of a person editing the file."""
    kind, message, context = error["type"], error["msg"], error.get("ctx", {})
    shown = repr(error["input"])[:80]
    if kind in ("duration", "day", "time_zone", "folder", "query_name"):
        return message
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and "https?" in str(context.get("pattern")):
        return f"expected an http:// or https:// URL, got {shown}"
    template = _EXPECTED.get(kind)
    expected = template.format(**context) if template else message.removeprefix("Input should be ")
    return f"expected {expected[:1].lower()}{expected[1:]}, got {shown}"


_EXPECTED = {
    "finite_number": "a finite number",
    "dataclass_type": "a mapping of keys (a section)",
    "invalid_key": "text keys",
    "string_pattern_mismatch": "text matching {pattern}",
    "greater_than": "a number greater than {gt}",
    "greater_than_equal": "a number greater than or equal to {ge}",
    "less_than": "a number less than {lt}",
    "less_than_equal": "a number less than or equal to {le}",
    "too_short": "at least {min_length} items",
    "too_long": "at most {max_length} items",
}


def _did_you_mean(loc: list[str]) -> str:
    close = difflib.get_close_matches(loc[-1], _known_keys(loc[:-1]), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _known_keys(where: list[str]) -> list[str]:
    schema: Any = config_schema()
    for part in where:
        if part.isdigit():
            schema = schema.get("items", {})
        else:
            options = [schema, *schema.get("anyOf", ())]
            schema = next(
                (o["properties"][part] for o in options if part in o.get("properties", {})), {}
            )
    options = [schema, *schema.get("anyOf", ())]
    return sorted(key for o in options for key in o.get("properties", {}))
