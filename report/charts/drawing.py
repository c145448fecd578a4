"""A report's chart functions as its chart jobs call them: each loads its chart module, and
matplotlib with it, only when it draws.

The jobs are planned, and the page sent to report.pdf, before matplotlib has loaded (in the
draft's process it may never load: the chart drawer's workers draw). mypy reads each name as
the chart function itself, so a job's arguments are checked against it; a job pickles as a
reference to one of these module-level functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["draw_context", "draw_memory_trend", "draw_metric", "draw_timeline"]

if TYPE_CHECKING:
    from report.charts.context import draw_context_chart as draw_context
    from report.charts.memory import draw_memory_trend_chart as draw_memory_trend
    from report.charts.metric import draw_metric_chart as draw_metric
    from report.charts.timeline import draw_timeline_chart as draw_timeline
else:

    def draw_timeline(*args, **kwargs):
        from report.charts.timeline import draw_timeline_chart

        return draw_timeline_chart(*args, **kwargs)

    def draw_memory_trend(*args, **kwargs):
        from report.charts.memory import draw_memory_trend_chart

        return draw_memory_trend_chart(*args, **kwargs)

    def draw_metric(*args, **kwargs):
        from report.charts.metric import draw_metric_chart

        return draw_metric_chart(*args, **kwargs)

    def draw_context(*args, **kwargs):
        from report.charts.context import draw_context_chart

        return draw_context_chart(*args, **kwargs)
