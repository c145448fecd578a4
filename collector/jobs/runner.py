"""The runner: built once at the top of a run (the command line, a batch worker, the webhook
server), it owns the processes that work beside a draft and the tricks that make them pay.

- report.pdf's writer, a process that loads WeasyPrint on the other core while the draft is
  analysed, then lays the page out while the charts are drawn;
- the chart drawer, a process that loads matplotlib early and then forks workers of its own
  that share it; or, without one, chart workers forked by this process (`run_jobs`);
- the batch's drafting processes, one incident each (`in_drafting_processes`);
- a big snapshot.json written by a process forked for it;
- the garbage collector's tuning: off while the libraries load (from `collector.entry` on),
  their objects then frozen (`settle`, `loading`);
- what crosses to a worker pickled, under a size cap.

The layers below take data and return data: the draft (`collector.jobs.draft`) asks the runner
to draw the chart jobs report/ planned and to lay out the page report/ rendered.
"""

from __future__ import annotations

import gc
import importlib
import io
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from collector.parallel import (
    MAX_WORKERS,
    Background,
    BackgroundEnded,
    die_with_parent,
    freeze_for_good,
    loading_meanwhile,
    run_jobs,
    start_background,
)

if TYPE_CHECKING:
    from report.charts.plan import ChartJob
    from report.pdf import PdfOutcome

T = TypeVar("T")
__all__ = ["MAX_WORKERS", "Runner", "load_drawing"]

# The modules that draw a report's charts: each loads matplotlib.
DRAWING_MODULES = (
    "report.charts.timeline",
    "report.charts.memory",
    "report.charts.metric",
    "report.charts.context",
)
# The most the chart jobs sent to the chart drawer may weigh, pickled: each carries what it
# draws, a few series picked for the chart. Past this (a timeline of some 100,000 events),
# the charts are drawn by workers forked here, which read them in place.
DRAWER_MAX_BYTES = 32 * 2**20
# How much the chart workers yield to report.pdf's process while it lays the pages out beside
# them (`os.nice`): three processes share two cores, and the charts, drawn by two workers,
# use both once the PDF is done, where a PDF left last runs on one.
CHART_NICENESS = 5


class Runner:
    """The worker processes of a run, started when they pay and stopped when the run ends."""

    def __init__(self) -> None:
        self._pdf: Background[PdfOutcome] | None = None
        self._drawer: Background[list[Path]] | None = None

    def __enter__(self) -> Runner:
        return self

    def __reduce__(self) -> tuple[type[Runner], tuple[()]]:
        # A runner sent to a worker process arrives new: the processes it starts are its own.
        return Runner, ()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def settle(self) -> None:
        """The libraries are loaded for good: the garbage collector need not walk them again
        in every full collection (nor, in forked workers, copy their pages by doing so)."""
        freeze_for_good()
        gc.enable()

    def loading(self, *modules: str) -> AbstractContextManager[None]:
        """Import `modules` in a thread while the block runs (it waits on the network or
        reads a file): `collector.parallel.loading_meanwhile`."""
        return loading_meanwhile(*modules)

    def start_pdf_writer(self) -> None:
        """Start report.pdf's process now, unless it runs: it loads WeasyPrint meanwhile."""
        from report.pdf import pdf_when_given

        if self._pdf is None:
            self._pdf = start_background(pdf_when_given)

    def start_chart_drawer(self) -> None:
        """Start the chart drawer now, unless it runs: it loads matplotlib meanwhile. Where
        no process can be forked, the charts are drawn by the draft's process."""
        if self._drawer is None:
            self._drawer = start_background(_draw_when_given, forks=True)

    def lay_out_pdf(self, html: str, folder: Path, pixels: dict[Path, tuple[int, int]]) -> None:
        """Give report.pdf's process its page, while the charts are still to be drawn."""
        if self._pdf is None:
            return
        try:
            self._pdf.send((html, folder, pixels))
        except BackgroundEnded:  # killed: report.pdf is laid out here, at the end
            self._pdf.cancel()
            self._pdf = None

    def draw(self, jobs: Sequence[ChartJob]) -> list[Path]:
        """Every chart file: drawn by the chart drawer when one was started and the jobs are
        light, else by workers forked here (or here, where none can be)."""
        niceness = CHART_NICENESS if self._pdf is not None else 0
        draws = [job.draw for job in jobs]
        drawer, self._drawer = self._drawer, None
        if drawer is not None:
            # Stopped on every way out (Ctrl-C included) before the draft's folder is removed:
            # a drawer left running would write charts into a folder already gone.
            try:
                payload = pickled_up_to(draws, DRAWER_MAX_BYTES)
                if payload is not None:
                    try:
                        drawer.send((payload, niceness))
                        return drawer.result()
                    except BackgroundEnded:  # killed (out of memory...): drawn here
                        pass
            finally:
                drawer.cancel()  # done; or it loaded matplotlib in vain: workers forked here draw
        load_drawing()  # matplotlib: once the page is on its way to report.pdf
        return run_jobs(draws, niceness=niceness)

    def finish_pdf(self, html: str, folder: Path) -> PdfOutcome:
        """Why no PDF can be written (None: it can), and report.pdf: what its process laid
        out, or (none started, or it was killed) laid out here."""
        from report.pdf import learn_pdf_unavailable, pdf_outcome

        started, self._pdf = self._pdf, None
        try:
            outcome = started.result() if started is not None else pdf_outcome(html, folder)
        except BackgroundEnded:
            outcome = pdf_outcome(html, folder)
        finally:
            if started is not None:
                started.cancel()
        learn_pdf_unavailable(outcome[0])  # said once, without importing WeasyPrint here
        return outcome

    def run(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Every job's result, in order: independent jobs run in forked workers."""
        return run_jobs(jobs)

    def in_drafting_processes(
        self, job: Callable[..., T], calls: Sequence[tuple[Any, ...]], workers: int
    ) -> Iterator[T]:
        """`job(*call)` for each call, in processes of their own (at most `workers`), each
        with a runner of its own; results in order, as they come. The batch drafts one
        incident per core this way."""
        # Spawned, not forked: a process per incident holds a few hundred MiB of its own.
        # A killed batch must stop drafting: workers of a SIGKILLed parent would otherwise
        # finish their incidents unseen (`_start_drafter`).
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_drafter,
            initargs=(os.getpid(), job.__module__),
        ) as pool:
            futures = [pool.submit(job, *call, runner=Runner()) for call in calls]
            for future in futures:
                yield future.result()

    def beside(self, job: Callable[[], None]) -> Background[None] | None:
        """Run `job` in a process forked for it, which the caller waits for
        (`Background.result`); None where none can be forked: the caller runs it."""
        try:
            return start_background(lambda _receive: job())
        except OSError:  # no fork (out of memory, too many processes)
            return None

    def stop_draft_workers(self) -> None:
        """Stop what was started for a draft and is no longer needed (it failed, or is done)."""
        for started in (self._pdf, self._drawer):
            if started is not None:
                started.cancel()
        self._pdf = self._drawer = None

    def close(self) -> None:
        """Stop every process this runner started."""
        self.stop_draft_workers()


def load_drawing() -> None:
    """Load the drawing modules and matplotlib: in the draft's process, before the chart
    workers are forked, so that they share them.

    They load once, in a thread, this one waiting (`loading_meanwhile`, which then freezes
    what the process holds): a Ctrl-C ends the wait, and never lands inside matplotlib's
    imports (one landing there was seen swallowed: a warning that its 3D toolkit could not
    load, and the draft went on).
    """
    if all(name in sys.modules for name in DRAWING_MODULES):
        return  # a batch worker or the webhook server loaded them at start
    with loading_meanwhile(*DRAWING_MODULES):
        pass


def _start_drafter(parent: int, module: str) -> None:
    """A drafting process: it ends with its parent. What a draft needs (its job's module and
    what that loads, and matplotlib) is loaded now and frozen out of the garbage collector's
    full collections."""
    die_with_parent(parent)
    importlib.import_module(module)
    load_drawing()
    freeze_for_good()


def _draw_when_given(receive: Callable[[], tuple[bytes, int]]) -> list[Path]:
    """The chart drawer: load the drawing modules, then draw the jobs received, in order, in
    workers of the niceness received (`CHART_NICENESS`)."""
    load_drawing()
    payload, niceness = receive()
    jobs: list[Callable[[], Path]] = pickle.loads(payload)
    return run_jobs(jobs, nested=True, niceness=niceness)


class _TooHeavy(Exception):
    pass


class _BoundedBuffer(io.BytesIO):
    """Bytes that refuse to grow past `most` (`_TooHeavy`)."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.most:
            raise _TooHeavy
        return super().write(data)


def pickled_up_to(value: object, most: int) -> bytes | None:
    """`value` pickled, or None when that takes more than `most` bytes or cannot be done.

    Pickling stops at the bound: a huge incident's timeline (a million events) would otherwise
    be pickled whole, hundreds of MB, only to be found too heavy to send."""
    buffer = _BoundedBuffer(most)
    try:
        pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception:  # noqa: BLE001 - too heavy (_TooHeavy), or a job that cannot be pickled
        return None
    return buffer.getvalue()
