"""`collect --finalize` files the action items in Jira: through the installed `collect`, against
the Jira simulator over HTTPS. Each action once (the record in the report folder, and Jira's own
answer to a JQL search when the record is lost); a fault of Jira's leaves the final written,
says so on one `warning:` line with no credential, and the next finalize files what is left."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from atlassian_simulator import JiraSimulator
from test_finalize import collect

# Slow throughout: each test drafts and finalizes the demo, then files its actions.
pytestmark = pytest.mark.slow

USER, TOKEN = "filer@example.com", "s3cret-jira-token-value"
DANA = {"accountId": "5b10a2844c20165700ede21g", "displayName": "Dana Roy"}
ACTIONS = """\
## Corrective Actions

### Immediate (same day)

- [x] Restarted PostgreSQL — Bruno Keller

### Short term (< 1 week)

- [ ] Alert on memory_used at 80 % — Owner: dana.roy@example.com — ETA: 2025-11-04
- [ ] Set a memory limit on PostgreSQL — Owner: Bruno Keller — ETA: 2025-11-14
- [ ] Review swap sizing — Owner: Alice Martin

### Medium term (< 1 month)

- [ ] Capacity review of db-01 — Owner: Alice Martin — ETA: 2025-12-01

---

## Action Tracking

| Action | Owner | Status | Due | Notes |
|--------|-------|--------|-----|-------|
| Set a memory limit on PostgreSQL | Bruno Keller | 🔄 | 2025-11-14 | |

"""
NEW_ACTION = "- [ ] Runbook for OOM kills — Owner: Eve Durand — ETA: 2025-11-20\n"


@pytest.fixture(scope="module")
def drafted(collect_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo drafted once, in English, its actions as a person wrote them."""
    out = tmp_path_factory.mktemp("drafted") / "reports"
    assert collect(collect_bin, "--demo", "--lang", "en", "--out", str(out)).returncode == 0
    report = out / "P7DBOOM" / "report.md"
    text = report.read_text(encoding="utf-8")
    start, end = text.index("## Corrective Actions"), text.index("## Communication")
    report.write_text(text[:start] + ACTIONS + "---\n\n" + text[end:], encoding="utf-8")
    return out


@pytest.fixture
def jira() -> Iterator[JiraSimulator]:
    with JiraSimulator(
        USER, TOKEN, users=({**DANA, "emailAddress": "dana.roy@example.com"},)
    ) as sim:
        yield sim


class Finalizer:
    """`collect --finalize` on a copy of the drafted demo, with Jira settings."""

    def __init__(self, collect_bin: str, drafted: Path, tmp_path: Path, jira: JiraSimulator):
        self.out = tmp_path / "reports"
        shutil.copytree(drafted, self.out)
        self.folder = self.out / "P7DBOOM"
        self.config = tmp_path / "collector.yaml"
        self.config.write_text(
            f"report:\n  pdf: never\njira:\n  url: {jira.url}\n  project: OPS\n"
            "  timeout_seconds: 2\n",
            encoding="utf-8",
        )
        self.env = {
            "ATLASSIAN_USER": USER,
            "ATLASSIAN_API_TOKEN": TOKEN,
            "REQUESTS_CA_BUNDLE": str(jira.ca_path),
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

    def rows(self) -> list[dict[str, str]]:
        text = (self.folder / "actions.csv").read_text(encoding="utf-8")
        return list(csv.DictReader(io.StringIO(text)))

    def keys(self) -> dict[str, str]:
        return {r["action"]: r["tracker_key"] for r in self.rows() if r["tracker_key"]}


@pytest.fixture
def finalizer(collect_bin: str, drafted: Path, tmp_path: Path, jira: JiraSimulator) -> Finalizer:
    return Finalizer(collect_bin, drafted, tmp_path, jira)


def test_each_action_is_filed_once_owned_dated_and_linked_both_ways(
    finalizer: Finalizer, jira: JiraSimulator
) -> None:
    stdout, stderr = finalizer.run()
    assert "filed 3 actions in Jira: OPS-1, OPS-2, OPS-3" in stdout
    # The one without a due date is a warning, and is not filed; the done one is not either.
    assert "line" in stderr and "'Review swap sizing'" in stderr
    assert [i["fields"]["summary"] for i in jira.issues] == [
        "Alert on memory_used at 80 %",
        "Set a memory limit on PostgreSQL",
        "Capacity review of db-01",
    ]
    first = jira.issues[0]["fields"]
    assert first["labels"] == ["postmortem", "incident-P7DBOOM"]
    assert first["duedate"] == "2025-11-04" and first["issuetype"] == {"name": "Task"}
    assert first["assignee"] == {"accountId": DANA["accountId"]}  # found by e-mail
    assert "assignee" not in jira.issues[1]["fields"]  # a name: kept in the description
    description = jira.issues[1]["fields"]["description"]
    assert "https://example.pagerduty.com/incidents/P7DBOOM" in description
    assert "Owner: Bruno Keller" in description and "report.html" in description
    assert finalizer.keys() == {
        "Alert on memory_used at 80 %": "OPS-1",
        "Set a memory limit on PostgreSQL": "OPS-2",
        "Capacity review of db-01": "OPS-3",
    }
    assert finalizer.rows()[1]["tracker_url"] == f"{jira.url}/browse/OPS-1"
    figures = json.loads((finalizer.folder / "figures.json").read_text(encoding="utf-8"))
    assert [a["tracker_key"] for a in figures["actions"]][1:4] == ["OPS-1", "OPS-2", None]
    html = (finalizer.folder / "report.html").read_text(encoding="utf-8")
    table = html.split("Action Tracking", 1)[1]
    for key in ("OPS-1", "OPS-2", "OPS-3"):  # every filed action in the table, as a link
        assert f'<a href="{jira.url}/browse/{key}">{key}</a>' in table

    # Finalized again: nothing new is created, every key kept.
    finalizer.run()
    assert (
        len(jira.requests_to("POST", "/issue")) == 3
        and finalizer.keys()["Capacity review of db-01"] == "OPS-3"
    )
    # A new action: only it is filed.
    report = finalizer.folder / "report.md"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("### Medium term", NEW_ACTION + "\n### Medium term"), "utf-8")
    stdout, _ = finalizer.run()
    assert "filed 1 actions in Jira: OPS-4" in stdout and len(jira.issues) == 4
    # The record lost: Jira's search on the labels finds the issues; none is filed twice.
    (finalizer.folder / ".filed.json").unlink()
    stdout, _ = finalizer.run()
    assert "in Jira" not in stdout and len(jira.issues) == 4
    assert finalizer.keys()["Runbook for OOM kills"] == "OPS-4"


FAULTS = {
    "401": (r"/search/jql", 401, {}, "answered HTTP 401"),
    "403 on create": (r"/issue$", 403, {}, "answered HTTP 403"),
    "429 twice": (r"/search/jql", 429, {"Retry-After": "1"}, "answered HTTP 429"),
    "503": (r"/search/jql", 503, {}, "answered HTTP 503"),
    "slow": (r"/search/jql", "timeout", {}, "did not answer within 2 s"),
    "redirect": (r"/search/jql", "redirect", {"Location": "https://127.0.0.2:9/x"}, "another"),
}


@pytest.mark.parametrize("name", FAULTS)
def test_a_fault_leaves_the_final_written_and_the_next_finalize_files(
    finalizer: Finalizer, jira: JiraSimulator, name: str
) -> None:
    path, fault, headers, said = FAULTS[name]
    # A 429 is waited out once (Retry-After): twice in a row is a fault.
    jira.inject(path, fault, times=2 if fault == 429 else 1, headers=headers)
    stdout, stderr = finalizer.run()
    assert stdout.startswith("finalized") and (finalizer.folder / "report.html").exists()
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: Jira")]
    assert len(warnings) == 1 and said in warnings[0], stderr
    assert "(filed on the next finalize)" in warnings[0]
    assert not jira.issues  # nothing half-filed: the search failed, or the first create did
    assert not finalizer.keys()
    stdout, stderr = finalizer.run()
    assert "filed 3 actions in Jira" in stdout and "warning: Jira" not in stderr
    assert len(jira.issues) == 3


def test_one_429_is_waited_out_once(finalizer: Finalizer, jira: JiraSimulator) -> None:
    jira.inject(r"/search/jql", 429, headers={"Retry-After": "1"})
    stdout, stderr = finalizer.run()
    assert "filed 3 actions in Jira" in stdout and "warning: Jira" not in stderr


def test_without_credentials_nothing_is_sent(finalizer: Finalizer, jira: JiraSimulator) -> None:
    _, stderr = finalizer.run(ATLASSIAN_API_TOKEN="")
    assert (
        "warning: Jira: 3 actions not filed: set ATLASSIAN_USER and ATLASSIAN_API_TOKEN" in stderr
    )
    assert not jira.exchanges


@pytest.mark.parametrize("key", ["token", "api_token", "password", "user"])
def test_a_credential_in_the_file_is_refused_naming_the_variable(tmp_path: Path, key: str) -> None:
    from collector.config import ConfigError, load_config

    path = tmp_path / "collector.yaml"
    path.write_text(f"jira:\n  url: https://x.atlassian.net\n  {key}: {TOKEN}\n", "utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path, {})
    assert "ATLASSIAN_" in str(refused.value) and TOKEN not in str(refused.value)
