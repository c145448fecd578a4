"""The house style holds: ruff (lint and format) on everything, mypy --strict on the package,
modules of a readable size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a tool installed beside this interpreter, from the project root."""
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_ruff_lint() -> None:
    result = run("ruff", "check", "collector", "report", "tests", "fixtures", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", "collector", "report")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


# STYLE.md: modules under ~400 lines, so that each concern has one obvious, readable place.
MAX_MODULE_LINES = 400


def test_every_module_is_at_most_400_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in ("collector", "report")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}, "split these modules along their concerns"
