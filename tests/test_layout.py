"""The layout keeps its promise: only the clients touch the network.

Analysis, the readers and an offline re-render (`collect --snapshot`) import no HTTP library,
so a report can be redrawn from a snapshot on a machine that cannot reach anything.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import collector.analysis
import collector.snapshot
import report
import report.charts
import report.words

ROOT = Path(__file__).resolve().parents[1]
NETWORK = ("requests", "httpx", "httpx2", "pagerduty", "prometheus_api_client", "urllib3")
CLIENTS = (
    "collector.sources.pagerduty",
    "collector.sources.pagerduty_incident",
    "collector.sources.pagerduty_lists",
    "collector.sources.prometheus",
    "collector.sources.prometheus_api",
    "collector.sources.prometheus_rules",
    "collector.sources.notify",
)


def modules_of(package: object) -> list[str]:
    """Every module of a package, by its dotted name."""
    name = package.__name__  # type: ignore[attr-defined]
    paths = package.__path__  # type: ignore[attr-defined]
    return sorted(f"{name}.{m.name}" for m in pkgutil.iter_modules(paths))


def loaded_after(code: str) -> set[str]:
    """The network modules and clients a fresh interpreter holds after running `code`."""
    check = (
        f"{code}\nimport sys\n"
        f"print(' '.join(sorted(set({(*NETWORK, *CLIENTS)!r}) & set(sys.modules))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_client_modules_are_the_network_ones() -> None:
    # The check below can fail: importing a client loads its HTTP library.
    assert {"requests", "urllib3", "collector.sources.prometheus"} <= loaded_after(
        "import collector.sources.prometheus"
    )
    assert {"httpx2", "pagerduty"} <= loaded_after("import collector.sources.pagerduty")


def test_analysis_and_readers_import_no_network_module() -> None:
    modules = [
        *modules_of(collector.analysis),
        *modules_of(collector.snapshot),
        *modules_of(report),
        *modules_of(report.charts),
        *modules_of(report.words),
        "collector.records",
        "collector.output",
    ]
    assert len(modules) > 40
    assert loaded_after("\n".join(f"import {m}" for m in modules)) == set()


@pytest.mark.slow
def test_an_offline_re_render_imports_no_network_module(tmp_path: Path) -> None:
    code = f"""
from pathlib import Path
from collector.config import load_config
from collector.demo import demo_dir
from collector.jobs.draft import publish_incident
from collector.jobs.runner import Runner
from collector.snapshot.store import load_snapshot
folder = demo_dir()
config = load_config(folder / "collector.yaml", {{}})
published = publish_incident(
    load_snapshot(folder / "snapshot.json"), config, Runner(), Path({str(tmp_path)!r}), force=True
)
assert published.status == "written", published.message
"""
    assert loaded_after(code) == set()
    assert list(tmp_path.glob("*/report.md"))


def test_the_folders_read_as_the_flow() -> None:
    # sources -> snapshot -> analysis -> report (model, words, charts, templates) -> output;
    # jobs beside the CLI. The network code lives in sources/ only.
    for folder in (
        "collector/sources",
        "collector/snapshot",
        "collector/analysis",
        "collector/jobs",
        "report/words",
        "report/charts",
        "report/templates",
    ):
        assert (ROOT / folder).is_dir(), folder
    for path in (ROOT / "collector").rglob("*.py"):
        if path.parent.name == "sources":
            continue
        text = path.read_text(encoding="utf-8")
        for library in ("requests", "httpx", "pagerduty", "prometheus_api_client", "urllib3"):
            assert f"import {library}\n" not in text and f"from {library} import" not in text, (
                f"{path.relative_to(ROOT)} imports {library}: network code belongs in sources/"
            )
