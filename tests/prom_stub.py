"""A loopback Prometheus that answers every query with the same few series: for names and
samples no real Prometheus would store (`=HYPERLINK(…)` hosts, a swap sample "abc")."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _handler(instances: list[str], bad_value: str | None) -> type[BaseHTTPRequestHandler]:
    class Stub(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._answer(parse_qs(urlsplit(self.path).query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(parse_qs(self.rfile.read(length).decode()))

        def _answer(self, params: dict[str, list[str]]) -> None:
            if "step" in params:
                start, end = float(params["start"][0]), float(params["end"][0])
                step = float(params["step"][0])
                times = [start + i * step for i in range(int((end - start) // step) + 1)]
                # The bad value only in the swap query's answers: the memory query still answers.
                bad = bad_value if "Swap" in params.get("query", [""])[0] else None
                result = [
                    {"metric": {"instance": name}, "values": _ramp(times, n, bad)}
                    for n, name in enumerate(instances)
                ]
                data = {"resultType": "matrix", "result": result}
            else:
                at = float(params.get("time", ["0"])[0])
                result = [{"metric": {"instance": n}, "value": [at, "0.001"]} for n in instances]
                data = {"resultType": "vector", "result": result}
            body = json.dumps({"status": "success", "data": data}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Stub


def _ramp(times: list[float], n: int, bad_value: str | None) -> list[list[Any]]:
    values = [[t, f"{40 + 10 * n + i * 0.001:.3f}"] for i, t in enumerate(times)]
    if bad_value is not None and values:
        values[len(values) // 2][1] = bad_value
    return values


@contextmanager
def prometheus_stub(instances: list[str], bad_value: str | None = None) -> Iterator[str]:
    """Serve the stub on a free loopback port; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(instances, bad_value))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
