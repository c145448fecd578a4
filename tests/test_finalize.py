"""`collect --finalize`: the whole loop on the demo, in French and English, through the installed
`collect`: draft → refused (markers) → filled → a figure changed → refused and named →
accepted → final HTML and PDF carry the person's words → re-runs leave it alone → again."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from chat_receiver import ChatReceiver
from conftest import DEMO_SNAPSHOT

from collector.output import publish
from report.words.markers import MARKER

# Slow throughout: each test drafts the demo and finalizes it, report.pdf included.
pytestmark = pytest.mark.slow

# What a person writes: in each language, the sign-off and the words the final must carry.
PERSON = {
    "fr": {"name": "Dana Roy", "why": "Le tueur OOM a arrêté PostgreSQL, faute de limite"},
    "en": {"name": "Dana Roy", "why": "The OOM killer stopped PostgreSQL for want of a limit"},
}
# The computed revenue loss as each language writes it, and the seed template's hand figure.
REVENUE = {"fr": "$1 900 000", "en": "$1,900,000"}
HAND_FIGURE = "$190,000"


def collect(
    collect_bin: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [collect_bin, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill_markers(text: str, lang: str) -> str:
    """What a person does in the post-mortem meeting: every marker replaced by words."""
    person = PERSON[lang]

    def filled(match: re.Match[str]) -> str:
        hint = (match["hint"] or "").lower()
        if hint in ("nom", "name"):
            return person["name"]
        if hint in ("aaaa-mm-jj", "yyyy-mm-dd"):
            return "2025-10-28"
        if hint in ("fonction", "title"):
            return "Incident commander"
        return person["why"]

    # The draft's note quotes the marker: a person leaves it (the final replaces that note).
    lines = text.splitlines(keepends=True)
    return "".join(line if line.startswith(">") else MARKER.sub(filled, line) for line in lines)


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_whole_loop_from_draft_to_final(collect_bin: str, tmp_path: Path, lang: str) -> None:
    out = tmp_path / "reports"
    folder = out / "P7DBOOM"
    drafted = collect(collect_bin, "--demo", "--lang", lang, "--out", str(out))
    assert drafted.returncode == 0, drafted.stderr
    assert not (folder / "report.pdf").exists()  # the PDF belongs to the final

    # Markers left: refused, counted, each named by line and section (20, then the rest).
    refused = collect(collect_bin, "--finalize", "P7DBOOM", "--out", str(out))
    assert refused.returncode == 1
    lines = refused.stderr.splitlines()
    count = int(re.search(r"(\d+) fill-in markers", lines[0])[1])  # type: ignore[index]
    assert count > 20 and lines[21] == f"  and {count - 20} more"
    assert re.fullmatch(r"  line \d+ \(.+\): .+", lines[1]), lines[1]
    assert "status" not in json.loads((folder / "figures.json").read_text())

    # Filled, and the revenue loss changed by hand: refused, the figure named.
    report = folder / "report.md"
    text = fill_markers(report.read_text(encoding="utf-8"), lang)
    assert REVENUE[lang] in text
    report.write_text(text.replace(REVENUE[lang], HAND_FIGURE, 1), encoding="utf-8")
    refused = collect(collect_bin, "--finalize", "P7DBOOM", "--out", str(out))
    assert refused.returncode == 1, refused.stderr
    assert "1 computed figure changed by hand" in refused.stderr
    named = refused.stderr.splitlines()[1]
    assert f"Revenue loss {HAND_FIGURE}, computed {REVENUE[lang]}" in named
    assert "business.revenue_per_minute" in named and "fill-in" not in refused.stderr

    # Accepted: the final's pages carry the person's words; report.md is as they left it.
    before = sha(report)
    done = collect(collect_bin, "--finalize", "P7DBOOM", "--out", str(out), "--accept-edits")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"finalized {folder / 'report.html'}; signed by Dana Roy")
    assert sha(report) == before
    pdf = pdf_text(folder / "report.pdf")
    html = (folder / "report.html").read_text(encoding="utf-8")
    for page in (pdf, html):
        assert PERSON[lang]["why"] in page and HAND_FIGURE in page and "Dana Roy" in page
    changed = "changed by a person" if lang == "en" else "modifié par une personne"
    assert changed in pdf and REVENUE[lang] in pdf.split(changed, 1)[1]
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert figures["status"] == "final" and figures["finalized_by"] == "Dana Roy"
    assert figures["markers_left"] == 0 and len(figures["edits"]) == 1
    assert [s["name"] for s in figures["signatures"]] == ["Dana Roy"] * 4
    # The team's list shows it final at once (its words in the finalizing run's language).
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r"final (on|le) \d{4}-\d{2}-\d{2},? (by|par) Dana Roy", index), index

    # Frozen: no later run replaces it, not even --force; the new draft goes to drafts/.
    frozen = {name: sha(folder / name) for name in ("report.md", "report.html", "report.pdf")}
    snapshot = folder / "snapshot.json"
    for args in (["--snapshot", str(snapshot)], ["--snapshot", str(snapshot), "--force"]):
        rerun = collect(collect_bin, *args, "--out", str(out))
        assert rerun.returncode == 0, rerun.stderr
        assert "is final" in rerun.stdout and str(folder / "drafts") in rerun.stdout
    assert {name: sha(folder / name) for name in frozen} == frozen
    assert len(list((folder / "drafts").iterdir())) == 2

    # Changed again and finalized again: the previous final is kept under finals/<time>/.
    report.write_text(text.replace(PERSON[lang]["why"], "Revised words"), encoding="utf-8")
    again = collect(collect_bin, "--finalize", "P7DBOOM", "--out", str(out))
    assert again.returncode == 0, again.stderr
    (kept,) = (folder / "finals").iterdir()
    assert sha(kept / "report.pdf") == frozen["report.pdf"]
    assert HAND_FIGURE in (kept / "report.md").read_text(encoding="utf-8")
    assert "Revised words" in pdf_text(folder / "report.pdf")


def test_allow_incomplete_finalizes_and_says_so_first(collect_bin: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert collect(collect_bin, "--demo", "--lang", "en", "--out", str(out)).returncode == 0
    with ChatReceiver() as chat:
        env = {"NOTIFY_WEBHOOK_URL": chat.url}
        args = ("--finalize", "P7DBOOM", "--out", str(out), "--allow-incomplete")
        done = collect(collect_bin, *args, "--config", str(_no_pdf(tmp_path)), env=env)
        assert done.returncode == 0, done.stderr
        again = collect(collect_bin, *args, "--config", str(_no_pdf(tmp_path)), env=env)
        assert again.returncode == 0, again.stderr
        posts = list(chat.posts)
    html = (out / "P7DBOOM" / "report.html").read_text(encoding="utf-8")
    body = html.split("<h1>", 1)[1]
    first = body.split("<h2>", 1)[0]
    assert "Final report." in first and "Finalized incomplete" in first
    assert "Draft generated automatically" not in html
    assert not (out / "P7DBOOM" / "report.pdf").exists()  # report.pdf: never
    # Announced once: the same final, finalized twice, is one chat notice.
    assert len(posts) == 1 and "Post-incident report final" in posts[0].body["text"]


def _no_pdf(tmp_path: Path) -> Path:
    config = tmp_path / "never.yaml"
    config.write_text("report:\n  pdf: never\n", encoding="utf-8")
    return config


def test_a_final_is_kept_by_every_publish(tmp_path: Path) -> None:
    """Batch, webhook and --incident publish through `publish`: a final stays, even forced."""
    out = tmp_path / "out"
    final = out / "P7DBOOM"
    final.mkdir(parents=True)
    (final / "report.md").write_text("# final\n", encoding="utf-8")
    state = {"status": "final", "finalized_at": "2025-10-28T10:00:00Z"}
    (final / ".collector.json").write_text(json.dumps(state), encoding="utf-8")
    for force in (False, True):
        staging = out / f".P7DBOOM.{force}.staging"
        staging.mkdir()
        (staging / "report.md").write_text("# new draft\n", encoding="utf-8")
        done = publish(staging, out, "P7DBOOM", force=force, stamp=f"2025{force}")
        assert done.status == "kept-final" and "is final" in done.message
        assert "--force" not in done.message
    assert (final / "report.md").read_text(encoding="utf-8") == "# final\n"
    assert len(list((final / "drafts").iterdir())) == 2
    assert not list(out.glob("P7DBOOM.backup-*"))
    shutil.rmtree(out)
    assert DEMO_SNAPSHOT.exists()
