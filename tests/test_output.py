"""Publishing a draft: atomic swaps, and a report a person edited is never overwritten."""

from __future__ import annotations

from pathlib import Path

from collector.output import is_edited, make_staging, publish


def stage(out: Path, text: str) -> Path:
    staging = make_staging(out, "PX")
    (staging / "report.md").write_text(text, encoding="utf-8")
    (staging / "charts").mkdir()
    return staging


def test_first_draft_then_redraft_replaces_an_untouched_report(tmp_path: Path) -> None:
    first = publish(stage(tmp_path, "v1"), tmp_path, "PX", force=False, stamp="S1")
    assert first.status == "written"
    second = publish(stage(tmp_path, "v2"), tmp_path, "PX", force=False, stamp="S2")
    assert second.status == "replaced"
    assert (tmp_path / "PX" / "report.md").read_text(encoding="utf-8") == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["PX"]  # no staging or .old left


def test_edited_report_is_kept_and_new_draft_goes_beside(tmp_path: Path) -> None:
    publish(stage(tmp_path, "v1"), tmp_path, "PX", force=False, stamp="S1")
    report = tmp_path / "PX" / "report.md"
    report.write_text("v1 + a person's root cause", encoding="utf-8")
    assert is_edited(tmp_path / "PX")
    result = publish(stage(tmp_path, "v2"), tmp_path, "PX", force=False, stamp="S2")
    assert result.status == "kept-edited"
    assert "edited by a person" in result.message
    assert report.read_text(encoding="utf-8") == "v1 + a person's root cause"
    assert (tmp_path / "PX" / "drafts" / "S2" / "report.md").read_text(encoding="utf-8") == "v2"


def test_force_replaces_an_edited_report_after_a_backup(tmp_path: Path) -> None:
    publish(stage(tmp_path, "v1"), tmp_path, "PX", force=False, stamp="S1")
    (tmp_path / "PX" / "report.md").write_text("edited", encoding="utf-8")
    result = publish(stage(tmp_path, "v2"), tmp_path, "PX", force=True, stamp="S2")
    assert result.status == "forced"
    assert (tmp_path / "PX" / "report.md").read_text(encoding="utf-8") == "v2"
    backup = tmp_path / "PX.backup-S2" / "report.md"
    assert backup.read_text(encoding="utf-8") == "edited"


def test_run_killed_between_renames_is_recovered(tmp_path: Path) -> None:
    publish(stage(tmp_path, "v1"), tmp_path, "PX", force=False, stamp="S1")
    # What a kill between "final -> .old" and "staging -> final" leaves behind.
    (tmp_path / "PX").rename(tmp_path / ".PX.old")
    result = publish(stage(tmp_path, "v2"), tmp_path, "PX", force=False, stamp="S2")
    assert result.status == "replaced"
    assert (tmp_path / "PX" / "report.md").read_text(encoding="utf-8") == "v2"
    assert not (tmp_path / ".PX.old").exists()


def test_folder_without_our_state_counts_as_edited(tmp_path: Path) -> None:
    folder = tmp_path / "PX"
    folder.mkdir()
    (folder / "report.md").write_text("someone's own file", encoding="utf-8")
    assert is_edited(folder)


def test_the_lock_file_goes_when_the_last_hold_ends(tmp_path: Path) -> None:
    from collector.output import lock_for

    lock_file = tmp_path / ".P7DBOOM.lock"
    with lock_for(tmp_path, "P7DBOOM"):
        with lock_for(tmp_path, "P7DBOOM"):  # re-entrant: the batch decides, then publishes
            pass
        assert lock_file.exists()  # still held by the outer hold
    assert not lock_file.exists()


def test_a_run_waiting_on_a_removed_lock_file_takes_the_new_one(tmp_path: Path) -> None:
    """The holder removes the file on release; a run already waiting must then hold the lock
    that everyone sees, not one on a file without a name (or two runs would write at once)."""
    import subprocess
    import sys
    import time

    import pytest
    from filelock import Timeout

    from collector.output import lock_for

    waiter = (
        "import sys, pathlib\n"
        "from collector.output import lock_for\n"
        f"with lock_for(pathlib.Path({str(tmp_path)!r}), 'P1'):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    with lock_for(tmp_path, "P1"):
        child = subprocess.Popen(
            [sys.executable, "-c", waiter],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # the child has opened the file and waits on it
    with child:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        assert (tmp_path / ".P1.lock").exists()
        with pytest.raises(Timeout), lock_for(tmp_path, "P1", timeout=0):
            pass
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    assert not (tmp_path / ".P1.lock").exists()
