"""Names that reach the file system: incident IDs checked, other names slugged, paths proven.

Anything read from a snapshot or a server (an incident ID, a query or instance name) may be
hostile. An incident ID must be PagerDuty's alphanumerics; other names are turned into slugs;
and every path built from them is resolved and proven to stay under its root.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from collector.errors import OutputError

# PagerDuty object IDs are short alphanumerics; an incident number is digits.
INCIDENT_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
MAX_ID_LENGTH = 64
# How much of an untrusted value a message repeats.
SHOWN_CHARS = 40


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """An untrusted value as a message shows it: quoted, one line, at most `limit` characters."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return repr(flat)
    return f"{flat[:limit]!r}… ({len(text)} characters)"


def incident_id_problem(text: str) -> str | None:
    """Why `text` is not a PagerDuty incident ID or number, or None when it is one."""
    if not text.strip():
        return "the incident ID is empty: give an ID such as P7DBOOM, or an incident number"
    if len(text) > MAX_ID_LENGTH:
        return f"{shorten(text)} is too long for a PagerDuty incident ID (at most {MAX_ID_LENGTH})"
    if not INCIDENT_ID.match(text):
        return (
            f"{shorten(text)} is not a PagerDuty incident ID (letters and digits only,"
            " such as P7DBOOM) nor an incident number"
        )
    return None


def is_incident_id(text: object) -> bool:
    """True when `text` can name an incident folder."""
    return isinstance(text, str) and INCIDENT_ID.match(text) is not None


# A fleet review's folder: memory-trends-<until as YYYY-MM-DD>.
FLEET_FOLDER = re.compile(r"^memory-trends-\d{4}-\d{2}-\d{2}$")
# The team's review across incidents: review-<until as YYYY-MM-DD>.
REVIEW_FOLDER = re.compile(r"^review-\d{4}-\d{2}-\d{2}$")


def is_report_folder(text: object) -> bool:
    """True when `text` can name a report folder: an incident ID, or a review's dated folder."""
    if not isinstance(text, str):
        return False
    return is_incident_id(text) or any(p.match(text) for p in (FLEET_FOLDER, REVIEW_FOLDER))


def slug(text: str, fallback: str = "series") -> str:
    """A file-name-safe form of a name: letters and digits kept, anything else '_'."""
    cleaned = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in text)
    return cleaned.strip("_")[:60] or fallback


def unique_slugs(names: Iterable[str], fallback: str = "series") -> dict[str, str]:
    """Each name's slug, unique among `names`: names whose slugs collide ('app-1:9100',
    'app.1:9100'; '.', '..' and '' all 'series') each get a short hash of the name.

    The same names give the same slugs in every run; a name alone in its slug keeps it plain.
    """
    chosen = {name: slug(name, fallback) for name in dict.fromkeys(names)}
    for digits in (8, 16, 64):  # a name shaped like another's hashed slug: longer hashes
        taken = Counter(chosen.values())
        clashing = [name for name, value in chosen.items() if taken[value] > 1]
        if not clashing:
            break
        for name in clashing:
            digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
            chosen[name] = f"{slug(name, fallback)}_{digest[:digits]}"
    return chosen


def path_under(root: Path, relative: str | Path) -> Path:
    """`root / relative`, after proving that it resolves to a place strictly inside `root`."""
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if target == base or not target.is_relative_to(base):
        raise OutputError(
            f"refusing to write {shorten(str(relative))}: it would land outside {root}"
        )
    return Path(root) / relative
