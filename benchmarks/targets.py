"""The speed targets of issue #28, measured in one run: a table, and benchmarks/targets.json.

    python benchmarks/targets.py                      # the five targets (and the gallery's), 3 runs
    python benchmarks/targets.py --only demo,live     # some of them
    python benchmarks/targets.py --runs 5 --out /tmp/targets.json

Every subject is a whole `collect` process (the installed command next to this interpreter),
timed from spawn to exit under GNU time (user + system CPU of the process and its workers,
peak RSS of the largest process). Each counted run of a subject comes right after one run of
the import floor (`python -c "import pandas, matplotlib.pyplot, jinja2, click"`, the floor
of benchmarks/startup.py, run.py and fleet.py), so that a busy machine weighs on both alike;
ratios are the subject's median wall time over the floor's median, both from the same run.
One unmeasured warm-up run of each subject comes first (the batch has none: it is long, and
its 200 drafts warm the caches themselves). Drafts are made with the default settings, so
without report.pdf (`report.pdf: final`).

| name | subject | target |
|---|---|---|
| demo | `collect --demo` (the bundled incident, no server) | <= 2.0x the floor |
| live | `collect --incident P7DBOOM`: the demo incident from the servers | <= 2.5x |
| live-gallery | `collect --incident PGLEAKS`: a gallery incident, default query pack | <= 2.5x |
| fleet | `collect --memory-trends 28d`, 40 hosts x 30 days on a real Prometheus | <= 4x |
| batch | `collect --resolved-since 24h`: 200 incidents, rate limit 960/min | <= 30 s |
| big | `collect --incident PBIGLOG`: 2,000 log entries, 2,000 series | <= 6 s, <= 600 MiB |

Servers (all on 127.0.0.1): the PagerDuty simulator over HTTPS (a fresh one per run, so each
run starts with a full rate-limit budget) and real Prometheus servers loaded by promtool
backfill, one per group of subjects (`targets_setup.py`), each started only when one of its
subjects is selected and stopped right after them. Not a test: pytest never runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any

import targets_setup as setup
from measure import COLLECT, GNU_TIME, run_cli, run_floor

HERE = Path(__file__).resolve().parent
RUN_TIMEOUT = 600.0  # seconds; no single run of any subject may take longer

Run = dict[str, Any]  # one run of a subject: wall, cpu, rss_mib, and what it says of itself


class Target:
    """One measured subject: its target, how to set it up and how to run it once."""

    def __init__(
        self, name: str, title: str, group: str, kind: str, limit: float, rss_mib: float = 0.0
    ) -> None:
        self.name, self.title, self.group = name, title, group
        self.kind, self.limit, self.rss_mib = kind, limit, rss_mib  # kind: "ratio" or "seconds"

    def describe(self) -> str:
        text = f"≤ {self.limit:.1f}× the floor" if self.kind == "ratio" else f"≤ {self.limit:g} s"
        return text + (f", ≤ {self.rss_mib:g} MiB" if self.rss_mib else "")


TARGETS = [
    Target("demo", "demo draft, no server (`collect --demo`)", "none", "ratio", 2.0),
    Target("live", "demo incident, live (`collect --incident P7DBOOM`)", "small", "ratio", 2.5),
    Target("live-gallery", "gallery incident, live (`--incident PGLEAKS`)", "small", "ratio", 2.5),
    Target("fleet", "memory-trend review, 40 hosts (`--memory-trends 28d`)", "fleet", "ratio", 4),
    Target("big", "big incident, 2,000 entries x 2,000 series", "big", "seconds", 6.0, rss_mib=600),
    Target("batch", "batch of 200, rate limit on (`--resolved-since 24h`)", "big", "seconds", 30),
]


def run_demo(scratch: Path) -> Run:
    """One `collect --demo` into a fresh folder (no server, no network)."""
    out = Path(tempfile.mkdtemp(prefix="demo-", dir=scratch))
    times = out.with_suffix(".time")
    command = [str(GNU_TIME), "-f", "%U %S %M", "-o", str(times), str(COLLECT), "--demo"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"collect --demo exited {done.returncode}: {done.stderr[-1500:]}")
    pdf = any(out.rglob("report.pdf"))
    user, system, peak = times.read_text().split()[-3:]
    shutil.rmtree(out, ignore_errors=True)
    times.unlink()
    return {
        "wall": wall,
        "cpu": float(user) + float(system),
        "rss_mib": int(peak) / 1024,
        "report_pdf": pdf,
    }


def subject_runner(target: Target, servers: setup.Servers, scratch: Path) -> Callable[[], Run]:
    """A function that runs `target`'s subject once and measures it."""
    if target.name == "demo":
        return lambda: run_demo(scratch)
    if target.name == "fleet":
        return lambda: setup.run_fleet_review(servers, scratch)
    case = servers.cases[target.name]
    rate_limit = setup.RATE_LIMIT if target.name == "batch" else None
    url = servers.prometheus[target.group].url

    def run() -> Run:
        result = run_cli(case, 0.0, rate_limit, url, scratch)
        return {
            "wall": result["wall"],
            "cpu": result["cpu"],
            "rss_mib": result["rss_mib"],
            "exit": result["exit"],
            "pd_requests": result["pd_requests"],
            "pd_rate_limited": result["pd_rate_limited"],
            "prom_requests": result["prom_requests"],
            "summary": result["summary"],
        }

    return run


def measure(target: Target, subject: Callable[[], Run], runs: int) -> dict[str, Any]:
    """Warm-up (not for the batch), then `runs` pairs of (floor, subject)."""
    say(f"{target.name}: warm-up" if target.name != "batch" else f"{target.name}: no warm-up")
    if target.name != "batch":
        subject()
    load_before = os.getloadavg()
    floors: list[dict[str, float]] = []
    done: list[Run] = []
    for number in range(runs):
        floors.append(run_floor())
        done.append(subject())
        say(f"{target.name}: run {number + 1}/{runs}: {done[-1]['wall']:.2f} s")
    return summarise(target, floors, done, load_before)


def spread(values: list[float]) -> dict[str, float]:
    """Min, median and max, rounded for the JSON."""
    return {
        "min": round(min(values), 3),
        "median": round(median(values), 3),
        "max": round(max(values), 3),
    }


def summarise(
    target: Target, floors: list[dict[str, float]], runs: list[Run], load_before: tuple[float, ...]
) -> dict[str, Any]:
    """The figures of one target and whether it is met."""
    wall = spread([r["wall"] for r in runs])
    floor = spread([f["wall"] for f in floors])
    ratio = wall["median"] / floor["median"]
    rss = spread([r["rss_mib"] for r in runs])
    if target.kind == "ratio":
        met = ratio <= target.limit
    else:
        met = wall["median"] <= target.limit
    if target.rss_mib:
        met = met and rss["max"] <= target.rss_mib
    return {
        "name": target.name,
        "title": target.title,
        "target": target.describe(),
        "met": met,
        "wall_s": wall,
        "floor_wall_s": floor,
        "ratio_to_floor": round(ratio, 2),
        "cpu_s": spread([r["cpu"] for r in runs]),
        "floor_cpu_s": spread([f["cpu"] for f in floors]),
        # Steadier than wall times on a shared machine: the same ratio in CPU seconds.
        "cpu_ratio_to_floor": round(
            median(r["cpu"] for r in runs) / max(median(f["cpu"] for f in floors), 1e-9), 2
        ),
        "peak_rss_mib": rss,
        "walls_s": [round(r["wall"], 3) for r in runs],
        "floor_walls_s": [round(f["wall"], 3) for f in floors],
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "runs": [{k: v for k, v in r.items() if k not in ("wall", "cpu", "rss_mib")} for r in runs],
    }


def table(results: list[dict[str, Any]]) -> Iterator[str]:
    """The Markdown table of the results."""
    yield (
        "| measure | median wall (min–max) | floor | ratio | CPU s (ratio) | peak RSS | target"
        " | met |"
    )
    yield "|---|---:|---:|---:|---:|---:|---|---|"
    for r in results:
        wall, floor = r["wall_s"], r["floor_wall_s"]
        yield (
            f"| {r['title']} | {wall['median']:.2f} s ({wall['min']:.2f}–{wall['max']:.2f})"
            f" | {floor['median']:.2f} s | {r['ratio_to_floor']:.2f}x"
            f" | {r['cpu_s']['median']:.2f} ({r['cpu_ratio_to_floor']:.2f}x)"
            f" | {r['peak_rss_mib']['max']:.0f} MiB"
            f" | {r['target']} | {'yes' if r['met'] else '**no**'} |"
        )


def machine() -> dict[str, Any]:
    """What the numbers were measured on, and what else was running."""

    def shell(command: str) -> str:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    root = HERE.parent
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": shell(f"git -C {root} rev-parse --short HEAD"),
        "uncommitted_files_in_collector_report": shell(
            f"git -C {root} status --porcelain collector report | wc -l"
        ),
        "nproc": shell("nproc"),
        "cpu": shell("lscpu | sed -n 's/^Model name: *//p'"),
        "memory": shell("free -h | awk '/^Mem:/ {print $2}'"),
        "python": sys.version.split()[0],
        "prometheus": shell("prometheus --version 2>&1 | head -1"),
        "load_average_at_start": os.getloadavg(),
        "project_bytecode": "PYTHONDONTWRITEBYTECODE" not in os.environ,
        "busiest_processes_at_start": shell(
            "ps -eo pcpu,comm --sort=-pcpu --no-headers | head -8"
        ).splitlines(),
    }


def say(message: str) -> None:
    """Progress on stderr; the table goes to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> int:
    names = [t.name for t in TARGETS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="counted runs per subject (3)")
    parser.add_argument("--only", help=f"comma-separated subjects among {','.join(names)}")
    parser.add_argument("--out", type=Path, default=HERE / "targets.json")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--from-source",
        action="store_true",
        help="let PYTHONDONTWRITEBYTECODE stand: every run compiles collector/ and report/",
    )
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else names
    if unknown := set(wanted) - set(names):
        parser.error(f"unknown subjects: {', '.join(sorted(unknown))}")
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be between 1 and 20")
    selected = [t for t in TARGETS if t.name in wanted]
    if not args.from_source:
        use_bytecode()
    work = Path(tempfile.mkdtemp(prefix="collector-targets-"))
    report: dict[str, Any] = {"machine": machine(), "runs": args.runs, "results": []}
    started = time.perf_counter()
    try:
        with ExitStack() as stack:
            servers = setup.Servers()
            for group in dict.fromkeys(t.group for t in selected):
                setup.start_group(group, work / group, servers, stack, say)
            setup.wait_for_compaction(servers, say)
            report["setup_s"] = servers.setup
            for target in selected:
                subject = subject_runner(target, servers, work / target.group)
                report["results"].append(measure(target, subject, args.runs))
                save(report, args.out, started)
    finally:
        if args.keep:
            say(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(table(report["results"])))
    say(f"{time.perf_counter() - started:.0f} s in all; raw figures in {args.out}")
    return 0


def use_bytecode() -> None:
    """Run `collect` from compiled modules, as an installed package does (pip compiles them).

    A machine that sets PYTHONDONTWRITEBYTECODE (this one does) would have every run compile
    the project's 127 modules from source, about 0.2 CPU-s that no deployed install pays and
    that the floor (third-party modules only, compiled at install) does not pay either.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    root = HERE.parent
    folders = [str(root / "collector"), str(root / "report")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)


def save(report: dict[str, Any], path: Path, started: float) -> None:
    """Write what is measured so far (a stopped run keeps its finished subjects)."""
    report["seconds"] = round(time.perf_counter() - started, 1)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
