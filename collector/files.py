"""Small files written whole: a reader sees the old content or the new, never half of it, and
what was written survives a crash or a power cut the moment the write returns."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# What the tool reads back from --out (report.md, figures.json, a state file) is far smaller.
READ_BACK_LIMIT = 64 * 1024 * 1024


def read_regular_file(path: Path, limit: int = READ_BACK_LIMIT) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes, else OSError:
    a file the tool wrote may since be a FIFO (reading it would hang) or a link to /dev/zero
    (it would fill memory). Links are not followed."""
    data = read_regular_head(path, limit + 1)
    if len(data) > limit:
        raise OSError(f"{path} is larger than {limit} bytes")
    return data


def read_regular_head(path: Path, limit: int) -> bytes:
    """At most the first `limit` bytes of `path`, a regular file (else OSError, as
    `read_regular_file`): enough to look into a file of any size without hanging on it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return handle.read(limit)


# Where a write is under way: `<folder>/.tmp-<name>.<random>`; one left by a crash is garbage.
TEMP_PREFIX = ".tmp-"


def write_json_atomically(path: Path, data: Mapping[str, Any], mode: int = 0o644) -> None:
    """Replace `path` with `data` as JSON in one rename, synced to disk (file and folder).

    `mode` 0o600 keeps the file to its owner (the webhook queue holds PagerDuty's payloads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600, which would hide a state file from readers
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(path: Path) -> None:
    """Make the renames done in folder `path` survive a power cut."""
    folder = os.open(path, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
