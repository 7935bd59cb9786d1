"""RawServer: a raw TCP loopback server running one handler per connection, and ready-made
misbehaving handlers (dribbled headers, resets, garbage, hangs).

Everything binds to 127.0.0.0/8 or ::1 on port 0: tests never send traffic elsewhere.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import threading
import time
from collections.abc import Callable
from random import Random
from typing import Self

from support.net import (
    HANDLER_TIMEOUT,
    _family,
    _loopback_host,
    _shutdown_socket,
    _Stoppable,
    _url_host,
    abort_connection,
    read_request_head,
    wait_for_close,
)

#: Upper bound for how long the "hang forever" raw handlers hold a connection.
RAW_HANDLER_MAX_SECONDS = 60.0


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
