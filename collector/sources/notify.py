"""Chat webhook client: post one JSON message, with bounded retries (the only chat network code).

Slack, Microsoft Teams and generic JSON receivers all take a JSON `POST`. The webhook URL is a
secret (whoever has it can post to the channel), so no message raised here contains it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from collector.config import NotifySettings
from collector.errors import SourceError
from collector.sources.http_guard import GuardedSession, RedirectRefused

# Answers worth another attempt: rate limits, timeouts and server-side failures.
RETRIED_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# The longest wait between two attempts, whatever Retry-After asks.
MAX_WAIT = 60.0
MAX_DETAIL = 80
# Path segments this long may be (part of) the secret: an answer quoting one is not repeated.
MIN_SECRET = 6


class NotifyError(SourceError):
    """The chat message could not be delivered; the message never contains the URL."""


def post_chat_message(
    settings: NotifySettings,
    payload: Mapping[str, Any],
    *,
    ca_bundle: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST the payload to the webhook; return the number of attempts it took.

    Retries connection failures, 429 (waiting what Retry-After asks, at most MAX_WAIT) and 5xx
    with exponential backoff, `settings.max_retries` times; raises NotifyError after that, or
    at once for an answer that another attempt cannot change (400, 403, 404...).
    """
    url = settings.webhook_url
    if not url:
        raise NotifyError("no chat webhook configured (NOTIFY_WEBHOOK_URL)")
    attempts = settings.max_retries + 1
    problem = ""
    for attempt in range(attempts):
        try:
            with GuardedSession() as session:  # each attempt ends within settings.timeout
                response = session.post(
                    url,
                    json=dict(payload),
                    timeout=settings.timeout,
                    verify=ca_bundle or True,
                    allow_redirects=False,
                )
        except RedirectRefused as exc:
            # Whoever answers there is not the receiver the URL names: the URL is not resent.
            raise NotifyError(f"the chat webhook {exc}: check NOTIFY_WEBHOOK_URL") from exc
        except requests.exceptions.Timeout:
            problem = f"the chat webhook did not answer within {settings.timeout:g} s"
            wait = settings.backoff * 2**attempt
        except requests.RequestException as exc:
            problem = f"cannot reach the chat webhook ({type(exc).__name__})"
            wait = settings.backoff * 2**attempt
        else:
            if 200 <= response.status_code < 300:
                return attempt + 1
            problem = f"the chat webhook answered HTTP {response.status_code}"
            problem += _detail(response.text, url)
            if response.status_code not in RETRIED_STATUSES:
                raise NotifyError(problem)
            wait = _retry_after(response.headers.get("Retry-After"))
            if wait is None:
                wait = settings.backoff * 2**attempt
        if attempt + 1 < attempts:
            sleep(min(max(wait, 0.0), MAX_WAIT))
    raise NotifyError(f"{problem}; gave up after {attempts} attempts")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


def _detail(body: str, url: str) -> str:
    # Slack says why in a short plain-text body (invalid_payload, no_text...): worth keeping,
    # unless it is long, or could echo the secret URL back.
    text = " ".join(body.split())[:MAX_DETAIL]
    parts = urlsplit(url)
    secrets = [p for p in (*parts.path.split("/"), parts.query) if len(p) >= MIN_SECRET]
    if not text or text.startswith("<") or any(secret in text for secret in secrets):
        return ""
    return f" ({text})"
