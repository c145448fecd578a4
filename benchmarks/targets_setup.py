"""The servers and data of `targets.py`, one group of subjects at a time.

- "none": the demo draft needs no server.
- "small": one Prometheus with the demo's and the gallery's data and alerting rules (their
  time ranges, 28-day contexts included, do not overlap): the demo incident and a gallery
  incident, collected live.
- "big": one Prometheus with `run.py`'s generated data: 2,000 hosts at 15 s around the big
  incident (2,000 log entries), and 10 hosts over the last 27 h for the 200 batch incidents.
- "fleet": one Prometheus with 40 hosts x 30 days at 5 min (`fleet.py`'s generator).

Each Prometheus is backfilled by promtool; `wait_for_compaction` then lets them all compact
their backfilled 2-hour blocks before anything is timed (compaction running during a measure
would be charged to it).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import fleet
import run as bench
from measure import Case
from servers import PrometheusServer, load_prometheus, time_bounds

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "fixtures" / "gallery"
GALLERY_INCIDENT = "PGLEAKS"  # a worker leaking memory for hours: the default query pack
RATE_LIMIT = 960  # PagerDuty's documented requests per minute per key, enforced by the simulator
FLEET_HOSTS, FLEET_DAYS = 40, 30
# Prometheus looks for blocks to compact once a minute, then merges until nothing is left.
COMPACTION_QUIET_AFTER_CHANGE = 20.0  # seconds the block count must hold once it has moved
COMPACTION_QUIET_IF_UNCHANGED = 75.0  # seconds, if it never moves (nothing to compact)

Say = Callable[[str], None]


@dataclass
class Servers:
    """What the subjects of one group run against."""

    prometheus: dict[str, PrometheusServer] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    fleet_until: str = ""
    setup: dict[str, float] = field(default_factory=dict)  # seconds spent preparing


def start_group(group: str, work: Path, servers: Servers, stack: ExitStack, say: Say) -> None:
    """Prepare and start what `group` needs, into `servers`; `stack` stops it."""
    work.mkdir(parents=True, exist_ok=True)
    if group == "none":
        return
    started = time.perf_counter()
    if group == "small":
        files, checks, rules = _small(work, servers)
    elif group == "big":
        files, checks, rules = _big(work, servers)
    elif group == "fleet":
        files, checks, rules = _fleet(work, servers)
    else:
        raise ValueError(f"unknown group {group}")
    servers.setup[f"{group}_generate_s"] = round(time.perf_counter() - started, 1)
    size = sum(f.stat().st_size for f in files) / 1e6
    say(f"{group}: {len(files)} OpenMetrics files ({size:.0f} MB); backfilling")
    server, backfill = load_prometheus(files, work / "prom", checks, rule_files=rules)
    stack.callback(server.stop)
    servers.prometheus[group] = server
    servers.setup[f"{group}_backfill_s"] = round(backfill, 1)
    say(f"{group}: loaded in {backfill:.0f} s")
    for path in files:  # the TSDB has them now; the big group's are 1.5 GB
        if path.parent.name == "om":
            path.unlink()


Prepared = tuple[list[Path], list[tuple[str, float]], list[Path]]


def _small(work: Path, servers: Servers) -> Prepared:
    demo = work / "pd-demo"
    demo.mkdir()
    shutil.copy(bench.DEMO_FIXTURE, demo)
    gallery = work / "pd-gallery"
    gallery.mkdir()
    shutil.copy(GALLERY / "pagerduty" / f"{GALLERY_INCIDENT}.json", gallery)
    servers.cases["live"] = Case("live", "demo live", demo, bench.DEMO_CONFIG, "P7DBOOM")
    servers.cases["live-gallery"] = Case(
        "live-gallery", "gallery live", gallery, GALLERY / "collector.yaml", GALLERY_INCIDENT
    )
    files = [bench.DEMO_OM, GALLERY / "gallery.om"]
    anything = 'count({__name__=~".+"})'
    checks = [(anything, moment) for path in files for moment in time_bounds(path)]
    return files, checks, [bench.DEMO_RULES, GALLERY / "gallery_rules.yml"]


def _big(work: Path, servers: Servers) -> Prepared:
    """run.py's big incident at 4x 500 series and its batch of 200, in one TSDB."""
    plan = bench.Plan(
        runs=1,
        delays=(0.0,),
        shard_size=500,
        shards=(4,),
        log_entries=2000,
        window=timedelta(hours=24),
        batch_incidents=200,
        rate_limit=RATE_LIMIT,
        cases="bc",
        prom_delay=False,
        stages=False,
    )
    big_cases, big_files, big_checks = bench.prepare_big(plan, work)
    batch_cases, batch_files, batch_checks = bench.prepare_batch(plan, work)
    servers.cases["big"] = big_cases["b4"]
    servers.cases["batch"] = batch_cases["c"]
    return big_files + batch_files, big_checks + batch_checks, []


def _fleet(work: Path, servers: Servers) -> Prepared:
    gen = fleet.load_generator()
    files, _ = fleet.write_fleet(gen, FLEET_HOSTS, FLEET_DAYS, work / "om")
    last = int(gen.UNTIL.timestamp())
    checks = [
        ("count(node_memory_MemAvailable_bytes)", float(last - FLEET_DAYS * 86400 + 60)),
        ("count(node_memory_MemAvailable_bytes)", float(last)),
    ]
    servers.fleet_until = gen.UNTIL.isoformat()
    return files, checks, []


def wait_for_compaction(servers: Servers, say: Say, limit: float = 600.0) -> None:
    """Wait until every Prometheus's block count has moved and held still for a while (or
    never moved for longer): all of them at once, so that the waits overlap."""
    started = time.monotonic()
    urls = {group: server.url for group, server in servers.prometheus.items()}
    first = {group: _blocks(url) for group, url in urls.items()}
    last, since = dict(first), {group: started for group in urls}
    settled: dict[str, float] = {}
    while len(settled) < len(urls) and time.monotonic() - started < limit:
        time.sleep(2.0)
        now = time.monotonic()
        for group, url in urls.items():
            if group in settled:
                continue
            blocks = _blocks(url)
            if blocks != last[group]:
                last[group], since[group] = blocks, now
            moved = last[group] != first[group]
            wanted = COMPACTION_QUIET_AFTER_CHANGE if moved else COMPACTION_QUIET_IF_UNCHANGED
            if now - since[group] >= wanted:
                settled[group] = now - started
                moves = f"{first[group]} -> {blocks} blocks"
                say(f"{group}: {moves}, settled after {now - started:.0f} s")
    servers.setup["compaction_wait_s"] = round(time.monotonic() - started, 1)


def _blocks(url: str) -> int:
    return fleet._metric(url, "prometheus_tsdb_blocks_loaded")


def run_fleet_review(servers: Servers, scratch: Path) -> dict[str, Any]:
    """One `collect --memory-trends 28d` (fleet.py's run), in targets.py's shape."""
    review = fleet.run_review(servers.prometheus["fleet"].url, servers.fleet_until, scratch)
    return {
        "wall": review["wall_s"],
        "cpu": review["cpu_s"],
        "rss_mib": review["peak_rss_mib"],
        "prom_requests": review["prometheus_requests_seen_by_server"],
        "hosts_csv_rows": review["hosts_csv_rows"],
    }
