"""Loopback HTTP(S) servers that misbehave on purpose: trickle an answer, redirect elsewhere,
or record what reached them. Each stops by itself: a trickle ends when the client hangs up or
after `TRICKLE_LIMIT` seconds, and `stop()` ends every connection."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme

TRICKLE_LIMIT = 60.0  # seconds a trickle lasts at most, whoever listens
TRICKLE_GAP = 0.2  # seconds between two bytes: far below any read timeout of the tests
# A body long enough that a trickle of it outlasts every bound the tests assert (60 s).
PADDED_BODY = b'{"status": "success", "data": {"resultType": "matrix", "result": []}}' + (
    b" " * 300
)


MOVED = "/moved/"


@dataclass(frozen=True)
class Seen:
    """One request that reached a stub: its path and headers (names lower-cased)."""

    path: str
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def _answer(self) -> None:
        stub = self.server.stub
        stub.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
        # A redirect is answered once: what it leads to on the same server is under /moved/.
        redirect = stub.redirect_to and not self.path.startswith(MOVED)
        head = [f"HTTP/1.0 {302 if redirect else 200} Stub", "Content-Type: application/json"]
        if redirect:
            head.append(f"Location: {stub.redirect_to}{self.path}")
        head.append(f"Content-Length: {len(stub.body)}")
        raw_head = ("\r\n".join(head) + "\r\n\r\n").encode()
        try:
            if stub.mode == "trickle":  # status line, headers and body: one byte at a time
                self._trickle(raw_head + stub.body)
            elif stub.mode == "trickle_body":
                self.wfile.write(raw_head)
                self._trickle(stub.body)
            else:
                self.wfile.write(raw_head + stub.body)
        except OSError:
            pass  # the client gave up: what a bounded client does

    def _trickle(self, data: bytes) -> None:
        ends = time.monotonic() + TRICKLE_LIMIT
        for index in range(len(data)):
            if self.server.stub.stopping.wait(TRICKLE_GAP) or time.monotonic() > ends:
                return
            self.wfile.write(data[index : index + 1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stub: StubServer) -> None:
        self.stub = stub
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        self.stub.track(request)
        if self.stub.context is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(10)
            tls = self.stub.context.wrap_socket(request, server_side=True)
        except OSError:
            return  # a client that hangs up mid-handshake
        try:
            tls.settimeout(None)
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: hang-ups are what the tests provoke."""


class StubServer:
    """One misbehaving server on 127.0.0.1: mode "answer", "trickle" or "trickle_body";
    with `redirect_to`, every path not under MOVED is redirected there (HTTP 302)."""

    def __init__(
        self,
        mode: str = "answer",
        *,
        body: bytes = PADDED_BODY,
        redirect_to: str = "",
        ca: trustme.CA | None = None,
    ) -> None:
        self.mode, self.body, self.redirect_to = mode, body, redirect_to
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self.context: ssl.SSLContext | None = None
        if ca is not None:
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self._connections: list[socket.socket] = []
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def track(self, sock: socket.socket) -> None:
        """Keep a duplicate of a client connection, for `stop` to shut down."""
        self._connections.append(sock.dup())

    @property
    def url(self) -> str:
        scheme = "https" if self.context is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        self._server.shutdown()
        for sock in self._connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._server.server_close()
        self._thread.join()


def write_ca(ca: trustme.CA, folder: Path) -> str:
    """The CA's certificate as a PEM file in `folder`; its path."""
    path = folder / "stub-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)
