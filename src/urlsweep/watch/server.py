"""The HTTP status server beside the checks: /, /api/status, /events, /metrics, /healthz.

Loopback unless another address is asked for. Its threads are not daemons: `stop()` ends
the accept loop (serve_forever's own flag), then joins the request threads, each bounded by
a socket timeout, so no response is cut off mid-write at exit.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from urlsweep.options import OptionError
from urlsweep.watch import page
from urlsweep.watch.board import Board
from urlsweep.watch.metrics import CONTENT_TYPE, Metrics

REQUEST_TIMEOUT = 10.0
CACHE_SECONDS = 0.5


def parse_address(text: str) -> tuple[str, int]:
    """'8080' -> loopback:8080; '127.0.0.1:8080'; '[::1]:8080'; '0.0.0.0:8080' when asked."""
    host, port_text = "127.0.0.1", text
    if ":" in text:
        host, _, port_text = text.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise OptionError(f"--serve {text!r}: want PORT or HOST:PORT (e.g. 127.0.0.1:8080)")
    return host, port


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    board: Board
    metrics: Metrics
    _cache_lock: threading.RLock
    _cache: dict[str, tuple[float, Any]]

    def cached(self, name: str, build: Callable[[], Any], max_age: float = CACHE_SECONDS) -> Any:
        """One build serves every client for `max_age` seconds: with 10,000 URLs a status
        document costs tens of milliseconds, and every open page asks each second."""
        with self._cache_lock:
            hit = self._cache.get(name)
            now = time.monotonic()
            if hit is not None and now - hit[0] < max_age:
                return hit[1]
            value = build()
            self._cache[name] = (time.monotonic(), value)
            return value


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "urlsweep-watch"
    sys_version = ""
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # the client went away or timed out mid-response: its loss only
            self.close_connection = True

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        board = self.server.board
        if path == "/":
            nonce = secrets.token_urlsafe(16)
            body = page.render(self.server.cached("snapshot", board.snapshot), nonce).encode()
            self._reply(
                200,
                body,
                "text/html; charset=utf-8",
                [("Content-Security-Policy", page.csp(nonce))],
            )
        elif path == "/api/status":
            body = self.server.cached(
                "status", lambda: page.status_json(self.server.cached("snapshot", board.snapshot))
            )
            self._reply(200, body, "application/json")
        elif path == "/events":
            body = json.dumps(board.recent_events(), ensure_ascii=False).encode()
            self._reply(200, body, "application/json")
        elif path == "/metrics":
            self._reply(
                200, self.server.cached("metrics", self.server.metrics.render), CONTENT_TYPE
            )
        elif path == "/healthz":
            ok, why = board.healthy()
            self._reply(200 if ok else 503, (why + "\n").encode(), "text/plain; charset=utf-8")
        else:
            self._reply(404, b"not found\n", "text/plain; charset=utf-8")

    def _reply(
        self, status: int, body: bytes, ctype: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers or ():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class StatusServer:
    def __init__(self, host: str, port: int, board: Board, metrics: Metrics) -> None:
        kind = _Server6 if ":" in host else _Server
        try:
            self._server = kind((host, port), _Handler)
        except OSError as exc:
            raise OptionError(f"--serve {host}:{port}: {exc.strerror or exc}") from None
        self._server.board = board
        self._server.metrics = metrics
        self._server._cache = {}
        self._server._cache_lock = threading.RLock()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="urlsweep-serve"
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def start(self) -> None:
        self._thread.start()

    def stop(self, deadline: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(deadline)
        self._server.server_close()  # joins the request threads (block_on_close)
