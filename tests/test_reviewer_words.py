"""A draft a reviewer signs: every sentence true, said once, in the report's language.

Each test here drafts through the real `collect` from a snapshot built for the case (issue #26):
the shapes real hosts give that the demo does not, and the words and numbers a reviewer reads.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hardening_support import demo_data, run_collect, write_json

import collector
import report.render

# Slow throughout: drafts from a real Prometheus, read as a reviewer would.
pytestmark = pytest.mark.slow


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


@pytest.mark.slow
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


@pytest.fixture(scope="module")
def demo_drafts(collect_bin: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo drafted by the real CLI, in each language: the incident's folder."""
    folders = {}
    for lang in ("fr", "en"):
        out = tmp_path_factory.mktemp(f"demo-{lang}")
        done = run_collect(collect_bin, ["--demo", "--lang", lang, "--out", str(out)], {}, out)
        assert done.returncode == 0, done.stderr
        folders[lang] = out / "P7DBOOM"
    return folders


def _report(folders: dict[str, Path], lang: str) -> str:
    return (folders[lang] / "report.md").read_text(encoding="utf-8")


def _section(report: str, heading: str) -> str:
    """The text under `heading` up to the next heading of any level."""
    after = report.split(heading + "\n", 1)[1]
    return re.split(r"\n#{1,4} ", after, maxsplit=1)[0]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_counts_agree_with_their_nouns(demo_drafts: dict[str, Path], lang: str) -> None:
    report = _report(demo_drafts, lang)
    singular_as_plural = r"\b1 (séries|escalades|escalations|personnes|utilisateurs|requêtes)\b"
    assert re.findall(singular_as_plural, report) == []
    assert ("1 série ;" if lang == "fr" else "1 series;") in report
    assert ("1 escalade" if lang == "fr" else "1 escalation") in report


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_query_range_names_its_peak_and_low_in_time_order(
    demo_drafts: dict[str, Path], lang: str
) -> None:
    [memory] = [
        line for line in _report(demo_drafts, lang).splitlines() if "**Memory used**" in line
    ]
    peak, low = ("pic 97,0 %", "plus bas 17,9 %") if lang == "fr" else ("peak 97.0 %", "low 17.9 %")
    assert peak in memory and low in memory and memory.index(peak) < memory.index(low), memory
    assert " de " not in memory and " from " not in memory


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_numbers_follow_the_language_and_percent_is_spaced(
    demo_drafts: dict[str, Path], lang: str
) -> None:
    report = _report(demo_drafts, lang)
    prose = "\n".join(line for line in report.splitlines() if "`" not in line)
    prose = re.sub(r"\(https?://[^)]*\)|<https?://[^>]*>", "", prose)  # %-encoded links
    assert re.findall(r"\d%", prose) == []
    assert ("99,9 % sur 30 j" if lang == "fr" else "99.9 % over 30 d") in report
    if lang == "fr":
        prose = prose.replace(f"collector {collector.__version__}", "")
        assert re.findall(r"\d\.\d", prose) == [], "a decimal point in the French report"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_status_updates_are_communication_everywhere(
    demo_drafts: dict[str, Path], lang: str
) -> None:
    report = _report(demo_drafts, lang)
    escalation = _section(report, "### Escalade" if lang == "fr" else "### Escalation")
    external = _section(report, "### Externe" if lang == "fr" else "### External")
    assert "Status page updated" not in escalation
    assert external.count("Status page updated") == 2
    rows = list(csv.DictReader(io.StringIO((demo_drafts[lang] / "timeline.csv").read_text())))
    assert {r["phase"] for r in rows if r["kind"] == "status_update"} == {"communication"}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_people_notified_and_escalations_are_said_once(
    demo_drafts: dict[str, Path], lang: str
) -> None:
    report = _report(demo_drafts, lang)
    team = _section(report, "### Team Impact")
    assert "People notified" not in team and "Escalations" not in team
    internal = _section(report, "### Interne" if lang == "fr" else "### Internal")
    assert "Alice Martin, Bruno Keller" in internal and "Chloé Dubois" in internal
    assert ("1 escalade" if lang == "fr" else "1 escalation") in internal


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_each_source_is_said_once_in_an_appendix(demo_drafts: dict[str, Path], lang: str) -> None:
    report = _report(demo_drafts, lang)
    appendix = report.split("## Annexe" if lang == "fr" else "## Appendix", 1)[1]
    worst = "au pire 47 sur 47" if lang == "fr" else "at worst 47 of 47"
    # Once for the six figures it gives, once inside the revenue's source.
    assert report.count(worst) == 2
    outage_line = next(line for line in appendix.splitlines() if worst in line)
    for key in ("time_to_mitigate", "time_to_restore", "downtime", "endpoints_down", "RTO"):
        assert f"`{key}`" in outage_line
    html = (demo_drafts[lang] / "report.html").read_text(encoding="utf-8")
    folded = html.split('<section id="appendix">', 1)[1]
    assert folded.lstrip().startswith("<details>") and "</details>" in folded
    text = re.sub(r"<code>.*?</code>", "", folded, flags=re.S)
    assert "`" not in text, "a literal back-quote in the HTML appendix"


def test_printed_sub_headings_are_smaller_than_section_headings() -> None:
    page = (Path(report.render.__file__).parent / "templates" / "report.html.j2").read_text()
    printed = page.split("@media print", 2)[2]
    size = {
        h: float(re.search(rf"\b{h} {{[^}}]*?font-size: ([\d.]+)pt", printed)[1])
        for h in ("h2", "h3")
    }
    assert size["h3"] < size["h2"], size


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_mitigation_data_loss_and_the_endpoint_count_read_right(
    demo_drafts: dict[str, Path], lang: str
) -> None:
    report = _report(demo_drafts, lang)
    business = _section(report, "### Business Impact")
    assert (
        "délai d'atténuation: 20 min" if lang == "fr" else "time to mitigate: 20 min"
    ) in business
    [loss] = [line for line in report.splitlines() if line.startswith("- Data loss:")]
    assert not loss.startswith("- Data loss: 30 min")
    assert ("sauvegarde" if lang == "fr" else "backup") in loss and "30 min" in loss
    [endpoints] = [line for line in report.splitlines() if "**HTTP endpoints up" in line]
    assert (
        "compte les séries en service, sur 47" if lang == "fr" else "counts the series up, of 47"
    ) in endpoints
    assert "gris" not in endpoints and "grey" not in endpoints
