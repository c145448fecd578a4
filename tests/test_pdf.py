"""report.pdf: the same HTML on A4 pages, read back with poppler's tools."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT

from collector.config import ConfigError, load_config
from collector.jobs.draft import draft_incident
from collector.jobs.runner import Runner
from collector.snapshot.store import load_snapshot
from report.render import wrap_sections
from report.words.labels import LABELS

POPPLER = ("pdfinfo", "pdftotext", "pdfimages")


def poppler(tool: str, *args: str) -> str:
    """Run one of poppler-utils' tools; fail with what to install when it is missing."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install Debian's poppler-utils")
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


@pytest.fixture(scope="module", params=["fr", "en"])
def demo_pdf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo report drafted in one language, PDF included."""
    folder = tmp_path_factory.mktemp(f"pdf-{request.param}")
    config = load_config(DEMO_CONFIG, {})
    config = replace(config, report=replace(config.report, language=request.param, pdf="always"))
    files = draft_incident(load_snapshot(DEMO_SNAPSHOT), config, Runner(), folder).files
    assert Path("report.pdf") in files
    return folder / "report.pdf"


def pages_text(pdf: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with form feeds)."""
    return poppler("pdftotext", "-layout", str(pdf), "-").split("\f")[:-1]


@pytest.mark.slow
def test_pdf_is_a4_with_numbered_pages(demo_pdf: Path) -> None:
    assert demo_pdf.read_bytes()[:5] == b"%PDF-"
    info = poppler("pdfinfo", "-f", "1", "-l", "999", str(demo_pdf))
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert 8 <= count <= 30
    sizes = re.findall(r"^Page\s+\d+ size:\s+(.*)$", info, re.M)
    assert len(sizes) == count and all(s.startswith("595.") and "(A4)" in s for s in sizes)
    pages = pages_text(demo_pdf)
    assert len(pages) == count
    assert "PostgreSQL down on db-01" in pages[0]
    for number, text in enumerate(pages, start=1):
        assert re.search(rf"\b{number} / {count}\s*$", text), f"page {number} has no number"


@pytest.mark.slow
def test_signatures_block_is_on_one_page(demo_pdf: Path) -> None:
    language = "en" if "pdf-en" in str(demo_pdf) else "fr"
    words = LABELS[language]
    pages = [p for p in pages_text(demo_pdf) if words["signatures"] in p]
    assert len(pages) == 1
    block = pages[0][pages[0].index(words["signatures"]) :]
    for who in ("prepared_by", "reviewed_by", "approved_by", "filed_by"):
        assert words[who] in block
    assert block.count(words["hint_ymd"]) == 4


def test_charts_are_embedded_sharp(demo_pdf: Path) -> None:
    listing = poppler("pdfimages", "-list", str(demo_pdf)).splitlines()[2:]
    images = [line.split() for line in listing if line.split()[2] == "image"]
    assert len(images) == len(list((demo_pdf.parent / "charts").glob("*.png")))
    assert all(int(row[12]) >= 200 for row in images), "charts under 200 dpi on paper"


def test_sections_are_named_after_their_label() -> None:
    body = "<p>x</p>\n<h2>Signatures &amp; Approval</h2>\n<p>a</p>\n<h2>Other</h2>\n<p>b</p>\n"
    wrapped = wrap_sections(body, "en")
    assert '<section id="signatures">\n<h2>Signatures &amp; Approval</h2>\n<p>a</p>\n' in wrapped
    assert "<section>\n<h2>Other</h2>" in wrapped
    assert wrapped.startswith("<p>x</p>\n") and wrapped.count("</section>") == 2


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["final", "never"])
def test_a_draft_writes_no_pdf_unless_always(mode: str, tmp_path: Path) -> None:
    config = load_config(DEMO_CONFIG, {})
    config = replace(config, report=replace(config.report, pdf=mode))
    files = draft_incident(load_snapshot(DEMO_SNAPSHOT), config, Runner(), tmp_path).files
    assert Path("report.html") in files
    assert Path("report.pdf") not in files and not (tmp_path / "report.pdf").exists()


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("final", "final"),
        ("always", "always"),
        ("never", "never"),
        ("true", "final"),
        ("false", "never"),
    ],
)
def test_pdf_setting_is_read_from_the_config_file(written: str, read: str, tmp_path: Path) -> None:
    # true and false are what files said before the final: the default then, and none.
    path = tmp_path / "c.yaml"
    path.write_text(f"report:\n  pdf: {written}\n", encoding="utf-8")
    assert load_config(path, {}).report.pdf == read
    assert load_config(None, {}).report.pdf == "final"


def test_pdf_setting_refuses_another_word(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("report:\n  pdf: sometimes\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="report.pdf"):
        load_config(path, {})


# Each way WeasyPrint is found missing in the field: the package is not installed, or it is
# but cffi cannot load Pango (what WeasyPrint raises then).
BLOCK_PACKAGE = "import sys; sys.modules['weasyprint'] = None"
BROKEN_LIBRARY = "raise OSError(\"cannot load library 'libpango-1.0-0': no such file\")\n"


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["package", "library"])
def test_missing_weasyprint_warns_once_and_still_publishes(failure: str, tmp_path: Path) -> None:
    setup = BLOCK_PACKAGE
    if failure == "library":
        fake = tmp_path / "fake" / "weasyprint"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text(BROKEN_LIBRARY, encoding="utf-8")
        setup = f"import sys; sys.path.insert(0, {str(fake.parent)!r})"
    out = tmp_path / "out"
    config = tmp_path / "always.yaml"  # the demo's settings, a PDF with every draft
    config.write_text(
        DEMO_CONFIG.read_text(encoding="utf-8").replace("report:\n", "report:\n  pdf: always\n", 1),
        encoding="utf-8",
    )
    args = ["--demo", "--config", str(config), "--out", str(out)]
    code = f"{setup}\nfrom collector.cli import main\nmain({args!r})"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("warning: report.pdf not written:")
    assert "weasyprint" in lines[0] and "libpango-1.0-0" in lines[0]
    assert "report.pdf: never" in lines[0]
    # From a checkout (as README installs it) the extra is '.[pdf]'; installed, the package's.
    assert "pip install '.[pdf]'" in lines[0]
    assert "pip install 'incident-timeline-collector[pdf]'" in lines[0]
    folder = out / "P7DBOOM"
    assert done.stdout.splitlines()[0] == f"drafted {folder / 'report.md'}"
    assert re.fullmatch(r"\d+ fields left for people", done.stdout.splitlines()[-1])
    assert (folder / "report.html").exists() and (folder / "report.md").exists()
    assert not (folder / "report.pdf").exists()


@pytest.mark.slow
def test_charts_in_the_pdf_are_pixel_for_pixel_the_png_files(
    demo_pdf: Path, tmp_path: Path
) -> None:
    """The charts' PNG data is passed into the PDF as it is (report.pdf's _pass_png_through)."""
    from PIL import Image

    poppler("pdfimages", "-png", str(demo_pdf), str(tmp_path / "image"))
    extracted = sorted(Image.open(p).tobytes() for p in tmp_path.glob("image-*.png"))
    charts = sorted(Image.open(p).tobytes() for p in (demo_pdf.parent / "charts").glob("*.png"))
    assert extracted == charts


@pytest.mark.parametrize(
    ("mode", "interlace", "passed"),
    [("RGB", b"", True), ("RGBA", b"", False), ("RGB", b"\x01", False), ("L", b"", False)],
)
def test_only_plain_rgb_png_data_is_passed_through(
    mode: str, interlace: bytes, passed: bool
) -> None:
    import io
    import zlib

    from PIL import Image

    from report.png import plain_rgb_idat

    buffer = io.BytesIO()
    Image.new(mode, (7, 5), "white").save(buffer, format="PNG")
    png = buffer.getvalue()
    if interlace:  # Pillow writes no interlaced PNG: set the header's interlace method
        png = png[:28] + interlace + png[29:]
    data = plain_rgb_idat(png)
    assert (data is not None) == passed
    if data is not None:  # each row: one filter byte, then 3 bytes a pixel
        assert len(zlib.decompress(data)) == 5 * (1 + 7 * 3)


def test_the_layout_waits_for_a_chart_still_being_drawn(tmp_path: Path) -> None:
    """report.pdf is laid out while the charts are drawn: a pending chart is waited for."""
    from PIL import Image

    from report.pdf import render_pdf

    chart = tmp_path / "charts" / "late.png"
    chart.parent.mkdir()

    def draw_late() -> None:
        time.sleep(0.5)
        partial = chart.with_name(".late.png.partial")
        Image.new("RGB", (300, 200), (200, 30, 30)).save(partial, format="png")
        partial.replace(chart)

    drawer = threading.Thread(target=draw_late)
    drawer.start()
    html = '<html><body><p>before</p><img src="charts/late.png"><p>after</p></body></html>'
    pdf = render_pdf(html, tmp_path, pending={chart: (300, 200)})
    drawer.join()
    assert pdf is not None
    (tmp_path / "report.pdf").write_bytes(pdf)
    listing = poppler("pdfimages", "-list", str(tmp_path / "report.pdf")).splitlines()[2:]
    assert [line.split()[3:5] for line in listing] == [["300", "200"]]


def test_bulleted_items_get_their_bullet_as_text() -> None:
    """report.pdf writes each bullet into its item (a marker box costs WeasyPrint a layout)."""
    from report.pdf_bullets import with_text_bullets

    page = (
        "<ul>\n<li>a</li>\n<li>\n<p>b</p>\n<ul>\n<li>c</li>\n</ul>\n</li>\n</ul>\n"
        '<ol start="3">\n<li>x\n<ul>\n<li>y</li>\n</ul>\n</li>\n</ol>\n'
        '<p><code>&lt;li&gt;</code></p>\n<ul class="x">\n<li class="y">z</li>\n</ul>'
    )
    assert with_text_bullets(page) == (
        '<ul class="pdf-bullets">\n<li>\u2022\u00a0a</li>\n<li>\n<p>\u2022\u00a0b</p>\n'
        '<ul class="pdf-bullets">\n<li>\u25e6\u00a0c</li>\n</ul>\n</li>\n</ul>\n'
        '<ol start="3">\n<li>x\n<ul class="pdf-bullets">\n<li>\u25e6\u00a0y</li>\n</ul>\n</li>\n'
        '</ol>\n<p><code>&lt;li&gt;</code></p>\n<ul class="x">\n<li class="y">z</li>\n</ul>'
    )


def test_each_bulleted_item_shows_one_bullet(demo_pdf: Path) -> None:
    html = (demo_pdf.parent / "report.html").read_text(encoding="utf-8")
    items = sum(len(re.findall(r"<li>", part)) for part in _bulleted_lists(html))
    text = "".join(pages_text(demo_pdf))
    assert items > 100
    assert text.count("\u2022") + text.count("\u25e6") == items


def _bulleted_lists(html: str) -> list[str]:
    """The text of each <ul>...</ul> with the lists nested in it taken out."""
    inner = re.compile(r"<ul>((?:(?!<ul>|</ul>).)*)</ul>", re.S)
    found: list[str] = []
    while (match := inner.search(html)) is not None:
        found.append(re.sub(r"<ol\b.*?</ol>", "", match.group(1), flags=re.S))
        html = html[: match.start()] + html[match.end() :]
    return found


@pytest.mark.parametrize("enabled", [True, False])
def test_cycle_collection_is_paused_for_the_layout_only(enabled: bool) -> None:
    import gc

    from report.pdf import _cycle_collection_paused

    (gc.enable if enabled else gc.disable)()
    try:
        with _cycle_collection_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_weasyprint_is_a_version_whose_internals_are_patched() -> None:
    """report/pdf.py patches WeasyPrint's internals: an unknown version must be checked (and
    WEASYPRINT_VERSIONS and the pin in pyproject.toml moved) before it is allowed."""
    import weasyprint

    from report import pdf

    low, below = pdf.WEASYPRINT_VERSIONS
    assert pdf.patchable_weasyprint(), (
        f"WeasyPrint {weasyprint.__version__} is not among the versions report/pdf.py patches"
        f" ({low} to {below - 1}): check its internals, then move WEASYPRINT_VERSIONS and the pin"
    )
    assert pdf._pass_png_through(), "RasterImage's internals are not those patched"
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    pins = re.findall(r'"weasyprint([<>=][^"]*)"', pyproject)
    assert pins and set(pins) == {f">={low},<{below}"}, pins


def test_glyph_arrays_for_subsetting_hold_the_same_values() -> None:
    """report.pdf's _OpenArrays: hb_codepoint_t[N] made as hb_codepoint_t[] (no C parsing)."""
    from weasyprint.text.ffi import ffi

    from report.pdf import _OpenArrays

    arrays = _OpenArrays(ffi)
    sized = arrays.new("hb_codepoint_t[3]", [5, 7, 9])
    assert ffi.typeof(sized) is ffi.typeof("hb_codepoint_t[]")
    assert list(sized) == [5, 7, 9] and len(sized) == 3
    # Anything else is left to cffi: an array with no values, or fewer values than its size.
    assert ffi.typeof(arrays.new("hb_codepoint_t[4]", [1])) is ffi.typeof("hb_codepoint_t[4]")
    assert ffi.typeof(arrays.new("hb_tag_t[2]")) is ffi.typeof("hb_tag_t[2]")
    assert arrays.NULL == ffi.NULL


def _chart_png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    """A PNG as the charts write them (8-bit RGB, our encoder)."""
    import numpy as np

    from report.charts.base import encode_png

    width, height = size
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, :] = colour
    pixels[height // 3 : height // 2, :] = (0, 114, 178)  # a band, so rows differ
    return encode_png(pixels, 160)


def _draw_later(path: Path, png: bytes, delay: float) -> threading.Thread:
    """Write `path` whole after `delay` seconds, as a chart worker does."""

    def draw() -> None:
        time.sleep(delay)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(png)
        partial.replace(path)

    drawer = threading.Thread(target=draw)
    drawer.start()
    return drawer


CHARTS_PAGE = (
    "<html><body><h1>Report</h1><p>before</p><img src='charts/a.png'>"
    "<p>between</p><img src='charts/b.png'><p>after</p></body></html>"
)


def test_pages_laid_out_around_placeholders_are_those_of_the_drawn_charts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The charts drawn while the pages are laid out take their placeholders' places: the PDF is
    byte for byte the one laid out from the finished files, and laid out once."""
    from report import pdf as pdf_module
    from report.pdf import render_pdf

    def laid_out_again(pending: object) -> None:
        pytest.fail("the pages were laid out again: a placeholder did not take its chart")

    monkeypatch.setattr(pdf_module, "_waiting_fetcher", laid_out_again)

    (tmp_path / "charts").mkdir()
    charts = {
        tmp_path / "charts" / "a.png": _chart_png((400, 250), (250, 250, 250)),
        tmp_path / "charts" / "b.png": _chart_png((640, 180), (240, 240, 200)),
    }
    drawers = [_draw_later(path, png, 0.3) for path, png in charts.items()]
    sizes = {path: (400, 250) if path.name == "a.png" else (640, 180) for path in charts}
    early = render_pdf(CHARTS_PAGE, tmp_path, pending=sizes)
    for drawer in drawers:
        drawer.join()
    assert early is not None
    assert early == render_pdf(CHARTS_PAGE, tmp_path)


def test_a_chart_drawn_at_another_size_than_planned_is_laid_out_as_drawn(
    tmp_path: Path,
) -> None:
    from report.pdf import render_pdf

    (tmp_path / "charts").mkdir()
    a, b = tmp_path / "charts" / "a.png", tmp_path / "charts" / "b.png"
    b.write_bytes(_chart_png((640, 180), (240, 240, 200)))
    drawer = _draw_later(a, _chart_png((420, 250), (250, 250, 250)), 0.2)
    pdf = render_pdf(CHARTS_PAGE, tmp_path, pending={a: (400, 250), b: (640, 180)})
    drawer.join()
    assert pdf is not None and pdf == render_pdf(CHARTS_PAGE, tmp_path)
    (tmp_path / "report.pdf").write_bytes(pdf)
    listing = poppler("pdfimages", "-list", str(tmp_path / "report.pdf")).splitlines()[2:]
    assert [line.split()[3:5] for line in listing] == [["420", "250"], ["640", "180"]]


def test_weasyprint_finds_its_libraries_in_the_loader_cache_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ctypes.util

    from report import pdf

    def no_compiler(name: str) -> None:
        raise AssertionError(f"a program was compiled and linked to find {name}")

    # Beyond the loader's cache, find_library compiles and links a program for each name.
    monkeypatch.setattr(ctypes.util, "_findLib_gcc", no_compiler)
    monkeypatch.setattr(ctypes.util, "_findLib_ld", no_compiler)
    find_library = ctypes.util.find_library
    with pdf._libraries_from_loader_cache():
        assert ctypes.util.find_library("c") is not None
        assert ctypes.util.find_library("no-such-library-0") is None
    assert ctypes.util.find_library is find_library
    with pytest.raises(AssertionError, match="compiled and linked"):
        ctypes.util.find_library("no-such-library-0")
