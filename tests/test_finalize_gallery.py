"""The draft-to-final loop on a gallery incident (a partial degradation nobody tuned the
finalize step for), drafted live from the PagerDuty simulator and a real Prometheus, in French
and English: refused while markers are left, final once filled, the person's words in the pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import environment
from hardening_support import run_collect
from test_finalize import PERSON, collect, fill_markers, pdf_text
from test_gallery import GALLERY
from test_gallery import gallery_servers as gallery_servers  # the module's servers

# Slow throughout: the gallery's servers, then a draft and a final of each incident.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_gallery_incident_goes_from_draft_to_final(
    collect_bin: str,
    gallery_servers: Any,
    tmp_path: Path,
    lang: str,  # noqa: F811
) -> None:
    sim, server = gallery_servers
    out = tmp_path / "reports"
    env = environment(sim, server.url)  # alone: the machine's CA variables would win
    config = str(GALLERY / "collector.yaml")
    args = ["--incident", "PGPARTL", "--config", config, "--lang", lang, "--out", str(out)]
    drafted = run_collect(collect_bin, args, env, tmp_path)
    assert drafted.returncode == 0, drafted.stderr
    folder = out / "PGPARTL"
    finalize = ["--finalize", "PGPARTL", "--out", str(out), "--config", config]

    refused = collect(collect_bin, *finalize)
    assert refused.returncode == 1 and "fill-in marker" in refused.stderr.splitlines()[0]

    report = folder / "report.md"
    report.write_text(fill_markers(report.read_text(encoding="utf-8"), lang), encoding="utf-8")
    done = collect(collect_bin, *finalize)
    assert done.returncode == 0, done.stderr
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert figures["status"] == "final" and figures["markers_left"] == 0
    assert figures["edits"] == []  # nothing computed was changed: nothing to name
    words = PERSON[lang]["why"]
    assert words in (folder / "report.html").read_text(encoding="utf-8")
    assert words in pdf_text(folder / "report.pdf")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "PGPARTL/report.pdf" in index
