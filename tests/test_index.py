"""OUT/index.html: every report under --out, its status and links, checked in a real browser.

The reports are the demo's draft, copied into folders made to be a person's edit, a final, a
hostile title, a fleet review and things that are no reports at all; Debian's chromium then
loads the page headless (.ci/run installs it: the test is never skipped).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from collector.cli import main
from collector.config import Config, load_config
from collector.jobs.index import INDEX, read_index_entries, rebuild_index
from report.index_page import ReportStatus
from report.words.markers import count_markers

# Slow throughout: drafts, then the index loaded in a headless Chromium.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "fixtures" / "demo" / "collector.yaml"
HOSTILE = """<script>alert("x")</script> & "quoted" 'single' <b>bold</b>"""
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def demo_config(language: str = "fr") -> Config:
    config = load_config(DEMO_CONFIG, {})
    return replace(config, report=replace(config.report, language=language))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo drafted, then copies of it in every state the index tells apart."""
    out = tmp_path_factory.mktemp("index")
    result = CliRunner().invoke(main, ["--demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    demo = out / "P7DBOOM"
    # A draft has no report.pdf (`report.pdf: final`); this one stands for a final's, to link.
    (demo / "report.pdf").write_bytes(b"%PDF-1.7\n")
    _copy(demo, out / "PEDITED", title="Edited by a person", started="2025-10-26T09:00:00Z")
    report = out / "PEDITED" / "report.md"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("[À COMPLÉTER: nom]", "Ana Ruiz", 3), encoding="utf-8")
    _copy(demo, out / "PFINAL", title="Finalized", started="2025-10-24T09:00:00Z")
    figures = out / "PFINAL" / "figures.json"
    document = json.loads(figures.read_text(encoding="utf-8"))
    signatures = [{"role": "prepared_by", "name": "Ana Ruiz"}, {"role": "approved_by", "name": ""}]
    document.update(status="final", finalized_at="2025-10-28T10:00:00Z", signatures=signatures)
    figures.write_text(json.dumps(document), encoding="utf-8")
    _copy(demo, out / "PHOSTILE", title=HOSTILE, started="2025-10-23T09:00:00Z")
    (out / "PHOSTILE" / "report.pdf").unlink()  # no PDF: no link to one
    review = out / "memory-trends-2025-11-01"
    review.mkdir()
    (review / "report.md").write_text("# Revue\n", encoding="utf-8")
    digest = hashlib.sha256(b"# Revue\n").hexdigest()
    (review / ".collector.json").write_text(json.dumps({"report_sha256": digest}), "utf-8")
    (review / "report.html").write_text("<!DOCTYPE html><title>r</title>", encoding="utf-8")
    # Not reports: a backup, a leftover staging folder, a link leading out, a folder without
    # report.md.
    shutil.copytree(demo, out / "P7DBOOM.backup-20251026T000000Z")
    (out / ".P7DBOOM.abc.staging").mkdir()
    (out / "PLINK").symlink_to(demo, target_is_directory=True)
    (out / "PEMPTY").mkdir()
    rebuild_index(out, demo_config())
    return out


def _copy(source: Path, folder: Path, *, title: str, started: str) -> None:
    shutil.copytree(source, folder)
    figures = folder / "figures.json"
    document = json.loads(figures.read_text(encoding="utf-8"))
    document["incident"].update(id=folder.name, title=title, started_at=started)
    figures.write_text(json.dumps(document), encoding="utf-8")


class _Page(HTMLParser):
    """The parts of a page the tests read: links, sources, scripts, table rows' text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sources: list[str] = []
        self.scripts = 0
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if found.get("src"):
            self.sources.append(str(found["src"]))
        self.scripts += tag == "script"
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_every_report_is_listed_newest_first_with_its_status(out: Path) -> None:
    rows = [row for row in parse((out / INDEX).read_text(encoding="utf-8")).rows if row]
    assert [row[0] for row in rows] == [
        "PEDITED",
        "P7DBOOM",
        "PFINAL",
        "PHOSTILE",
        "memory-trends-2025-11-01",
    ]
    by_id = {row[0]: row for row in rows}
    demo = by_id["P7DBOOM"]
    assert demo[1:8] == [
        "PostgreSQL down on db-01 (out of memory)",
        "2025-10-25 16:32 CEST",  # 14:32 UTC, in the configured Europe/Paris
        "P1 (critical: service down)",
        "38 min",
        "DÉPASSÉ de 8 min",
        "DANS LE BUDGET",
        "brouillon",
    ]
    markers = count_markers((out / "PEDITED" / "report.md").read_text(encoding="utf-8"))
    assert by_id["PEDITED"][7] == f"en cours de rédaction — {markers} champs à compléter"
    assert by_id["PFINAL"][7] == "final le 2025-10-28, par Ana Ruiz"
    review = by_id["memory-trends-2025-11-01"]
    assert review[1:3] == ["Tendances mémoire du parc jusqu'au 2025-11-01", "brouillon"]


def test_the_demo_leaves_a_known_number_of_markers(out: Path) -> None:
    text = (out / "P7DBOOM" / "report.md").read_text(encoding="utf-8")
    entries = {e.folder: e for e in read_index_entries(out)}
    assert entries["P7DBOOM"].status is ReportStatus.DRAFT
    assert entries["PEDITED"].status is ReportStatus.EDITING
    assert entries["PEDITED"].markers_left == entries["P7DBOOM"].markers_left - 3
    # The opening note quotes the marker in a code span: not a field to fill.
    assert count_markers(text) == len(re.findall(r"\[À COMPLÉTER:", text)) - 1
    assert count_markers("[TO COMPLETE: x] [À COMPLÉTER : y] `[TO COMPLETE: …]`") == 2


def test_links_only_to_files_that_exist_and_titles_are_text(out: Path) -> None:
    html = (out / INDEX).read_text(encoding="utf-8")
    page = parse(html)
    assert page.scripts == 0 and not page.sources
    assert "PHOSTILE/report.html" in page.links and "PHOSTILE/report.pdf" not in page.links
    assert "P7DBOOM/report.pdf" in page.links
    assert all((out / link).is_file() for link in page.links)
    assert not any(name in html for name in ("PLINK", "PEMPTY", "backup", "staging"))
    assert HOSTILE not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_english_words_and_utc_without_a_zone(out: Path, tmp_path: Path) -> None:
    config = demo_config("en")
    config = replace(config, report=replace(config.report, timezone=None))
    target = tmp_path / "copy"
    shutil.copytree(out / "P7DBOOM", target / "P7DBOOM")
    rebuild_index(target, config)
    rows = [row for row in parse((target / INDEX).read_text(encoding="utf-8")).rows if row]
    assert rows[0][2:8] == [
        "2025-10-25 14:32 UTC",
        "P1 (critical: service down)",
        "38 min",
        "MISSED by 8 min",
        "WITHIN BUDGET",
        "draft",
    ]
    assert sorted(p.name for p in target.iterdir()) == ["P7DBOOM", INDEX]


def test_a_publish_rebuilds_it_and_a_failure_is_only_a_warning(tmp_path: Path) -> None:
    (tmp_path / INDEX).mkdir()  # cannot be replaced by a file
    result = CliRunner().invoke(main, ["--demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "P7DBOOM" / "report.md").is_file()
    assert f"warning: {tmp_path / INDEX} was not updated" in result.output
    (tmp_path / INDEX).rmdir()
    result = CliRunner().invoke(main, ["--demo", "--out", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "PostgreSQL down on db-01" in (tmp_path / INDEX).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P7DBOOM", INDEX]  # no lock, no temp


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    """Debian's chromium, headless, its page console on stderr."""
    assert CHROMIUM, "chromium is not installed: .ci/run installs Debian's chromium"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"]
    return subprocess.run(
        [*command, "--v=0", *args], capture_output=True, text=True, timeout=120, check=False
    )


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_sees_an_error(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<script>console.error("seen")</script>', encoding="utf-8")
    result = chromium("--dump-dom", page.as_uri())
    assert any('"seen"' in line for line in console_lines(result.stderr))


def test_chromium_loads_it_without_console_messages_and_every_link_resolves(out: Path) -> None:
    result = chromium("--dump-dom", (out / INDEX).as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_lines(result.stderr) == []
    page = parse(result.stdout)
    assert page.scripts == 0  # the hostile title stayed text
    assert "<script>alert(" in "".join(cell for row in page.rows for cell in row)
    assert page.links and all((out / link).is_file() for link in page.links)


@pytest.mark.parametrize("width", [412, 1280])
def test_screenshots_at_phone_and_desktop_width(out: Path, width: int) -> None:
    shot = out / f"index-{width}.png"
    result = chromium(f"--screenshot={shot}", f"--window-size={width},900", (out / INDEX).as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 10_000
