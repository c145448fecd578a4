"""Performance benchmark of `collect` against a PagerDuty simulator and a real Prometheus.

    /tmp/venv/bin/python benchmarks/run.py [--quick] [--runs N]

Cases: (a) the demo incident, (b) a big incident (24 h window, 2,000 log entries, 500 series
at 15 s) with its scaling curve (1x, 2x, 4x the series), (c) batch mode over 200 resolved
incidents. See benchmarks/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import gen_data
import yaml
from measure import Case, medians, run_cli, run_floor, run_worker
from plot_scaling import plot_scaling
from report_tables import print_report
from servers import load_prometheus, time_bounds

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEMO_FIXTURE = ROOT / "fixtures" / "pagerduty" / "P7DBOOM.json"
DEMO_CONFIG = ROOT / "fixtures" / "demo" / "collector.yaml"
DEMO_OM = ROOT / "fixtures" / "prometheus" / "demo.om"
# The demo's alerting rules: the draft evaluates the paged one's expression (PostgresDown).
DEMO_RULES = ROOT / "fixtures" / "prometheus" / "demo_rules.yml"
BIG_SERVICE = "Edge Load Balancers"  # the service of make_big_incident's incidents
BATCH_HOSTS = 10  # batch incidents are spread over 10 services of one host each
LOOKBACK, PADDING = timedelta(hours=4), timedelta(minutes=30)
TARGETS = {"demo_wall": 3.0, "big_wall": 15.0, "big_rss_mib": 1024.0, "batch_wall": 60.0}


@dataclass(frozen=True)
class Plan:
    """How much to generate and how often to run each case."""

    runs: int
    delays: tuple[float, ...]
    shard_size: int  # series per 1x
    shards: tuple[int, ...]
    log_entries: int
    window: timedelta
    batch_incidents: int
    rate_limit: int | None
    cases: str
    prom_delay: bool  # the delay applies to Prometheus too (through a delaying proxy)
    stages: bool  # also run the in-process stage worker


def parse_plan() -> tuple[Plan, argparse.Namespace]:
    """Command-line options into a plan."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, one run: a sanity pass")
    parser.add_argument("--runs", type=int, help="repetitions per case (default 3; quick 1)")
    parser.add_argument("--delays", default="0,100", help="PagerDuty delay per request, ms")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=960,
        help="PagerDuty requests per minute per key (0: none); default 960",
    )
    parser.add_argument("--only", default="abc", help="cases to run, e.g. 'ab' (default abc)")
    parser.add_argument(
        "--shards", default="1,2,4", help="big-incident curve points, x 500 series (1,2,4)"
    )
    parser.add_argument(
        "--prom-delay", action="store_true", help="delay Prometheus too, through a proxy"
    )
    parser.add_argument(
        "--no-stages", action="store_true", help="time the CLI only, not the stage worker"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="RESULTS_JSON",
        help="only print the tables of a results.json written earlier",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where results.json and scaling.png go (default: benchmarks/;"
        " with --quick, a new temporary directory)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="write cProfile stats of one staged run per case"
    )
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    if not 1 <= runs <= 50:
        parser.error("--runs must be between 1 and 50")
    plan = Plan(
        runs=runs,
        delays=tuple(float(ms) / 1000 for ms in args.delays.split(",")),
        shard_size=100 if args.quick else 500,
        shards=tuple(int(n) for n in args.shards.split(",")),
        log_entries=2000,
        window=timedelta(hours=24),
        batch_incidents=20 if args.quick else 200,
        rate_limit=args.rate_limit or None,
        cases=args.only,
        prom_delay=args.prom_delay,
        stages=not args.no_stages,
    )
    return plan, args


Check = tuple[str, float]  # a PromQL query that must have data at a unix time


def prepare(plan: Plan, workdir: Path) -> tuple[dict[str, Case], list[Path], list[Check]]:
    """Generate fixtures, OpenMetrics files and configs; return cases, files, data checks."""
    demo_dir = workdir / "pd-demo"
    demo_dir.mkdir()
    shutil.copy(DEMO_FIXTURE, demo_dir)
    low, high = time_bounds(DEMO_OM)
    cases = {"a": Case("a", "(a) demo incident", demo_dir, DEMO_CONFIG, "P7DBOOM")}
    anything = 'count({__name__=~".+"})'
    om_files, checks = [DEMO_OM], [(anything, low), (anything, high)]
    # Only the data of the selected cases: the big incident's alone is 1.5 GB.
    makers = {"b": prepare_big, "c": prepare_batch}
    for key, make in makers.items():
        if key not in plan.cases:
            continue
        prepared = make(plan, workdir)
        cases.update(prepared[0])
        om_files += prepared[1]
        checks += prepared[2]
    return cases, om_files, checks


def prepare_big(plan: Plan, workdir: Path) -> tuple[dict[str, Case], list[Path], list[Check]]:
    """The big incident, the fleet's memory series around it, one config per curve point."""
    duration = plan.window - LOOKBACK - PADDING
    big = gen_data.big_incident(plan.log_entries, duration)
    big_dir = gen_data.write_incidents([big], workdir / "pd-big")
    start = int(gen_data.incident_start(big).timestamp())
    fleet = gen_data.MemoryDataSet(
        job="fleet",
        hosts=plan.shard_size * max(plan.shards),
        shard_size=plan.shard_size,
        start=start - int(LOOKBACK.total_seconds()) - 600,
        end=start + int((duration + PADDING).total_seconds()) + 600,
        leak_start=start - 3 * 3600,
        leak_peak=start + 1800,
        leak_end=start + 2 * 3600,
    )
    files = gen_data.write_openmetrics(fleet, workdir / "om")
    query = 'node_memory_MemAvailable_bytes{job="fleet"}'
    cases = {}
    for shards in plan.shards:
        config = gen_data.memory_config(
            workdir / f"big-{shards}x.yaml", {BIG_SERVICE: fleet.selector(shards)}
        )
        title = f"(b) big incident, {shards}x = {shards * plan.shard_size} series"
        cases[f"b{shards}"] = Case(f"b{shards}", title, big_dir, config, big["incident"]["id"])
    return cases, files, [(query, float(fleet.start)), (query, float(fleet.end))]


def prepare_batch(plan: Plan, workdir: Path) -> tuple[dict[str, Case], list[Path], list[Check]]:
    """Small incidents resolved in the last 22 h, one host each, and those hosts' series."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    spacing = timedelta(hours=20) / plan.batch_incidents
    incidents = gen_data.batch_incidents(
        plan.batch_incidents, now - timedelta(hours=22), spacing, BATCH_HOSTS
    )
    batch_dir = gen_data.write_incidents(incidents, workdir / "pd-batch")
    edge = gen_data.MemoryDataSet(
        job="edge",
        hosts=BATCH_HOSTS,
        shard_size=BATCH_HOSTS,
        start=int((now - timedelta(hours=27)).timestamp()),
        end=int(now.timestamp()) - 60,
        leak_start=int((now - timedelta(hours=20)).timestamp()),
        leak_peak=int((now - timedelta(hours=16)).timestamp()),
        leak_end=int((now - timedelta(hours=15)).timestamp()),
        leak_every=10,
    )
    files = gen_data.write_openmetrics(edge, workdir / "om")
    services = {
        gen_data.batch_service(host, BATCH_HOSTS): f'instance="edge-{host:04d}:9100"'
        for host in range(BATCH_HOSTS)
    }
    config = gen_data.memory_config(workdir / "batch.yaml", services)
    title = f"(c) batch, {plan.batch_incidents} resolved incidents"
    case = Case("c", title, batch_dir, config, resolved_since="24h")
    return {"c": case}, files, [('node_memory_MemAvailable_bytes{job="edge"}', float(edge.end))]


def measure_case(
    case: Case, delay: float, plan: Plan, url: str, workdir: Path, profile: bool
) -> dict[str, Any]:
    """Median CLI and (for single incidents) staged results over the plan's runs.

    A failed run (the product exiting non-zero, a timeout) is recorded and the others go on.
    """
    label = f"{case.title}, {delay * 1000:g} ms"
    cli: list[dict[str, Any]] = []
    floor: list[dict[str, float]] = []
    stages: list[dict[str, Any]] = []
    errors: list[str] = []
    versions = {code_version()}
    for number in range(plan.runs):
        say(f"  {label}: run {number + 1}/{plan.runs}")
        try:
            floor.append(run_floor())
            cli.append(run_cli(case, delay, plan.rate_limit, url, workdir, None, plan.prom_delay))
            if case.incident and plan.stages:
                stages.append(run_worker(case, delay, plan.rate_limit, url, workdir))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            errors.append(str(exc)[-1500:])
            say(f"  run failed: {str(exc)[-500:]}")
        versions.add(code_version())
    if len(versions) > 1:
        errors.append("the product's code changed during these runs: measure again")
        say(f"  warning: {errors[-1]}")
    if profile and delay == 0:  # one more run under cProfile, left out of the medians
        stats = workdir / f"profile-{case.key}.pstats"
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            if case.incident:
                run_worker(case, delay, plan.rate_limit, url, workdir, stats)
            else:  # drafted in this process, so that the profile sees the drafting
                inline = dataclasses.replace(case, config=one_worker_config(case.config))
                run_cli(inline, delay, plan.rate_limit, url, workdir, stats)
    return {
        "case": case.key,
        "title": case.title,
        "delay_ms": delay * 1000,
        "cli": medians(cli) if cli else {},
        "floor": medians(floor) if floor else {},
        "load_average": os.getloadavg(),
        "cli_walls": [run["wall"] for run in cli],
        "stages": medians(stages) if stages else {},
        "errors": errors,
        "code": sorted(versions),
    }


def one_worker_config(config: Path) -> Path:
    """A copy of a batch config that drafts in the CLI's own process (`batch.workers: 1`)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data.setdefault("batch", {})["workers"] = 1
    copy = config.with_name(f"{config.stem}-one-worker.yaml")
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def code_version() -> str:
    """The git trees of collector/ and report/ plus a digest of their uncommitted changes.

    Commits that touch only tests or docs leave it unchanged.
    """
    trees = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD:collector", "HEAD:report"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    diff = subprocess.run(
        ["git", "-C", str(ROOT), "diff", "HEAD", "--", "collector", "report"],
        capture_output=True,
        check=False,
    ).stdout
    version = "/".join(tree[:10] for tree in trees) or "unknown"
    return f"{version}+{hashlib.sha256(diff).hexdigest()[:8]}" if diff else version


def machine() -> dict[str, str]:
    """What the numbers were measured on."""

    def shell(command: str) -> str:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "nproc": shell("nproc"),
        "memory": shell("free -h | awk '/^Mem:/ {print $2}'"),
        "cpu": shell("lscpu | sed -n 's/^Model name: *//p'"),
        "python": platform.python_version(),
        "prometheus": shell("prometheus --version 2>&1 | head -1"),
        "kernel": platform.release(),
        "commit": shell(f"git -C {ROOT} rev-parse --short HEAD"),
        "dirty": shell(f"git -C {ROOT} status --porcelain collector report | wc -l"),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def main() -> int:
    """Generate, serve, measure, report."""
    plan, args = parse_plan()
    if args.report is not None:
        print_report(json.loads(args.report.read_text(encoding="utf-8")), TARGETS)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="collector-bench-"))
    # A quick pass must not overwrite the recorded results.
    out_dir: Path = args.out or (
        Path(tempfile.mkdtemp(prefix="collector-bench-quick-")) if args.quick else HERE
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "plan": {**asdict(plan), "window": str(plan.window)},
        "machine": machine(),
        "results": [],
    }
    server = None
    try:
        started = time.perf_counter()
        cases, om_files, checks = prepare(plan, workdir)
        results["generate_seconds"] = time.perf_counter() - started
        size = sum(f.stat().st_size for f in om_files) / 1e6
        say(
            f"generated {len(om_files)} OpenMetrics files ({size:.0f} MB) in "
            f"{results['generate_seconds']:.1f} s; backfilling..."
        )
        server, results["backfill_seconds"] = load_prometheus(
            om_files, workdir / "prom", checks, rule_files=[DEMO_RULES]
        )
        say(f"Prometheus loaded in {results['backfill_seconds']:.1f} s")
        warm_up(cases["a"], server.url, workdir)
        run_cases(cases, plan, args.profile, server.url, workdir, results, out_dir)
        if any(r["case"].startswith("b") and r["cli"] for r in results["results"]):
            draw_curve(results, plan, out_dir / "scaling.png")
        print_report(results, TARGETS)
        say(f"raw results: {out_dir / 'results.json'}")
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            say(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def run_cases(
    cases: dict[str, Case],
    plan: Plan,
    profile: bool,
    url: str,
    workdir: Path,
    results: dict[str, Any],
    out_dir: Path,
) -> None:
    """Measure every selected case at its delays, saving the results after each."""
    for case in (c for c in cases.values() if c.key[0] in plan.cases):
        # The curve points and the batch are measured at 0 ms only: the targets for
        # them are at 0 ms, and the batch's 100 ms run alone takes minutes.
        delays = plan.delays if case.key in ("a", f"b{plan.shards[0]}") else (0.0,)
        for delay in delays:
            results["results"].append(measure_case(case, delay, plan, url, workdir, profile))
            text = json.dumps(results, indent=1) + "\n"
            (out_dir / "results.json").write_text(text, encoding="utf-8")


def draw_curve(results: dict[str, Any], plan: Plan, path: Path) -> None:
    """The scaling PNG from the big-incident points measured at 0 ms."""
    curve = [
        r
        for r in results["results"]
        if r["case"].startswith("b") and r["delay_ms"] == 0 and r["cli"]
    ]
    for point in curve:
        point["series"] = int(point["case"][1:]) * plan.shard_size
    plot_scaling(curve, path, TARGETS["big_wall"], TARGETS["big_rss_mib"])
    say(f"wrote {path}")


def say(message: str) -> None:
    """Progress on stderr; the report goes to stdout."""
    print(message, file=sys.stderr, flush=True)


def warm_up(case: Case, url: str, workdir: Path) -> None:
    """One unmeasured run: font cache, page cache and Prometheus's caches are warm after it."""
    run_cli(case, 0.0, None, url, workdir)


if __name__ == "__main__":
    sys.exit(main())
