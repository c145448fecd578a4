"""The review across incidents in words: each fact as the cell or sentence the template shows.

Durations as the reports write them ('8 min', '1 h 4 min'), a share of fewer than five incidents
as a count, the change against the previous window as 'before → after'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from collector.analysis import review as facts
from collector.records import Gap
from collector.snapshot.review import ReviewOrigin
from report.words import Words, formats

if TYPE_CHECKING:
    from collector.analysis.review_window import ActionFacts, ReviewAnalysis

NOTHING = formats.NOTHING
# The figures compared with the previous window, in the order the table lists them.
_MEASURES = ("acknowledge", "restore", "resolve", "detection")
OVERDUE_ROWS = 80  # overdue actions listed one by one; the counts cover them all


def review_context(
    analysis: ReviewAnalysis, origin: ReviewOrigin, words: Words, charts: Sequence[str]
) -> dict[str, Any]:
    """Everything the template lays out, worded."""
    say = words.say
    current = analysis.current
    days = words.number(round(analysis.window / timedelta(days=1)))
    return {
        "title": say("review_title"),
        "until": f"{analysis.until:%Y-%m-%d}",
        "window": say(
            "review_window",
            start=formats.utc(analysis.start),
            until=formats.utc(analysis.until),
            days=days,
        ),
        "counts": say(
            "review_counts",
            count=words.number(len(current)),
            previous=words.number(len(analysis.previous)),
            finals=words.number(sum(1 for i in current if i.report_status == "final")),
            drafts=words.number(sum(1 for i in current if i.report_status == "draft")),
            bare=words.number(sum(1 for i in current if not i.report_status)),
        ),
        "sources": say("review_sources", base_url=origin.pagerduty_url),
        "changes": [_change_row(c, words) for c in analysis.changes],
        "services": [_group_row(g, words) for g in analysis.services],
        "months": [_group_row(g, words) for g in analysis.months],
        "alerts": analysis.alerts,
        "top_services": analysis.top_services,
        "repeats": [_repeat_row(r, words) for r in analysis.repeats],
        "hosts": _hosts(analysis, origin, words),
        "actions": _actions(analysis.actions, words),
        "charts": list(charts),
        "gaps": [_gap(gap) for gap in origin.gaps],
        "N": words,
    }


def spread_cell(spread: facts.Spread, words: Words) -> str:
    """'8 min (p90 14 min; 12)', or a dash when no incident had the figure."""
    if spread.median is None or spread.p90 is None:
        return NOTHING
    return words.say(
        "review_spread",
        median=_duration(spread.median, words),
        p90=_duration(spread.p90, words),
        n=words.number(spread.count),
    )


def share_cell(share: facts.Share, words: Words) -> str:
    """'92 % (11 of 12)', or '2 of 3 (too few for a percentage)', or a dash."""
    if not share.decided or share.percent is None:
        return NOTHING
    met, n = words.number(share.met), words.number(share.decided)
    if share.few:
        return words.say("review_share_few", met=met, n=n)
    percent = f"{words.number(share.percent, 0)} %"
    return words.say("review_share", percent=percent, met=met, n=n)


def _group_row(group: facts.GroupFigures, words: Words) -> dict[str, str]:
    return {
        "service": group.service or words.say("review_all_services"),
        "month": group.month,
        "count": words.number(group.count),
        "acknowledge": spread_cell(group.acknowledge, words),
        "restore": spread_cell(group.restore, words),
        "resolve": spread_cell(group.resolve, words),
        "detection": spread_cell(group.detection, words),
        "rto": share_cell(group.rto, words),
        "budget": _budget(group, words),
    }


def _change_row(change: facts.Change, words: Words) -> dict[str, str]:
    now, before = change.current, change.previous
    row = {
        "service": change.service or words.say("review_all_services"),
        "count": _arrow(words.number(before.count), words.number(now.count), words),
        "rto": _arrow(share_cell(before.rto, words), share_cell(now.rto, words), words),
        "budget": _arrow(_budget(before, words), _budget(now, words), words),
    }
    for measure in _MEASURES:
        old, new = getattr(before, measure), getattr(now, measure)
        row[measure] = _arrow(_duration(old.median, words), _duration(new.median, words), words)
    return row


def _arrow(before: str, after: str, words: Words) -> str:
    return words.say("review_change", before=before, after=after)


def _budget(group: facts.GroupFigures, words: Words) -> str:
    if group.budget_used is None:
        return NOTHING
    return f"{words.number(group.budget_used, 1)} % ({words.number(group.budget_count)})"


def _repeat_row(run: facts.RepeatRun, words: Words) -> dict[str, str]:
    return {
        "alert": run.alert,
        "service": run.service,
        "pages": words.number(len(run.incidents)),
        "first": formats.utc(run.first),
        "last": formats.utc(run.last),
        "every": words.duration(run.typical_gap),
        "incidents": ", ".join(run.incidents[:8]) + (" …" if len(run.incidents) > 8 else ""),
    }


def _hosts(analysis: ReviewAnalysis, origin: ReviewOrigin, words: Words) -> dict[str, Any]:
    if analysis.hosts is None:
        return {"source": words.say("review_no_fleet"), "lines": [], "linked": False}
    source = words.say("review_fleet_source", folder=origin.fleet_folder)
    lines = []
    for link in analysis.hosts:
        host = link.host
        rate = host.growth_percent_per_day
        line = words.say(
            "review_host_link",
            host=host.instance,
            pages=words.number(link.pages),
            verdict=words.say(f"review_verdict_{host.verdict}"),
            rate=words.signed(rate) if rate is not None else NOTHING,
        )
        if link.restart_every is not None:
            days = link.restart_every / timedelta(days=1)
            line += words.say("review_host_restarts", days=words.number(round(days)))
        lines.append(line)
    return {"source": source, "lines": lines, "linked": True}


def _actions(actions: ActionFacts, words: Words) -> dict[str, Any]:
    if not actions.finals:
        return {"source": words.say("review_no_actions"), "owners": [], "services": []}
    no_owner = words.say("review_no_owner")

    def rows(counts: list[facts.ActionCount]) -> list[dict[str, str]]:
        return [
            {
                "name": c.name or no_owner,
                "total": words.number(c.total),
                "open": words.number(c.open),
                "overdue": words.number(c.overdue),
            }
            for c in counts
        ]

    return {
        "source": words.say(
            "review_actions_source",
            count=words.number(actions.finals),
            date=actions.today.isoformat(),
        ),
        "owners": rows(actions.owners),
        "services": rows(actions.services),
        "overdue": [
            {
                "action": a.action,
                "owner": a.owner or no_owner,
                "due": a.due.isoformat() if a.due else NOTHING,
                "incident": a.incident_id,
                "tracker": a.tracker_key,
                "url": a.tracker_url,
            }
            for a in actions.overdue[:OVERDUE_ROWS]
        ],
    }


def _duration(seconds: float | None, words: Words) -> str:
    return words.duration(timedelta(seconds=seconds)) if seconds is not None else NOTHING


def _gap(gap: Gap) -> str:
    return f"{gap.source} {gap.subject}: {gap.detail}".strip()
