"""Start-up and demo timings as ratios to the import floor, measured side by side.

    python benchmarks/startup.py                         # this checkout, 3 rounds
    python benchmarks/startup.py --baseline /tmp/before  # and an older tree (PYTHONPATH)
    python benchmarks/startup.py --serial-charts         # and this checkout with no forking

One round runs every command once, in turn, so a machine shared with other work slows all of
them alike; the table shows medians over the rounds and each median over the floor's. An older
tree is a plain copy of `collector/`, `report/` and `fixtures/` (`git archive REV collector
report fixtures | tar -x -C DIR`), run by the installed `collect` with PYTHONPATH=DIR.
Peak memory (max RSS of the largest process, KiB) comes from GNU time when it is present.
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

COLLECT = str(Path(sys.executable).parent / "collect")
FLOOR = "import pandas, matplotlib.pyplot, jinja2, click"
GNU_TIME = "/usr/bin/time"
DEMO_CONFIG = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "collector.yaml"
# `collect` with its charts drawn one after another (no forked workers), for comparison.
SERIAL_COLLECT = (
    "import collector.parallel as p; p.fork_workers = lambda jobs: 0; "
    "from collector.entry import run; run()"
)


def commands(out: Path, trees: dict[str, str | None]) -> dict[str, tuple[list[str], str | None]]:
    """Label -> (argv, PYTHONPATH) for one round."""
    runs: dict[str, tuple[list[str], str | None]] = {"floor": ([sys.executable, "-c", FLOOR], None)}
    without_pdf = out / "no-pdf.yaml"
    without_pdf.write_text(
        DEMO_CONFIG.read_text(encoding="utf-8").replace("report:\n", "report:\n  pdf: false\n", 1),
        encoding="utf-8",
    )
    for name, path in trees.items():
        folder = str(out / name.replace(" ", "-"))
        runs[f"collect --help ({name})"] = ([COLLECT, "--help"], path)
        runs[f"demo draft ({name})"] = ([COLLECT, "--demo", "--out", folder], path)
        no_pdf = [COLLECT, "--demo", "--config", str(without_pdf), "--out", folder + "-no-pdf"]
        runs[f"demo draft, no PDF ({name})"] = (no_pdf, path)
    return runs


def run_once(argv: list[str], pythonpath: str | None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, workers included; 0 if unknown) and peak RSS
    (KiB, 0 if unknown) of one run."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with tempfile.NamedTemporaryFile("r") as rss:
        prefix = [GNU_TIME, "-f", "%U %S %M", "-o", rss.name] if shutil.which(GNU_TIME) else []
        start = time.perf_counter()
        subprocess.run([*prefix, *argv], env=env, check=True, capture_output=True, timeout=600)
        seconds = time.perf_counter() - start
        text = rss.read().strip()
    if not text:
        return seconds, 0.0, 0
    user, system, peak = text.splitlines()[-1].split()
    return seconds, float(user) + float(system), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="an older tree to run side by side")
    parser.add_argument("--serial-charts", action="store_true", help="also run without forking")
    args = parser.parse_args()
    trees: dict[str, str | None] = {"this checkout": None}
    if args.baseline:
        trees["baseline"] = args.baseline
    with tempfile.TemporaryDirectory() as work:
        runs = commands(Path(work), trees)
        if args.serial_charts:
            serial = [sys.executable, "-c", SERIAL_COLLECT, "--demo", "--out", f"{work}/serial"]
            runs["demo draft (serial charts)"] = (serial, None)
        results: dict[str, list[tuple[float, float, int]]] = {label: [] for label in runs}
        for number in range(args.rounds):
            for label, (argv, path) in runs.items():
                results[label].append(run_once(argv, path))
            print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
    floor = median(s for s, _, _ in results["floor"])
    print(f"cores: {os.cpu_count()}; load average before the end: {os.getloadavg()[0]:.1f}\n")
    print("| what | median wall s | × floor | median CPU s | peak RSS MiB | walls (s) |")
    print("|---|---:|---:|---:|---:|---|")
    for label, values in results.items():
        seconds = median(s for s, _, _ in values)
        cpu = median(c for _, c, _ in values)
        peak = max(r for _, _, r in values) / 1024
        each = ", ".join(f"{s:.2f}" for s, _, _ in values)
        print(
            f"| {label} | {seconds:.2f} | {seconds / floor:.2f} | {cpu:.2f} | {peak:.0f} | {each} |"
        )


if __name__ == "__main__":
    main()
