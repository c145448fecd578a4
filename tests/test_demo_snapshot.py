"""The bundled demo snapshot is what `collect` fetches from the demo fixtures, exactly.

The snapshot under fixtures/demo/ is generated, never edited: run
`REGENERATE_DEMO=1 python -m pytest tests/test_demo_snapshot.py` after changing the PagerDuty
or Prometheus fixtures, and commit the result.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT, environment
from hardening_support import assert_one_line_failure, run_collect
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer

from collector.config import load_config
from collector.config.stored import settings_record
from collector.demo import SNAPSHOT, demo_dir
from collector.jobs.modes import Mode, is_shipped_demo
from collector.snapshot.schema import check_snapshot
from collector.snapshot.store import SnapshotError, load_snapshot, save_snapshot
from collector.sources.collect import collect_snapshot

# Fixed stand-ins for what changes from run to run (ports, clock, version), so the bundled
# snapshot says plainly that it came from the test servers.
STABLE = {
    "collected_at": "2025-10-26T09:00:00Z",
    "tool_version": "demo",
    "pagerduty_url": "https://pagerduty-simulator.invalid",
    "prometheus_url": "http://prometheus-demo.invalid:9090",
}


def stabilise(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Replace the run-specific fields of a snapshot by the fixed stand-ins."""
    snapshot = json.loads(json.dumps(snapshot))
    snapshot["collected_at"] = STABLE["collected_at"]
    snapshot["tool_version"] = STABLE["tool_version"]
    snapshot["pagerduty"]["base_url"] = STABLE["pagerduty_url"]
    snapshot["prometheus"]["url"] = STABLE["prometheus_url"]
    # The demo keeps no 28-day memory context (its fixtures hold a few hours): it shows how a
    # snapshot without one renders; tests/test_memory_context.py covers the context itself.
    snapshot["prometheus"].pop("memory_context", None)
    return snapshot


def test_demo_snapshot_matches_a_fresh_collection(
    pd_sim: PagerDutySimulator, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    config = load_config(DEMO_CONFIG, environment(pd_sim, prometheus.url))
    now = datetime(2025, 10, 26, 9, 0, tzinfo=timezone.utc)
    collected = collect_snapshot(config, "P7DBOOM", now=now)
    # As a draft keeps it: with the settings it was made with, so that the README's re-render
    # (`collect --snapshot …/snapshot.json --lang en`, no --config) gives the demo's figures.
    collected.settings = settings_record(config, now)
    # As the draft writes it (its samples as Prometheus wrote them).
    save_snapshot(collected, tmp_path / SNAPSHOT)
    fresh = stabilise(json.loads((tmp_path / SNAPSHOT).read_text(encoding="utf-8")))
    assert fresh["gaps"] == []
    if os.environ.get("REGENERATE_DEMO") == "1":
        DEMO_SNAPSHOT.write_text(json.dumps(fresh, ensure_ascii=False) + "\n", encoding="utf-8")
    committed = json.loads(DEMO_SNAPSHOT.read_text(encoding="utf-8"))
    assert committed == fresh, "demo snapshot is stale: regenerate it (see module docstring)"


def test_bundled_demo_snapshot_is_valid_so_the_demo_may_skip_the_check() -> None:
    # `collect --demo` reads the shipped snapshot unchecked (`load_snapshot(shipped=True)`):
    # this test is the check it skips, and both readings give the same snapshot.
    bundled = demo_dir() / SNAPSHOT
    assert bundled.read_bytes() == DEMO_SNAPSHOT.read_bytes()
    assert check_snapshot(json.loads(bundled.read_text(encoding="utf-8"))) is None
    assert load_snapshot(bundled, shipped=True) == load_snapshot(bundled)


def test_only_the_demo_mode_trusts_the_shipped_snapshot(tmp_path: Path) -> None:
    demo = Mode(None, demo_dir() / SNAPSHOT, None, None, None, demo=True)
    assert is_shipped_demo(demo)
    # --snapshot naming the bundled file, or --demo with any other path: checked.
    assert not is_shipped_demo(dataclasses.replace(demo, demo=False))
    assert not is_shipped_demo(dataclasses.replace(demo, snapshot_path=tmp_path / SNAPSHOT))


def test_a_damaged_copy_of_the_demo_given_by_a_user_is_refused(tmp_path: Path) -> None:
    data = json.loads(DEMO_SNAPSHOT.read_text(encoding="utf-8"))
    data["pagerduty"]["log_entries"][3]["created_at"] = "yesterday"
    copy = tmp_path / SNAPSHOT
    copy.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"log_entries\[3\]\.created_at: not a time"):
        load_snapshot(copy)
    collect = str(Path(sys.executable).parent / "collect")
    result = run_collect(
        collect, ["--snapshot", str(copy), "--out", str(tmp_path / "out")], {}, tmp_path
    )
    line = assert_one_line_failure(result.stderr, result.stdout, result.returncode)
    assert "log_entries[3].created_at: not a time" in line


def test_the_demo_loads_no_schema_validator(tmp_path: Path) -> None:
    # What the skipped check saves: jsonschema is not even imported (benchmarks/README.md).
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('jsonschema' in sys.modules))\n"
        f"sys.argv = ['collect', '--demo', '--out', {str(tmp_path)!r}]\n"
        "from collector.entry import run\n"
        "run()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False", result.stdout
