"""A chat webhook receiver on loopback (Slack-like: JSON POST, `200 ok`), for hand-off tests.

Its URL carries a random secret path, as a real incoming-webhook URL does, so that tests can
prove the secret never reaches an output. Answers can be scripted: each POST takes the next
scripted (status, headers, body); once the script is used up it answers `200 ok`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Post:
    """One message as received."""

    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class _Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        """Record the message, then send the scripted answer."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        receiver = self.server.receiver
        try:
            body: Any = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        with receiver.lock:
            receiver.posts.append(Post(self.path, headers, body, time.monotonic()))
            answer = receiver.script.pop(0) if receiver.script else _Answer(200)
        if self.path != receiver.path:
            answer = _Answer(404, body="no_service")
        data = answer.body.encode("utf-8")
        self.send_response(answer.status)
        for name, value in {"Content-Type": "text/plain", **answer.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    block_on_close = True

    def __init__(self, receiver: ChatReceiver) -> None:
        self.receiver = receiver
        super().__init__(("127.0.0.1", 0), _Handler)


class ChatReceiver:
    """`with ChatReceiver() as chat:` then `chat.url`, `chat.posts`, `chat.answer(...)`."""

    def __init__(self) -> None:
        self.secret = secrets.token_hex(12)
        self.path = f"/services/T0TEST/B0TEST/{self.secret}"
        self.posts: list[Post] = []
        self.script: list[_Answer] = []
        self.lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def answer(self, status: int, *, times: int = 1, body: str = "", **headers: str) -> None:
        """Script the next `times` answers."""
        fixed = {name.replace("_", "-"): value for name, value in headers.items()}
        with self.lock:
            self.script.extend(_Answer(status, fixed, body) for _ in range(times))

    @property
    def url(self) -> str:
        """The webhook URL, secret included."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> ChatReceiver:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
