"""CPU seconds per chart family: the demo incident's charts, a context chart, the fleet charts.

Every chart is drawn in this process, one after another (as in batch mode, one process per
core), `--rounds` times; the table gives the median CPU seconds (`time.process_time`) per
chart family and the PNG sizes. Pin it to one core for steadier numbers:

    taskset -c 0 .venv/bin/python benchmarks/charts.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from collector.analysis.fleet import review_host
from collector.analysis.fleet_series import ReviewedSeries
from collector.analysis.incident import analyse_incident
from collector.analysis.memory_context import review_context
from collector.config import FleetSettings, load_config
from collector.demo import demo_dir
from collector.snapshot.incident import read_incident_data
from collector.snapshot.store import load_snapshot
from report import draft
from report.charts.context import draw_context_chart
from report.charts.fleet import draw_heatmap, draw_small_multiples
from report.words import Words
from report.words.fleet import FLEET_LABELS
from report.words.labels import LABELS

UNTIL = datetime(2026, 3, 29, tzinfo=timezone.utc)
Timed = dict[str, list[float]]


def family(path: Path) -> str:
    """The chart family of a file name (timeline, memory_trend, metric, context...)."""
    for name in ("timeline", "memory_trend", "context", "top", "heatmap"):
        if path.name.startswith(name):
            return name
    return "metric"


def demo_jobs(folder: Path, language: str) -> list[Callable[[], Path]]:
    """The demo draft's chart jobs, as `report.draft.plan_charts` plans them."""
    config = load_config(demo_dir() / "collector.yaml", {})
    snapshot = load_snapshot(demo_dir() / "snapshot.json")
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    data = read_incident_data(snapshot.pagerduty, snapshot.prometheus, config.prometheus.queries)
    analysis = analyse_incident(data, config, now)
    timeline, planned = draft.plan_charts(
        analysis, folder, config.report.timezone, words=Words(language)
    )
    return [timeline.draw, *(job.draw for _, job in planned)]


def context_job(folder: Path, language: str) -> Callable[[], Path]:
    """A 28-day hourly context chart of memory and swap, as a batch incident has."""
    start = datetime(2025, 9, 27, 16, tzinfo=timezone.utc).timestamp()
    hours = np.arange(28 * 24)
    records = [
        {
            "name": name,
            "kind": kind,
            "query": "q",
            "start": "2025-09-27T16:00:00Z",
            "end": "2025-10-25T16:00:00Z",
            "step": 3600,
            "result": [
                {
                    "metric": {"instance": "db-01:9100"},
                    "values": [
                        [start + 3600 * i, str(v)] for i, v in zip(hours, values, strict=True)
                    ],
                }
            ],
        }
        for name, kind, values in (
            ("memory_used", "memory", 30 + 1.5 * hours / 24 + 3 * np.sin(hours / 4)),
            ("swap_used", "swap", 5 + 0.2 * hours / 24),
        )
    ]
    contexts = review_context(records)
    words = LABELS[language]
    incident = datetime(2025, 10, 25, 14, tzinfo=timezone.utc)
    title = words["context_title"].format(instance="db-01:9100", span="28 days")
    window = (incident, incident + timedelta(hours=1))
    return lambda: draw_context_chart(contexts, window, title, words, folder / "context.png")


def fleet_jobs(folder: Path, language: str) -> list[Callable[[], Path | None]]:
    """The review's small multiples (9 hosts, 28 days at 5 min) and its heatmap (80 hosts)."""
    words = FLEET_LABELS[language]
    steps = np.arange(28 * 288)
    rng = np.random.default_rng(3)
    top = []
    for i in range(9):
        values = 30 + (i + 1) * steps / 288 + rng.normal(0, 2, steps.size)
        times = UNTIL.timestamp() - 300.0 * steps[::-1]
        name = f"host-{i}"
        review = review_host(times, values, instance=name, kind="memory", until=UNTIL)
        top.append(ReviewedSeries("memory_used", {"instance": name}, review, times, values, False))
    start = UNTIL - timedelta(days=28)
    days = pd.date_range("2026-03-01", periods=28, freq="D").date
    hosts = [f"host-{i:03d}" for i in range(80)]
    frame = pd.DataFrame(rng.uniform(10, 95, (80, 28)), columns=days, index=hosts)
    settings = FleetSettings()
    return [
        lambda: draw_small_multiples(
            top, lambda s: [], start, UNTIL, settings, words, folder / "top.png"
        ),
        lambda: draw_heatmap(frame, "Memory", words, folder / "heatmap.png"),
    ]


def measure(jobs: list[Callable[[], Path | None]], rounds: int) -> tuple[Timed, dict[str, int]]:
    """CPU seconds of each job per round, by file name, and the files' sizes."""
    timed: Timed = {}
    sizes: dict[str, int] = {}
    for _ in range(rounds):
        for job in jobs:
            started = time.process_time()
            path = job()
            spent = time.process_time() - started
            if path is not None:
                timed.setdefault(path.name, []).append(spent)
                sizes[path.name] = path.stat().st_size
    return timed, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lang", default="fr")
    parser.add_argument("--keep", type=Path, help="write the PNGs here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        jobs: list[Callable[[], Path | None]] = [
            *demo_jobs(folder, args.lang),
            context_job(folder / "charts", args.lang),
            *fleet_jobs(folder / "charts", args.lang),
        ]
        measure(jobs, 1)  # warm-up: fonts, caches
        timed, sizes = measure(jobs, args.rounds)
    families: dict[str, list[str]] = {}
    for name in timed:
        families.setdefault(family(Path(name)), []).append(name)
    print("| family | charts | median CPU s per chart | total CPU s | KiB per chart |")
    print("|---|---:|---:|---:|---:|")
    for name, files in families.items():
        totals = [sum(timed[f][r] for f in files) for r in range(args.rounds)]
        total = statistics.median(totals)
        kib = sum(sizes[f] for f in files) / len(files) / 1024
        print(f"| {name} | {len(files)} | {total / len(files):.3f} | {total:.3f} | {kib:.0f} |")
    demo = [f for f in timed if family(Path(f)) in ("timeline", "memory_trend", "metric")]
    rounds = [sum(timed[f][r] for f in demo) for r in range(args.rounds)]
    print(f"\ndemo, {len(demo)} charts: median {statistics.median(rounds):.3f} CPU s per round")
    print("rounds:", ", ".join(f"{r:.3f}" for r in rounds))


if __name__ == "__main__":
    main()
