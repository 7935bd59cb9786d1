"""The live counters of a run, in a module of their own so that reading them (progress bars,
the process layer's main side) does not load the checking machinery (engine, libcurl)."""

from __future__ import annotations

import threading


class Stats:
    """Counters shared by all threads; read by progress displays while the run goes on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.queued = 0
        self.duplicates = 0
        self.in_flight = 0
        self.completed = 0
        self.ok = 0
        self.retried = 0
        self.deferred = 0

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "queued": self.queued,
                "duplicates": self.duplicates,
                "in_flight": self.in_flight,
                "completed": self.completed,
                "ok": self.ok,
                "retried": self.retried,
                "deferred": self.deferred,
            }
