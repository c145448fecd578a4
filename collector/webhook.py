"""Webhook mode: receive PagerDuty v3 webhooks and draft on incident.resolved (stub)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from collector.config import Config


def serve_webhooks(
    config: Config, out_dir: Path, host: str, port: int, *, log: Callable[[str], None]
) -> None:
    """Serve until interrupted; accepted events are drafted in the background."""
    raise NotImplementedError
