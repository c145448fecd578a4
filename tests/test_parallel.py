"""Charts drawn in forked workers: the same files as one after another, and safe fallbacks."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT

from collector import parallel
from collector.parallel import fork_workers, run_jobs

# Draws the demo's charts twice in a fresh, single-threaded interpreter: in workers, then here.
DRAW_BOTH_WAYS = """
import os, sys
from datetime import datetime, timezone
from pathlib import Path
from report import draft
from collector import parallel
from collector.analysis.incident import analyse_incident
from collector.snapshot.incident import read_incident_data
from collector.config import load_config
from collector.snapshot.store import load_snapshot

config = load_config(Path(sys.argv[1]), {})
snapshot = load_snapshot(Path(sys.argv[2]))
now = datetime(2026, 1, 1, tzinfo=timezone.utc)
data = read_incident_data(snapshot.pagerduty, snapshot.prometheus, config.prometheus.queries)
analysis = analyse_incident(data, config, now)
assert parallel.fork_workers(2) == 2, "this test needs 2 cores and Linux"
from collector.jobs.runner import Runner
zone = config.report.timezone
timeline, planned = draft.plan_charts(analysis, Path(sys.argv[3]) / "drawer", zone)
jobs = [timeline, *(job for _, job in planned)]
runner = Runner()
runner.start_chart_drawer()
drawn = runner.draw(jobs)
assert drawn == [job.path for job in jobs], "the drawer's files, in the jobs' order"
for name in ("forked", "serial"):
    if name == "serial":
        parallel.fork_workers = lambda jobs, **_: 0
    timeline, planned = draft.plan_charts(analysis, Path(sys.argv[3]) / name, zone)
    Runner().draw([timeline, *(job for _, job in planned)])
"""


@pytest.mark.slow
def test_charts_drawn_in_workers_or_by_the_drawer_are_the_files_drawn_one_after_another(
    tmp_path: Path,
) -> None:
    if parallel.usable_cores() < 2 or not sys.platform.startswith("linux"):
        pytest.skip("one core or not Linux: charts are drawn one after another")
    subprocess.run(
        [sys.executable, "-c", DRAW_BOTH_WAYS, str(DEMO_CONFIG), str(DEMO_SNAPSHOT), str(tmp_path)],
        check=True,
        timeout=300,
    )
    files = {
        way: sorted(p.relative_to(tmp_path / way) for p in tmp_path.glob(f"{way}/**/*.png"))
        for way in ("forked", "serial", "drawer")
    }
    assert len(files["forked"]) > 5 and files["forked"] == files["serial"] == files["drawer"]
    for name in files["serial"]:
        drawn = (tmp_path / "serial" / name).read_bytes()
        assert drawn == (tmp_path / "forked" / name).read_bytes(), name
        assert drawn == (tmp_path / "drawer" / name).read_bytes(), name


def test_results_keep_the_order_of_the_jobs() -> None:
    assert run_jobs([lambda i=i: i * i for i in range(7)]) == [0, 1, 4, 9, 16, 25, 36]


def test_meanwhile_runs_once_in_this_process() -> None:
    calls: list[int] = []
    assert run_jobs([lambda: 1, lambda: 2], meanwhile=lambda: calls.append(1)) == [1, 2]
    assert calls == [1]


def test_a_process_with_threads_never_forks() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert fork_workers(8) == 0
    finally:
        stop.set()
        thread.join()


def test_one_job_or_one_core_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fork_workers(1) == 0
    monkeypatch.setattr(parallel, "usable_cores", lambda: 1)
    assert fork_workers(8) == 0


def test_a_failing_job_fails_the_call() -> None:
    def broken() -> int:
        raise ValueError("no chart")

    with pytest.raises(ValueError, match="no chart"):
        run_jobs([lambda: 1, broken, lambda: 3])


# Two jobs that say which process runs them, then hang: the parent is killed meanwhile.
HANGING_JOBS = """
import os, sys, time
from pathlib import Path
from collector.parallel import run_jobs

def hang(name):
    Path(sys.argv[1], name).write_text(str(os.getpid()))
    time.sleep(120)

run_jobs([lambda: hang("a"), lambda: hang("b")])
"""


def test_workers_do_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    if parallel.usable_cores() < 2 or not sys.platform.startswith("linux"):
        pytest.skip("one core or not Linux: no workers")
    parent = subprocess.Popen([sys.executable, "-c", HANGING_JOBS, str(tmp_path)])
    try:
        deadline = time.monotonic() + 60
        while len(_pids(tmp_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _pids(tmp_path)
        assert len(workers) == 2
    finally:
        parent.kill()
        parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def _pids(folder: Path) -> list[int]:
    return [int(text) for p in folder.iterdir() if (text := p.read_text()).isdigit()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# start_background in a fresh, single-threaded interpreter: a result, an exception, a cancel.
BACKGROUND = """
import os, time
from collector import parallel

assert parallel.fork_workers(2) == 2, "this test needs 2 cores and Linux"
job = parallel.start_background(lambda receive: (receive(), os.getpid()))
job.send("question")
answer, pid = job.result()
assert answer == "question" and pid != os.getpid()

def broken(receive):
    raise ValueError("bad chart")

try:
    parallel.start_background(broken).result()
except ValueError as exc:
    assert str(exc) == "bad chart"
else:
    raise AssertionError("the job's exception was not raised")

started = time.monotonic()
hanging = parallel.start_background(lambda receive: receive())  # never given anything
hanging.cancel()
assert time.monotonic() - started < 10
print("ok")
"""


def test_a_background_job_receives_answers_raises_and_can_be_cancelled() -> None:
    if parallel.usable_cores() < 2 or not sys.platform.startswith("linux"):
        pytest.skip("one core or not Linux: report.pdf is written after the charts, here")
    done = subprocess.run(
        [sys.executable, "-c", BACKGROUND], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok" and done.stderr == ""


# A background job that forks workers (the chart drawer), stopped while its first two jobs run.
STOPPED_WHILE_DRAWING = """
import os, sys, time
from functools import partial
from pathlib import Path
from collector import parallel

folder = Path(sys.argv[1])

def draw(name, seconds):
    (folder / f"{name}.started").write_text(str(os.getpid()))
    time.sleep(seconds)
    (folder / f"{name}.done").touch()
    return name

def drawer(receive):
    return parallel.run_jobs(receive(), nested=True)

assert parallel.fork_workers(2) == 2, "this test needs 2 cores and Linux"
job = parallel.start_background(drawer, forks=True)
job.send([partial(draw, name, 1.5 if name in "ab" else 0) for name in "abcdefgh"])
while len(list(folder.glob("*.started"))) < 2:
    time.sleep(0.02)
job.cancel()
print(sorted(p.name for p in folder.iterdir()))
"""


@pytest.mark.slow
def test_a_forking_background_job_stopped_ends_its_running_jobs_and_writes_no_more(
    tmp_path: Path,
) -> None:
    """Stopped (the draft failed, or Ctrl-C), the chart drawer lets the charts being drawn
    end: once `cancel` returns, nothing of it writes in the staging folder any more."""
    if parallel.usable_cores() < 2 or not sys.platform.startswith("linux"):
        pytest.skip("one core or not Linux: no background process")
    done = subprocess.run(
        [sys.executable, "-c", STOPPED_WHILE_DRAWING, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = done.stdout.strip()
    names = set(ast.literal_eval(seen))
    # The two running jobs ended; a job already queued to a worker may have run too (the
    # executor's own queue), none was left half done.
    assert {"a.done", "b.done"} <= names
    assert {n.replace(".started", ".done") for n in names if n.endswith(".started")} <= names
    workers = set(_pids(tmp_path))
    time.sleep(0.5)
    assert str(sorted(p.name for p in tmp_path.iterdir())) == seen  # nothing written since
    assert len(workers) == 2 and not any(_alive(pid) for pid in workers)


def test_no_background_process_where_forking_is_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "fork_workers", lambda jobs, **_: 0)
    assert parallel.start_background(lambda receive: 1) is None


def test_a_ctrl_c_while_processes_are_forked_arrives_once_they_are() -> None:
    """Held while a fork's callbacks run (where it could not be raised, and `collect` would
    end leaving its staging folder), the interrupt is raised right after."""
    import signal

    from collector.parallel import _interrupts_held

    # Sent to this thread: a process-wide signal could reach another thread of the test
    # process, where nothing holds it (collect forks only when it has one thread).
    reached = False
    with pytest.raises(KeyboardInterrupt):
        with _interrupts_held():
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
            reached = True
    assert reached


def test_modules_load_in_a_thread_that_ends_with_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    go = tmp_path / "go"
    # This module loads only once the block has started: the block does not wait for it.
    (tmp_path / "waits_for_the_block.py").write_text(
        "import pathlib, threading, time\n"
        "LOADED_IN = threading.current_thread().name\n"
        f"WAITED = 0\nwhile not pathlib.Path({str(go)!r}).exists() and WAITED < 600:\n"
        "    time.sleep(0.05)\n    WAITED += 1\n"
    )
    (tmp_path / "broken_on_load.py").write_text("raise ImportError('no such library')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    was_collecting = gc.isenabled()
    with parallel.loading_meanwhile("waits_for_the_block", "broken_on_load"):
        assert not gc.isenabled()  # the collector keeps off what loads
        go.touch()
    loaded = sys.modules.pop("waits_for_the_block")
    assert loaded.LOADED_IN == "collector-loading" and loaded.WAITED < 600
    # The thread has ended (a fork may follow); the collector is as it was.
    assert "collector-loading" not in {thread.name for thread in threading.enumerate()}
    assert gc.isenabled() == was_collecting
    # A module that fails to load is left to the import that needs it, which says why.
    assert "broken_on_load" not in sys.modules
    with pytest.raises(ImportError, match="no such library"):
        __import__("broken_on_load")


def test_a_module_loaded_meanwhile_is_the_one_imported_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = tmp_path / "started"
    (tmp_path / "loaded_once.py").write_text(
        "import pathlib, threading, time\n"
        f"pathlib.Path({str(started)!r}).touch()\n"
        "LOADED_IN = threading.current_thread().name\ntime.sleep(0.2)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with parallel.loading_meanwhile("loaded_once"):
        while not started.exists():  # the thread is inside the module: this import waits
            time.sleep(0.01)
        import loaded_once  # type: ignore[import-not-found]

        assert loaded_once.LOADED_IN == "collector-loading"
    sys.modules.pop("loaded_once", None)


def test_objects_frozen_for_good_stay_frozen_after_a_fork() -> None:
    check = (
        "import gc\n"
        "from collector import parallel\n"
        "assert parallel._freeze_for_fork() is True  # nothing was frozen: thaw after\n"
        "gc.unfreeze()\n"
        "parallel.freeze_for_good()\n"
        "frozen = gc.get_freeze_count()\n"
        "assert parallel.run_jobs([lambda: 1, lambda: 2]) == [1, 2]\n"
        "assert parallel._freeze_for_fork() is False and gc.get_freeze_count() >= frozen\n"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# A draft whose report.pdf process and chart drawer were killed (out of memory, say).
KILLED_HELPERS = """
import os, signal, sys, time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from collector import parallel
from collector.config import load_config
from collector.snapshot.store import load_snapshot
from collector.jobs.draft import draft_incident
from collector.jobs.runner import Runner

assert parallel.fork_workers(2) == 2, "this test needs 2 cores and Linux"
config = load_config(Path(sys.argv[1]), {})
config = replace(config, report=replace(config.report, pdf="always"))  # a draft with its PDF
snapshot = load_snapshot(Path(sys.argv[2]))
runner = Runner()
runner.start_pdf_writer()
runner.start_chart_drawer()
for helper in (runner._pdf, runner._drawer):
    os.kill(helper._process.pid, signal.SIGKILL)
    helper._process.join()
now = datetime(2026, 1, 1, tzinfo=timezone.utc)
draft = draft_incident(snapshot, config, runner, Path(sys.argv[3]), now)
print(sorted(str(p) for p in draft.files))
"""


@pytest.mark.slow
def test_a_draft_whose_helpers_were_killed_is_still_whole(tmp_path: Path) -> None:
    """report.pdf's process and the chart drawer killed: the draft lays the PDF out and
    draws the charts itself, and loses nothing."""
    if parallel.usable_cores() < 2 or not sys.platform.startswith("linux"):
        pytest.skip("one core or not Linux: no background process")
    done = subprocess.run(
        [sys.executable, "-c", KILLED_HELPERS, str(DEMO_CONFIG), str(DEMO_SNAPSHOT), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    files = ast.literal_eval(done.stdout.strip())
    assert "report.pdf" in files and "report.html" in files
    assert len([f for f in files if f.startswith("charts/")]) > 5
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


# Workers asked to yield (report.pdf's process lays pages out beside them) run niced; argv: n.
NICED = """
import os, sys
from collector import parallel

assert parallel.fork_workers(2) == 2, "this test needs 2 cores and Linux"
base = os.nice(0)
niced = parallel.run_jobs([lambda: (os.getpid(), os.nice(0))] * 4, niceness=int(sys.argv[1]))
assert {pid for pid, _ in niced} - {os.getpid()}, "the jobs ran in workers"
print(sorted({nice - base for _, nice in niced}), os.nice(0) - base)
"""


@pytest.mark.parametrize("niceness", [0, 5])
def test_chart_workers_yield_to_the_pdf_by_the_niceness_asked(niceness: int) -> None:
    if parallel.usable_cores() < 2 or not sys.platform.startswith("linux"):
        pytest.skip("one core or not Linux: no workers")
    done = subprocess.run(
        [sys.executable, "-c", NICED, str(niceness)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("]")[0] == f"[{niceness}"  # every worker, and only them
    assert done.stdout.strip().endswith(" 0")
