"""The words of the hand-off messages: the chat notice (Slack, Teams, JSON) and the PagerDuty note.

Facts in (`DraftFacts`), a JSON-ready payload or a sentence out; the words live in
`report.words.labels.HANDOFF`, in French and English.
"""

from __future__ import annotations

import re
from typing import Any

from collector.analysis.facts import Verdict
from collector.analysis.handoff import DraftFacts
from report.words import formats
from report.words.labels import CONFLUENCE, FINAL, HANDOFF

# MessageCard accent: green when the RTO was met, orange otherwise.
TEAMS_COLOURS = {Verdict.MET: "2EB886", Verdict.MISSED: "E8912D"}


def note_text(link: str, language: str) -> str:
    """The note added to the PagerDuty incident."""
    return HANDOFF[language]["note"].format(link=link)


def is_drafted_note(content: str) -> bool:
    """True when a PagerDuty note is one we posted (in any language)."""
    return any(content.startswith(words["note"].split("{link}")[0]) for words in HANDOFF.values())


def notice_payload(facts: DraftFacts, link: str, language: str, fmt: str) -> dict[str, Any]:
    """The chat message announcing a new draft, in the receiver's format."""
    if fmt == "teams":
        return _teams(facts, link, language)
    if fmt == "json":
        return _json(facts, link, language)
    return _slack(facts, link, language)


def _lines(facts: DraftFacts, language: str) -> list[tuple[str, str]]:
    words = HANDOFF[language]
    duration = formats.duration(facts.duration, language) if facts.duration else words["ongoing"]
    return [
        (words["severity"], facts.severity or words["unknown"]),
        (words["duration"], duration),
        (words["rto"], rto_text(facts, language)),
    ]


def rto_text(facts: DraftFacts, language: str) -> str:
    """The RTO verdict in words, with the figures it compares."""
    template = HANDOFF[language][f"rto_{facts.rto_verdict.value}"]
    return template.format(
        actual=formats.duration(facts.rto_actual, language),
        target=formats.duration(facts.rto_target, language),
    )


def _summary(facts: DraftFacts, link: str, language: str) -> str:
    words = HANDOFF[language]
    colon = words["colon"]  # French sets a space before the colon
    details = ", ".join(f"{name}{colon}{value}" for name, value in _lines(facts, language))
    return f"{words['headline']}{colon}{facts.title} ({details}). {words['report']}{colon}{link}"


def _slack(facts: DraftFacts, link: str, language: str) -> dict[str, Any]:
    words = HANDOFF[language]
    title = _mrkdwn(facts.title)
    if _is_url(facts.incident_url):
        title = f"<{facts.incident_url}|{title}>"
    target = f"<{link}|{words['open_report']}>" if _is_url(link) else f"`{_mrkdwn(link)}`"
    fields = [
        {"type": "mrkdwn", "text": f"*{name}*\n{_mrkdwn(value)}"}
        for name, value in _lines(facts, language)
    ]
    fields.append({"type": "mrkdwn", "text": f"*{words['report']}*\n{target}"})
    return {
        # The fallback text is mrkdwn too: a title's `<!channel>` or `<https://x|label>` is text.
        "text": _mrkdwn(_summary(facts, link, language)),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{words['headline']}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": title}, "fields": fields},
        ],
    }


def _teams(facts: DraftFacts, link: str, language: str) -> dict[str, Any]:
    words = HANDOFF[language]
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": words["headline"],
        "title": words["headline"],
        "text": _teams_text(_summary(facts, link, language)),
        "sections": [
            {
                "activityTitle": facts.title,
                "facts": [{"name": n, "value": v} for n, v in _lines(facts, language)]
                + [{"name": words["report"], "value": link}],
                "markdown": False,  # PagerDuty titles are free text: shown, never interpreted
            }
        ],
    }
    colour = TEAMS_COLOURS.get(facts.rto_verdict)
    if colour:
        card["themeColor"] = colour
    if _is_url(link):
        target = {"os": "default", "uri": link}
        action = {"@type": "OpenUri", "name": words["open_report"], "targets": [target]}
        card["potentialAction"] = [action]
    return card


def _json(facts: DraftFacts, link: str, language: str) -> dict[str, Any]:
    def seconds(value: Any) -> float | None:
        return None if value is None else value.total_seconds()

    return {
        "event": "report.drafted",
        "text": _summary(facts, link, language),
        "incident_id": facts.incident_id,
        "title": facts.title,
        "severity": facts.severity,
        "service": facts.service,
        "duration_seconds": seconds(facts.duration),
        "rto": {
            "verdict": facts.rto_verdict.value,
            "target_seconds": seconds(facts.rto_target),
            "actual_seconds": seconds(facts.rto_actual),
        },
        "report_link": link,
        "incident_url": facts.incident_url,
        "language": language,
    }


def _is_url(link: str) -> bool:
    # Slack's <url|label> syntax cannot carry these characters: such a link is shown as text.
    return link.startswith(("https://", "http://")) and not any(c in link for c in "<>| ")


def _mrkdwn(text: str) -> str:
    # Slack's three control characters; anything else in a PagerDuty title is shown as is.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEAMS_MARKDOWN = re.compile(r"([\\`*_\[\]()#<>~|!])")


def _teams_text(text: str) -> str:
    """Text for a Teams card's `text`, which Teams renders as Markdown: a title's `[x](url)`
    stays text, never a link."""
    return _TEAMS_MARKDOWN.sub(r"\\\1", text)


def final_note_text(link: str, language: str) -> str:
    """The note added to the PagerDuty incident once its report is final."""
    return FINAL[language]["final_note"].format(link=link)


def final_notice_payload(
    title: str,
    signed_by: str | None,
    link: str,
    language: str,
    fmt: str,
    page_url: str | None = None,
) -> dict[str, Any]:
    """The chat message announcing a final report, in the receiver's format (with its
    Confluence page when it was published)."""
    words, handoff = FINAL[language], HANDOFF[language]
    colon = handoff["colon"]
    signed = f" ({words['final_signed']}{colon}{signed_by})" if signed_by else ""
    text = f"{words['final_headline']}{colon}{title}{signed}. {handoff['report']}{colon}{link}"
    page_name = CONFLUENCE[language]["confluence_page"]
    if page_url:
        text += f" {page_name}{colon}{page_url}"
    if fmt == "json":
        return {
            "event": "report.final",
            "text": text,
            "title": title,
            "signed_by": signed_by,
            "report_link": link,
            "confluence_url": page_url,
            "language": language,
        }
    if fmt == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": words["final_headline"],
            "title": words["final_headline"],
            "text": _teams_text(text),
        }
    target = f"<{link}|{handoff['open_report']}>" if _is_url(link) else f"`{_mrkdwn(link)}`"
    if page_url and _is_url(page_url):
        target += f" · <{page_url}|{_mrkdwn(page_name)}>"
    said = f"*{words['final_headline']}*{colon}{_mrkdwn(title)}{_mrkdwn(signed)}. {target}"
    section = {"type": "section", "text": {"type": "mrkdwn", "text": said}}
    return {"text": _mrkdwn(text), "blocks": [section]}
