"""What the Jira and Confluence clients share: the guarded session, the account, the faults.

Both clients are `atlassian-python-api` objects over `http_guard.GuardedSession`: no credential
follows a redirect to another server, and each attempt ends within the service's timeout, all
reads together. A 429 is retried once after its Retry-After (at most RETRY_AFTER_CAP seconds);
any other fault is `FilingError`, whose message names the service, its server and the status,
never a credential.
"""

from __future__ import annotations

from typing import Any

import requests

from collector.config.settings import AtlassianCredentials
from collector.errors import CollectorError
from collector.sources.http_guard import GuardedSession, RedirectRefused

RETRY_AFTER_CAP = 10


class FilingError(CollectorError):
    """Jira or Confluence could not be reached or refused a request; `status` is the HTTP
    status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def client_options(
    credentials: AtlassianCredentials, ca_file: str | None, timeout: float
) -> dict[str, Any]:
    """The keyword arguments of an `atlassian` client: the session, the account, no backoff."""
    session = GuardedSession()
    session.verify = ca_file or True
    auth: dict[str, Any] = {"username": credentials.user, "password": credentials.api_token}
    if credentials.api_token and not credentials.user:  # Data Center: a personal token
        auth = {"token": credentials.api_token}
    return {
        "session": session,
        "timeout": max(1, round(timeout)),
        "backoff_and_retry": False,
        "max_backoff_seconds": RETRY_AFTER_CAP,
        **auth,
    }


def guarded_call(service: str, timeout: float, method: Any, *args: Any, **kwargs: Any) -> Any:
    """`method(*args, **kwargs)`, its faults as one `FilingError` ("Jira at https://…: …")."""
    try:
        return method(*args, **kwargs)
    except RedirectRefused as exc:
        raise FilingError(f"{service} {exc}") from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        raise FilingError(f"{service} answered HTTP {status}", status) from None
    except requests.Timeout:
        raise FilingError(f"{service} did not answer within {timeout:g} s") from None
    except (requests.RequestException, ValueError) as exc:
        raise FilingError(f"{service} unreachable: {type(exc).__name__}") from None
