"""Benchmark the fleet memory-trend review: 2,000 hosts x 28 days at 5 minutes on a real Prometheus.

    .venv/bin/python benchmarks/fleet.py [--hosts 2000] [--days 30] [--keep]

Generates node_exporter memory series (the shapes of fixtures/prometheus/generate_fleet.py,
repeated over the fleet), backfills them (one OpenMetrics file per 2-hour block, two promtools at
a time), then runs the installed `collect --memory-trends 28d` once against Prometheus and the
PagerDuty simulator, and reports wall time, peak RSS and request counts (Prometheus's own count
of query API requests, and the collector's). Targets: <= 60 s and <= 1 GiB on a 2-core machine.
Not a test: pytest never runs it. Results go to benchmarks/fleet_results.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from statistics import median
from types import ModuleType
from typing import Any

import numpy as np
import requests
from measure import COLLECT, GNU_TIME, environment, run_floor
from servers import TOKEN, PagerDutySimulator, load_prometheus, prometheus_queries

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATOR = ROOT / "fixtures" / "prometheus" / "generate_fleet.py"
BLOCK = 7200
GIB = 1024**3


def load_generator() -> ModuleType:
    """fixtures/prometheus/generate_fleet.py as a module (its shapes and UNTIL)."""
    spec = importlib.util.spec_from_file_location("generate_fleet", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def write_fleet(gen: ModuleType, hosts: int, days: int, out_dir: Path) -> tuple[list[Path], int]:
    """One OpenMetrics file per 2-hour block; returns the files and the number of samples."""
    out_dir.mkdir(parents=True, exist_ok=True)
    end = int(gen.UNTIL.timestamp())
    start = end - days * 86400
    times = np.arange(start, end + 1, gen.STEP, dtype=np.int64)
    day = (times - start) / 86400.0
    rng = np.random.default_rng(2000)
    templates = gen.HOSTS
    labels, available, totals = [], [], []
    for number in range(hosts):
        template = templates[number % len(templates)]
        used = gen.used_percent(template, day - (days - gen.DAYS), rng)
        total = (16, 32, 64)[number % 3] * GIB
        labels.append(f'instance="host-{number:04d}:9100",job="node"')
        available.append((total * (1 - used / 100)).astype(np.int64))
        totals.append(total)
    files = []
    for window in range(start // BLOCK * BLOCK, end + 1, BLOCK):
        inside = (times >= window) & (times < window + BLOCK)
        stamps = times[inside].tolist()
        path = out_dir / f"fleet-{window}.om"
        with path.open("w", encoding="utf-8", newline="\n") as out:
            out.write("# TYPE node_memory_MemTotal_bytes gauge\n")
            for label, total in zip(labels, totals, strict=True):
                head = f"node_memory_MemTotal_bytes{{{label}}} {total} "
                out.write("".join(f"{head}{t}\n" for t in stamps))
            out.write("# TYPE node_memory_MemAvailable_bytes gauge\n")
            for label, values in zip(labels, available, strict=True):
                head = f"node_memory_MemAvailable_bytes{{{label}}} "
                out.write(
                    "".join(
                        f"{head}{v} {t}\n"
                        for v, t in zip(values[inside].tolist(), stamps, strict=True)
                    )
                )
            out.write("# EOF\n")
        files.append(path)
    return files, 2 * hosts * times.size


def wait_for_compaction(url: str, quiet: float = 150.0, limit: float = 1200.0) -> tuple[float, int]:
    """Wait until Prometheus has merged the backfilled 2-hour blocks (its block count holds
    still for `quiet` seconds): a live server queries compacted blocks, and compaction running
    during the measure would be charged to the review. Returns the wait and the block count."""
    started = time.monotonic()
    last, since = -1, time.monotonic()
    while time.monotonic() - started < limit:
        blocks = _metric(url, "prometheus_tsdb_blocks_loaded")
        if blocks != last:
            last, since = blocks, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(2.0)
    return time.monotonic() - started, last


def _metric(url: str, name: str) -> int:
    try:
        text = requests.get(f"{url}/metrics", timeout=60).text
    except requests.RequestException:
        return -1
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[-1]))
    return -1


def _queries_seen(url: str) -> int | None:
    try:
        return prometheus_queries(url)
    except requests.RequestException:
        return None


def run_review(url: str, until: str, scratch: Path) -> dict[str, Any]:
    """One `collect --memory-trends 28d` process: wall time, peak RSS, requests."""
    out = Path(tempfile.mkdtemp(prefix="out-", dir=scratch))
    rss_file = scratch / "rss"
    command = [
        str(GNU_TIME),
        "-f",
        "%U %S %M",
        "-o",
        str(rss_file),
        str(COLLECT),
        "--memory-trends",
        "28d",
        "--until",
        until,
        "--out",
        str(out),
        "--lang",
        "en",
    ]
    empty = scratch / "no-incidents"
    empty.mkdir(exist_ok=True)
    with PagerDutySimulator(empty, TOKEN) as sim:
        env = environment(sim, url)
        before = _queries_seen(url)
        started = time.perf_counter()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=1800
        )
        wall = time.perf_counter() - started
        pd_requests = len(sim.requests)
    if done.returncode != 0:
        raise RuntimeError(f"collect exited {done.returncode}:\n{done.stderr[-3000:]}")
    folder = max(out.glob("memory-trends-*"), key=lambda p: p.stat().st_mtime)
    snapshot = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    rows = (folder / "hosts.csv").read_text(encoding="utf-8").count("\n") - 1
    times = rss_file.read_text().split()
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(float(times[-3]) + float(times[-2]), 2),
        "peak_rss_mib": round(int(times[-1]) / 1024),
        "prometheus_requests_seen_by_server": _difference(_queries_seen(url), before),
        "prometheus_requests_reported": snapshot["prometheus"]["requests"],
        "pagerduty_requests": pd_requests,
        "hosts_csv_rows": rows,
        "detailed_series": sum(len(g["series"]) for g in snapshot["prometheus"]["detail"].values()),
        "stdout": done.stdout.strip(),
    }


def measure_reviews(url: str, until: str, scratch: Path, runs: int) -> dict[str, Any]:
    """`runs` reviews, each right after one run of the import floor (a shared machine's load
    weighs on both alike): the last review's details, the medians and the ratios."""
    floors, reviews = [], []
    for _ in range(runs):
        floors.append(run_floor())
        reviews.append(run_review(url, until, scratch))
    wall = median(r["wall_s"] for r in reviews)
    floor_wall = median(f["wall"] for f in floors)
    return reviews[-1] | {
        "wall_s": wall,
        "cpu_s": median(r["cpu_s"] for r in reviews),
        "walls_s": [r["wall_s"] for r in reviews],
        "floor_wall_s": round(floor_wall, 2),
        "floor_cpu_s": round(median(f["cpu"] for f in floors), 2),
        "ratio_to_floor": round(wall / floor_wall, 2),
        "load_average": os.getloadavg(),
    }


def _difference(after: int | None, before: int | None) -> int | None:
    return None if after is None or before is None else after - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30, help="days of data (the review reads 28)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--runs", type=int, default=1, help="reviews, each after one run of the import floor"
    )
    parser.add_argument("--out", type=Path, default=HERE / "fleet_results.json")
    args = parser.parse_args()
    gen = load_generator()
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        started = time.perf_counter()
        files, samples = write_fleet(gen, args.hosts, args.days, work / "om")
        generated = time.perf_counter() - started
        size = sum(f.stat().st_size for f in files)
        last = int(gen.UNTIL.timestamp())
        checks = [
            ("count(node_memory_MemAvailable_bytes)", last - args.days * 86400 + 60),
            ("count(node_memory_MemAvailable_bytes)", last),
        ]
        server, backfill = load_prometheus(files, work / "prom", checks)
        try:
            compaction, blocks = wait_for_compaction(server.url)
            result = measure_reviews(server.url, gen.UNTIL.isoformat(), work, args.runs)
        finally:
            server.stop()
        result |= {
            "hosts": args.hosts,
            "days_of_data": args.days,
            "review_window": str(timedelta(days=28)),
            "samples": samples,
            "openmetrics_gb": round(size / 1e9, 2),
            "generate_s": round(generated, 1),
            "backfill_s": round(backfill, 1),
            "compaction_wait_s": round(compaction, 1),
            "blocks_after_compaction": blocks,
        }
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(result, indent=2))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
