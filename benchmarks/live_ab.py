"""`collect --incident` of the demo incident against live servers, for trees side by side.

    python benchmarks/live_ab.py                              # this checkout, 6 runs a delay
    python benchmarks/live_ab.py --baseline /tmp/before       # and an older tree (PYTHONPATH)
    python benchmarks/live_ab.py --delays 0,100 --runs 8

A real Prometheus loaded with the demo's data and the PagerDuty simulator (both on loopback,
`servers.py`) are started once; for each run, a fresh simulator and, with a delay, a delaying
proxy in front of Prometheus. The trees run in turn (A B A B ...), so that a machine whose
speed drifts slows them alike; the table gives each tree's median wall time per delay, and
the floor (`python -c "import pandas, matplotlib.pyplot, jinja2, click"`) measured between
the rounds. An older tree is a plain copy of `collector/`, `report/` and `fixtures/`
(`git archive REV collector report fixtures | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import run as bench
from measure import environment
from servers import TOKEN, PagerDutySimulator, load_prometheus, prometheus_with_delay, time_bounds

COLLECT = str(Path(sys.executable).parent / "collect")
FLOOR = "import pandas, matplotlib.pyplot, jinja2, click"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="an older tree to run side by side")
    parser.add_argument("--runs", type=int, default=6, help="runs per tree and delay")
    parser.add_argument("--delays", default="0,100", help="delays per request, in ms")
    args = parser.parse_args()
    trees = {"this checkout": None} | ({"baseline": args.baseline} if args.baseline else {})
    work = Path(tempfile.mkdtemp(prefix="collector-live-ab-"))
    server = None
    walls: dict[tuple[float, str], list[float]] = {}
    floors: list[float] = []
    try:
        fixtures = work / "pd-demo"
        fixtures.mkdir()
        shutil.copy(bench.DEMO_FIXTURE, fixtures)
        low, high = time_bounds(bench.DEMO_OM)
        anything = 'count({__name__=~".+"})'
        server, _ = load_prometheus(
            [bench.DEMO_OM],
            work / "prom",
            [(anything, low), (anything, high)],
            rule_files=[bench.DEMO_RULES],
        )
        for delay in (float(d) / 1000 for d in args.delays.split(",")):
            for number in range(args.runs):
                floors.append(_floor())
                for label, tree in trees.items():
                    walls.setdefault((delay, label), []).append(
                        _run(fixtures, server.url, delay, tree, work / f"out-{number}-{label}")
                    )
                print(f"delay {delay * 1000:g} ms: round {number + 1}/{args.runs}", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    floor = median(floors)
    print(f"floor: {floor:.2f} s (median of {len(floors)})\n")
    print("| tree | delay | median wall s | × floor | × its 0 ms | walls (s) |")
    print("|---|---:|---:|---:|---:|---|")
    for (delay, label), times in walls.items():
        at_zero = walls.get((0.0, label))
        relative = f"{median(times) / median(at_zero):.2f}" if at_zero else "–"
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(
            f"| {label} | {delay * 1000:g} ms | {median(times):.2f} | {median(times) / floor:.2f}"
            f" | {relative} | {runs} |"
        )
    return 0


def _run(fixtures: Path, prometheus: str, delay: float, tree: str | None, out: Path) -> float:
    with (
        PagerDutySimulator(fixtures, TOKEN, delay=delay) as sim,
        prometheus_with_delay(prometheus, delay) as url,
    ):
        env = environment(sim, url) | ({"PYTHONPATH": tree} if tree else {})
        command = [COLLECT, "--incident", "P7DBOOM", "--config", str(bench.DEMO_CONFIG)]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--out", str(out)], env=env, capture_output=True, text=True, timeout=300
        )
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"collect failed: {done.stderr.strip()[-500:]}")
    return wall


def _floor() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR], check=True, env=dict(os.environ))
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
