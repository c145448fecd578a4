"""`collect --finalize` publishes the final report as one Confluence page: through the installed
`collect`, against the Atlassian simulator over HTTPS. One page (the record in the report folder,
else the space's page of that title), updated as a new version when finalized again; its charts
attached and shown in place; its URL in figures.json and the index. A fault of Confluence's
leaves the final written, says so on one `warning:` line with no credential, and the next
finalize publishes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from atlassian_simulator import ConfluenceSimulator
from test_finalize import collect

# Slow throughout: each test drafts and finalizes the demo, then publishes it.
pytestmark = pytest.mark.slow

USER, TOKEN = "filer@example.com", "s3cret-confluence-token"
PARENT = "Postmortems"
HOSTILE = 'OOM <script>alert(1)</script> ]]> & "quoted"'


@pytest.fixture(scope="module")
def drafted(collect_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drafted") / "reports"
    assert collect(collect_bin, "--demo", "--lang", "en", "--out", str(out)).returncode == 0
    return out


@pytest.fixture
def wiki() -> Iterator[ConfluenceSimulator]:
    with ConfluenceSimulator(USER, TOKEN, page_titles=(PARENT,)) as sim:
        yield sim


class Finalizer:
    """`collect --finalize` on a copy of the drafted demo, with Confluence settings."""

    def __init__(self, collect_bin: str, drafted: Path, tmp_path: Path, wiki: ConfluenceSimulator):
        self.out = tmp_path / "reports"
        shutil.copytree(drafted, self.out)
        self.folder = self.out / "P7DBOOM"
        self.config = tmp_path / "collector.yaml"
        self.config.write_text(
            f"report:\n  pdf: never\nconfluence:\n  url: {wiki.wiki_url}\n  space: OPS\n"
            f"  parent_title: {PARENT}\n  timeout_seconds: 2\n",
            encoding="utf-8",
        )
        self.env = {
            "ATLASSIAN_USER": USER,
            "ATLASSIAN_API_TOKEN": TOKEN,
            "REQUESTS_CA_BUNDLE": str(wiki.ca_path),
        }
        self.collect_bin = collect_bin

    def run(self, **env: str) -> tuple[str, str]:
        args = ("--finalize", "P7DBOOM", "--out", str(self.out), "--allow-incomplete")
        done = collect(
            self.collect_bin, *args, "--config", str(self.config), env={**self.env, **env}
        )
        assert done.returncode == 0, done.stderr
        assert TOKEN not in done.stdout + done.stderr
        return done.stdout, done.stderr

    def figures(self) -> dict[str, object]:
        return dict(json.loads((self.folder / "figures.json").read_text(encoding="utf-8")))

    def title(self) -> str:
        incident = self.figures()["incident"]
        assert isinstance(incident, dict)
        return f"{str(incident['started_at'])[:10]} P7DBOOM — {incident['title']}"


@pytest.fixture
def finalizer(
    collect_bin: str, drafted: Path, tmp_path: Path, wiki: ConfluenceSimulator
) -> Finalizer:
    return Finalizer(collect_bin, drafted, tmp_path, wiki)


def test_the_final_is_one_page_updated_when_finalized_again(
    finalizer: Finalizer, wiki: ConfluenceSimulator
) -> None:
    stdout, stderr = finalizer.run()
    assert "warning: Confluence" not in stderr
    page = wiki.page_titled(finalizer.title())
    assert page is not None and page["parent"] == wiki.page_titled(PARENT)["id"]  # type: ignore[index]
    url = f"{wiki.wiki_url}/spaces/OPS/pages/{page['id']}/"
    assert f"published the final report in Confluence: {url}" in stdout
    # The charts: attached, and shown where the HTML showed them; no inline image is sent.
    charts = sorted(p.name for p in (finalizer.folder / "charts").glob("*.png"))
    assert charts and sorted(page["attachments"]) == charts
    for name in charts:
        assert f'<ri:attachment ri:filename="{name}" />' in page["body"]
        assert (
            page["attachments"][name]["data"] == (finalizer.folder / "charts" / name).read_bytes()
        )
    assert "data:image" not in page["body"] and "<h2>" in page["body"] and "<table>" in page["body"]
    # Its address: in figures.json, the index and the record.
    page_url = finalizer.figures()["confluence_url"]
    assert isinstance(page_url, str) and page_url.startswith(url)
    assert f'href="{page_url}"' in (finalizer.out / "index.html").read_text(encoding="utf-8")
    assert json.loads((finalizer.folder / ".confluence.json").read_text())["page_id"] == page["id"]

    # Finalized again: the same page, a new version, never a second page.
    stdout, _ = finalizer.run()
    assert "updated the final report in Confluence (version 2)" in stdout
    assert len(wiki.pages) == 2 and page["version"] == 2
    # The record lost: the page of that title in the space is found, and updated.
    (finalizer.folder / ".confluence.json").unlink()
    stdout, _ = finalizer.run()
    assert "(version 3)" in stdout and len(wiki.pages) == 2
    assert len(wiki.requests_to("POST", "/wiki/rest/api/content")) == 1 + 3 * len(charts)


def test_a_hostile_title_is_text_in_the_page(
    finalizer: Finalizer, wiki: ConfluenceSimulator
) -> None:
    figures = finalizer.figures()
    old = str(figures["incident"]["title"])  # type: ignore[index]
    figures["incident"]["title"] = HOSTILE  # type: ignore[index]
    (finalizer.folder / "figures.json").write_text(json.dumps(figures), encoding="utf-8")
    report = finalizer.folder / "report.md"
    report.write_text(report.read_text(encoding="utf-8").replace(old, HOSTILE), "utf-8")
    _, stderr = finalizer.run()
    assert "warning: Confluence" not in stderr  # the simulator parsed the body as XML
    page = wiki.page_titled(finalizer.title())
    assert page is not None and page["title"].endswith(HOSTILE)
    assert "<script" not in page["body"] and "&lt;script&gt;" in page["body"]
    assert "]]&gt;" in page["body"]


FAULTS = {
    "401": (r"/wiki/rest/api/content$", 401, {}, "answered HTTP 401"),
    "403": (r"/wiki/rest/api/content$", 403, {}, "answered HTTP 403"),
    "429 twice": (r"/wiki/rest/api/content$", 429, {"Retry-After": "1"}, "answered HTTP 429"),
    "503": (r"/wiki/rest/api/content$", 503, {}, "answered HTTP 503"),
    "slow": (r"/wiki/rest/api/content$", "timeout", {}, "did not answer within 2 s"),
    "redirect": (r"/content$", "redirect", {"Location": "https://127.0.0.2:9/x"}, "another"),
}


@pytest.mark.parametrize("name", FAULTS)
def test_a_fault_leaves_the_final_written_and_the_next_finalize_publishes(
    finalizer: Finalizer, wiki: ConfluenceSimulator, name: str
) -> None:
    path, fault, headers, said = FAULTS[name]
    wiki.inject(path, fault, times=2 if fault == 429 else 1, headers=headers)
    stdout, stderr = finalizer.run()
    assert stdout.startswith("finalized") and (finalizer.folder / "report.html").exists()
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: Confluence")]
    assert len(warnings) == 1 and said in warnings[0], stderr
    assert "retried on the next finalize" in warnings[0]
    assert finalizer.figures()["confluence_url"] is None
    stdout, stderr = finalizer.run()
    assert "published the final report in Confluence" in stdout, stderr
    assert "warning: Confluence" not in stderr and len(wiki.pages) == 2


def test_without_credentials_nothing_is_sent(
    finalizer: Finalizer, wiki: ConfluenceSimulator
) -> None:
    _, stderr = finalizer.run(ATLASSIAN_API_TOKEN="")
    assert (
        "warning: Confluence: not published: set ATLASSIAN_USER and ATLASSIAN_API_TOKEN" in stderr
    )
    assert not wiki.exchanges


def test_storage_keeps_the_report_and_drops_what_confluence_cannot_take() -> None:
    from xml.etree import ElementTree

    from report.final.storage import storage_page

    html = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        '<h1>A &lt;script&gt; ]]&gt;&nbsp;B</h1><p><a href="charts/x.png">file</a> '
        '<a href="https://e.com/?a=1&amp;b=2">site</a> <a href="javascript:x()">js</a></p>'
        '<img src="charts/memory.png" alt="Memory &quot;db&quot;">'
        '<img src="data:image/png;base64,AAAA" alt="inline">'
        '<table><tr><th colspan="2" style="x">h</th></tr><tr><td>1<br>2</td></tr></table>'
        "<script>evil()</script><p>open <em>x</p></body></html>"
    )
    page = storage_page(html)
    ElementTree.fromstring(
        '<r xmlns:ac="urn:ac" xmlns:ri="urn:ri">' + page.body + "</r>"
    )  # well-formed
    assert page.attachments == ("memory.png",)
    assert "<h1>A &lt;script&gt; ]]&gt;\xa0B</h1>" in page.body
    assert '<a href="https://e.com/?a=1&amp;b=2">site</a>' in page.body
    assert "<p>file <a" in page.body and "javascript" not in page.body and "evil" not in page.body
    assert (
        '<ac:image ac:alt="Memory &quot;db&quot;"><ri:attachment ri:filename="memory.png" />'
        in page.body
    )
    assert "data:" not in page.body and "inline" in page.body and "style" not in page.body
    assert '<th colspan="2">' in page.body and "<br />" in page.body


def test_the_final_notice_names_the_page() -> None:
    from report.handoff import final_notice_payload

    url = "https://example.atlassian.net/wiki/spaces/OPS/pages/1/x"
    slack = final_notice_payload("OOM", None, "https://r/P1/report.html", "en", "slack", url)
    assert f"Confluence page: {url}" in slack["text"]
    assert f"<{url}|Confluence page>" in slack["blocks"][0]["text"]["text"]
    plain = final_notice_payload("OOM", None, "https://r/P1/report.html", "fr", "json", url)
    assert plain["confluence_url"] == url and "Page Confluence" in plain["text"]
    assert "Confluence" not in final_notice_payload("OOM", None, "/r", "en", "slack")["text"]
