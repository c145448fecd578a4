"""A draft a reviewer signs: every sentence true, said once, in the report's language.

Each test here drafts through the real `collect` from a snapshot built for the case (issue #26):
the shapes real hosts give that the demo does not, and the words and numbers a reviewer reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hardening_support import demo_data, run_collect, write_json


def _draft(collect_bin: str, data: dict[str, Any], tmp_path: Path, *args: str) -> str:
    """Draft the snapshot `data` with the real CLI; return report.md (exit 0 asserted)."""
    snapshot = write_json(tmp_path / "in.json", data)
    out = tmp_path / "out"
    done = run_collect(
        collect_bin, ["--snapshot", str(snapshot), "--out", str(out), *args], {}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    return (out / data["incident_id"] / "report.md").read_text(encoding="utf-8")


def _query(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in data["prometheus"]["results"] if q["name"] == name)
    return found


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_host_without_swap_drafts_and_says_swap_has_no_value(
    collect_bin: str, tmp_path: Path, lang: str
) -> None:
    # SwapTotal 0 (most cloud VMs): swap_used is 0/0, NaN on its only series.
    data = demo_data()
    for series in _query(data, "swap_used")["result"]:
        series["values"] = [[t, "NaN"] for t, _ in series["values"]]
    report = _draft(collect_bin, data, tmp_path, "--lang", lang)
    swap = [line for line in report.splitlines() if line.startswith("- **Swap used**")]
    assert len(swap) == 1 and "NaN" in swap[0], swap
    assert ("no number in the window" if lang == "en" else "aucune valeur chiffrée") in report
    assert "no series" not in report and "aucune série" not in report
    # The other queries are still summarised with their numbers.
    assert "- **Memory used**" in report and "97" in report
    json.loads((tmp_path / "out" / "P7DBOOM" / "figures.json").read_text(encoding="utf-8"))


def test_a_query_whose_every_sample_is_nan_has_a_problem_not_a_peak() -> None:
    from collector.analysis.metrics import summarize_queries
    from collector.snapshot.prometheus import read_query_results

    record = {
        "name": "swap",
        "title": "Swap",
        "kind": "swap",
        "unit": "%",
        "start": "2025-01-01T00:00:00Z",
    }
    nan = {**record, "result": [{"metric": {"instance": "a"}, "values": [[1735689600, "NaN"]]}]}
    [summary] = summarize_queries(read_query_results([nan]))
    assert summary.series_count == 1 and summary.peak is None and summary.low_time is None
    assert summary.problem is not None and summary.problem.key == "no_value"
