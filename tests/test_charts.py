"""Charts: text in any script without a font warning, dated ticks, availability from 0 to N."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from collector.analysis.metrics import summarize_queries
from collector.records import Event
from collector.snapshot.prometheus import QueryResult
from report.charts import base, metric, timeline
from report.words import Words

T0 = datetime(2025, 10, 25, 22, 0, tzinfo=timezone.utc)
TITLE = "データベース停止 — انقطاع الخدمة 🔥 Événement"


def test_fallback_fonts_are_installed_and_used() -> None:
    import matplotlib

    assert list(matplotlib.rcParams["font.family"]) == list(base.FONT_FAMILIES)


@pytest.mark.slow
def test_a_title_in_japanese_arabic_and_emoji_draws_without_a_warning(tmp_path: Path) -> None:
    # A fresh interpreter, so that nothing filtered by pytest hides a warning on stderr.
    script = (
        "from datetime import datetime, timedelta, timezone\n"
        "from pathlib import Path\n"
        "from report.charts.timeline import draw_timeline_chart\n"
        "from report.words import Words\n"
        "t = datetime(2025, 10, 25, 22, 0, tzinfo=timezone.utc)\n"
        f"draw_timeline_chart([], [], {{'detected': t}}, (t, t + timedelta(hours=5)),"
        f" {TITLE!r}, Path({str(tmp_path / 'x.png')!r}), Words('fr'), 'Asia/Tokyo')\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert (tmp_path / "x.png").stat().st_size > 5000


def tick_labels(ax_figure: Figure) -> list[str]:
    ax = ax_figure.axes[0]
    ax_figure.canvas.draw()  # type: ignore[no-untyped-call]
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_ticks_carry_the_date_after_the_start_day_and_the_local_time() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_xlim(base.date_num(T0), base.date_num(T0 + timedelta(hours=6)))
    base.format_time_axis(ax, "Europe/Paris", T0, Words("en"))
    labels = tick_labels(fig)
    # 22:00 UTC is already 10-26 in Paris: each calendar is judged against its own start day.
    assert "23:00 UTC\n(01:00 CEST)" in labels
    assert "10-26 00:00 UTC\n(02:00 CEST)" in labels


def test_availability_axis_runs_from_zero_to_the_number_of_series(tmp_path: Path) -> None:
    times = [T0 + timedelta(minutes=m) for m in range(30)]
    rows = [("probes", f'{{i="{i}"}}', t, 0.0 if i < 8 else 1.0) for i in range(12) for t in times]
    frame = pd.DataFrame(rows, columns=["query", "series", "time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    result = QueryResult("probes", "Probes", kind="availability", step=60, samples=frame)
    [summary] = summarize_queries([result], max_shown=6)
    counted = frame.groupby("time")["value"].sum().reset_index()
    counted["query"], counted["series"] = "probes", '{count="up (of 12)"}'
    seen: list[tuple[float, float]] = []
    original = metric.save

    def capture(fig: Figure, path: Path) -> Path:
        seen.append(fig.axes[0].get_ylim())
        return original(fig, path)

    metric.save = capture  # type: ignore[assignment]
    try:
        span = (T0, T0 + timedelta(minutes=29))
        words = Words("en")
        metric.draw_metric_chart(counted, summary, (), span, span, {}, tmp_path / "p.png", words)
    finally:
        metric.save = original  # type: ignore[assignment]
    low, high = seen[0]
    assert low <= 0 and 12 <= high < 13


def test_a_query_without_data_draws_its_panel_without_a_word_on_stderr(tmp_path: Path) -> None:
    # "No data" was bold, and Symbola (in the fallback list) has no bold: matplotlib logged it.
    script = (
        "from datetime import datetime, timedelta, timezone\n"
        "from pathlib import Path\n"
        "import pandas as pd\n"
        "from collector.analysis.metrics import summarize_queries\n"
        "from collector.snapshot.prometheus import QueryResult\n"
        "from report.charts.metric import draw_metric_chart\n"
        "from report.words import Words\n"
        "t = datetime(2025, 10, 25, 22, 0, tzinfo=timezone.utc)\n"
        "empty = pd.DataFrame({'query': [], 'series': [], 'time': [], 'value': []})\n"
        "empty['time'] = pd.to_datetime(empty['time'], utc=True)\n"
        "[summary] = summarize_queries([QueryResult('q', 'Q', samples=empty)], max_shown=6)\n"
        "span = (t, t + timedelta(hours=1))\n"
        f"path = Path({str(tmp_path / 'q.png')!r})\n"
        "draw_metric_chart(empty, summary, (), span, span, {}, path, Words('fr'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert (tmp_path / "q.png").is_file()


def test_the_png_writer_keeps_every_pixel_and_the_resolution() -> None:
    # Any byte value, so that the "Up" filter's differences wrap around 256 both ways.
    pixels = np.random.default_rng(7).integers(0, 256, (31, 47, 3), dtype=np.uint8)
    image = Image.open(io.BytesIO(base.encode_png(pixels, 160)))
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (47, 31))
    assert np.array_equal(np.asarray(image), pixels)
    assert round(image.info["dpi"][0]) == 160


@pytest.mark.slow
def test_fonts_installed_after_matplotlib_are_added_once_to_its_font_list(tmp_path: Path) -> None:
    import json

    from matplotlib import font_manager

    # matplotlib's font list as saved before the fallback fonts were installed, in a new home.
    home = tmp_path / "mpl"
    home.mkdir()
    listed = home / f"fontlist-v{font_manager.FontManager.__version__}.json"
    font_manager.json_dump(font_manager.fontManager, listed)
    data = json.loads(listed.read_text())
    data["ttflist"] = [f for f in data["ttflist"] if f["name"] not in base.FONT_FAMILIES[1:]]
    listed.write_text(json.dumps(data))
    listed.chmod(0o644)
    env = {"MPLCONFIGDIR": str(home), "PATH": "/usr/bin:/bin"}
    show = "import matplotlib, report.charts.base; print(list(matplotlib.rcParams['font.family']))"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", show], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert done.stdout.strip() == str(list(base.FONT_FAMILIES))
        # The list now names them: the next run reads them from it. Its mode is kept.
        names = {f["name"] for f in json.loads(listed.read_text())["ttflist"]}
        assert set(base.FONT_FAMILIES) <= names
        assert listed.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in home.iterdir()) == [listed.name]


def test_the_charts_are_planned_without_matplotlib() -> None:
    # A draft sends its page to report.pdf before matplotlib loads: planning the charts (their
    # sizes, their jobs) and building the report must not load it.
    check = (
        "import sys\n"
        "import report.draft, report.context_draft\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib loaded'\n"
        "from collector.jobs.runner import load_drawing\n"
        "load_drawing()\n"
        "assert 'matplotlib' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_milestones_on_the_same_minute_both_show() -> None:
    """Restored and resolved often fall on the same minute: the restored line (dash-dot) is
    drawn over the resolved one (solid), so both colours show in the line's pixel column."""
    moment = datetime(2025, 10, 25, 15, 10, tzinfo=timezone.utc)
    fig = Figure(figsize=(4, 2), dpi=300)
    ax = fig.add_subplot()
    ax.set_xlim(
        base.date_num(moment - timedelta(hours=1)), base.date_num(moment + timedelta(hours=1))
    )
    base.draw_milestones(ax, {"restored": moment, "resolved": moment}, Words("en"))
    canvas = base.FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3]
    x = round(ax.transData.transform((base.date_num(moment), 0))[0])
    top = pixels.shape[0] - round(ax.bbox.y1) + 2
    bottom = pixels.shape[0] - round(ax.bbox.y0) - 2
    column = {tuple(int(c) for c in p) for p in pixels[top:bottom, x - 1 : x + 2].reshape(-1, 3)}
    for name in ("restored", "resolved"):
        color = _rgb(base.MILESTONE_STYLE[name][0])
        assert min(_distance(color, pixel) for pixel in column) < 30, (name, column)


def _rgb(color: str) -> tuple[int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def test_a_lane_drawn_as_a_density_names_its_total_beside_its_name(tmp_path: Path) -> None:
    """A busy lane's total used to be written right of the plot, under the legend."""
    notified = [
        Event(T0 + timedelta(minutes=m), "pagerduty", "notify", "escalation", "PD", "n", "", "")
        for m in range(70)  # past the density threshold (30)
    ]
    acked = [Event(T0, "pagerduty", "acknowledge", "response", "Alice", "ack", "", "")]
    seen: list[list[str]] = []
    original = timeline.save

    def capture(fig: Figure, path: Path) -> Path:
        seen.append([label.get_text() for label in fig.axes[0].get_yticklabels()])
        seen.append([t.get_text() for t in fig.axes[0].texts])
        return original(fig, path)

    timeline.save = capture  # type: ignore[assignment]
    try:
        span = (T0, T0 + timedelta(hours=2))
        path = tmp_path / "t.png"
        timeline.draw_timeline_chart(notified + acked, (), {}, span, "t", path, Words("fr"))
    finally:
        timeline.save = original  # type: ignore[assignment]
    labels, texts = seen
    assert labels[:3] == ["Détection", "Escalade (70)", "Réponse"]
    assert texts == []  # nothing written outside the plot


def test_series_drawn_the_same_are_one_line_named_with_how_many_it_stands_for(
    tmp_path: Path,
) -> None:
    """Three targets up all along hid one another under the last one drawn."""
    times = [T0 + timedelta(minutes=m) for m in range(30)]
    rows = [("up", f'{{instance="app-{i}"}}', t, 1.0) for i in (1, 2, 3) for t in times]
    rows += [("up", '{instance="app-4"}', t, 0.0 if m > 20 else 1.0) for m, t in enumerate(times)]
    frame = pd.DataFrame(rows, columns=["query", "series", "time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    result = QueryResult("up", "Targets up", kind="availability", step=60, samples=frame)
    [summary] = summarize_queries([result], max_shown=6)
    seen: list[list[str]] = []
    original = metric.save

    def capture(fig: Figure, path: Path) -> Path:
        seen.append([text.get_text() for text in fig.axes[0].get_legend().get_texts()])
        seen.append([str(line.get_color()) for line in fig.axes[0].get_lines()])
        return original(fig, path)

    metric.save = capture  # type: ignore[assignment]
    try:
        span = (T0, T0 + timedelta(minutes=29))
        path = tmp_path / "u.png"
        metric.draw_metric_chart(frame, summary, (), span, span, {}, path, Words("en"))
    finally:
        metric.save = original  # type: ignore[assignment]
    legend, colours = seen
    assert legend[1:3] == ["app-1 (+2 identical)", "app-4"]
    assert len(colours) == 2 and colours[0] != colours[1]


def test_a_metric_chart_is_picked_down_to_its_shown_series_and_the_others_range() -> None:
    """The draft picks what a metric chart draws before it sends the job (`pick_series`): the
    series with the highest peaks in the window, named without the labels all share, and the
    others' range at each time. Known by construction: 300 series, series i peaking at i."""
    from report.charts.picking import pick_series

    rng = np.random.default_rng(11)
    times = pd.date_range(T0, periods=40, freq="1min")
    rows = []
    for i in rng.permutation(300):
        values = rng.uniform(0, i, len(times))
        values[i % 40] = float(i)  # the peak, at its own minute
        label = f'{{instance="h-{i:03d}:9100",job="node"}}'
        rows += [("q", label, t, v) for t, v in zip(times, values, strict=True)]
    frame = pd.DataFrame(rows, columns=["query", "series", "time", "value"])
    frame = frame.sort_values(["series", "time"], kind="stable", ignore_index=True)
    window = (T0 + timedelta(minutes=5), T0 + timedelta(minutes=34))
    pick = pick_series(frame, window, 6, "all")
    # Peaks outside the window do not count: series whose peak minute is outside lose it.
    inside = frame[(frame["time"] >= window[0]) & (frame["time"] <= window[1])]
    peaks = inside.groupby("series")["value"].max().sort_values(ascending=False)
    assert pick.names == tuple(s.split('"')[1] for s in peaks.index[:6])
    assert [len(line) for line in pick.lines] == [30] * 6 and pick.others == 294
    others = inside[~inside["series"].isin(peaks.index[:6])].groupby("time")["value"]
    assert pick.band is not None
    assert np.array_equal(pick.band["min"].to_numpy(), others.min().to_numpy())
    assert np.array_equal(pick.band["max"].to_numpy(), others.max().to_numpy())
    nothing = pick_series(frame, (T0 - timedelta(hours=2), T0 - timedelta(hours=1)), 6, "")
    assert nothing.empty and nothing.band is None
    # Rows out of series order, and a row with no series name: picked the slow way, the
    # nameless row neither a series nor in the others' range.
    shuffled = frame.sample(frac=1.0, random_state=3)
    again = pick_series(shuffled, window, 6, "all")
    assert again.names == pick.names and again.others == pick.others
    assert again.band is not None and again.band.equals(pick.band)
    odd = pd.DataFrame(
        {
            "series": ["a", "a", None, "b", "c"],
            "time": [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1), T0, T0],
            "value": [1.0, 2.0, 9.0, 3.0, 0.5],
        }
    )
    odd_pick = pick_series(odd, (T0, T0 + timedelta(hours=1)), 1, "all")
    assert odd_pick.names == ("b",) and odd_pick.others == 2 and odd_pick.band is not None
    assert odd_pick.band["max"].tolist() == [1.0, 2.0]
