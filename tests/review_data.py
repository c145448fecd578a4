"""A year of incidents whose review is known by construction (tests/test_review.py, and
benchmarks/review.py at scale): PagerDuty fixtures for the simulator, and the report folders
(figures.json, actions.csv) and fleet review (hosts.csv) under --out.

The review ends UNTIL and covers WINDOW (January to June 2025); the window before it is the
second half of 2024.

- Checkout API gets worse: 3 incidents a month (days 1, 10 and 19), all with a draft report.
  Before: acknowledged in 5 min, restored in 20 min, RTO (30 min) met. In month m of the window
  (1..6) the three take m+4, m+5 and m+6 min to acknowledge, and 20 + 5m min to restore (RTO
  met in January and February only). Detection delay 2 min, error budget 10 % each.
- Search pages once a month (day 15), PagerDuty alone: no report; resolved 40 min later.
- node-07 pages weekly from 2025-01-03 (NodeMemoryHigh on Batch Jobs): 26 pages, one run of
  repeats 7 days apart. Its first incident has a final report with three actions: one done,
  one overdue (alice, OPS-12), one open and not due (bob). The fleet review published under
  --out finds node-07 leaking +8 %/day, restarting every ~7 days (4 restarts in 28 days).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

UNTIL = datetime(2025, 7, 1, tzinfo=timezone.utc)
WINDOW = timedelta(days=181)  # from 2025-01-01
RTO_MINUTES = 30


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def incident_json(
    number: int,
    service: str,
    alert: str,
    title: str,
    created: datetime,
    resolved: datetime,
    priority: str = "P2",
) -> dict[str, Any]:
    """A resolved incident in the simulator's fixture shape, with its trigger log entry."""
    iid = f"PRV{number:05d}"
    trigger = {
        "id": f"R{iid}T",
        "type": "trigger_log_entry",
        "summary": "Triggered through the API.",
        "created_at": _iso(created),
        "channel": {"type": "api", "summary": title, "details": {"alertname": alert}},
        "incident": {"id": iid, "type": "incident_reference"},
    }
    resolve = {
        "id": f"R{iid}R",
        "type": "resolve_log_entry",
        "summary": "Resolved",
        "created_at": _iso(resolved),
        "channel": {"type": "auto"},
        "incident": {"id": iid, "type": "incident_reference"},
    }
    service_id = "PS" + "".join(ch for ch in service.upper() if ch.isalpha())[:5]
    incident = {
        "id": iid,
        "type": "incident",
        "summary": f"[#{number}] {title}",
        "html_url": f"https://example.pagerduty.com/incidents/{iid}",
        "incident_number": number,
        "title": title,
        "description": title,
        "created_at": _iso(created),
        "updated_at": _iso(resolved),
        "status": "resolved",
        "resolved_at": _iso(resolved),
        "urgency": "high",
        "service": {"id": service_id, "type": "service_reference", "summary": service},
        "priority": {"id": "PPRIO" + priority, "type": "priority_reference", "summary": priority},
        "first_trigger_log_entry": {"id": trigger["id"], "type": "trigger_log_entry_reference"},
        "assignments": [],
        "teams": [],
        "acknowledgements": [],
    }
    return {"incident": incident, "log_entries": [trigger, resolve], "alerts": [], "notes": []}


def figures_json(
    ack_min: float, restore_min: float, resolve_min: float, rto: str, *, final: bool = False
) -> dict[str, Any]:
    """A report's figures.json as the collector writes it (durations in seconds)."""

    def figure(key: str, value: float, unit: str = "s") -> dict[str, Any]:
        return {"key": key, "value": value, "unit": unit, "status": "ok", "source": ""}

    document: dict[str, Any] = {
        "format_version": 1,
        "incident": {},
        "figures": [
            figure("detection_delay", 120),
            figure("time_to_acknowledge", ack_min * 60),
            figure("time_to_restore", restore_min * 60),
            figure("duration", resolve_min * 60),
            figure("downtime", restore_min * 60),
            figure("error_budget_used", 10, "%"),
        ],
        "objectives": [
            {"key": "rto", "target": RTO_MINUTES * 60, "actual": restore_min * 60, "verdict": rto},
            {"key": "sla", "target": 2592, "actual": restore_min * 60, "verdict": "within_budget"},
        ],
    }
    if final:
        document["status"] = "final"
    return document


ACTIONS_CSV = (
    "action,owner,due date ISO,horizon,status,tracker key,tracker URL\n"
    "Restart node-07 nightly,alice,2025-02-01,short,done,OPS-11,https://jira.example/OPS-11\n"
    "Fix the leak in the batch worker,alice,2025-05-01,medium,open,OPS-12,"
    "https://jira.example/OPS-12\n"
    "Alert on memory growth,bob,2025-12-01,long,open,,\n"
)

HOSTS_CSV = (
    "instance,current_percent,peak_percent,growth_percent_per_day,growth_low,growth_high,"
    "exhaustion_at_utc,restarts,incidents,verdict,kind,query,week_over_week_change,"
    "first_seen_utc,last_seen_utc,labels\n"
    "node-07:9100,70,91,8.0,7.5,8.5,,4,4,leak,memory,mem,,2025-06-02T00:00:00Z,"
    "2025-06-30T00:00:00Z,instance=node-07:9100\n"
    "node-11:9100,50,60,2.5,2,3,,0,0,growing,memory,mem,,2025-06-02T00:00:00Z,"
    "2025-06-30T00:00:00Z,instance=node-11:9100\n"
    "node-09:9100,30,35,0,0,0,,0,0,stable,memory,mem,,2025-06-02T00:00:00Z,"
    "2025-06-30T00:00:00Z,instance=node-09:9100\n"
)


def _months(first: tuple[int, int], count: int) -> list[tuple[int, int]]:
    year, month = first
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def write_year(pd_dir: Path, out_dir: Path) -> None:
    """The incidents as simulator fixtures in `pd_dir`, their reports under `out_dir`."""
    pd_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    number = 1000

    def add(data: dict[str, Any], figures: dict[str, Any] | None = None) -> str:
        iid = str(data["incident"]["id"])
        (pd_dir / f"{iid}.json").write_text(json.dumps(data), encoding="utf-8")
        if figures is not None:
            (out_dir / iid).mkdir()
            (out_dir / iid / "report.md").write_text("# report\n", encoding="utf-8")
            (out_dir / iid / "figures.json").write_text(json.dumps(figures), encoding="utf-8")
        return iid

    for m, (year, month) in enumerate(_months((2024, 7), 12)):
        current = m >= 6
        step = m - 5  # 1..6 in the window
        for k, day in enumerate((1, 10, 19)):
            created = datetime(year, month, day, 10, tzinfo=timezone.utc)
            if created < UNTIL - 2 * WINDOW:
                continue  # before the previous window
            ack = step + 4 + k if current else 5
            restore = 20 + 5 * step if current else 20
            number += 1
            data = incident_json(
                number,
                "Checkout API",
                "CheckoutLatency",
                "CheckoutLatency: p99 above 2 s",
                created,
                created + timedelta(minutes=restore + 10),
            )
            rto = "met" if restore <= RTO_MINUTES else "missed"
            add(data, figures_json(ack, restore, restore + 10, rto))
        created = datetime(year, month, 15, 3, tzinfo=timezone.utc)
        number += 1
        search = incident_json(
            number,
            "Search",
            "SearchSlow",
            "SearchSlow: queries slow",
            created,
            created + timedelta(minutes=40),
            priority="P3",
        )
        add(search)
    for week in range(26):
        created = datetime(2025, 1, 3, 2, tzinfo=timezone.utc) + timedelta(days=7 * week)
        number += 1
        data = incident_json(
            number,
            "Batch Jobs",
            "NodeMemoryHigh",
            "NodeMemoryHigh on node-07",
            created,
            created + timedelta(minutes=15),
        )
        iid = add(data, figures_json(1, 10, 15, "met", final=True) if week == 0 else None)
        if week == 0:
            (out_dir / iid / "actions.csv").write_text(ACTIONS_CSV, encoding="utf-8")
    fleet = out_dir / "memory-trends-2025-06-30"
    fleet.mkdir()
    (fleet / "report.md").write_text("# fleet\n", encoding="utf-8")
    (fleet / "hosts.csv").write_text(HOSTS_CSV, encoding="utf-8")
