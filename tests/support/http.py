"""TestHTTPServer: a threaded HTTP/1.1 loopback server with built-in routes, custom routes,
request recording and in-flight accounting; optional TLS.

Everything binds to 127.0.0.0/8 or ::1 on port 0: tests never send traffic elsewhere.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl

from support.bodies import gzip_bomb
from support.net import (
    HANDLER_TIMEOUT,
    _family,
    _loopback_host,
    _shutdown_socket,
    _Stoppable,
    _url_host,
    abort_connection,
)

RouteHandler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class RecordedRequest:
    """One request as seen by :class:`TestHTTPServer` (recorded when it starts)."""

    method: str
    path: str  # raw request target, query included, as sent by the client
    headers: dict[str, str]  # lowercased names; repeated headers joined with ", "
    time_start: float  # time.monotonic() when the request head had been parsed
    time_end: float | None = None  # time.monotonic() after the response was written
    client_port: int = 0  # same value for requests made over the same connection
    version: str = "HTTP/1.1"


def reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes | str = b"",
    headers: Iterable[tuple[str, str]] = (),
    content_type: str = "text/plain; charset=utf-8",
) -> None:
    """Send a complete response with Content-Length (no body for HEAD, 1xx, 204, 304)."""
    if isinstance(body, str):
        body = body.encode()
    no_body = status in (204, 304) or 100 <= status < 200
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    if not no_body:
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if not no_body and handler.command != "HEAD" and body:
        handler.wfile.write(body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "urlsweep-test"
    sys_version = ""
    timeout = HANDLER_TIMEOUT
    disable_nagle_algorithm = True  # else head + body writes cost 40 ms (delayed ACK)
    server: TestHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # client went away, reset, TLS error, timeout, server stopping
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_GET
    do_POST = do_GET
    do_PUT = do_GET
    do_DELETE = do_GET
    do_PATCH = do_GET
    do_OPTIONS = do_GET

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self) -> None:
        server = self.server
        record = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=_header_dict(self),
            time_start=time.monotonic(),
            client_port=int(self.client_address[1]),
            version=self.request_version,
        )
        server._begin(record)
        try:
            route_path = self.path.partition("?")[0]
            custom = server._route_for(route_path)
            if custom is not None:
                custom(self)
            else:
                self._drain_body()
                self._builtin(route_path, self.path.partition("?")[2])
        finally:
            server._end(record)

    def _drain_body(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # not supported; don't try to resync
            return
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)

    def _builtin(self, path: str, query: str) -> None:
        params = parse_qsl(query, keep_blank_values=True)
        head = self.command == "HEAD"
        stop = self.server.stopping

        if path in ("/", "/ok"):
            reply(self, 200, "ok\n")
        elif path.startswith("/status/"):
            self._status(path.removeprefix("/status/"), params)
        elif path.startswith("/delay/"):
            seconds = _parse_float(path.removeprefix("/delay/"))
            if seconds is None or seconds < 0:
                reply(self, 404, "bad delay\n")
                return
            if stop.wait(seconds):
                self.close_connection = True
                return
            reply(self, 200, f"delayed {seconds}\n")
        elif path.startswith("/redirect/"):
            n = _parse_int(path.removeprefix("/redirect/"))
            if n is None or n < 0:
                reply(self, 404, "bad redirect count\n")
            elif n == 0:
                reply(self, 200, "redirect chain done\n")
            else:
                reply(self, 302, "redirect\n", [("Location", f"/redirect/{n - 1}")])
        elif path == "/redirect-to":
            values = dict(params)
            status = _parse_int(values.get("status", "302"))
            if "url" not in values or status is None or not 300 <= status <= 399:
                reply(self, 400, "need url= and a 3xx status=\n")
                return
            reply(self, status, "redirect\n", [("Location", values["url"])])
        elif path == "/loop":
            reply(self, 302, "loop\n", [("Location", "/loop")])
        elif path in ("/head-405", "/head-501", "/head-404"):
            if head:
                code = int(path.removeprefix("/head-"))
                extra = [("Allow", "GET")] if code == 405 else []
                reply(self, code, f"HEAD not allowed ({code})\n", extra)
            else:
                reply(self, 200, "GET works\n")
        elif path == "/head-reset":
            if head:
                self.close_connection = True
                abort_connection(self.connection)
            else:
                reply(self, 200, "GET works\n")
        elif path == "/endless":
            self._endless()
        elif path == "/trickle":
            self._trickle()
        elif path == "/gzip-bomb":
            body = gzip_bomb()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
        elif path == "/headers":
            reply(self, 200, json.dumps(_header_dict(self)), content_type="application/json")
        elif path.startswith("/utf8/"):
            reply(self, 200, "utf8 ok\n")
        else:
            reply(self, 404, "not found\n")

    def _status(self, code_text: str, params: list[tuple[str, str]]) -> None:
        code = _parse_int(code_text)
        if code is None or not 100 <= code <= 599:
            reply(self, 404, "bad status code\n")
            return
        if code < 200:
            reply(self, 400, "1xx final statuses are not supported\n")
            return
        headers: list[tuple[str, str]] = []
        for key, value in params:
            if key == "retry_after":
                headers.append(("Retry-After", value))
            elif key == "header" and ":" in value:
                name, _, val = value.partition(":")
                headers.append((name.strip(), val.strip()))
        reply(self, code, f"status {code}\n", headers)

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.close_connection = True  # the body never terminates
        frame = b"10000\r\n" + b"x" * 65536 + b"\r\n"
        stop = self.server.stopping
        while not stop.is_set():
            self.wfile.write(frame)  # blocks (no spinning) while the client doesn't read

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.close_connection = True  # only reached when the transfer was cut short
        stop = self.server.stopping
        for _ in range(1000000):
            self.wfile.write(b"x")
            if stop.wait(0.2):
                return
        self.close_connection = False


def _header_dict(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in handler.headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _parse_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class TestHTTPServer(_Stoppable, ThreadingHTTPServer):
    """Threaded HTTP/1.1 keep-alive server on a loopback address and a random port.

    ``requests``, ``in_flight``, ``max_in_flight`` and ``connection_count`` are updated under
    ``lock``. A request is appended to ``requests`` before its handler runs, and
    ``time_end``/``in_flight`` are updated after the response has been written, so a client
    may see the response slightly before that; use :meth:`wait_idle` before asserting on them.
    """

    __test__ = False  # not a pytest test class
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", tls_context: ssl.SSLContext | None = None):
        self.host = _loopback_host(host)
        self.address_family = _family(self.host)
        self.tls_context = tls_context
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.connection_count = 0
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self._routes: dict[str, RouteHandler] = {}
        self._conns: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._serve_thread: threading.Thread | None = None
        self._closed = False
        super().__init__((self.host, 0), _Handler)

    # ----------------------------------------------------------------- public API

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def scheme(self) -> str:
        return "https" if self.tls_context is not None else "http"

    @property
    def base_url(self) -> str:
        host = _url_host(self.host)
        if self.tls_context is not None and self.host == "127.0.0.1":
            host = "localhost"
        return f"{self.scheme}://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def route(self, path: str, handler: RouteHandler) -> None:
        """Serve exact ``path`` (query ignored) with ``handler``; overrides built-ins.
        A ``path`` ending in ``/*`` serves every path one level under it."""
        with self.lock:
            self._routes[path] = handler

    def clear(self) -> None:
        """Forget recorded requests/errors and reset ``max_in_flight`` (to ``in_flight``)."""
        with self.lock:
            self.requests.clear()
            self.errors.clear()
            self.max_in_flight = self.in_flight
            self.connection_count = 0

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until no request is in flight; returns False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.in_flight == 0:
                    return True
            time.sleep(0.005)
        return False

    def start(self) -> Self:
        if self._serve_thread is None:
            self._serve_thread = threading.Thread(
                target=self.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"TestHTTPServer-{self.port}",
                daemon=True,
            )
            self._serve_thread.start()
        return self

    # ----------------------------------------------------------------- internals

    def _signal_stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.stopping.set()
        if self._serve_thread is not None:
            self.shutdown()  # returns within poll_interval
        self.server_close()
        with self.lock:
            conns = list(self._conns)
        for conn in conns:
            _shutdown_socket(conn)

    def _join(self, deadline: float) -> None:
        with self.lock:
            threads = list(self._handler_threads)
        if self._serve_thread is not None:
            threads.append(self._serve_thread)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _route_for(self, path: str) -> RouteHandler | None:
        with self.lock:
            found = self._routes.get(path)
            if found is None and "/" in path:  # "/a/*" serves every path under /a/
                found = self._routes.get(path.rsplit("/", 1)[0] + "/*")
            return found

    def _begin(self, record: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _end(self, record: RecordedRequest) -> None:
        with self.lock:
            record.time_end = time.monotonic()
            self.in_flight -= 1

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), i.e. a reverse DNS lookup: skip it.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.host
        self.server_port = self.port

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the per-connection thread: TLS handshake, bookkeeping, then the handler."""
        conn: socket.socket = request
        thread = threading.current_thread()
        with self.lock:
            if self.stopping.is_set():
                return
            self.connection_count += 1
            self._handler_threads.add(thread)
            self._conns.add(conn)
        try:
            if self.tls_context is not None:
                conn.settimeout(HANDLER_TIMEOUT)
                try:
                    tls_conn = self.tls_context.wrap_socket(conn, server_side=True)
                except (OSError, ValueError):
                    return  # handshake failed (e.g. client rejected our certificate)
                with self.lock:
                    self._conns.discard(conn)
                    self._conns.add(tls_conn)
                conn = tls_conn
                if self.stopping.is_set():
                    return
            handler_class: Any = self.RequestHandlerClass
            handler_class(conn, client_address, self)
        finally:
            with self.lock:
                self._conns.discard(conn)
                self._handler_threads.discard(thread)
            if conn is not request:
                self.shutdown_request(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is None or isinstance(exc, OSError):
            return  # disconnects, resets, TLS failures: expected in these tests
        with self.lock:
            self.errors.append(exc)
        super().handle_error(request, client_address)  # real bugs: print the traceback
