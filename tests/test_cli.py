"""The command line: help for every option, one mode at a time, clear usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from collector.cli import main


def test_every_option_has_help_and_the_help_has_examples() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for param in main.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{param.opts} has no help"
            assert param.opts[0] in result.output
    assert "Examples:" in result.output
    for mode in ("--demo", "--incident", "--snapshot", "--resolved-since", "--webhook"):
        assert f"collect {mode}" in result.output or f"collect {mode}" in " ".join(
            result.output.split()
        )


def test_the_command_line_loads_no_heavy_library_until_a_mode_runs() -> None:
    """`collect --help` stays quick: pandas, matplotlib and the HTTP clients load per mode."""
    heavy = ("pandas", "matplotlib", "requests", "jinja2", "numpy", "weasyprint", "pydantic")
    code = f"import sys, collector.cli; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize(
    "args",
    [[], ["--demo", "--incident", "P1"], ["--snapshot", "x.json", "--resolved-since", "1h"]],
)
def test_exactly_one_mode(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "give exactly one of --incident, --snapshot, --demo" in result.output


def test_bad_duration_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--resolved-since", "yesterday", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a duration: 'yesterday'" in result.output


def test_bad_webhook_address_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--webhook", "localhost", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "expected HOST:PORT" in result.output


def test_missing_snapshot_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = CliRunner().invoke(main, ["--snapshot", str(missing), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{missing}: cannot read snapshot" in result.output


def test_damaged_snapshot_is_explained(tmp_path: Path) -> None:
    damaged = tmp_path / "snapshot.json"
    damaged.write_text('{"schema_version": 1}', encoding="utf-8")
    result = CliRunner().invoke(main, ["--snapshot", str(damaged), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "snapshot is incomplete or damaged" in result.output


@pytest.mark.slow
def test_demo_in_english_and_rerun_protects_edits(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["--demo", "--lang", "en", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    report = tmp_path / "P7DBOOM" / "report.md"
    assert "## General Information" in report.read_text(encoding="utf-8")
    assert "[TO COMPLETE:" in report.read_text(encoding="utf-8")
    assert not (tmp_path / ".P7DBOOM.lock").exists()  # the incident's lock, gone with the run
    report.write_text("my notes", encoding="utf-8")
    second = runner.invoke(main, ["--demo", "--out", str(tmp_path)])
    assert second.exit_code == 0
    assert "was edited by a person and is kept" in second.output
    assert report.read_text(encoding="utf-8") == "my notes"
    forced = runner.invoke(main, ["--demo", "--force", "--out", str(tmp_path)])
    assert "the old folder is kept in" in forced.output
    assert "## Informations Générales" in report.read_text(encoding="utf-8")


def test_deployment_examples_use_real_options_and_parse() -> None:
    import re

    import yaml

    deploy = Path(__file__).resolve().parents[1] / "config" / "deploy"
    known = {opt for param in main.params for opt in param.opts}
    files = sorted(p for p in deploy.iterdir() if p.is_file())
    assert {p.name for p in files} >= {
        "crontab.example",
        "collector.service",
        "collector.timer",
        "cronjob.yaml",
        "webhook-deployment.yaml",
        "memory-trends.crontab.example",
        "memory-trends-cronjob.yaml",
    }
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".yaml":
            assert list(yaml.safe_load_all(text)), path
        # Options on the command lines of `collect` (shell lines or YAML argument lists).
        lines = [ln for ln in text.splitlines() if "bin/collect " in ln or re.match(r"\s*- --", ln)]
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", "\n".join(lines)):
            assert option in known, (path.name, option)
        if "memory-trends" in path.name:  # the weekly review: a 28-day window, every Monday
            assert "--memory-trends" in "\n".join(lines) and "28d" in text, path.name
            assert re.search(r'^\s*(schedule: "23 6 \* \* 1"|23\s+6\s+\*\s+\*\s+1\s)', text, re.M)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--incident", "--out", "x"],
            "--incident needs an incident ID or number; got the option --out.",
        ),
        (["--resolved-since", "--config", "c.yaml"], "--resolved-since needs a duration (24h, 7d)"),
        (["--demo", "--out", "--lang", "en"], "--out needs a folder; got the option --lang."),
        (["--webhook", "--out=x"], "--webhook needs HOST:PORT; got the option --out=x."),
    ],
)
def test_an_option_given_without_its_value_is_named(args: list[str], line: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert line in result.output and "unexpected extra argument" not in result.output


def test_every_option_that_takes_a_value_has_words_for_it() -> None:
    from collector.cli import VALUE_WORDS

    takes_value = {
        param.name for param in main.params if isinstance(param, click.Option) and not param.is_flag
    }
    assert takes_value == set(VALUE_WORDS)


def test_errors_end_with_exactly_one_full_stop(collect_bin: str, tmp_path: Path) -> None:
    """A library's message that ends with a full stop, inside ours: never "API.. Check"."""
    import socket

    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "c.yaml"
    config.write_text("pagerduty:\n  max_retries: 0\n", encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "PAGERDUTY_API_TOKEN": "t",
        "PAGERDUTY_BASE_URL": f"https://127.0.0.1:{port}",
    }
    args = ["--incident", "P1", "--config", str(config), "--out", str(tmp_path / "out")]
    done = subprocess.run(
        [collect_bin, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith("Error: cannot reach PagerDuty") and "Check PAGERDUTY_BASE_URL" in line
    assert ".." not in line and line.endswith("SSL_CERT_FILE.")
    # Usage errors and bad values too: one full stop at the end, never two.
    for bad in (["--webhook", "localhost"], ["--demo", "--until", "2026-01-01"], []):
        output = CliRunner().invoke(main, bad).output.strip()
        assert output.endswith(".") and not output.endswith(".."), output


def test_the_lang_help_names_the_config_as_its_default() -> None:
    help_text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    assert "[default: fr]" not in help_text
    assert "--lang [fr|en] Report language. [default: report.language from --config;" in help_text
    assert "fr when unset]" in help_text
