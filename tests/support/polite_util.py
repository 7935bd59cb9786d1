"""Helpers shared by the politeness tests (test_polite_*.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import urlsweep
from support import http as http_srv
from urlsweep import Result

Answer = tuple[int, Sequence[tuple[str, str]]]


def scripted(server: Any, path: str, answers: Iterable[Answer], then: Answer = (200, ())) -> None:
    """Serve `path` with the given (status, headers) in turn, then `then` for ever."""
    pending = list(answers)
    lock = threading.Lock()

    def handler(h: Any) -> None:
        with lock:
            status, headers = pending.pop(0) if pending else then
        http_srv.reply(h, status, f"status {status}\n", headers)

    server.route(path, handler)


def check_all(urls: Iterable[str], **options: Any) -> dict[str, Result]:
    """Run a check to its end; results by input URL."""
    options.setdefault("timeout", 5)
    return {r.url: r for r in urlsweep.check(list(urls), **options)}


def starts(server: Any, path_prefix: str = "") -> list[float]:
    """Arrival times of the requests `server` saw, optionally only for one path prefix."""
    server.wait_idle()
    with server.lock:
        return sorted(r.time_start for r in server.requests if r.path.startswith(path_prefix))


def max_overlap(*servers_: Any) -> int:
    """Most requests in flight at once across all `servers_` (from recorded intervals)."""
    events: list[tuple[float, int]] = []
    for s in servers_:
        s.wait_idle()
        with s.lock:
            for r in s.requests:
                events += [(r.time_start, 1), (r.time_end or r.time_start, -1)]
    peak = current = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        current += delta
        peak = max(peak, current)
    return peak


class Gauge:
    """A slow route that counts its own concurrency exactly.

    The server's `max_in_flight` drops only after the response is written, so a fast client
    can overlap by one; this gauge counts down before answering, so it never over-counts.
    """

    def __init__(self, server: Any, path: str = "/slow", delay: float = 0.05) -> None:
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.count = 0
        self.delay = delay
        server.route(path, self._handle)
        self.url = server.base_url + path

    def _handle(self, h: Any) -> None:
        with self.lock:
            self.current += 1
            self.count += 1
            self.peak = max(self.peak, self.current)
        try:
            h.server.stopping.wait(self.delay)
        finally:
            with self.lock:
                self.current -= 1
        http_srv.reply(h, 200, "slow\n")

    def urls(self, n: int) -> list[str]:
        return [f"{self.url}?i={i}" for i in range(n)]
