"""Generate the benchmark's data sets: memory-like OpenMetrics files and PagerDuty incidents.

Nothing here is committed: `run.py` writes everything into a temporary directory.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIG_INCIDENT_SCRIPT = ROOT / "fixtures" / "pagerduty" / "make_big_incident.py"
# promtool cuts 2-hour blocks and re-reads its whole input once per block, so one file per
# aligned 2-hour window keeps the backfill linear in the data instead of quadratic.
BLOCK_SECONDS = 7200
GIB = 1024**3
TOTALS_GIB = (16, 32, 64)
TIME_KEYS = frozenset(
    {"created_at", "updated_at", "last_status_change_at", "resolved_at", "started_at", "ended_at"}
)
TEMPLATE_ID = "BIGLOG"  # in make_big_incident's IDs: PBIGLOG (incident), RBIGLOG... (entries)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MemoryDataSet:
    """node_exporter memory series for many hosts, plus `ALERTS` for the ones that leak.

    Hosts are `<job>-NNNN:9100`; the `shard` label groups `shard_size` hosts, so a selector on
    shards picks 1x, 2x or 4x the series from the same TSDB.
    """

    job: str
    hosts: int
    shard_size: int
    start: int  # unix seconds of the first sample
    end: int  # unix seconds of the last sample
    leak_start: int  # leaking hosts climb from here...
    leak_peak: int  # ...to 96 % here, hold...
    leak_end: int  # ...until a restart here
    step: int = 15  # MemAvailable and ALERTS resolution
    total_step: int = 60  # MemTotal never changes: one sample a minute is plenty
    leak_every: int = 50  # one host in this many leaks

    @property
    def samples(self) -> int:
        """Number of samples written (approximately, ALERTS excluded)."""
        fine = (self.end - self.start) // self.step + 1
        coarse = (self.end - self.start) // self.total_step + 1
        return self.hosts * (fine + coarse)

    def selector(self, shards: int) -> str:
        """PromQL label matchers for the first `shards` shards."""
        wanted = "|".join(str(s) for s in range(shards))
        return f'job="{self.job}",shard=~"{wanted}"'


def write_openmetrics(data: MemoryDataSet, out_dir: Path) -> list[Path]:
    """Write the data set as one OpenMetrics file per aligned 2-hour window; return the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fine = np.arange(data.start, data.end + 1, data.step, dtype=np.int64)
    coarse = np.arange(data.start, data.end + 1, data.total_step, dtype=np.int64)
    used = _used_percent(data, fine)
    totals = np.array([TOTALS_GIB[h % len(TOTALS_GIB)] * GIB for h in range(data.hosts)])
    available = (totals[:, None] * (1.0 - used / 100.0)).astype(np.int64)
    labels = [
        f'instance="{data.job}-{h:04d}:9100",job="{data.job}",shard="{h // data.shard_size}"'
        for h in range(data.hosts)
    ]
    files = []
    first = data.start // BLOCK_SECONDS * BLOCK_SECONDS
    for window in range(first, data.end + 1, BLOCK_SECONDS):
        path = out_dir / f"{data.job}-{window}.om"
        with path.open("w", encoding="utf-8", newline="\n") as out:
            for text in _window_text(data, labels, totals, fine, coarse, used, available, window):
                out.write(text)
        files.append(path)
    return files


def _used_percent(data: MemoryDataSet, times: IntArray) -> FloatArray:
    """Used memory in percent, one row per host: steady with a daily wave, or a leak."""
    rng = np.random.default_rng(20251103)
    hosts = np.arange(data.hosts)
    base = 35.0 + 30.0 * ((hosts * 0.6180339887) % 1.0)
    phase = (hosts * 0.37) % (2 * np.pi)
    wave = 4.0 * np.sin(2 * np.pi * times[None, :] / 86400.0 + phase[:, None])
    used = base[:, None] + wave + rng.normal(0.0, 0.3, (data.hosts, times.size))
    climb = np.clip((times - data.leak_start) / (data.leak_peak - data.leak_start), 0.0, 1.0)
    for host in range(data.leak_every // 3, data.hosts, data.leak_every):
        leak = base[host] + (96.0 - base[host]) * climb
        leak = np.where(times >= data.leak_end, 35.0, leak)
        used[host] = leak + rng.normal(0.0, 0.2, times.size)
    return np.asarray(np.clip(used, 1.0, 99.5), dtype=np.float64)


def _window_text(
    data: MemoryDataSet,
    labels: list[str],
    totals: npt.NDArray[Any],
    fine: IntArray,
    coarse: IntArray,
    used: FloatArray,
    available: IntArray,
    window: int,
) -> Iterator[str]:
    """The OpenMetrics text of one window, family by family, series by series."""
    end = window + BLOCK_SECONDS
    in_fine = (fine >= window) & (fine < end)
    in_coarse = (coarse >= window) & (coarse < end)
    fine_times = fine[in_fine].tolist()
    coarse_times = coarse[in_coarse].tolist()
    yield "# TYPE node_memory_MemTotal_bytes gauge\n"
    for host, label in enumerate(labels):
        total = int(totals[host])
        head = f"node_memory_MemTotal_bytes{{{label}}} {total} "
        yield "".join([f"{head}{t}\n" for t in coarse_times])
    yield "# TYPE node_memory_MemAvailable_bytes gauge\n"
    for host, label in enumerate(labels):
        head = f"node_memory_MemAvailable_bytes{{{label}}} "
        values = available[host, in_fine].tolist()
        yield "".join([f"{head}{v} {t}\n" for v, t in zip(values, fine_times, strict=True)])
    yield "# TYPE ALERTS gauge\n"
    for host, label in enumerate(labels):
        high = used[host, in_fine] >= 90.0
        if not high.any():
            continue
        head = f'ALERTS{{alertname="HostMemoryHigh",alertstate="firing",{label}}} 1 '
        times = np.asarray(fine_times)[high].tolist()
        yield "".join([f"{head}{t}\n" for t in times])
    yield "# EOF\n"


def load_incident_script() -> ModuleType:
    """Import fixtures/pagerduty/make_big_incident.py (not a package) as a module."""
    spec = importlib.util.spec_from_file_location("make_big_incident", BIG_INCIDENT_SCRIPT)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {BIG_INCIDENT_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_incident(log_entries: int, alerts: int) -> dict[str, Any]:
    """make_big_incident's flapping incident, with the given numbers of entries and alerts."""
    script = load_incident_script()
    # The script reads its counts from module globals when build() runs.
    setattr(script, "LOG_ENTRY_COUNT", log_entries)  # noqa: B010
    setattr(script, "ALERT_COUNT", alerts)  # noqa: B010
    incident: dict[str, Any] = script.build()
    return incident


def incident_start(incident: dict[str, Any]) -> datetime:
    """When the incident was created."""
    return _parse(incident["incident"]["created_at"])


def incident_end(incident: dict[str, Any]) -> datetime:
    """When the incident was resolved."""
    return _parse(incident["incident"]["resolved_at"])


def retime(incident: dict[str, Any], start: datetime, duration: timedelta) -> dict[str, Any]:
    """The incident moved to begin at `start`, its events squeezed or stretched to `duration`."""
    origin = incident_start(incident)
    scale = duration / (incident_end(incident) - origin)
    retimed: dict[str, Any] = _map_times(incident, lambda t: start + (t - origin) * scale)
    return retimed


def _map_times(value: Any, move: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _map_times(v, move, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_times(v, move, key) for v in value]
    if key in TIME_KEYS and isinstance(value, str):
        return move(_parse(value)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def big_incident(log_entries: int, duration: timedelta) -> dict[str, Any]:
    """The big incident: `log_entries` entries spread over `duration`, 120 alerts."""
    incident = build_incident(log_entries, alerts=120)
    return retime(incident, incident_start(incident), duration)


def batch_service(number: int, services: int) -> str:
    """The service of batch incident `number`: one of `services`, in turn."""
    return f"Edge node {number % services}"


def batch_incidents(
    count: int, first: datetime, spacing: timedelta, services: int
) -> list[dict[str, Any]]:
    """`count` small resolved incidents (12 log entries, 2 alerts), one every `spacing`.

    Each belongs to one of `services` services (`batch_service`), so each touches one host.
    """
    template = json.dumps(build_incident(log_entries=12, alerts=2))
    incidents = []
    for number in range(count):
        text = template.replace(TEMPLATE_ID, f"B{number:05d}")
        incident = json.loads(text)
        incident["incident"]["incident_number"] = 20000 + number
        incident["incident"]["title"] += f" ({number + 1} of {count})"
        incident["incident"]["service"]["summary"] = batch_service(number, services)
        start = first + spacing * number
        incidents.append(retime(incident, start, timedelta(minutes=12)))
    return incidents


def write_incidents(incidents: list[dict[str, Any]], folder: Path) -> Path:
    """Write incidents as simulator fixtures (one JSON file each) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for incident in incidents:
        path = folder / f"{incident['incident']['id']}.json"
        path.write_text(json.dumps(incident, ensure_ascii=False), encoding="utf-8")
    return folder


def memory_config(path: Path, services: dict[str, str], baseline: bool = False) -> Path:
    """A collector.yaml with a memory query and ALERTS, services mapped to label selectors."""
    config = {
        "pagerduty": {"timeout_seconds": 30, "max_retries": 2},
        "prometheus": {
            "padding_before": "30m",
            "padding_after": "30m",
            "lookback": "4h",
            "chart_points": 720,
            "services": services,
            "queries": [
                {
                    "name": "memory_used",
                    "title": "Memory used",
                    "query": "100 * (1 - node_memory_MemAvailable_bytes{$selector}"
                    " / node_memory_MemTotal_bytes{$selector})",
                    "unit": "%",
                    "kind": "memory",
                    "thresholds": [80, 95],
                },
                {
                    "name": "alerts",
                    "title": "Prometheus alerts",
                    "query": "ALERTS{$selector}",
                    "kind": "alerts",
                },
            ],
            "baseline_offset": "1w" if baseline else None,
        },
        "targets": {"rto": "30m", "alert_to_responder": "5m"},
        "report": {"language": "en", "timezone": "Europe/Paris"},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
