"""Run `collect` (or the stage worker) once against the local servers and measure it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from servers import TOKEN, PagerDutySimulator, prometheus_queries, prometheus_with_delay

HERE = Path(__file__).resolve().parent
COLLECT = Path(sys.executable).parent / "collect"
GNU_TIME = Path("/usr/bin/time")
WORKER = HERE / "stage_worker.py"
RUN_TIMEOUT = 900.0  # seconds; no single run of any case may take longer
# The import floor: what any draft pays before its first line of work. Measured right before
# each run of a case, so that a shared machine's load weighs on both alike.
FLOOR = [sys.executable, "-c", "import pandas, matplotlib.pyplot, jinja2, click"]
# Without GNU time: run the command as a child and report the children's peak RSS (KiB).
RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:], check=False).returncode\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(rss))\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class Case:
    """One thing to measure: an incident (or a batch) with its fixtures and config."""

    key: str
    title: str
    fixtures: Path  # the simulator's incident folder
    config: Path
    incident: str | None = None  # None: batch mode
    resolved_since: str | None = None

    def cli_args(self, out_dir: Path) -> list[str]:
        """The `collect` command line for this case."""
        mode = (
            ["--incident", self.incident]
            if self.incident
            else ["--resolved-since", str(self.resolved_since)]
        )
        return [str(COLLECT), *mode, "--config", str(self.config), "--out", str(out_dir)]


def environment(sim: PagerDutySimulator, prometheus_url: str) -> dict[str, str]:
    """The process environment, pointed at the local servers (and nothing else)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PAGERDUTY_", "PROMETHEUS_"))
        and k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    }
    env.update(
        PAGERDUTY_API_TOKEN=TOKEN,
        PAGERDUTY_BASE_URL=sim.base_url,
        PROMETHEUS_URL=prometheus_url,
        SSL_CERT_FILE=str(sim.ca_path),
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def run_cli(
    case: Case,
    delay: float,
    rate_limit: int | None,
    prometheus_url: str,
    scratch: Path,
    profile: Path | None = None,
    prom_delay: bool = False,
) -> dict[str, Any]:
    """One `collect` process against a fresh simulator: wall time, CPU seconds (user + system
    of the process and its workers), peak RSS, requests.

    With `prom_delay`, Prometheus answers through a proxy that adds the same delay as the
    simulator. With `profile`, the command runs under cProfile (slower: not for the medians).
    """
    out_dir = Path(tempfile.mkdtemp(prefix=f"cli-{case.key}-", dir=scratch))
    rss_file = out_dir.with_suffix(".rss")
    command = _with_peak_memory(case.cli_args(out_dir), rss_file, profile)
    with (
        PagerDutySimulator(case.fixtures, TOKEN, delay=delay, rate_limit=rate_limit) as sim,
        prometheus_with_delay(prometheus_url, delay if prom_delay else 0.0) as delayed_url,
    ):
        env = environment(sim, delayed_url)
        prom_before = prometheus_queries(prometheus_url)
        start = time.perf_counter()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )
        wall = time.perf_counter() - start
        prom_requests = prometheus_queries(prometheus_url) - prom_before
        statuses = [r.status for r in sim.requests]
    if done.returncode != 0 and case.incident:
        raise RuntimeError(
            f"{case.title}: collect exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    fields = rss_file.read_text().split()
    result = {
        "wall": wall,
        "cpu": float(fields[-3]) + float(fields[-2]) if len(fields) >= 3 else 0.0,
        "rss_mib": int(fields[-1]) / 1024,
        "pd_requests": len(statuses),
        "pd_rate_limited": statuses.count(429),
        "prom_requests": prom_requests,
        "exit": done.returncode,
        "summary": _summary(done.stdout),
    }
    shutil.rmtree(out_dir, ignore_errors=True)
    rss_file.unlink(missing_ok=True)
    return result


def _with_peak_memory(collect: list[str], rss_file: Path, profile: Path | None) -> list[str]:
    """The command wrapped so that its peak RSS (KiB) lands in rss_file; optionally profiled."""
    if profile is not None:
        collect = [sys.executable, "-m", "cProfile", "-o", str(profile), *collect]
    if GNU_TIME.exists():
        return [str(GNU_TIME), "-f", "%U %S %M", "-o", str(rss_file), *collect]
    return [sys.executable, "-c", RSS_WRAPPER, str(rss_file), *collect]


def _summary(stdout: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("summary: "):
            parsed: dict[str, Any] = json.loads(line.removeprefix("summary: "))
            return parsed
    return {}


def run_worker(
    case: Case,
    delay: float,
    rate_limit: int | None,
    prometheus_url: str,
    scratch: Path,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One in-process staged run (stage_worker.py) against a fresh simulator."""
    out_dir = Path(tempfile.mkdtemp(prefix=f"stages-{case.key}-", dir=scratch))
    command = [
        sys.executable,
        str(WORKER),
        "--config",
        str(case.config),
        "--incident",
        str(case.incident),
        "--out",
        str(out_dir),
        "--sequential",
    ]
    if profile is not None:
        command += ["--profile", str(profile)]
    with PagerDutySimulator(case.fixtures, TOKEN, delay=delay, rate_limit=rate_limit) as sim:
        done = subprocess.run(
            command,
            env=environment(sim, prometheus_url),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    shutil.rmtree(out_dir, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"{case.title}: stage worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric field (nested one level), across runs."""
    merged: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
            merged[key] = value
        elif isinstance(value, dict):
            merged[key] = medians([run[key] for run in runs]) if value else {}
        else:
            merged[key] = median(float(run[key]) for run in runs)
    return merged


def run_floor() -> dict[str, float]:
    """One run of the import floor: wall and CPU seconds."""
    with tempfile.NamedTemporaryFile("r") as times:
        prefix = [str(GNU_TIME), "-f", "%U %S", "-o", times.name] if GNU_TIME.exists() else []
        start = time.perf_counter()
        subprocess.run([*prefix, *FLOOR], check=True, capture_output=True, timeout=RUN_TIMEOUT)
        wall = time.perf_counter() - start
        fields = times.read().split()
    cpu = float(fields[-2]) + float(fields[-1]) if len(fields) >= 2 else 0.0
    return {"wall": wall, "cpu": cpu}
