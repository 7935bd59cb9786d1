"""Which URL a free worker checks next: per-host queues served round-robin within limits.

A single FIFO would let 10,000 queued URLs on one host hold back the 10 of another, and
would park workers on a host that is at its limit. Instead every host has its own queue, and
only hosts that can start a request now sit in a ring that workers take from in turn. A host
that is at its in-flight limit leaves the ring until a slot frees; one that is paused
(Retry-After), out of rate tokens, or waiting for a retry's time is put on a timer heap and
comes back when that time passes. So a worker never waits while any host has eligible work.

Memory is bounded by `read_ahead`: the feeder blocks when that many fresh URLs wait.
Everything here runs under one lock; waits poll the cancel Event.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from urlsweep.engine.limits import HostLimits
from urlsweep.probe.policy import Policy
from urlsweep.result import Result

T = TypeVar("T")
_POLL: Final = 0.1


@dataclass(slots=True, eq=False)
class Job(Generic[T]):
    """One URL on its way through the scheduler, with what its attempts so far left behind."""

    item: T
    host: str
    attempts: int = 0
    last: Result | None = None  # the latest answer, delivered if the run stops before a retry
    deferred: bool = False  # in the final slow pass: one more attempt, then it is reported
    started: float = 0.0  # when its first attempt began (monotonic), once it has one
    attempt_ms: list[float] | None = None  # each attempt's time, kept once it is retried


class _Host(Generic[T]):
    __slots__ = ("delayed", "fresh", "hop_waiters", "in_ring", "key", "limits", "timer")

    def __init__(self, key: str, limits: HostLimits) -> None:
        self.key = key
        self.limits = limits
        self.fresh: deque[Job[T]] = deque()
        self.delayed: list[tuple[float, int, Job[T]]] = []  # (not before, seq, job)
        self.in_ring = False
        self.timer: float | None = None
        self.hop_waiters = 0

    def pending(self) -> bool:
        return bool(self.fresh or self.delayed)

    def forgettable(self, now: float) -> bool:
        """Nothing queued, scheduled or owed: dropping it loses nothing."""
        busy = self.pending() or self.in_ring or self.timer is not None or self.hop_waiters
        return not busy and self.limits.idle(now)


@dataclass(slots=True)
class _Deferred(Generic[T]):
    jobs: list[Job[T]] = field(default_factory=list)
    interval: dict[str, float] = field(default_factory=dict)  # per host: spacing in the pass
    started: bool = False


class Scheduler(Generic[T]):
    def __init__(
        self,
        policy: Policy,
        read_ahead: int,
        *,
        max_deferred: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_starved: Callable[[], None] | None = None,
    ) -> None:
        """`on_starved` is called when work is eligible and no worker waits for it."""
        self._policy = policy
        self._read_ahead = read_ahead
        self._max_deferred = read_ahead if max_deferred is None else max_deferred
        self._clock = clock
        lock = threading.Lock()
        self._work_ready = threading.Condition(lock)  # workers waiting in get()
        self._slot_free = threading.Condition(lock)  # redirect hops waiting for a host
        self._room = threading.Condition(lock)  # the feeder waiting for read-ahead room
        self._lock = lock
        self._hosts: dict[str, _Host[T]] = {}
        self._sweep_at = 1024
        self._ring: deque[_Host[T]] = deque()
        self._timers: list[tuple[float, int, _Host[T]]] = []
        self._seq = itertools.count()
        self._fresh = 0  # fresh jobs waiting: bounded by read_ahead
        self._pending = 0  # every waiting job, retries included
        self._active = 0  # jobs handed to workers and not yet finished, retried or deferred
        self._closed = False
        self._deferred: _Deferred[T] = _Deferred()
        self._waiting = 0  # workers blocked in get()
        self._feeder_waiting = False  # the feeder is blocked in put(), waiting for room
        self._on_starved = on_starved

    # -- the feeder's side ---------------------------------------------------------------
    def put(self, item: T, host: str, cancel: threading.Event) -> bool:
        """Queue a new URL; blocks while `read_ahead` URLs wait. False if cancelled."""
        with self._lock:
            while self._fresh >= self._read_ahead:
                if cancel.is_set():
                    return False
                self._feeder_waiting = True
                try:
                    self._room.wait(_POLL)
                finally:
                    self._feeder_waiting = False
            h = self._host(host)
            h.fresh.append(Job(item, host))
            self._fresh += 1
            self._pending += 1
            self._place(h)
            return True

    def close(self) -> None:
        """No more input: workers leave once everything queued is done."""
        with self._lock:
            self._closed = True
            self._work_ready.notify_all()

    # -- the workers' side ---------------------------------------------------------------
    def get(self, cancel: threading.Event) -> Job[T] | None:
        """The next job whose host can take a request now, holding a slot of that host.

        None when the run is over or cancelled.
        """
        with self._lock:
            job = self._get(cancel)
            starved = job is not None and bool(self._ring) and not self._waiting
        if starved and self._on_starved is not None:
            self._on_starved()  # outside the lock: it may start a thread
        return job

    def _get(self, cancel: threading.Event) -> Job[T] | None:
        while not cancel.is_set():
            job, over = self._ready()
            if job is not None:
                if self._ring and self._waiting:  # more is eligible: wake another waiter
                    self._work_ready.notify()
                return job
            if over:
                return None
            wait = _POLL
            if self._timers:
                wait = min(wait, max(0.0, self._timers[0][0] - self._clock()) + 0.0005)
            self._waiting += 1
            try:
                self._work_ready.wait(wait)
            finally:
                self._waiting -= 1
        return None

    def poll(self) -> Job[T] | None:
        """`get` without waiting, for a thread that drives many transfers (multi.py): the next
        job that can start now, or None (nothing eligible now, or the run is over)."""
        with self._lock:
            return self._ready()[0]

    def _ready(self) -> tuple[Job[T] | None, bool]:
        """(a job that can start now, or None; whether the run is over). Starts the deferred
        pass when everything else is done; wakes every waiter when the run is over."""
        while True:
            now = self._clock()
            self._fire_timers(now)
            job = self._next(now)
            if job is not None or not self._over():
                return job, False
            if not self._deferred.jobs or self._deferred.started:
                self._work_ready.notify_all()
                return None, True
            self._start_deferred(now)

    def release(self, host: str) -> None:
        """A request to `host` is over: its slot is free again."""
        with self._lock:
            self._release(host)

    def finish(self, job: Job[T], release: str | None = None) -> None:
        """`job` is reported (and the slot on `release` freed); the run may be over."""
        with self._lock:
            if release is not None:
                self._release(release)
            self._active -= 1
            if self._over():
                self._work_ready.notify_all()

    def retry(self, job: Job[T], not_before: float, release: str | None = None) -> None:
        """Try `job` again, no earlier than `not_before` (a `clock()` time)."""
        with self._lock:
            if release is not None:
                self._release(release)
            self._active -= 1
            h = self._host(job.host)
            heapq.heappush(h.delayed, (not_before, next(self._seq), job))
            self._pending += 1
            self._place(h)

    def defer(self, job: Job[T], interval: float, release: str | None = None) -> bool:
        """Keep `job` for the slow pass at the end, spaced `interval` s apart on its host.

        False when too many are already kept (memory stays bounded): report it now.
        """
        with self._lock:
            if release is not None:
                self._release(release)
            if self._deferred.started or len(self._deferred.jobs) >= self._max_deferred:
                return False
            self._deferred.jobs.append(job)
            iv = self._deferred.interval
            iv[job.host] = max(iv.get(job.host, 0.0), interval)
            self._active -= 1
            if self._over():
                self._work_ready.notify_all()
            return True

    def pause(self, host: str, until: float) -> None:
        """`host` asked us to wait (Retry-After): none of its URLs start before `until`."""
        with self._lock:
            self._host(host).limits.pause(until)

    def acquire(self, host: str, cancel: threading.Event) -> bool:
        """Block until `host` can take one more request (a redirect hop) and claim it.

        Callers hold no other slot while waiting, so hops cannot deadlock. False if cancelled.
        """
        with self._lock:
            h = self._host(host)
            h.hop_waiters += 1
            try:
                while not cancel.is_set():
                    now = self._clock()
                    if h.limits.start(now):
                        return True
                    wait = _POLL if h.limits.full() else h.limits.ready_at(now) - now
                    self._slot_free.wait(min(_POLL, wait + 0.0005))
                return False
            finally:
                h.hop_waiters -= 1
                if not h.hop_waiters:
                    self._place(h)

    def try_acquire(self, host: str, waiting: bool) -> bool:
        """`acquire` without blocking: claim a slot of `host` now, or say False and queue up.

        The first False registers the caller as waiting (the host then takes no new URLs, so
        the hop is served first); a caller that was `waiting` is unregistered by its True, or
        by `withdraw` if it gives up.
        """
        with self._lock:
            h = self._host(host)
            ok = h.limits.start(self._clock())
            if ok and waiting:
                h.hop_waiters -= 1
                if not h.hop_waiters:
                    self._place(h)
            elif not ok and not waiting:
                h.hop_waiters += 1
            return ok

    def withdraw(self, host: str) -> None:
        """A caller of `try_acquire` stops waiting for `host` (the run was cancelled)."""
        with self._lock:
            h = self._host(host)
            h.hop_waiters -= 1
            if not h.hop_waiters:
                self._place(h)

    def try_pace(self, host: str) -> float:
        """`pace` without blocking: 0.0 with the token taken, else the seconds to wait."""
        with self._lock:
            return self._token(host)

    def pace(self, host: str, cancel: threading.Event) -> bool:
        """Another request to `host` under a slot already held: wait for its rate token.

        False if cancelled first."""
        with self._lock:
            while (wait := self._token(host)) > 0:
                if cancel.is_set():
                    return False
                self._slot_free.wait(min(_POLL, wait + 0.0005))
            return True

    def _token(self, host: str) -> float:
        """Take a rate token of `host` (0.0), or say how many seconds until there is one."""
        bucket = self._hosts[host].limits.bucket
        if bucket is None:
            return 0.0
        now = self._clock()
        at = bucket.ready_at(now)
        if at <= now:
            bucket.take(now)
            return 0.0
        return at - now

    def drain(self) -> list[Result]:
        """After a cancel: the latest answers of URLs that were waiting for another attempt."""
        with self._lock:
            out = [j.last for j in self._deferred.jobs if j.last is not None]
            self._deferred.jobs.clear()
            for h in self._hosts.values():
                out.extend(j.last for _, _, j in h.delayed if j.last is not None)
                out.extend(j.last for j in h.fresh if j.last is not None)
                h.delayed.clear()
                h.fresh.clear()
            return out

    # -- internals (lock held) -----------------------------------------------------------
    def _release(self, host: str) -> None:
        h = self._hosts[host]
        h.limits.in_flight -= 1
        if h.hop_waiters:
            self._slot_free.notify_all()
        self._place(h)

    def _host(self, key: str) -> _Host[T]:
        h = self._hosts.get(key)
        if h is None:
            if len(self._hosts) >= self._sweep_at:
                self._sweep()
            s = self._policy.host(key)
            limits = HostLimits(s.max_per_host, s.rate_limit, self._clock())
            h = self._hosts[key] = _Host(key, limits)
        return h

    def _sweep(self) -> None:
        """Forget hosts with nothing left to remember; amortised over many new hosts."""
        now = self._clock()
        for key, h in list(self._hosts.items()):
            if h.forgettable(now):
                del self._hosts[key]
        self._sweep_at = max(1024, 2 * len(self._hosts))

    def _place(self, h: _Host[T]) -> None:
        """Put `h` in the ring if it has work and room; forget it when it is idle."""
        if h.in_ring or h.hop_waiters or h.limits.full():
            return
        if not h.pending():
            if h.forgettable(self._clock()) and self._hosts.get(h.key) is h:
                del self._hosts[h.key]
            return
        h.in_ring = True
        self._ring.append(h)
        if self._waiting:  # a thread blocked in get(); a driver polls instead
            self._work_ready.notify()

    def _next(self, now: float) -> Job[T] | None:
        for _ in range(len(self._ring)):  # each host looked at once per call
            h = self._ring.popleft()
            h.in_ring = False
            job, wake = self._take(h, now)
            if job is not None:
                self._place(h)  # to the back of the ring: round-robin
                return job
            if wake is not None and (h.timer is None or wake < h.timer):
                h.timer = wake
                heapq.heappush(self._timers, (wake, next(self._seq), h))
        return None

    def _take(self, h: _Host[T], now: float) -> tuple[Job[T] | None, float | None]:
        """(a job of `h` to start now, None) or (None, when to look again or None)."""
        limits = h.limits
        if not (h.fresh or h.delayed) or h.hop_waiters or limits.in_flight >= limits.limit:
            return None, None  # release() or the hop waiter puts it back
        due_retry = h.delayed and h.delayed[0][0] <= now
        if not due_retry and not h.fresh:
            return None, max(h.delayed[0][0], limits.ready_at(now))
        if not limits.start(now):
            return None, limits.ready_at(now)
        if due_retry:
            job = heapq.heappop(h.delayed)[2]
        else:
            job = h.fresh.popleft()
            if not job.deferred:
                self._fresh -= 1
                if self._feeder_waiting:
                    self._room.notify()
        self._pending -= 1
        self._active += 1
        return job, None

    def _fire_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            at, _, h = heapq.heappop(self._timers)
            if h.timer == at:
                h.timer = None
            self._place(h)

    def _over(self) -> bool:
        return self._closed and self._pending == 0 and self._active == 0

    def _start_deferred(self, now: float) -> None:
        """The slow pass: one request at a time per host, spaced by what the host asked."""
        d = self._deferred
        d.started = True
        for key, interval in d.interval.items():
            h = self._host(key)
            h.limits = HostLimits(1, 1.0 / interval if interval > 0 else None, now)
            h.limits.pause(now + interval)
        for job in d.jobs:
            job.deferred = True
            h = self._host(job.host)
            h.fresh.append(job)
            self._pending += 1
            self._place(h)
        d.jobs.clear()
