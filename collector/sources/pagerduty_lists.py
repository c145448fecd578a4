"""PagerDuty listings, complete: every record of a list endpoint however many there are, and
the incidents of a time window (those resolved in it, for batch mode; all, for the fleet review).

Classic pagination stops at 10,000 records: a list that can be narrowed by time is split in
halves until each half fits; one that cannot is fetched in part and says so as a `Gap`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pagerduty

from collector.records import Gap, GapKind
from collector.sources.pagerduty import PagerDutyError, request_json
from collector.timeutil import iso_utc, parse_time

PAGE_SIZE = 100
# PagerDuty refuses offset + limit above 10,000 on classic pagination.
OFFSET_LIMIT = 10_000
# PagerDuty's incident list accepts a since/until window of at most 6 months.
MAX_LIST_WINDOW = timedelta(days=180)

Window = tuple[datetime, datetime]


class Lister:
    """Classic pagination, complete: pages fetched side by side once the total is known, and
    time ranges split in halves where PagerDuty's 10,000-record offset limit would cut."""

    def __init__(self, client: pagerduty.RestApiV2Client, max_concurrency: int) -> None:
        self.client = client
        self.max_concurrency = max(1, max_concurrency)
        # Lists that could only be fetched in part.
        self.gaps: list[Gap] = []

    def fetch_all(
        self,
        path: str,
        key: str,
        params: dict[str, Any],
        window: Window | None,
        split: bool = False,
    ) -> list[dict[str, Any]]:
        """Every record of a list endpoint, each once, whatever the count.

        `window` is the since/until range the endpoint can be narrowed to (None: it has no time
        filter); `split` sends it from the first request on.
        """
        if split and window is not None:
            params = {**params, "since": iso_utc(window[0]), "until": iso_utc(window[1])}
        first = self._page(path, key, {**params, "total": "true"}, 0)
        total = first.get("total")
        if isinstance(total, int) and total > OFFSET_LIMIT:
            if window is not None:
                return self._split(path, key, params, window)
            # Splitting an endpoint that ignores since/until would only repeat the same list.
            gap = Gap("PagerDuty", key, GapKind.TRUNCATED, path, OFFSET_LIMIT, total)
            self.gaps.append(gap)  # the detail: the endpoint that cannot be narrowed by time
            total = OFFSET_LIMIT
        items = self._rest(path, key, params, first, total)
        return list({item.get("id", id(item)): item for item in items}.values())

    def _rest(
        self, path: str, key: str, params: dict[str, Any], first: dict[str, Any], total: Any
    ) -> list[dict[str, Any]]:
        """The first page's records and those of every page after it."""
        items: list[dict[str, Any]] = list(first[key])
        if isinstance(total, int):
            offsets = range(len(items), total, PAGE_SIZE)
            with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
                for page in pool.map(lambda o: self._page(path, key, params, o), offsets):
                    items.extend(page[key])
        else:  # a server that gives no total: follow `more`, one page after another
            page = first
            while page.get("more") and page[key]:
                page = self._page(path, key, params, len(items))
                items.extend(page[key])
        return items

    def _split(
        self, path: str, key: str, params: dict[str, Any], window: Window
    ) -> list[dict[str, Any]]:
        start, end = window
        if end - start < timedelta(seconds=2):
            raise PagerDutyError(
                f"{path} has more than {OFFSET_LIMIT} records within one second; PagerDuty's"
                " pagination cannot return them all"
            )
        middle = start + (end - start) / 2
        halves = [(start, middle), (middle, end)]
        parts = [self.fetch_all(path, key, params, half, split=True) for half in halves]
        merged = {item.get("id", id(item)): item for part in parts for item in part}
        return list(merged.values())

    def _page(self, path: str, key: str, params: dict[str, Any], offset: int) -> dict[str, Any]:
        if offset + PAGE_SIZE > OFFSET_LIMIT:
            raise PagerDutyError(
                f"{path}: PagerDuty refuses offsets past {OFFSET_LIMIT}; narrow the time range"
            )
        body = request_json(
            self.client, path, {**params, "limit": PAGE_SIZE, "offset": offset}, path
        )
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            raise PagerDutyError(f"PagerDuty answered {path} without a '{key}' list (malformed)")
        return body


def list_resolved_incidents(
    client: pagerduty.RestApiV2Client,
    resolved_since: datetime,
    until: datetime,
    *,
    created_lookback: timedelta = timedelta(days=30),
    filters: dict[str, list[str]] | None = None,
    max_concurrency: int = 4,
) -> list[dict[str, Any]]:
    """Incidents resolved in [resolved_since, until], oldest resolve first, as raw JSON.

    The list endpoint filters on creation time, so incidents created up to `created_lookback`
    before the window are asked for and kept when their resolve falls inside it.
    """
    lister = Lister(client, max_concurrency)
    params: dict[str, Any] = {"statuses[]": ["resolved"], "time_zone": "UTC"}
    params |= _filter_params(filters)
    found = _incidents_created(lister, params, (resolved_since - created_lookback, until))
    resolved = [
        item
        for item in found
        if item.get("resolved_at") and resolved_since <= parse_time(item["resolved_at"]) <= until
    ]
    # Compared as times, not strings: "…Z" and "…+00:00" (or fractions) sort apart as text.
    return sorted(resolved, key=lambda item: (parse_time(item["resolved_at"]), item["id"]))


def list_incidents(
    client: pagerduty.RestApiV2Client,
    since: datetime,
    until: datetime,
    *,
    max_concurrency: int = 4,
    filters: dict[str, list[str]] | None = None,
) -> tuple[list[dict[str, Any]], list[Gap]]:
    """Every incident created in [since, until], any status, with its first trigger entry,
    narrowed by `filters` as `list_resolved_incidents` is.

    Returns the incidents as raw JSON, oldest first, and the lists fetched only in part.
    """
    lister = Lister(client, max_concurrency)
    params: dict[str, Any] = {"time_zone": "UTC", "include[]": ["first_trigger_log_entries"]}
    params |= _filter_params(filters)
    found = _incidents_created(lister, params, (since, until))
    ordered = sorted(found, key=lambda item: (parse_time(item["created_at"]), item["id"]))
    return ordered, lister.gaps


def _filter_params(filters: dict[str, list[str]] | None) -> dict[str, Any]:
    """The list endpoint's parameters for filters such as {"service_ids": [...]}."""
    return {f"{key}[]": list(values) for key, values in (filters or {}).items() if values}


def _incidents_created(
    lister: Lister, params: dict[str, Any], window: Window
) -> list[dict[str, Any]]:
    """The incidents created in the window, each once, asked for 6 months at a time."""
    found: dict[str, dict[str, Any]] = {}
    start, until = window
    while start < until:
        end = min(start + MAX_LIST_WINDOW, until)
        for item in lister.fetch_all("/incidents", "incidents", params, (start, end), split=True):
            found[item["id"]] = item
        start = end
    return list(found.values())
