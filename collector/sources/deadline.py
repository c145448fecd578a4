"""A bound on each HTTP attempt's total time: connect, TLS handshake and every read together.

Both HTTP libraries used here bound each socket operation, not their sum: a server sending one
byte a second answers within every read timeout and holds a request as long as it likes. Inside
`bounded(seconds)`, each attempt of the request (`start_attempt`) gets `seconds` in all; when they
are up, a timer shuts the attempt's sockets down, the blocked read returns at once and the library
raises. Sockets are watched through duplicates of their descriptors: wrapping a socket in TLS
detaches the Python object a connection started with, never the connection itself.

`collector.sources.http_guard` calls these from the libraries' hooks; nothing else needs to.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_current = threading.local()


class RequestClock:
    """One request's attempts, each with its own `seconds`, and whether any ran out of them."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.timed_out = False
        self._lock = threading.Lock()
        self._attempt = 0
        self._timer: threading.Timer | None = None
        self._expired = False
        # id of each socket object seen in this attempt -> (that object, a duplicate to shut):
        # the object is kept so that its id is not reused by another while the attempt lasts.
        self._watched: dict[int, tuple[socket.socket, socket.socket]] = {}

    def start_attempt(self) -> None:
        """An attempt begins: the clock starts again, for the sockets it will use."""
        with self._lock:
            self._release()
            self._attempt += 1
            self._expired = False
            self._timer = threading.Timer(self.seconds, self._expire, args=(self._attempt,))
            self._timer.daemon = True  # a pending timer never holds the process
            self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the attempt's time is up (at once if it already is)."""
        with self._lock:
            if self._timer is None or id(sock) in self._watched:
                return
            try:
                copy = socket.socket(fileno=os.dup(sock.fileno()))
            except OSError:  # already closed: nothing left to bound
                return
            self._watched[id(sock)] = (sock, copy)
            if self._expired:
                _shut(copy)

    def close(self) -> None:
        """The request is over: no timer left, no duplicate kept."""
        with self._lock:
            self._release()

    def _expire(self, attempt: int) -> None:
        with self._lock:
            if attempt != self._attempt or self._timer is None:
                return  # a timer that fired as its attempt ended
            self._expired = True
            self.timed_out = True
            for _, copy in self._watched.values():
                _shut(copy)

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, copy in self._watched.values():
            copy.close()
        self._watched.clear()


def _shut(sock: socket.socket) -> None:
    # shutdown, not close: it ends a recv blocked in another thread, and the connection's own
    # descriptor stays valid until its owner closes it.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already disconnected


@contextmanager
def bounded(seconds: float | None) -> Iterator[RequestClock | None]:
    """Bound the attempts of the request made inside (on this thread) to `seconds` each."""
    if seconds is None or seconds <= 0:
        yield None
        return
    clock = RequestClock(seconds)
    outer = getattr(_current, "clock", None)
    _current.clock = clock
    try:
        yield clock
    finally:
        clock.close()
        _current.clock = outer


def start_attempt() -> None:
    """An attempt of this thread's bounded request begins (nothing outside `bounded`)."""
    clock: RequestClock | None = getattr(_current, "clock", None)
    if clock is not None:
        clock.start_attempt()


def watch(sock: socket.socket) -> None:
    """This thread's bounded request uses `sock` (nothing outside `bounded`)."""
    clock: RequestClock | None = getattr(_current, "clock", None)
    if clock is not None:
        clock.watch(sock)
