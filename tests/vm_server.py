"""Run a real VictoriaMetrics for tests, loaded through its import API.

Needs Debian's `victoria-metrics` package. Tests that use this harness are never skipped when it
is missing: they fail and say what to install. Mirrors prom_server.py.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import requests
from prom_server import BIND_ERRORS, free_port, time_bounds

INSTALL_HINT = (
    "install Debian's `victoria-metrics` package (apt-get install victoria-metrics) and make sure"
    " /usr/bin is on PATH"
)
LOG_NAME = "victoria-metrics.log"


@dataclass
class VictoriaMetricsServer:
    """A running single-node VictoriaMetrics on a loopback port."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Terminate the server and reap it; safe to call more than once."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def import_files(self, files: Sequence[Path]) -> None:
        """Load Prometheus text / OpenMetrics files (timestamped samples), then flush."""
        with requests.Session() as session:
            for path in files:
                with Path(path).open("rb") as body:
                    response = session.post(
                        f"{self.url}/api/v1/import/prometheus", data=body, timeout=120
                    )
                if response.status_code not in (200, 204):
                    raise RuntimeError(
                        f"VictoriaMetrics refused {path}: HTTP {response.status_code}"
                        f" {response.text[:500]}"
                    )
            session.get(f"{self.url}/internal/force_flush", timeout=60).raise_for_status()

    def __enter__(self) -> VictoriaMetricsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_victoria_metrics(
    files: Sequence[Path], workdir: Path, *, timeout: float = 120.0
) -> VictoriaMetricsServer:
    """Start VictoriaMetrics in workdir, import the files and wait until their data answers."""
    binary = shutil.which("victoria-metrics")
    if binary is None:
        raise RuntimeError(f"victoria-metrics not found on PATH: {INSTALL_HINT}")
    workdir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    for attempt in range(2):
        server = _launch(binary, workdir, free_port())
        try:
            _wait_healthy(server, deadline)
        except _BindError:
            server.stop()
            if attempt == 1:
                raise RuntimeError(
                    f"VictoriaMetrics could not bind twice:\n{server.log_tail()}"
                ) from None
            continue
        except BaseException:
            server.stop()
            raise
        try:
            server.import_files(files)
            _wait_for_data(server, [time_bounds(Path(f)) for f in files], deadline)
        except BaseException:
            server.stop()
            raise
        return server
    raise AssertionError("unreachable")


class _BindError(Exception):
    """VictoriaMetrics exited because its listen port was taken."""


def _launch(binary: str, workdir: Path, port: int) -> VictoriaMetricsServer:
    data_dir = workdir / "vm-data"
    log_path = workdir / LOG_NAME
    args = [
        binary,
        f"-storageDataPath={data_dir}",
        f"-httpListenAddr=127.0.0.1:{port}",
        # Fixtures are dated in the past: the default one-month retention would drop them.
        "-retentionPeriod=100y",
        # The newest 30 s are hidden by default; fixtures are old, so this only matters for
        # data written "now", but keep answers immediate.
        "-search.latencyOffset=0s",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )
    return VictoriaMetricsServer(f"http://127.0.0.1:{port}", data_dir, process, log_path)


def _wait_healthy(server: VictoriaMetricsServer, deadline: float) -> None:
    while True:
        if server.process.poll() is not None:
            tail = server.log_tail()
            if any(marker in tail.lower() for marker in BIND_ERRORS):
                raise _BindError(tail)
            raise RuntimeError(f"VictoriaMetrics exited early:\n{tail}")
        try:
            if requests.get(f"{server.url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"VictoriaMetrics did not become healthy:\n{server.log_tail()}")
        time.sleep(0.1)


def _wait_for_data(
    server: VictoriaMetricsServer, bounds: Sequence[tuple[float, float]], deadline: float
) -> None:
    # Just after the first sample: unlike Prometheus, VictoriaMetrics answers nothing at the very
    # timestamp of a series' first sample (its look-behind window excludes it).
    moments = [min(low for low, _ in bounds) + 60, max(high for _, high in bounds)]
    while True:
        found = 0
        for moment in moments:
            try:
                response = requests.get(
                    f"{server.url}/api/v1/query",
                    params={"query": 'count({__name__=~".+"})', "time": str(moment)},
                    timeout=5,
                )
                found += bool(response.ok and response.json()["data"]["result"])
            except (requests.RequestException, ValueError, KeyError):
                pass
        if found == len(moments):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"VictoriaMetrics never served the imported data:\n{server.log_tail()}"
            )
        time.sleep(0.2)
