"""Batch mode: draft every incident resolved in a window, exactly once (stub, being built)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from collector.config import Config


@dataclass(frozen=True)
class Outcome:
    """What happened to one incident in a batch run."""

    incident_id: str
    status: str  # "drafted" | "skipped" | "failed"
    reason: str


@dataclass
class BatchSummary:
    """All outcomes of a run, and whether the listing itself failed."""

    outcomes: list[Outcome] = field(default_factory=list)
    listing_error: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.listing_error is None and all(o.status != "failed" for o in self.outcomes)

    def report_lines(self) -> list[str]:
        """One human-readable line per incident."""
        return [f"{o.status}: {o.incident_id}: {o.reason}" for o in self.outcomes]

    def summary_line(self) -> str:
        """One machine-readable line: `summary: {json}`."""
        counts = {
            s: sum(1 for o in self.outcomes if o.status == s)
            for s in ("drafted", "skipped", "failed")
        }
        return "summary: " + json.dumps({**counts, "listing_error": self.listing_error})


def run_batch(
    config: Config,
    window: timedelta,
    out_dir: Path,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> BatchSummary:
    """Draft every incident resolved within `window` before `now` that has no report yet."""
    raise NotImplementedError
