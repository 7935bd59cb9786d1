"""Loopback addresses and socket helpers shared by every test server; the stoppable base.

Everything binds to 127.0.0.0/8 or ::1 on port 0: tests never send traffic elsewhere.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import select
import socket
import struct
import time
from types import TracebackType
from typing import Self

#: Socket timeout for server-side connections (idle keep-alive, blocked writes, reads).
HANDLER_TIMEOUT = 30.0


#: How long ``stop()`` waits in total for handler threads to finish (they are daemons).
STOP_JOIN_TIMEOUT = 1.0


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
