"""Small files written whole: a reader sees the old content or the new, never half of it, and
what was written survives a crash or a power cut the moment the write returns."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
