"""The kinds of value a setting can hold, each parsed and described in one place.

A field type here carries its validation (what the file may say), its JSON Schema (what an
editor is told) and its Python value (what the code reads): e.g. `Duration` is "30m" in the file,
a string with a pattern in the schema and a `timedelta` in `Config`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_DURATION",
    "QueryName",
    "Bool",
    "Day",
    "Duration",
    "FileOrigin",
    "FromEnvironment",
    "Float",
    "Int",
    "Text",
    "Url",
    "parse_duration",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# No setting needs more: beyond it, date arithmetic overflows (99999999999w).
MAX_DURATION = timedelta(days=3653)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

T = TypeVar("T")


@dataclass(frozen=True)
class FileOrigin:
    """The validation context of a config file: where relative paths start."""

    folder: Path


def parse_duration(text: str) -> timedelta:
    """Parse '90s', '30m', '4h', '7d' or '2w' into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text[:40]!r} (expected e.g. 30m, 4h, 7d)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {text.strip()[:40]!r} is too long: at most 10 years (520w)")
    return timedelta(seconds=seconds)


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not _DURATION.match(value):
        shown = repr(value)[:40]
        raise PydanticCustomError(
            "duration", "expected a duration such as 30m, 4h or 7d, got {shown}", {"shown": shown}
        )
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError("duration", str(exc)) from exc


def format_duration(value: timedelta) -> str:
    """A duration as the file writes it: the largest unit that divides it, e.g. 30m or 1w."""
    seconds = value.total_seconds()
    for unit, size in sorted(_UNIT_SECONDS.items(), key=lambda item: -item[1]):
        if seconds and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _day(value: object, info: ValidationInfo) -> int:
    # The file names days; the code counts them from Monday (0), as datetime.weekday() does.
    if isinstance(value, str) and value in DAYS:
        return DAYS.index(value)
    in_code = not isinstance(info.context, FileOrigin) and not isinstance(value, bool)
    if in_code and isinstance(value, int) and 0 <= value < len(DAYS):
        return value
    raise PydanticCustomError(
        "day",
        "expected one of {days}, got {shown}",
        {"days": ", ".join(DAYS), "shown": repr(value)[:40]},
    )


def _environment_only(value: T, info: ValidationInfo) -> T:
    if isinstance(info.context, FileOrigin):
        raise PydanticCustomError("environment_only", "set from the environment, not the file")
    return value


def distinct_thresholds(thresholds: tuple[float, ...]) -> tuple[float, ...]:
    """A query's thresholds, each listed once: a repeated one would be drawn and named twice."""
    seen: set[float] = set()
    for threshold in thresholds:
        if threshold in seen:
            raise PydanticCustomError(
                "distinct_thresholds",
                "each threshold once ({shown} is listed twice)",
                {"shown": f"{threshold:g}"},
            )
        seen.add(threshold)
    return thresholds


def time_zone(name: str | None) -> str | None:
    """An IANA time zone name, checked against the system's database."""
    if name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise PydanticCustomError(
                "time_zone",
                "unknown time zone {shown}; expected an IANA name such as Europe/Paris",
                {"shown": repr(name[:60])},
            ) from exc
    return name


def folder(value: Any, info: ValidationInfo) -> Any:
    """A folder named relative to the config file, resolved; it must exist."""
    if isinstance(value, str) and isinstance(info.context, FileOrigin):
        if not value:
            return None
        value = (info.context.folder / value).resolve()
        if not value.is_dir():
            raise PydanticCustomError("folder", "{path} is not a directory", {"path": str(value)})
    return value


_QUERY_NAME = r"^[a-z][a-z0-9_]{0,99}$"


def _query_name(name: str, info: ValidationInfo) -> str:
    # A name from the file becomes a file name (its chart); code may name a query otherwise,
    # e.g. after an alerting rule, and makes that name safe where it writes it.
    if isinstance(info.context, FileOrigin) and not re.match(_QUERY_NAME, name):
        raise PydanticCustomError(
            "query_name",
            "expected a lowercase name of letters, digits and _ (e.g. memory_used), got {shown}",
            {"shown": repr(name[:60])},
        )
    return name


# Scalars as YAML types them: "30" is not a number, 1 is not true.
Bool = StrictBool
Int = StrictInt
Float = StrictFloat  # also takes an int; never .nan or .inf (allow_inf_nan=False)
Text = StrictStr


def unreadable_url(url: str) -> str | None:
    """Why `url` cannot be read as a URL at all ("Invalid IPv6 URL", a port out of range);
    None when it can (whether it answers is the request's to say)."""
    try:
        _ = urlsplit(url).port
    except ValueError as exc:
        # urllib quotes the part it could not read ("Port could not be cast to integer value
        # as 's3cret'"): only the words before it are said.
        said = str(exc).split("'")[0].split('"')[0].strip(" :").removesuffix(" as")
        return said[:80] or "unreadable"
    return None


def _readable_url(url: str) -> str:
    if problem := unreadable_url(url):
        raise ValueError(f"not a URL ({problem})")
    return url


Url = Annotated[StrictStr, StringConstraints(pattern=r"^https?://"), AfterValidator(_readable_url)]
Duration = Annotated[
    timedelta,
    PlainValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhdw]\s*$"}),
]
QueryName = Annotated[
    StrictStr,
    AfterValidator(_query_name),
    WithJsonSchema({"type": "string", "pattern": _QUERY_NAME}),
]
Day = Annotated[
    int,
    PlainValidator(_day),
    PlainSerializer(lambda day: DAYS[day], return_type=str),
    WithJsonSchema({"enum": list(DAYS)}),
]
# A setting the environment gives (a URL, a secret): absent from the file and from its schema.
FromEnvironment = Annotated[T, SkipJsonSchema(), BeforeValidator(_environment_only)]
