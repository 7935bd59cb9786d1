"""Loopback-only test servers for the urlsweep test suite.

Everything here binds to 127.0.0.0/8 or ::1 on port 0 and runs in daemon threads, so the
tests never produce traffic anywhere else and never keep pytest alive at exit.

* :class:`TestHTTPServer`: threaded HTTP/1.1 (keep-alive) server with built-in routes,
  custom routes, request recording and in-flight accounting; optional TLS.
* :class:`RawServer`: raw TCP server running an arbitrary per-connection handler, with
  ready-made misbehaving handlers (:func:`dribble_headers`, :func:`reset_connection`, ...).
* :func:`make_tls`: trustme CA, server certificates and an untrusted self-signed certificate.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import itertools
import json
import os
import select
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from random import Random
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import trustme

__all__ = [
    "HANDLER_TIMEOUT",
    "RAW_HANDLER_MAX_SECONDS",
    "STOP_JOIN_TIMEOUT",
    "TLS_IDENTITIES",
    "RawHandler",
    "RawServer",
    "RecordedRequest",
    "RouteHandler",
    "TLSMaterial",
    "TestHTTPServer",
    "abort_connection",
    "close_without_reply",
    "dribble_headers",
    "garbage_reply",
    "gzip_bomb",
    "hang",
    "headers_then_hang",
    "make_tls",
    "read_request_head",
    "reply",
    "reset_connection",
    "wait_for_close",
]

#: Socket timeout for server-side connections (idle keep-alive, blocked writes, reads).
HANDLER_TIMEOUT = 30.0
#: Upper bound for how long the "hang forever" raw handlers hold a connection.
RAW_HANDLER_MAX_SECONDS = 60.0
#: How long ``stop()`` waits in total for handler threads to finish (they are daemons).
STOP_JOIN_TIMEOUT = 1.0

RouteHandler = Callable[[BaseHTTPRequestHandler], None]


# --------------------------------------------------------------------------- helpers


def _loopback_host(host: str) -> str:
    """Return ``host`` as a loopback IP literal, refusing anything that is not loopback."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"test servers bind only to loopback IP literals, got {host!r}") from None
    if not addr.is_loopback:
        raise ValueError(f"refusing to bind a test server to non-loopback address {host!r}")
    return str(addr)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _shutdown_socket(sock: socket.socket) -> None:
    """Wake up any thread blocked on ``sock`` (recv/send/select) without closing the fd.

    Uses the plain ``socket.shutdown`` even for SSL sockets so that the SSL object of a
    connection that another thread is using is left alone.
    """
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def abort_connection(sock: socket.socket) -> None:
    """Close ``sock`` with SO_LINGER (1, 0) so that the peer receives a TCP RST.

    The fd is detached and closed directly: outstanding ``makefile()`` objects (as held by
    ``BaseHTTPRequestHandler``) would otherwise delay the real close, and a graceful
    ``shutdown(SHUT_WR)`` would send a FIN first.
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        fd = sock.detach()
    except OSError:
        return
    if fd >= 0:
        os.close(fd)


def read_request_head(conn: socket.socket, timeout: float = 5.0, limit: int = 65536) -> bytes:
    """Read from ``conn`` until ``b"\\r\\n\\r\\n"``, EOF, ``limit`` bytes or ``timeout``.

    Returns whatever was read (possibly incomplete); never raises on network errors.
    """
    deadline = time.monotonic() + timeout
    data = b""
    old_timeout = conn.gettimeout()
    try:
        while b"\r\n\r\n" not in data and len(data) < limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            conn.settimeout(remaining)
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ValueError):
        pass
    finally:
        with contextlib.suppress(OSError):
            conn.settimeout(old_timeout)
    return data


def wait_for_close(conn: socket.socket, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the connection to end.

    Returns True as soon as the peer closes/resets the connection or the server shuts the
    socket down (on stop), False if the timeout elapsed with the connection still open.
    Any bytes the peer sends meanwhile are read and discarded.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            readable, _, _ = select.select([conn], [], [], remaining)
            if readable and not conn.recv(65536, socket.MSG_DONTWAIT):
                return True
        except BlockingIOError:
            continue
        except (OSError, ValueError):
            return True


# --------------------------------------------------------------------------- gzip bomb

_GZIP_BOMB_SIZE = 1 << 30  # decompressed size: 1 GiB
_GZIP_BOMB_BLOCK = 1 << 20
_gzip_bomb_lock = threading.Lock()
_gzip_bomb: bytes | None = None


def _zeros_crc32(total: int, block: int) -> int:
    """CRC-32 of ``total`` zero bytes, ``total`` being a multiple of ``block``.

    ``s -> crc32(zeros(block), s)`` is affine over GF(2); compose it by squaring instead of
    hashing a whole gibibyte.
    """
    zeros = bytes(block)
    const = zlib.crc32(zeros, 0)
    cols = [zlib.crc32(zeros, 1 << i) ^ const for i in range(32)]

    def apply(cols: list[int], const: int, state: int) -> int:
        out = const
        for i in range(32):
            if state >> i & 1:
                out ^= cols[i]
        return out

    result = 0
    n = total // block
    while n:
        if n & 1:
            result = apply(cols, const, result)
        cols, const = [apply(cols, 0, c) for c in cols], apply(cols, const, const)
        n >>= 1
    return result


def gzip_bomb() -> bytes:
    """A valid gzip stream (~1 MB) that decompresses to 1 GiB of zeros (built once, cached)."""
    global _gzip_bomb
    with _gzip_bomb_lock:
        if _gzip_bomb is None:
            zeros = bytes(_GZIP_BOMB_BLOCK)
            comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
            # After Z_FULL_FLUSH the compressor state is reset, so every further block of
            # zeros compresses to exactly the same bytes: build one, repeat it.
            first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            assert first == block, "zlib full-flush output is not block-periodic"
            tail = comp.flush(zlib.Z_FINISH)
            count = _GZIP_BOMB_SIZE // _GZIP_BOMB_BLOCK
            crc = _zeros_crc32(_GZIP_BOMB_SIZE, _GZIP_BOMB_BLOCK)
            header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
            trailer = struct.pack("<II", crc, _GZIP_BOMB_SIZE & 0xFFFFFFFF)
            _gzip_bomb = header + block * count + tail + trailer
        return _gzip_bomb


# --------------------------------------------------------------------------- HTTP server


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


class _Stoppable:
    """start/stop and the context manager, shared by both servers: stop signals, then joins."""

    def start(self) -> Self:
        raise NotImplementedError

    def _signal_stop(self) -> None:
        raise NotImplementedError

    def _join(self, deadline: float) -> None:
        raise NotImplementedError

    def stop(self, timeout: float = STOP_JOIN_TIMEOUT) -> None:
        """Stop serving, cut all connections, wait up to ``timeout`` s for handler threads."""
        self._signal_stop()
        self._join(time.monotonic() + timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


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
        """Serve exact ``path`` (query ignored) with ``handler``; overrides built-ins."""
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
            return self._routes.get(path)

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


# --------------------------------------------------------------------------- raw TCP server

RawHandler = Callable[[socket.socket], None]


class RawServer(_Stoppable):
    """Raw TCP server on loopback: each connection runs ``handler(conn)`` in a daemon thread.

    The handler gets the unread connection (use :func:`read_request_head`). The connection
    is closed after the handler returns. ``stop()`` shuts every open connection down, which
    wakes handlers blocked in recv/send/select (:func:`wait_for_close`).
    """

    def __init__(self, handler: RawHandler, host: str = "127.0.0.1"):
        self.host = _loopback_host(host)
        self.handler = handler
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connection_count = 0
        self.errors: list[BaseException] = []
        self._conns: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._accept_thread: threading.Thread | None = None
        self._sock = socket.socket(_family(self.host), socket.SOCK_STREAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((self.host, 0))
            self._sock.listen(128)
        except BaseException:
            self._sock.close()
            raise
        self._port = int(self._sock.getsockname()[1])

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> Self:
        if self._accept_thread is None:
            self._accept_thread = threading.Thread(
                target=self._accept_loop, name=f"RawServer-{self.port}", daemon=True
            )
            self._accept_thread.start()
        return self

    def _signal_stop(self) -> None:
        self.stopping.set()
        with self.lock:
            conns = list(self._conns)
        for conn in conns:
            _shutdown_socket(conn)

    def _join(self, deadline: float) -> None:
        if self._accept_thread is not None:
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        self._sock.close()
        with self.lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                readable, _, _ = select.select([self._sock], [], [], 0.02)
                if not readable:
                    continue
                conn, _ = self._sock.accept()
            except (OSError, ValueError):
                if self.stopping.is_set():
                    return
                continue
            conn.settimeout(HANDLER_TIMEOUT)
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            with self.lock:
                if self.stopping.is_set():
                    conn.close()
                    return
                self.connection_count += 1
                self._conns.add(conn)
                self._threads.add(thread)
            thread.start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass
        except Exception as exc:
            with self.lock:
                self.errors.append(exc)
            raise  # surfaces via threading.excepthook (pytest reports it as a warning)
        finally:
            with self.lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())
            conn.close()


# --------------------------------------------------------------------------- raw handlers


def dribble_headers(conn: socket.socket) -> None:
    """Status line, then one byte of (never-ending) headers every 0.5 s, for up to 60 s."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    deadline = time.monotonic() + RAW_HANDLER_MAX_SECONDS
    for byte in itertools.cycle(b"X-Dribble: 1\r\n"):
        if time.monotonic() >= deadline or wait_for_close(conn, 0.5):
            return
        conn.sendall(bytes([byte]))


def reset_connection(conn: socket.socket) -> None:
    """Read the request, then close with SO_LINGER (1, 0): the client gets a TCP RST."""
    read_request_head(conn)
    abort_connection(conn)


def close_without_reply(conn: socket.socket) -> None:
    """Read the request, then close cleanly (FIN) without sending a single byte."""
    read_request_head(conn)
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
    conn.close()


_GARBAGE = b"SSH-2.0-OpenSSH_9.0\r\n" + Random(20240101).randbytes(512)


def garbage_reply(conn: socket.socket) -> None:
    """Read the request, answer with an SSH banner plus binary junk, close."""
    read_request_head(conn)
    conn.sendall(_GARBAGE)
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
    conn.close()


def hang(conn: socket.socket) -> None:
    """Accept and never answer (until the client leaves, the server stops, or 60 s)."""
    wait_for_close(conn, RAW_HANDLER_MAX_SECONDS)


def headers_then_hang(conn: socket.socket) -> None:
    """Send a complete 200 head announcing 1000000 bytes, then nothing (up to 60 s)."""
    read_request_head(conn)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Length: 1000000\r\n"
        b"\r\n"
    )
    wait_for_close(conn, RAW_HANDLER_MAX_SECONDS)


# --------------------------------------------------------------------------- TLS material

#: Identities in the trusted server certificate (extra 127.0.0.x for multi-host TLS tests).
TLS_IDENTITIES = ("localhost", "127.0.0.1", "::1", *(f"127.0.0.{i}" for i in range(2, 10)))


@dataclass
class TLSMaterial:
    """Certificates for TLS tests. Only ``ca_cert_path`` is meant for clients."""

    ca_cert_path: str  # PEM bundle with the test CA: pass as the client's CA bundle
    server_context: ssl.SSLContext  # cert for TLS_IDENTITIES, signed by the test CA
    self_signed_context: ssl.SSLContext  # self-signed cert for localhost etc., trusted by nobody
    self_signed_cert_path: str
    wrong_host_context: ssl.SSLContext  # signed by the test CA, but only for "wrong.invalid"
    expired_context: ssl.SSLContext  # signed by the test CA for TLS_IDENTITIES, expired
    ca: trustme.CA = field(repr=False)


def _server_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _self_signed_pem(identities: Iterable[str]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    sans: list[x509.GeneralName] = []
    for ident in identities:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(ident)))
        except ValueError:
            sans.append(x509.DNSName(ident))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def make_tls(directory: str | os.PathLike[str]) -> TLSMaterial:
    """Create the test CA and certificates, writing PEM files into ``directory``.

    Typical use: ``make_tls(tmp_path_factory.mktemp("tls"))``.
    """
    path = Path(directory)
    ca = trustme.CA()
    ca_cert_path = path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_cert_path))

    server_context = _server_context()
    ca.issue_cert(*TLS_IDENTITIES).configure_cert(server_context)

    wrong_host_context = _server_context()
    ca.issue_cert("wrong.invalid").configure_cert(wrong_host_context)

    expired_context = _server_context()
    now = datetime.datetime.now(datetime.UTC)
    ca.issue_cert(
        *TLS_IDENTITIES,
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    ).configure_cert(expired_context)

    cert_pem, key_pem = _self_signed_pem(TLS_IDENTITIES)
    self_signed_cert_path = path / "self-signed.pem"
    self_signed_key_path = path / "self-signed.key"
    self_signed_cert_path.write_bytes(cert_pem)
    self_signed_key_path.write_bytes(key_pem)
    self_signed_context = _server_context()
    self_signed_context.load_cert_chain(self_signed_cert_path, self_signed_key_path)

    return TLSMaterial(
        ca_cert_path=str(ca_cert_path),
        server_context=server_context,
        self_signed_context=self_signed_context,
        self_signed_cert_path=str(self_signed_cert_path),
        wrong_host_context=wrong_host_context,
        expired_context=expired_context,
        ca=ca,
    )
