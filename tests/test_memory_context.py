"""The report's 28-day memory context: a known slow leak, read back from a real Prometheus."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT, environment
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer, start_prometheus

from collector.analysis.fleet import Verdict
from collector.analysis.memory_context import review_context
from collector.config import load_config
from collector.jobs.draft import draft_incident
from collector.jobs.runner import Runner
from collector.snapshot.schema import check_snapshot
from collector.snapshot.store import load_snapshot
from report.memory_context import context_sentence
from report.words import Words

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

END = datetime(2025, 10, 25, 15, 40, tzinfo=timezone.utc)  # the incident's end plus padding
DAYS = 29
RATE = 1.0  # percentage points per day, by construction
TOTAL = 64 * 2**30
SERIES = '{instance="db-01:9100",job="node"}'


def write_leak(path: Path) -> None:
    """29 days of db-01 memory every 5 minutes: 40 % growing RATE %/day, a daily cycle, noise."""
    noise = random.Random(14)
    end = int(END.timestamp())
    times = range(end - DAYS * 86_400, end + 1, 300)
    used = {
        t: 40
        + RATE * (t - times[0]) / 86_400
        + 3 * math.sin(t / 86_400 * 2 * math.pi)
        + noise.uniform(-2, 2)
        for t in times
    }
    lines = ["# TYPE node_memory_MemTotal_bytes gauge"]
    lines += [f"node_memory_MemTotal_bytes{SERIES} {TOTAL} {t}" for t in times]
    lines.append("# TYPE node_memory_MemAvailable_bytes gauge")
    lines += [
        f"node_memory_MemAvailable_bytes{SERIES} {TOTAL * (1 - u / 100):.0f} {t}"
        for t, u in used.items()
    ]
    path.write_text("\n".join(lines) + "\n# EOF\n", encoding="utf-8")


@pytest.fixture(scope="module")
def leak_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    workdir = tmp_path_factory.mktemp("leak-prometheus")
    write_leak(workdir / "leak.om")
    server = start_prometheus([workdir / "leak.om"], workdir)
    try:
        yield server
    finally:
        server.stop()


def test_a_slow_leak_is_named_with_its_rate_beside_the_incident(
    collect_bin: str, pd_sim: PagerDutySimulator, leak_prometheus: PrometheusServer, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **environment(pd_sim, leak_prometheus.url)}
    args = ["--incident", "P7DBOOM", "--config", str(DEMO_CONFIG), "--out", str(tmp_path)]
    result = subprocess.run(
        [collect_bin, *args, "--lang", "en"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "P7DBOOM"
    report = (folder / "report.md").read_text(encoding="utf-8")
    found = re.search(
        r"- Memory over 28 days: growing steadily, a long leak, ([-+.\d]+) %/day"
        r" \(95 % interval ([-+.\d]+) to ([-+.\d]+)\)",
        report,
    )
    assert found, report
    rate, low, high = (float(x) for x in found.groups())
    assert low <= RATE <= high
    assert rate == pytest.approx(RATE, abs=0.1)
    chart = "charts/memory_context_db_01_9100.png"
    assert (folder / chart).stat().st_size > 5_000
    # Right after the host's memory trend chart.
    assert report.index("charts/memory_trend_db_01_9100.png") < report.index(chart)
    snapshot = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    context = snapshot["prometheus"]["memory_context"]
    assert [r["name"] for r in context] == ["memory_used", "swap_used"]
    assert all(r["step"] == 3600 and r["error"] is None for r in context)


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("fr", "Pas d'historique mémoire d'avant l'incident : ce snapshot a été enregistré sans"),
        ("en", "No memory history from before the incident: this snapshot was saved without"),
    ],
)
def test_a_snapshot_without_context_still_renders_and_says_so(
    tmp_path: Path, lang: str, sentence: str
) -> None:
    snapshot = load_snapshot(DEMO_SNAPSHOT)
    assert "memory_context" not in snapshot.prometheus
    config = load_config(DEMO_CONFIG, {})
    config = replace(config, report=replace(config.report, language=lang))
    draft_incident(snapshot, config, Runner(), tmp_path)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert sentence in report
    assert not list((tmp_path / "charts").glob("memory_context_*"))


def context_record(values: list[list[float | str]], error: str | None = None) -> dict[str, object]:
    """A 28-day memory context record of db-01 with these [time, value] samples."""
    return {
        "name": "memory_used",
        "kind": "memory",
        "query": "q",
        "start": "2025-09-27T16:00:00Z",
        "end": "2025-10-25T16:00:00Z",
        "step": 3600,
        "result": [{"metric": {"instance": "db-01:9100"}, "values": values}],
        "error": error,
    }


def test_steady_then_spike_reads_as_a_sudden_spike_in_both_languages() -> None:
    start = datetime(2025, 9, 27, 16, tzinfo=timezone.utc).timestamp()
    hours = 28 * 24
    values: list[list[float | str]] = [
        [start + 3600 * h, str(50.0 + (0.5 if h % 2 else -0.5))] for h in range(hours - 2)
    ]
    values += [[start + 3600 * (hours - 2), "97"], [start + 3600 * (hours - 1), "99"]]
    (context,) = review_context([context_record(values)])
    assert context.review.verdict is Verdict.STEADY
    assert context_sentence(context, Words("en")).startswith(
        "Memory over 28 days: steady before the incident, a sudden spike"
    )
    assert context_sentence(context, Words("fr")).startswith(
        "Mémoire sur 28 j : stable avant l'incident, un pic soudain"
    )


def test_a_failed_context_query_is_left_out_and_a_bad_record_is_refused() -> None:
    assert review_context([context_record([], error="Prometheus timed out")]) == []
    data = json.loads(DEMO_SNAPSHOT.read_text(encoding="utf-8"))
    data["prometheus"]["memory_context"] = [context_record([[1.0, "NaN"], ["x", "1"]])]
    assert check_snapshot(data) is not None
    data["prometheus"]["memory_context"] = [context_record([[1_759_000_000.0, "50"]])]
    assert check_snapshot(data) is None
