"""The process machinery under the runner (`collector.jobs.runner`, its only user but for
tests): a pool of forked workers (`run_jobs`), a forked process of its own for one job
(`start_background`: report.pdf's, the chart drawer's, which forks that pool itself), and
libraries loaded in a thread while the sources answer (`loading_meanwhile`).

The jobs are closures over data already in memory (the analysed frame can be large). Forking
after they exist lets each worker read them as they are, copy-on-write: nothing is pickled but
a job's number and the path it returns. (The chart drawer, forked before the jobs exist, is
sent them pickled, only where that is small.) Where forking is unsafe or pointless the jobs
run here, one after another, with the same result:

- not Linux (fork is missing on Windows and unsafe with macOS' system libraries);
- one usable core, or a single job;
- this process has other threads (the webhook server): a fork would copy their locks;
- this process is itself a worker (batch mode already drafts one incident per core).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
MAX_WORKERS = 4
PR_SET_PDEATHSIG = 1  # prctl(2)
STOP_SECONDS = 5.0  # a background job that forks, asked to stop, has this long to do so
EXIT_STOPPED = 143  # as if ended by SIGTERM
# Held while processes are forked (`_interrupts_held`).
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}

# The jobs of the running `run_jobs` call, inherited by its forked workers.
_JOBS: list[Callable[[], object]] = []
# Whether this process froze its objects for good (`freeze_for_good`); its forks inherit it.
_FROZEN_FOR_GOOD = [False]


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fork_workers(jobs: int, *, nested: bool = False) -> int:
    """How many worker processes to fork for this many jobs; 0: run them here. `nested`: this
    process is a background job of a draft's (`start_background`), which may fork its own."""
    workers = min(usable_cores(), jobs, MAX_WORKERS)
    if (
        workers < 2
        or not sys.platform.startswith("linux")
        or threading.active_count() > 1
        or (multiprocessing.parent_process() is not None and not nested)
    ):
        return 0
    return workers


def run_jobs(
    jobs: Sequence[Callable[[], T]],
    meanwhile: Callable[[], object] | None = None,
    *,
    nested: bool = False,
    niceness: int = 0,
) -> list[T]:
    """Every job's result, in order. `meanwhile` runs here while the workers draw; `nested`
    as for `fork_workers`; `niceness`: how much the workers yield to other processes
    (`os.nice`), such as report.pdf's, laid out meanwhile."""
    workers = fork_workers(len(jobs), nested=nested)
    if workers == 0:
        results = [job() for job in jobs]
        if meanwhile is not None:
            meanwhile()
        return results
    _JOBS[:] = jobs
    thaw = _freeze_for_fork()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(), niceness),
    )
    try:
        with _interrupts_held():  # the first submit forks every worker
            futures = [pool.submit(_run_job, number) for number in range(len(jobs))]
        if meanwhile is not None:
            meanwhile()
        return [cast(T, future.result()) for future in futures]
    finally:
        # On Ctrl-C or a failed job: drop what has not started; a started chart ends soon.
        pool.shutdown(wait=True, cancel_futures=True)
        _JOBS.clear()
        if thaw:
            gc.unfreeze()


class BackgroundEnded(RuntimeError):
    """A background job's process ended without an answer (killed, out of memory)."""


class Background(Generic[T]):
    """A job running in a forked process of its own: `send` gives it what it waits for (its
    `receive`), `result` waits for what it returned."""

    def __init__(
        self,
        process: multiprocessing.process.BaseProcess,
        inbox: Connection,
        answer: Connection,
        forks: bool = False,
    ) -> None:
        self._process = process
        self._inbox = inbox
        self._answer = answer
        self._forks = forks

    def send(self, value: object) -> None:
        """Hand the job what its `receive()` returns (once); `BackgroundEnded` if its process
        has ended."""
        try:
            self._inbox.send(value)
        except (BrokenPipeError, ConnectionResetError):
            raise BackgroundEnded(f"a background job ended with code {self._end()}") from None

    def result(self) -> T:
        """The job's return value; its exception is raised here, `BackgroundEnded` if its
        process ended without one."""
        try:
            kind, value = self._answer.recv()
        except EOFError:
            raise BackgroundEnded(f"a background job ended with code {self._end()}") from None
        self._end()
        if kind == "error":
            raise cast(BaseException, value)
        return cast(T, value)

    def cancel(self) -> None:
        """Stop the job if it still runs (the draft failed or was interrupted).

        A job that forks workers (`start_background(forks=True)`) is asked to stop, as Ctrl-C
        stops `run_jobs` here: its running jobs end (a chart is short), the rest are dropped,
        so that no worker of it writes anything once this returns. Any other job is killed.
        """
        if self._process.is_alive():
            if self._forks:
                self._process.terminate()
                self._process.join(STOP_SECONDS)
            if self._process.is_alive():
                self._process.kill()
        self._end()

    def _end(self) -> int | None:
        self._process.join()
        self._inbox.close()
        self._answer.close()
        return self._process.exitcode


def start_background(
    job: Callable[[Callable[[], Any]], T], *, forks: bool = False
) -> Background[T] | None:
    """Start `job(receive)` in a forked process now: it can load what it needs while this
    process prepares its input, then `receive()` what `Background.send` gives it. None where
    forking is unsafe or pointless (the same rules as `run_jobs`): the caller then runs it
    itself."""
    if fork_workers(2) == 0:
        return None
    context = multiprocessing.get_context("fork")
    inbox, outbox = context.Pipe(duplex=False)
    answer, reply = context.Pipe(duplex=False)
    # A daemon ends with this process; one that forks workers (`run_jobs(nested=True)`) may
    # not be one: it ends with this process all the same (`die_with_parent`).
    process = context.Process(
        target=_background,
        args=(job, inbox, outbox, reply, os.getpid(), forks),
        daemon=not forks,
    )
    # Ctrl-C is the parent's alone: the child is born with it held, and ignores it before
    # letting it through (else an early one would print the child's traceback).
    thaw = _freeze_for_fork()
    try:
        with _interrupts_held():
            process.start()
    finally:
        if thaw:
            gc.unfreeze()
        inbox.close()
        reply.close()
    return Background(process, outbox, answer, forks)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (and SIGTERM) while processes are forked; it arrives once they are.

    A Ctrl-C that lands in a fork's own callbacks (logging's lock, released in the parent)
    cannot be raised there: `collect` would end at once, leaving the draft's staging folder
    behind. Held, it is raised after the fork, where the draft cleans up. The children are
    born with it held, and ignore it before letting it through. SIGTERM is how a background
    job that forks is asked to stop (`Background.cancel`): the same holds for its forks.
    (Held in this thread: forks happen only in a process of one thread, `fork_workers`.)
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _background(
    job: Callable[[Callable[[], Any]], object],
    inbox: Connection,
    outbox: Connection,
    reply: Connection,
    parent: int,
    forks: bool,
) -> None:
    _start_worker(parent)
    if forks:  # `Background.cancel` asks it to stop: as Ctrl-C does `run_jobs` in the parent
        signal.signal(signal.SIGTERM, _stop)
    outbox.close()  # the parent's end: a parent that ends then ends `receive()` too
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
    try:
        reply.send(("done", job(inbox.recv)))
    except Exception as exc:  # the parent raises it, as if the job had run there
        try:
            reply.send(("error", exc))
        except Exception:  # an exception that cannot be pickled: its text then
            reply.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        reply.close()


@contextlib.contextmanager
def loading_meanwhile(*modules: str) -> Iterator[None]:
    """Import `modules` in a thread while the block runs: a block that waits on the network
    (`collect --incident`) then hides their loading. An import of one of them elsewhere waits
    for this one, or finds it done (the interpreter's import locks). The thread has ended
    when the block does: a fork needs a process of one thread (`fork_workers`).

    Their objects are loaded for good: the garbage collector is kept off while they load,
    then they are frozen, as the command line does with what it loads first (`Runner.settle`).
    A module that fails to load here is left to the import that needs it, which raises.
    """

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - raised again where the module is needed
                return

    collecting = gc.isenabled()
    gc.disable()
    thread = threading.Thread(target=load, name="collector-loading", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
        freeze_for_good()
        if collecting:
            gc.enable()


def freeze_for_good() -> None:
    """Put every object this process holds out of the garbage collector's full collections
    for the rest of its life: what a process loaded to draft (the command line after its
    imports, a batch worker) stays loaded until it ends."""
    gc.freeze()
    _FROZEN_FOR_GOOD[0] = True


def _freeze_for_fork() -> bool:
    """Put every object this process holds out of the garbage collector's sight, for the
    children about to be forked: their collections then skip the parent's objects (a draft's
    hundreds of thousands) instead of walking them and copying the pages they touch.

    True: the parent should take them back (`gc.unfreeze`) once its children are started or
    done. A process that froze its objects for good (`freeze_for_good`) keeps them frozen.
    (`gc.get_freeze_count` would tell as much, but it counts the frozen objects one by one,
    and a draft holds hundreds of thousands.)
    """
    thaw = not _FROZEN_FOR_GOOD[0]
    gc.freeze()
    return thaw


def _run_job(number: int) -> object:
    return _JOBS[number]()


def _stop(_signal: int, _frame: object) -> None:
    raise SystemExit(EXIT_STOPPED)


def _start_worker(parent: int, niceness: int = 0) -> None:
    if niceness:
        with contextlib.suppress(OSError):
            os.nice(niceness)
    # Ctrl-C reaches the whole process group: the parent alone says so and cleans up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Born with SIGTERM held (`_interrupts_held`), and perhaps a parent's handler for it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    # A forked worker holds copies of the parent's descriptors (the draft's lock among them):
    # it must not outlive a killed parent.
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """Make this worker process end when `parent` does (a pool's `initializer`).

    Linux only (prctl's parent-death signal); elsewhere a worker ends when its queue closes.
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
