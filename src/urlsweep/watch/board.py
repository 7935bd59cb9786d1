"""What the live page, /events and /metrics show: the latest of every URL, kept in memory.

Written by the thread that receives results, read by the server's threads, under one lock.
Per URL it holds the last result's figures, a short latency series (the sparkline) and
hourly ok/total counters for a week (uptime over a day and a week: 1.3 KB a URL).
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from urlsweep.result import Result
from urlsweep.watch.changes import Event, UrlState, iso

HOURS: Final = 24 * 7
SPARK: Final = 30  # latencies kept per URL for the sparkline
RECENT_EVENTS: Final = 200


class Uptime:
    """Hourly ok/total counters over the last week, in one flat array."""

    __slots__ = ("_counts", "_hour")

    def __init__(self, data: bytes | None = None) -> None:
        self._counts = array("I", bytes(4 * (2 * HOURS + 1)))
        if data is not None and len(data) == len(self._counts) * 4:
            self._counts = array("I", data)
        self._hour = self._counts[-1]

    def add(self, ok: bool, at: float) -> None:
        hour = int(at // 3600)
        self._advance(hour)
        i = 2 * (hour % HOURS)
        self._counts[i] += int(ok)
        self._counts[i + 1] += 1

    def _advance(self, hour: int) -> None:
        last = self._hour
        if hour <= last:
            return
        for h in range(max(last + 1, hour - HOURS + 1), hour + 1):
            i = 2 * (h % HOURS)
            self._counts[i] = self._counts[i + 1] = 0
        self._hour = self._counts[-1] = hour

    def ratio(self, hours: int, now: float) -> float | None:
        """Share of ok checks over the last `hours` hours; None when none were made.

        Summed over slices of the ring (in C), not hour by hour: the page asks this of
        every URL every second.
        """
        last = self._hour
        first = max(int(now // 3600) - hours + 1, last - HOURS + 1)
        if first > last:
            return None
        a, b = 2 * (first % HOURS), 2 * (last % HOURS)
        c = self._counts
        if a <= b:
            ok, total = sum(c[a : b + 1 : 2]), sum(c[a + 1 : b + 2 : 2])
        else:
            end = 2 * HOURS
            ok = sum(c[a:end:2]) + sum(c[0 : b + 1 : 2])
            total = sum(c[a + 1 : end : 2]) + sum(c[1 : b + 2 : 2])
        return ok / total if total else None

    def to_bytes(self) -> bytes:
        return self._counts.tobytes()


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""


@dataclass(slots=True)
class Row:
    url: str
    host: str
    outcome: str = ""
    ok: bool = False
    status: int | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    checked_at: float = 0.0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=SPARK))
    uptime: Uptime = field(default_factory=Uptime)
    state: UrlState | None = None

    def to_dict(self, now: float) -> dict[str, Any]:
        s = self.state
        change = None
        if s is not None and s.changed_at is not None:
            change = {"at": iso(s.changed_at), "to": s.settled}
        return {
            "url": self.url,
            "host": self.host,
            "outcome": self.outcome,
            "status": self.status,
            "error": self.error,
            "ms": round(self.elapsed_ms, 1),
            "checked": iso(self.checked_at) if self.checked_at else None,
            "day": _pct(self.uptime.ratio(24, now)),
            "week": _pct(self.uptime.ratio(HOURS, now)),
            "spark": [round(v, 1) for v in self.latencies],
            "settled": s.settled if s is not None else None,
            "change": change,
        }


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else round(100 * ratio, 2)


class Board:
    def __init__(self, tick: float) -> None:
        self.lock = threading.Lock()
        self.tick = tick
        self.rows: dict[int, Row] = {}
        self.events: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)
        self.round = 0
        self.running = False
        self.round_started: float | None = None  # unix time
        self.round_planned: float | None = None
        self.last_duration: float | None = None
        self.last_lag: float | None = None
        self.next_planned: float | None = None  # unix time the next round is due
        self.stopping = False

    def restore(self, key: int, state: UrlState, uptime: bytes | None) -> None:
        with self.lock:
            self.rows[key] = Row(state.url, host_of(state.url), uptime=Uptime(uptime), state=state)

    def record(self, key: int, result: Result, at: float, state: UrlState | None) -> None:
        with self.lock:
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = Row(result.url, host_of(result.final_url or result.url))
            row.outcome = result.outcome
            row.ok = result.ok
            row.status = result.status
            row.error = result.error
            row.elapsed_ms = result.elapsed_ms
            row.checked_at = at
            row.latencies.append(result.elapsed_ms)
            row.uptime.add(result.ok, at)
            row.state = state

    def add_event(self, event: Event) -> None:
        with self.lock:
            self.events.append(event.to_dict())

    def round_begins(self, round_no: int, planned: float, started: float) -> None:
        with self.lock:
            self.round, self.running = round_no, True
            self.round_started, self.round_planned = started, planned
            self.last_lag = max(0.0, started - planned)

    def round_ends(self, duration: float, next_planned: float | None) -> None:
        with self.lock:
            self.running = False
            self.last_duration = duration
            self.next_planned = next_planned

    def healthy(self, now: float | None = None) -> tuple[bool, str]:
        """Rounds keep their schedule: the next one is not overdue by a whole interval, and
        the last one started less than half an interval late."""
        now = time.time() if now is None else now
        with self.lock:
            tick = self.tick
            if self.stopping:
                return False, "stopping"
            if self.running and self.round_planned is not None:
                if now > self.round_planned + 2 * tick:
                    took = now - (self.round_started or self.round_planned)
                    return False, f"round {self.round} running for {took:.1f} s (every {tick:g} s)"
            elif self.next_planned is not None and now > self.next_planned + tick:
                return False, f"round {self.round + 1} is overdue"
            if self.last_lag is not None and self.last_lag > tick / 2:
                return False, f"round {self.round} started {self.last_lag:.2f} s late"
            return True, f"ok: round {self.round}"

    def snapshot(self) -> dict[str, Any]:
        now = time.time()
        ok, why = self.healthy(now)
        with self.lock:
            rows = [r.to_dict(now) for r in self.rows.values()]
            return {
                "round": self.round,
                "running": self.running,
                "healthy": ok,
                "health": why,
                "lag_s": self.last_lag,
                "round_s": self.last_duration,
                "updated": iso(now),
                "urls": rows,
                "events": list(self.events)[-20:],
            }

    def recent_events(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events)

    def figures(self) -> list[tuple[str, str, bool, int, float]]:
        """(url, host, ok, status, seconds) of every URL checked: what /metrics exports."""
        with self.lock:
            return [
                (r.url, r.host, r.ok, r.status or 0, r.elapsed_ms / 1000)
                for r in self.rows.values()
                if r.checked_at
            ]
