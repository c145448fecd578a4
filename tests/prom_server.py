"""Run a real Prometheus for tests, loaded with OpenMetrics fixtures by promtool's backfill.

Needs Debian's `prometheus` package (it ships both `prometheus` and `promtool`). Tests that use
this harness are never skipped when it is missing: they fail and say what to install.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import requests

INSTALL_HINT = (
    "install Debian's `prometheus` package (apt-get install prometheus), which provides both"
    " `prometheus` and `promtool`, and make sure /usr/bin is on PATH"
)
LOG_NAME = "prometheus.log"
CONFIG_NAME = "prometheus.yml"
# No scrape targets: the server only serves the backfilled blocks, so nothing it ingests can
# shift retention or mix live data into the fixtures.
MINIMAL_CONFIG = "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n"
BIND_ERRORS = ("address already in use", "bind: ")
# Logged once the listener is bound and the TSDB (with every block) is open. Waiting for it in
# our own log, not only for /-/ready, keeps a foreign server that grabbed the port from passing
# for ours.
READY_LINE = "Server is ready to receive web requests."


@dataclass
class PrometheusServer:
    """A running Prometheus on a loopback port, serving only the backfilled fixtures."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    log_offset: int = 0  # where this run's lines start in a log shared by retries

    def stop(self) -> None:
        """Terminate the server and reap it; safe to call more than once."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Popen leaves no pipe here (output goes to the log file), but close any defensively
        # so a future change cannot leak a ResourceWarning.
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def log_text(self) -> str:
        """What this run of the server has logged so far."""
        if self.log_path is None:
            return ""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                return log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, for failure messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> PrometheusServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def find_binaries() -> tuple[str, str]:
    """Paths of `promtool` and `prometheus`, or a RuntimeError saying what to install."""
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    missing = [
        name for name, path in (("promtool", promtool), ("prometheus", prometheus)) if path is None
    ]
    if promtool is None or prometheus is None:
        raise RuntimeError(f"{' and '.join(missing)} not found on PATH: {INSTALL_HINT}")
    return promtool, prometheus


def backfill(promtool: str, om_file: Path, data_dir: Path) -> None:
    """Write TSDB blocks for one OpenMetrics file into data_dir."""
    result = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(om_file), str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"promtool could not backfill {om_file} (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


def time_bounds(om_file: Path) -> tuple[float, float]:
    """Earliest and latest sample timestamps (seconds) of an OpenMetrics file."""
    low, high = float("inf"), float("-inf")
    with om_file.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip() or line.startswith("#"):
                continue
            # `name{labels} value timestamp [# exemplar]`; label values here hold no spaces.
            fields = line.split(" # ", 1)[0].split()
            if len(fields) >= 3:
                stamp = float(fields[-1])
                low, high = min(low, stamp), max(high, stamp)
    if low > high:
        raise RuntimeError(f"{om_file} has no timestamped samples")
    return low, high


def free_port() -> int:
    """A loopback port that was free a moment ago (the caller retries if it is taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_prometheus(
    om_files: Sequence[Path],
    workdir: Path,
    *,
    timeout: float = 60.0,
    rule_files: Sequence[Path] = (),
) -> PrometheusServer:
    """Backfill the files into workdir/data and start Prometheus on them; wait until it answers.

    Ready means `/-/ready` answers 200 and every file's first and last sample times have data.
    Raises RuntimeError with the log's tail otherwise. The caller must call `stop()`.
    """
    promtool, prometheus = find_binaries()
    deadline = time.monotonic() + timeout
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    data_dir.mkdir(exist_ok=True)
    # promtool is single-threaded: many files (one per 2-hour block) go two at a time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda f: backfill(promtool, Path(f), data_dir), om_files))
    bounds = [time_bounds(Path(om_file)) for om_file in om_files]
    config = workdir / CONFIG_NAME
    # Alerting rules, for /api/v1/rules; they evaluate at "now", where the fixtures have no data.
    rules = "".join(f"  - {Path(r).resolve()}\n" for r in rule_files)
    config.write_text(MINIMAL_CONFIG + (f"rule_files:\n{rules}" if rules else ""), "utf-8")
    log_path = workdir / LOG_NAME
    # Binding port 0 then releasing it leaves a small window for another process to take the
    # port; Prometheus then exits at once with a bind error, and one retry on a new port is enough.
    for attempt in range(2):
        server = _launch(prometheus, config, data_dir, log_path, free_port())
        try:
            _wait_ready(server, bounds, deadline)
            return server
        except _BindError:
            server.stop()
            if attempt == 1:
                raise RuntimeError(
                    f"Prometheus could not bind a loopback port twice:\n{server.log_tail()}"
                ) from None
        except BaseException:
            server.stop()
            raise
    raise AssertionError("unreachable")


class _BindError(Exception):
    """Prometheus exited because its listen port was taken."""


def _launch(
    prometheus: str, config: Path, data_dir: Path, log_path: Path, port: int
) -> PrometheusServer:
    args = [
        prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        # Retention counts back from the newest block, but a long one keeps the backfilled
        # history safe whatever the wall clock says.
        "--storage.tsdb.retention.time=100y",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=info",
    ]
    with log_path.open("ab") as log:
        offset = log.tell()
        # The child keeps its own copy of the log descriptor; ours is closed on leaving `with`.
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir.parent,
        )
    return PrometheusServer(
        url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        process=process,
        log_path=log_path,
        log_offset=offset,
    )


def _wait_ready(
    server: PrometheusServer, bounds: Sequence[tuple[float, float]], deadline: float
) -> None:
    with requests.Session() as session:
        while True:
            if server.process.poll() is not None:
                tail = server.log_tail()
                if any(marker in tail.lower() for marker in BIND_ERRORS):
                    raise _BindError(tail)
                raise RuntimeError(
                    f"Prometheus exited with code {server.process.returncode} before it was"
                    f" ready:\n{tail}"
                )
            if (
                READY_LINE in server.log_text()
                and _is_ready(session, server.url)
                and _has_data(session, server.url, bounds)
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Prometheus at {server.url} was not ready with the fixture data in time:\n"
                    f"{server.log_tail()}"
                )
            time.sleep(0.1)


def _is_ready(session: requests.Session, url: str) -> bool:
    try:
        return session.get(f"{url}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _has_data(session: requests.Session, url: str, bounds: Sequence[tuple[float, float]]) -> bool:
    # /-/ready only means the TSDB opened; asking for samples at both ends of every file proves
    # that the first and the last backfilled blocks are really being served.
    for low, high in bounds:
        for moment in (low, high):
            try:
                response = session.get(
                    f"{url}/api/v1/query",
                    params={"query": 'count({__name__=~".+"})', "time": str(moment)},
                    timeout=5,
                )
                result = response.json()["data"]["result"] if response.ok else []
            except (requests.RequestException, ValueError, KeyError):
                return False
            if not result:
                return False
    return True
