"""Benchmark `collect --review 365d`: a year of 2,000 incidents, each with a report under --out.

The incidents (8 services, every one with a figures.json, one in ten final with an
actions.csv) are served by the PagerDuty simulator over HTTPS; the whole command is timed, from
the listing to the published review. Target: 20 s or less.

    .venv/bin/python benchmarks/review.py [--incidents 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pd_simulator import PagerDutySimulator  # noqa: E402
from review_data import ACTIONS_CSV, HOSTS_CSV, figures_json, incident_json  # noqa: E402

UNTIL = datetime(2025, 7, 1, tzinfo=timezone.utc)
SERVICES = [f"Service {n}" for n in range(1, 9)]
ALERTS = [f"Alert{n:02d}" for n in range(1, 41)]
COLLECT = str(Path(sys.executable).parent / "collect")


def write_incidents(count: int, pd_dir: Path, out: Path) -> None:
    """`count` incidents over the year before UNTIL, each with a report; 1 in 10 final."""
    rng = random.Random(30)
    pd_dir.mkdir(parents=True)
    out.mkdir(parents=True)
    for n in range(count):
        created = UNTIL - timedelta(seconds=rng.uniform(0, 365 * 86400))
        created = created.replace(microsecond=0)
        restore = rng.uniform(5, 90)
        alert = rng.choice(ALERTS)
        data = incident_json(
            10_000 + n,
            rng.choice(SERVICES),
            alert,
            f"{alert} firing",
            created,
            created + timedelta(minutes=restore + 5),
        )
        iid = data["incident"]["id"]
        (pd_dir / f"{iid}.json").write_text(json.dumps(data), encoding="utf-8")
        final = n % 10 == 0
        rto = "met" if restore <= 30 else "missed"
        figures = figures_json(rng.uniform(1, 20), restore, restore + 5, rto, final=final)
        (out / iid).mkdir()
        (out / iid / "report.md").write_text("# report\n", encoding="utf-8")
        (out / iid / "figures.json").write_text(json.dumps(figures), encoding="utf-8")
        if final:
            (out / iid / "actions.csv").write_text(ACTIONS_CSV, encoding="utf-8")
    fleet = out / "memory-trends-2025-06-30"
    fleet.mkdir()
    (fleet / "report.md").write_text("# fleet\n", encoding="utf-8")
    (fleet / "hosts.csv").write_text(HOSTS_CSV, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_incidents(args.incidents, root / "pd", root / "out")
        with PagerDutySimulator(root / "pd", "bench-token") as sim:
            env = {
                # Only what a deployment gives: a proxy or CA bundle of this shell would
                # stand between the command and the simulator.
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LANG": "C.UTF-8",
                "PAGERDUTY_API_TOKEN": "bench-token",
                "PAGERDUTY_BASE_URL": sim.base_url,
                "SSL_CERT_FILE": str(sim.ca_path),
            }
            command = [COLLECT, "--review", "365d", "--until", "2025-07-01"]
            command += ["--out", str(root / "out"), "--lang", "en"]
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, text=True)
                if done.returncode:
                    raise SystemExit(done.stderr)
                times.append(time.perf_counter() - started)
            pages = sum(1 for r in sim.requests if r.path == "/incidents")
    print(
        json.dumps(
            {
                "incidents": args.incidents,
                "runs_s": [round(t, 2) for t in times],
                "median_s": round(median(times), 2),
                "listing_requests_per_run": pages // args.runs,
            }
        )
    )


if __name__ == "__main__":
    main()
