"""Batches of URLs for remote workers, grouped by host so per-host limits hold everywhere.

A layer that ships work to other processes or machines cannot share one per-host semaphore,
so it keeps each host's work in one place at a time: URLs are hashed by host into `slots`,
a slot's URLs are cut into batches of at most `size`, and a slot never has more than one
batch out. Whichever worker runs that batch is then the only one talking to those hosts,
and its engine's per-host limits are the cluster's. A worker that dies only delays its
slot: the batch runs again elsewhere and the slot's next batch waits for it.

A batch may take several slots (`hosts`): one host alone keeps at most `--max-per-host`
requests in flight, so a task of one host leaves most of its engine's `--workers` idle.
Each slot gives a batch up to `size` items, as it would alone: a task's engine opens its
connections afresh, and fewer URLs per host per task would mean more of them (sharing
`size` between 13 hosts cost ~20 % more CPU on 100,000 loopback URLs).

Memory is bounded: at most `budget` items wait here, and at most `max_out` batches are out.
Not thread-safe; the caller holds its lock.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Batch(Generic[T]):
    number: int
    slots: tuple[int, ...]  # every slot it holds busy until it is done
    items: list[T]


class HostBatches(Generic[T]):
    def __init__(
        self,
        slots: int,
        size: int,
        max_out: int,
        budget: int | None = None,
        linger: float = 0.5,
        hosts: int = 1,
    ) -> None:
        if min(slots, size, max_out, hosts) < 1:
            raise ValueError("slots, size, max_out and hosts must be at least 1")
        self.slots = slots
        self.size = size
        self.max_out = max_out
        self.hosts = hosts  # slots one batch may take at most
        self.budget = budget or slots * size
        self.linger = linger  # a partial batch waits at most this long for more URLs
        self.buffered = 0
        self.out = 0
        self._buffers: dict[int, list[T]] = {}
        self._since: dict[int, float] = {}
        self._busy: set[int] = set()
        self._resting: dict[int, float] = {}  # slot -> when it may send again
        self._numbers = itertools.count()

    def has_room(self) -> bool:
        return self.buffered < self.budget

    def add(self, slot: int, item: T) -> bool:
        """Buffer `item`; True when a call to `take` may now find a batch worth sending."""
        buf = self._buffers.get(slot)
        if buf is None:
            buf = self._buffers[slot] = []
            self._since[slot] = time.monotonic()
        buf.append(item)
        self.buffered += 1
        return len(buf) >= self.size or self._pressed()

    def _pressed(self) -> bool:
        return self.buffered * 2 >= self.budget

    def take(self, final: bool = False) -> list[Batch[T]]:
        """Batches to send now: full slots first, then partial ones when input has ended,
        the buffer is half full, or they have waited `linger` seconds. The slots ready are
        spread over the batches that may go out (up to `hosts` in one, each giving up to
        `size` items); they become busy."""
        batches: list[Batch[T]] = []
        free = self.max_out - self.out
        if free <= 0:
            return batches
        now = time.monotonic()
        for slot in [s for s, until in self._resting.items() if until <= now]:
            del self._resting[slot]
        pressed = final or self._pressed()
        ready = [
            s
            for s, buf in self._buffers.items()
            if s not in self._busy
            and s not in self._resting
            and (pressed or len(buf) >= self.size or now - self._since[s] >= self.linger)
        ]
        ready.sort(key=lambda s: len(self._buffers[s]), reverse=True)
        while free > 0 and ready:
            n = min(self.hosts, -(-len(ready) // free))
            group, ready = ready[:n], ready[n:]
            items: list[T] = []
            for slot in group:
                buf = self._buffers[slot]
                items += buf[: self.size]
                if len(buf) > self.size:
                    self._buffers[slot] = buf[self.size :]
                else:
                    del self._buffers[slot], self._since[slot]
            self.buffered -= len(items)
            self.out += 1
            free -= 1
            self._busy.update(group)
            batches.append(Batch(next(self._numbers), tuple(group), items))
        return batches

    def done(self, batch: Batch[T], rest: float = 0.0) -> None:
        """`batch` is back (or abandoned): its slot may send its next batch after `rest`
        seconds (a per-host rate limit spaces the last request of one batch from the first
        of the next, wherever they run)."""
        self._busy.difference_update(batch.slots)
        self.out -= 1
        if rest > 0:
            until = time.monotonic() + rest
            for slot in batch.slots:
                self._resting[slot] = until

    def drop(self) -> int:
        """Forget everything not yet sent (a cancelled run); returns how many items."""
        dropped = self.buffered
        self._buffers.clear()
        self._since.clear()
        self.buffered = 0
        return dropped

    @property
    def drained(self) -> bool:
        return not self._buffers and self.out == 0
