"""The settings a draft was made with, as its snapshot keeps them: a re-render (`collect
--snapshot` without `--config`) then gives the same figures without the config file.

Only what shapes the report's figures and words is kept, named key by key below: targets,
business figures, trends, the report's language, time zone, severities and archive block
(retention, distribution, review delay), the query pack and how many series a chart shows.
Never a secret nor where a service is reached: tokens, passwords, headers, the webhook secret
and the chat URL come from the environment (or the file) on each run, as do the links' pages
and `report.base_url` (a deployment's, and a URL may carry a
password). The record is a fragment of a config file, read back by the same typed settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from collector.config.loading import dump_section, parse_settings
from collector.config.settings import Config
from collector.errors import ConfigError
from collector.timeutil import iso_utc, parse_time

# Section -> the keys a snapshot keeps, by their names in code (`dump_section` writes those).
STORED: dict[str, tuple[str, ...]] = {
    "targets": ("rto", "rpo", "slo_percent", "slo_period", "alert_to_responder"),
    "business": ("revenue_per_minute", "currency", "active_users", "working_hours", "working_days"),
    "trends": ("memory_growth_warning",),
    "report": (
        "language",
        "timezone",
        "severity_by_priority",
        "retention",
        "distribution",
        "review_after_days",
    ),
    "prometheus": ("queries", "max_series_shown"),
}
# Where a problem with the stored settings is, as the snapshot's schema names fields.
WHERE = "settings.config"


def settings_record(config: Config, drafted_at: datetime) -> dict[str, Any]:
    """What a snapshot keeps of the settings its draft was made with (JSON values)."""
    values: dict[str, Any] = {}
    for section, keys in STORED.items():
        dumped = dump_section(getattr(config, section))
        values[section] = {key: dumped[key] for key in keys}
    return {
        "drafted_at": iso_utc(drafted_at),
        # The file's name only: where it lives on one machine says nothing to a re-render.
        "config_file": Path(config.source).name,
        "config": values,
    }


def stored_settings_problem(record: Mapping[str, Any]) -> str | None:
    """What is wrong with a snapshot's stored settings, on one line, or None."""
    try:
        _read(record)
    except ConfigError as exc:
        return str(exc)
    return None


def with_stored_settings(config: Config, record: Mapping[str, Any]) -> Config:
    """`config` with the settings a snapshot keeps in place of its own; the rest (what the
    environment gives, the links) stays as `config` has it."""
    stored = _read(record)
    sections = {
        section: replace(
            getattr(config, section),
            **{key: getattr(getattr(stored, section), key) for key in keys},
        )
        for section, keys in STORED.items()
    }
    return replace(config, **sections, source=str(record.get("config_file") or stored.source))


def describe_stored(record: Mapping[str, Any]) -> str:
    """When and from which file the stored settings were taken, for one line of the CLI."""
    drafted = parse_time(str(record["drafted_at"])).strftime("%Y-%m-%d %H:%M UTC")
    origin = record.get("config_file")
    return f"drafted {drafted}, from {origin}" if origin else f"drafted {drafted}"


def _read(record: Mapping[str, Any]) -> Config:
    values = record.get("config")
    if not isinstance(values, Mapping):
        raise ConfigError(f"{WHERE}: expected a mapping of settings")
    # Only the keys a snapshot keeps: a file's other keys (a template folder, links) are
    # not taken from a snapshot someone else may have written.
    for section, part in values.items():
        kept = STORED.get(str(section), ())
        names = list(part) if isinstance(part, Mapping) else []
        extra = [f"{section}.{key}" for key in names if key not in kept] if kept else [section]
        if extra:
            raise ConfigError(
                f"{WHERE}: key {str(extra[0])[:80]!r}: not a setting a snapshot keeps"
            )
    return parse_settings(dict(values), WHERE, Path.cwd(), by_name=True)
