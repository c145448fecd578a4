"""What every chart shares: fonts, palette, the figure, the time axis, milestones, the PNG.

Matplotlib's Agg backend and object-oriented API only; words come from the caller's `Words`.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from PIL import Image  # noqa: E402

from report.charts.plan import DPI, SIZE  # noqa: E402
from report.png import PNG_SIGNATURE, RGB8, png_chunk  # noqa: E402
from report.words import Words  # noqa: E402
from report.words.formats import clock as format_clock  # noqa: E402

# Text in any script the data brings: Latin and Arabic (DejaVu), CJK (Debian's fonts-noto-cjk),
# symbols and emoji in monochrome (fonts-symbola; colour emoji fonts do not render in Agg).
FONT_FAMILIES = ("DejaVu Sans", "Noto Sans CJK JP", "Symbola")


def _configure_fonts() -> None:
    """Use the fallback list, keeping only installed families (a missing one would warn)."""
    known = {font.name for font in font_manager.fontManager.ttflist}
    if not set(FONT_FAMILIES) <= known:
        # matplotlib's font cache predates fonts installed later: add those files directly.
        for path in font_manager.findSystemFonts():
            if any(part in path for part in ("NotoSansCJK", "Symbola")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        known = {font.name for font in font_manager.fontManager.ttflist}
        if set(FONT_FAMILIES) <= known:
            _refresh_font_cache()
    matplotlib.rcParams["font.family"] = [f for f in FONT_FAMILIES if f in known] or ["sans-serif"]


def _refresh_font_cache() -> None:
    """Save matplotlib's font list with the files just added, where matplotlib keeps it, so
    that the next run finds them when matplotlib loads (the search and reading the CJK
    collections are otherwise paid on every run). Written beside and renamed into place: a run
    that reads it meanwhile reads the old list or the new one; any failure leaves the old one.
    """
    cache = Path(
        matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json"
    )
    if not cache.is_file():  # matplotlib keeps no list here (an unwritable home): none to refresh
        return
    fresh = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", dir=cache.parent, prefix=".fontlist-", suffix=".json", delete=False
        ) as file:
            fresh = Path(file.name)
        font_manager.json_dump(font_manager.fontManager, fresh)
        saved = font_manager.json_load(fresh)
        if {font.name for font in saved.ttflist} >= set(FONT_FAMILIES):
            fresh.chmod(cache.stat().st_mode & 0o777)
            os.replace(fresh, cache)
            fresh = None
    except Exception:  # noqa: BLE001 - a cache: the next run searches again
        pass
    finally:
        if fresh is not None:
            fresh.unlink(missing_ok=True)


_configure_fonts()
# FreeType hinted every glyph afresh: a third of the time spent drawing text. At the charts'
# 160 dpi the glyphs are large enough to read the same without it (compared side by side).
matplotlib.rcParams["text.hinting"] = "no_hinting"
# Titles at the top of their axes, as matplotlib places them when nothing is drawn above the
# axes (no chart here has ticks on top; the pixels are the same): placing them "auto" measured
# every axis' ticks again at each draw (benchmarks/README.md, second session of 2026-12-07).
matplotlib.rcParams["axes.titley"] = 1.0

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MILESTONE_STYLE = {
    "detected": ("#D55E00", "-"),
    "acknowledged": ("#0072B2", "--"),
    "restored": ("#56B4E9", "-."),
    "resolved": ("#009E73", "-"),
}
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0}
THRESHOLD_COLORS = ("#E69F00", "#CC79A7", "#000000")
PNG_FILTER_UP = 2
PNG_LEVEL = 3  # zlib: the slowest level that costs no more than level 1 on charts


def plain(text: str, limit: int = 80) -> str:
    """Untrusted text on one line, cut at `limit`, safe from matplotlib's math mode."""
    # '$' would switch matplotlib to math mode and can crash the drawing.
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def date_num(moment: datetime) -> float:
    """A datetime as matplotlib's date number (keeps the drawing code typed)."""
    return float(mdates.date2num(moment))  # type: ignore[no-untyped-call]


def date_nums(times: pd.Series) -> np.ndarray:
    """Many datetimes as matplotlib date numbers."""
    # Naive UTC datetime64 takes matplotlib's vectorised path; aware values go one by one.
    naive = pd.to_datetime(times, utc=True).dt.tz_convert(None).to_numpy()
    return np.asarray(mdates.date2num(naive), dtype=float)  # type: ignore[no-untyped-call]


def new_figure(height: float = SIZE[1]) -> tuple[Figure, Axes]:
    """A report-wide figure with one axes."""
    fig = Figure(figsize=(SIZE[0], height), dpi=DPI)
    ax = fig.add_subplot()
    return fig, ax


def format_time_axis(ax: Axes, zone: str | None, day: datetime | None, words: Words) -> None:
    """Ticks in UTC with the local time below, dated when not on the incident's start day."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)

    def label(value: float, _position: int | None = None) -> str:
        moment = mdates.num2date(value)  # type: ignore[no-untyped-call]
        return format_clock(moment, day, zone, short_date=True).replace(" (", "\n(")

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.tick_params(axis="x", labelsize=7.5)
    axis = words.say("chart_time_zone", zone=zone) if zone else words.say("chart_time")
    ax.set_xlabel(axis, fontsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)


def draw_milestones(ax: Axes, milestones: Mapping[str, datetime], words: Words) -> None:
    """A vertical line per milestone of the incident (detected, acknowledged...).

    Two milestones can fall on the same minute (restored and resolved, often): the broken
    lines are drawn over the solid ones, so that both show where they meet.
    """
    for name, moment in milestones.items():
        color, style = MILESTONE_STYLE.get(name, ("#555555", ":"))
        label = words.catalogue.get(f"chart_milestone_{name}", name)
        ax.axvline(
            date_num(moment),
            color=color,
            linestyle=style,
            linewidth=1.2,
            label=label,
            zorder=2.0 if style == "-" else 2.1,
        )


def draw_thresholds(ax: Axes, thresholds: Sequence[float], unit: str, words: Words) -> None:
    """A dashed horizontal line per threshold, named in the legend."""
    for i, threshold in enumerate(thresholds):
        ax.axhline(
            threshold,
            color=THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)],
            linestyle=(0, (5, 3)),
            linewidth=1.1,
            label=words.say("chart_threshold", value=words.short(threshold), unit=unit).strip(),
        )


def side_legend(ax: Axes) -> None:
    """The legend right of the axes, outside the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def save(fig: Figure, path: Path) -> Path:
    """Draw the figure and write it as an opaque (RGB) PNG.

    The background is white, so an alpha channel carries nothing: without it the file is
    smaller, the PNG encodes faster, and WeasyPrint need not split it out again for report.pdf.
    The figure is not cleared afterwards: nothing draws on it again, and clearing its axes
    costs CPU for nothing (the garbage collector frees them all the same).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        # A character no installed font has is drawn as a box; it must not print on stderr.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        canvas.draw()  # type: ignore[no-untyped-call]
    write_png(canvas, path)
    return path


def write_png(canvas: FigureCanvasAgg, path: Path) -> None:
    """The drawn canvas as an RGB PNG (tests replace it to read what was drawn).

    Written whole or not at all (renamed into place): report.pdf, laid out by another process
    while the charts are drawn, reads each file as soon as it exists.
    """
    rgba = Image.frombuffer(
        "RGBA",
        canvas.get_width_height(),
        canvas.buffer_rgba(),  # type: ignore[no-untyped-call]
    )
    # Pillow drops the alpha channel faster than a strided numpy copy.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(encode_png(np.asarray(rgba.convert("RGB")), canvas.figure.dpi))
    os.replace(partial, path)


def encode_png(rgb: np.ndarray, dpi: float) -> bytes:
    """An 8-bit RGB PNG of these pixels (height x width x 3, contiguous), rows filtered "Up".

    A chart is mostly flat colour and horizontal lines, so the difference with the row above
    is mostly zero and deflates well at a fast level. Pillow tries five filters on every row
    and deflates at level 6: several times the CPU for files only a little smaller
    (benchmarks/README.md). report.pdf embeds this data as it is (FlateDecode, PNG predictors).
    """
    height, width, _ = rgb.shape
    lines = rgb.reshape(height, 3 * width)
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = PNG_FILTER_UP
    rows[0, 1:] = lines[0]
    np.subtract(lines[1:], lines[:-1], out=rows[1:, 1:])  # modulo 256, as the filter wants
    per_metre = round(dpi / 0.0254)
    return b"".join(
        (
            PNG_SIGNATURE,
            png_chunk(b"IHDR", struct.pack("!II", width, height) + bytes(RGB8)),
            png_chunk(b"pHYs", struct.pack("!IIB", per_metre, per_metre, 1)),
            png_chunk(b"IDAT", zlib.compress(rows.data, PNG_LEVEL)),
            png_chunk(b"IEND", b""),
        )
    )
