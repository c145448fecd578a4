"""Helpers shared by the hardening tests: run `collect`, check its failure, fingerprint folders."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import DEMO_SNAPSHOT


def run_collect(
    collect_bin: str, args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed command with only the given environment (plus PATH)."""
    return subprocess.run(
        [collect_bin, *args],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_failure(stderr: str, stdout: str, exit_code: int, expected: int = 1) -> str:
    """The run failed with `expected`, one line on stderr, no traceback; return that line."""
    lines = stderr.strip().splitlines()
    assert exit_code == expected, (exit_code, stderr, stdout)
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr + stdout
    return lines[0]


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path) with the SHA-256 of its content."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def demo_data() -> dict[str, Any]:
    """A fresh copy of the demo snapshot, to damage."""
    data: dict[str, Any] = json.loads(DEMO_SNAPSHOT.read_text(encoding="utf-8"))
    return data


def write_json(path: Path, data: Any) -> Path:
    """Write `data` as JSON to `path` and return the path."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# Kinds whose text is made unique per copy: listed one line per distinct text, never grouped.
UNIQUE_TEXT = ("annotate_log_entry", "status_update_log_entry")


def huge_incident(count: int) -> dict[str, Any]:
    """The demo snapshot with `count` log entries (`huge_log_entries`)."""
    data = demo_data()
    data["pagerduty"]["log_entries"] = list(huge_log_entries(data, count))
    return data


def huge_log_entries(data: dict[str, Any], count: int) -> Iterator[dict[str, Any]]:
    """`count` log entries: the demo snapshot's 15 repeated with unique ids and times spread
    over the incident, every note and status update with its own text (the worst case for the
    report's lists), newest first as the API lists them; one at a time, to write a big file."""
    pd = data["pagerduty"]
    demo = sorted(pd["log_entries"], key=lambda e: e["created_at"])
    start = datetime.fromisoformat(pd["incident"]["created_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(pd["incident"]["resolved_at"].replace("Z", "+00:00"))
    step = (end - start) / count
    for i in reversed(range(count)):
        entry = copy.deepcopy(demo[i % len(demo)])
        entry["id"] = f"RHUGE{i:021d}"
        entry["created_at"] = (start + step * i).isoformat().replace("+00:00", "Z")
        if entry["type"] in UNIQUE_TEXT:
            entry["summary"] = f"{entry.get('summary', '')} #{i}"
            channel = entry.setdefault("channel", {})
            channel["summary"] = f"{channel.get('summary') or 'note'} #{i}"
        yield entry
