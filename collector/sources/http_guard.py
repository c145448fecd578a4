"""What every client's HTTP requests share: credentials stay on the configured server, and each
attempt of a request ends within its timeout, all reads together (`.deadline`).

`GuardedSession` is the `requests` session of the Prometheus and chat clients: a redirect to
another origin (scheme, host or port) is refused with `RedirectRefused`, before anything is sent
there, so no configured header, basic auth or bearer token follows it; the same origin is
followed. `bounded_transport` and `send_within` do the same bounding for the `httpx2` client that
the PagerDuty library is built on; that library follows no redirect at all.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore2
import httpx2
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from collector.sources import deadline

# Same-origin redirects (a proxy adding a slash or a path prefix) are few; a loop is not.
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RedirectRefused(requests.exceptions.RequestException):
    """The server redirected to another origin; `target` is that origin (no path, no user).

    Outside the CollectorError tree on purpose: requests raises it from inside its redirect
    loop, and callers handle it as the failed request it is; it never leaves collector/sources/
    (each client words it: `prometheus_api.explain_failure`, `notify`, `atlassian`)."""

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(f"redirected to {target}, another server: not followed", **kwargs)
        self.target = target


def origin(url: str) -> str:
    """`scheme://host:port` of a URL, the part a credential is bound to (never user or path)."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return "an unreadable address"
    host = (parts.hostname or "").lower()
    return f"{parts.scheme.lower()}://{f'[{host}]' if ':' in host else host}:{port}"


def redirect_target(response_url: str, location: str | None) -> str | None:
    """The origin a redirect leads to when it is not the response's own; None when it is."""
    if not location:
        return None
    target = origin(urljoin(response_url, location))
    return None if target == origin(response_url) else target


class GuardedSession(requests.Session):
    """A session that refuses cross-origin redirects and bounds each attempt of a request."""

    def __init__(self) -> None:
        super().__init__()
        self.max_redirects = MAX_REDIRECTS
        for prefix in ("http://", "https://"):
            self.mount(prefix, BoundedAdapter())

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """The redirect's URL, if it stays on the same origin; `RedirectRefused` otherwise."""
        location = super().get_redirect_target(resp)
        target = redirect_target(resp.url, location)
        if target is not None:
            raise RedirectRefused(target, response=resp, request=resp.request)
        return location


class _WatchedConnection(HTTPConnection):
    def _new_conn(self) -> Any:
        sock = super()._new_conn()
        deadline.watch(sock)  # from the TCP connect on: the TLS handshake is bounded too
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> Any:
        sock = super()._new_conn()
        deadline.watch(sock)
        return sock


def _begin_attempt(conn: Any) -> None:
    # urllib3 makes each attempt (its own retries included) through `_make_request`.
    deadline.start_attempt()
    if conn.sock is not None:  # a kept-alive connection, connected in an earlier request
        deadline.watch(conn.sock)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _begin_attempt(conn)
        return super()._make_request(conn, *args, **kwargs)


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _begin_attempt(conn)
        return super()._make_request(conn, *args, **kwargs)


_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class BoundedAdapter(HTTPAdapter):
    """An adapter whose every attempt, connect and all reads, ends within the request's timeout
    (a (connect, read) pair: their sum); a request over time raises `requests` ReadTimeout."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools have connections of their own
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send, and read the body (unless streamed) before the attempt's time is up."""
        seconds = sum(t or 0 for t in timeout) if isinstance(timeout, tuple) else timeout
        with deadline.bounded(seconds) as clock:
            try:
                response = super().send(request, True, timeout, verify, cert, proxies)
                if not stream:
                    _ = response.content  # the body is read inside the bound, then kept
            except requests.exceptions.RequestException as exc:
                if clock is None or not clock.timed_out:
                    raise
                raise requests.exceptions.ReadTimeout(
                    f"no complete answer within {seconds:g} s", request=request
                ) from exc
        return response


class _WatchedStream(httpcore2.NetworkStream):
    """A connection's stream that puts its socket under the current attempt's bound."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def _watch(self) -> None:
        sock = self._inner.get_extra_info("socket")
        if sock is not None:
            deadline.watch(sock)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._watch()
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._watch()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        self._watch()
        return _WatchedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _WatchedBackend(httpcore2.SyncBackend):
    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore2.NetworkStream:
        return _WatchedStream(super().connect_tcp(*args, **kwargs))


def bounded_transport(verify: ssl.SSLContext | bool) -> httpx2.HTTPTransport:
    """An httpx2 transport whose connections `send_within` can bound."""
    transport = httpx2.HTTPTransport(verify=verify)
    pool = transport._pool
    # httpx2 takes no network backend of its own; its connection pool does, and reads it for
    # every connection it opens. tests/test_hardening_network.py fails if that ever changes.
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx2's connection pool has no network backend to bound")
    pool._network_backend = _WatchedBackend()
    return transport


def send_within(
    send: Callable[..., httpx2.Response], request: httpx2.Request, seconds: float, **kwargs: Any
) -> httpx2.Response:
    """`send(request)` (one attempt, the body read) within `seconds`; httpx2 ReadTimeout if not."""
    with deadline.bounded(seconds) as clock:
        deadline.start_attempt()
        try:
            return send(request, **kwargs)
        except httpx2.TransportError as exc:
            if clock is None or not clock.timed_out:
                raise
            raise httpx2.ReadTimeout(
                f"no complete answer within {seconds:g} s", request=request
            ) from exc
