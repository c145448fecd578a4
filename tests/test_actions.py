"""Action items at `collect --finalize`: actions.csv from the checklist and the tracking table,
as a person edits them, and a `warning:` line for each open action without owner or due date."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from test_finalize import _no_pdf, collect

from report.final.action_table import COLUMNS
from report.final.actions import Horizon, read_actions, read_due_date

# What a person makes of the draft's "Actions Correctives" and "Suivi des Actions" (French).
EDITED_FR = """\
## Actions Correctives

### Immédiat (Fait le même jour)

- [x] _Suggestion des données:_ 14:45 UTC : Redémarré \\`pg\\` \\| ok — Bruno Keller
- [ ] [À COMPLÉTER: action]

### Court terme (< 1 semaine)

- [ ] _Suggestion des données:_ Alerter sur memory\\_used à 80 % — Owner: Dana Roy — ETA: 2025-11-04
- [ ] Limiter la mémoire de PostgreSQL — Responsable : Bruno Keller — Échéance : 14/11/2025
- [ ] =HYPERLINK("http://x") — Owner: [À COMPLÉTER: responsable] — ETA: [À COMPLÉTER: date]

### Moyen terme

- [ ] Revoir la swap (owner: Alice Martin, due: 2025/12/01)
- [ ] Tableau de bord mémoire — Owner: Eve Durand — ETA: la semaine prochaine

### Long terme (> 1 mois)

- [ ] [À COMPLÉTER: action — responsable — échéance]

---

## Suivi des Actions

| Action | Owner | Status | Due | Notes |
|--------|-------|--------|-----|-------|
| Limiter la mémoire de PostgreSQL | | 🔄 En cours | | PR 12 |
| Former l'astreinte | Fay Leroy | ✅ | 2025-12-15 | |
| [À COMPLÉTER: action] | [À COMPLÉTER: responsable] | ⏳ | [À COMPLÉTER: AAAA-MM-JJ] | |
"""


def test_actions_as_a_person_writes_them() -> None:
    items = read_actions(EDITED_FR)
    got = [(i.text, i.owner, i.due_date, i.horizon, i.status) for i in items]
    assert got == [
        ("14:45 UTC : Redémarré `pg` | ok", "Bruno Keller", None, Horizon.IMMEDIATE, "done"),
        ("Alerter sur memory_used à 80 %", "Dana Roy", date(2025, 11, 4), Horizon.SHORT, "open"),
        # In both lists: one action; the table's status, the checklist's owner and date.
        (
            "Limiter la mémoire de PostgreSQL",
            "Bruno Keller",
            date(2025, 11, 14),
            Horizon.SHORT,
            "in_progress",
        ),
        ('=HYPERLINK("http://x")', None, None, Horizon.SHORT, "open"),
        ("Revoir la swap", "Alice Martin", date(2025, 12, 1), Horizon.MEDIUM, "open"),
        ("Tableau de bord mémoire", "Eve Durand", None, Horizon.MEDIUM, "open"),
        ("Former l'astreinte", "Fay Leroy", date(2025, 12, 15), None, "done"),
    ]
    assert items[2].notes == "PR 12" and items[5].due_text == "la semaine prochaine"


def test_due_dates_day_first_unless_only_month_first_reads() -> None:
    assert read_due_date("04/11/2025") == date(2025, 11, 4)
    assert read_due_date("11/24/2025") == date(2025, 11, 24)
    assert read_due_date("2025-02-30") is None and read_due_date("soon") is None


@pytest.mark.slow
def test_finalize_writes_actions_csv_and_warns_by_line(collect_bin: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert collect(collect_bin, "--demo", "--lang", "fr", "--out", str(out)).returncode == 0
    report = out / "P7DBOOM" / "report.md"
    text = report.read_text(encoding="utf-8")
    start = text.index("## Actions Correctives")
    end = text.index("## Communication")
    report.write_text(text[:start] + EDITED_FR + "\n---\n\n" + text[end:], encoding="utf-8")
    first = text[:start].count("\n") + 1  # report.md's line of "## Actions Correctives"
    args = ("--finalize", "P7DBOOM", "--out", str(out), "--allow-incomplete")
    done = collect(collect_bin, *args, "--config", str(_no_pdf(tmp_path)))
    assert done.returncode == 0, done.stderr

    rows = list(csv.DictReader(io.StringIO((out / "P7DBOOM" / "actions.csv").read_text())))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 7
    assert rows[1] == {
        "action": "Alerter sur memory_used à 80 %",
        "owner": "Dana Roy",
        "due_date": "2025-11-04",
        "horizon": "short",
        "status": "open",
        "tracker_key": "",
        "tracker_url": "",
    }
    assert rows[3]["action"] == '\'=HYPERLINK("http://x")'  # inert in a spreadsheet
    assert rows[2]["status"] == "in_progress" and rows[6]["horizon"] == ""

    warnings = [line for line in done.stderr.splitlines() if "action without" in line]
    assert warnings == [
        f"warning: report.md line {first + 11} (Actions Correctives › Court terme (< 1 semaine)):"
        " action without an owner or a due date: '=HYPERLINK(\"http://x\")'",
        f"warning: report.md line {first + 16} (Actions Correctives › Moyen terme): action"
        " without a due date we read (not 'la semaine prochaine'; write YYYY-MM-DD):"
        " 'Tableau de bord mémoire'",
    ]
    figures = json.loads((out / "P7DBOOM" / "figures.json").read_text(encoding="utf-8"))
    assert [a["action"] for a in figures["actions"]] == [r["action"].lstrip("'") for r in rows]
