"""Shared test fixtures: the PagerDuty simulator, a real Prometheus, the demo snapshot."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pd_simulator import PagerDutySimulator
from prom_server import PrometheusServer, start_prometheus
from vm_server import VictoriaMetricsServer, start_victoria_metrics

from collector.snapshot.prometheus import read_series

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
DEMO_CONFIG = FIXTURES / "demo" / "collector.yaml"
DEMO_SNAPSHOT = FIXTURES / "demo" / "snapshot.json"
DEMO_OM = FIXTURES / "prometheus" / "demo.om"
DEMO_RULES = FIXTURES / "prometheus" / "demo_rules.yml"
TOKEN = "test-token"


@pytest.fixture(scope="session")
def pd_sim() -> Iterator[PagerDutySimulator]:
    """The PagerDuty simulator serving every incident under fixtures/pagerduty/."""
    with PagerDutySimulator(FIXTURES / "pagerduty", TOKEN) as sim:
        yield sim


@pytest.fixture
def fresh_pd_sim() -> Iterator[PagerDutySimulator]:
    """A simulator of the test's own, for injected faults and request counts."""
    with PagerDutySimulator(FIXTURES / "pagerduty", TOKEN) as sim:
        yield sim


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus loaded by promtool backfill with the demo incident's metrics."""
    server = start_prometheus(
        [DEMO_OM], tmp_path_factory.mktemp("prometheus"), rule_files=[DEMO_RULES]
    )
    try:
        yield server
    finally:
        server.stop()


def environment(sim: PagerDutySimulator, prometheus_url: str, token: str = TOKEN) -> dict[str, str]:
    """The environment a deployment gives `collect`, pointed at the local servers."""
    return {
        "PAGERDUTY_API_TOKEN": token,
        "PAGERDUTY_BASE_URL": sim.base_url,
        "PROMETHEUS_URL": prometheus_url,
        "SSL_CERT_FILE": str(sim.ca_path),
    }


@pytest.fixture
def live_env(pd_sim: PagerDutySimulator, prometheus: PrometheusServer) -> dict[str, str]:
    """Environment variables for a `collect` run against the simulator and Prometheus."""
    return environment(pd_sim, prometheus.url)


@pytest.fixture(scope="session")
def collect_bin() -> str:
    """The installed `collect` command (beside this interpreter, as pip installs it)."""
    candidate = Path(sys.executable).parent / "collect"
    found = str(candidate) if candidate.exists() else shutil.which("collect")
    if not found:
        pytest.fail("the `collect` command is not installed: run `pip install .` first")
    return found


@pytest.fixture(scope="session")
def demo_snapshot() -> dict[str, Any]:
    """The bundled demo snapshot, parsed."""
    data: dict[str, Any] = json.loads(DEMO_SNAPSHOT.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def demo_frame(demo_snapshot: dict[str, Any]) -> pd.DataFrame:
    """The demo snapshot's metric series as the tidy frame."""
    return read_series(demo_snapshot["prometheus"]["results"])


@pytest.fixture(scope="session")
def demo_facts() -> dict[str, Any]:
    """Facts true by construction of the demo metrics (written by the generator)."""
    data: dict[str, Any] = json.loads(
        (FIXTURES / "prometheus" / "demo_facts.json").read_text(encoding="utf-8")
    )
    return data


FLEET_UNTIL = "2026-03-29T00:00:00Z"


def _fleet_generator() -> Any:
    import importlib.util

    path = FIXTURES / "prometheus" / "generate_fleet.py"
    spec = importlib.util.spec_from_file_location("generate_fleet", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fleet_fixture() -> Any:
    """fixtures/prometheus/generate_fleet.py, imported: HOSTS, EXPECTED, write_openmetrics."""
    return _fleet_generator()


@pytest.fixture(scope="session")
def fleet_om(tmp_path_factory: pytest.TempPathFactory, fleet_fixture: Any) -> list[Path]:
    """The fleet fixture's OpenMetrics files (40 hosts x 30 days at 5 minutes)."""
    files: list[Path] = fleet_fixture.write_openmetrics(tmp_path_factory.mktemp("fleet-om"))
    return files


@pytest.fixture(scope="session")
def fleet_prometheus(
    tmp_path_factory: pytest.TempPathFactory, fleet_om: list[Path]
) -> Iterator[PrometheusServer]:
    """A real Prometheus holding the fleet fixture."""
    server = start_prometheus(fleet_om, tmp_path_factory.mktemp("fleet-prom"), timeout=300)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fleet_victoria(
    tmp_path_factory: pytest.TempPathFactory, fleet_om: list[Path]
) -> Iterator[VictoriaMetricsServer]:
    """A real VictoriaMetrics holding the fleet fixture, loaded through its import API."""
    server = start_victoria_metrics(fleet_om, tmp_path_factory.mktemp("fleet-vm"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetricsServer]:
    """A real VictoriaMetrics holding the demo incident's metrics (fixtures/prometheus/demo.om)."""
    server = start_victoria_metrics([DEMO_OM], tmp_path_factory.mktemp("demo-vm"))
    try:
        yield server
    finally:
        server.stop()
