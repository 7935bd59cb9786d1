"""Many checks from one thread: a libcurl multi handle drives every transfer at once.

Why: threads that each perform one blocking transfer spend their CPU handing the GIL to each
other. Measured on loopback (50,000 HEADs, 50 hosts): 32-100 threads with an easy handle each
cost 80-180 µs of CPU per request; one thread driving a multi handle, 11-14 µs. So the
engine's default checks run here: one thread keeps up to `capacity` transfers in flight.

Each URL's check is a generator that yields the requests it needs: `probe.steps` (HEAD, a
GET fallback, each redirect hop) for a plain check, or a caller's check built on it (a
crawl's page read: robots.txt, sitemaps, the page itself, then its links taken). This is the
only lifecycle a check has: every request of every check goes through it. Host limits are
the engine's scheduler's, asked without blocking: a hop whose host has no free slot, a
request waiting for its rate token, or a check waiting for another (`probe.Wait`) is parked
and tried again on every turn of the loop; nothing here ever sleeps while a transfer could
move.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from urlsweep.engine.scheduler import Job, Scheduler
from urlsweep.engine.stats import Stats
from urlsweep.engine.work import Work, internal_error
from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.multi import MultiHandle
from urlsweep.probe.transport import Response, Transport
from urlsweep.result import Result, mask_userinfo

log = logging.getLogger("urlsweep")

_IDLE_WAIT: Final = 0.1  # longest wait in select() when every slot is busy (seconds)
# ... when slots are free: new work may be queued any moment. Also what keeps select() from
# oversleeping while libcurl has no socket to wait on yet (it then sleeps the full timeout).
_FILL_WAIT: Final = 0.003
_CHUNK: Final = 32  # finished transfers handled before new requests are sent out

Settle = Callable[[Job["Work"], Result, Response | None, str | None], Result | None]
# How one URL is checked: the generator of its requests (`plain_check` unless a run has its
# own, e.g. a crawl's page reader), given the work, its host key and the run's context.
Checker = Callable[[Work, str, CheckContext], probe.Check]
_EMPTY: Final = Response()  # what a check that waited (`probe.Wait`) is sent


def plain_check(work: Work, host: str, context: CheckContext) -> probe.Check:
    return probe.steps(work.raw, work.url, context, work.sources, host=host)


class _Flight:
    """One URL being checked: its generator, the host slot it holds, where it waits."""

    __slots__ = ("at", "fresh", "gen", "held", "hop", "job", "last", "req", "transport", "wait")

    def __init__(self, job: Job[Work]) -> None:
        self.job = job
        self.gen: probe.Check | None = None  # created in the driver's try: a bug costs one record
        self.held: str | None = job.host  # the scheduler handed the job out with this slot
        self.fresh = True  # the first request uses the slot (and token) claimed with the job
        self.last: Response | None = None
        self.req: probe.Request | None = None  # while parked: the request waiting to go
        self.hop = False  # parked for a slot of another host (else for a rate token)
        self.at = 0.0  # parked for a token: not before this time
        self.wait: probe.Wait | None = None  # parked until another check is done
        self.transport: Transport | None = None


class Driver:
    """Runs checks handed out by `sched` until the run is over; results go to `emit`."""

    def __init__(
        self,
        sched: Scheduler[Work],
        context: CheckContext,
        capacity: int,
        *,
        checker: Checker = plain_check,
        cancel: threading.Event,
        stats: Stats,
        settle: Settle,
        emit: Callable[[list[Result]], None],
        room: Callable[[], bool] | None = None,
    ) -> None:
        self._context = context
        self._checker = checker
        self._sched = sched
        self._capacity = max(1, capacity)
        self._make_transport = context.transport
        self._cancel = cancel
        self._stats = stats
        self._settle = settle
        self._emit = emit
        self._room = room  # False: whoever takes the records is behind (see Engine)
        self._multi = MultiHandle(maxconnects=self._capacity)
        self._free: list[Transport] = [context.transport()]  # fails early on bad TLS options
        self._all: list[Transport] = list(self._free)
        self._active: dict[object, _Flight] = {}
        self._parked: list[_Flight] = []
        self._count = 0  # flights begun and not finished: active, parked or between the two
        self._out: list[Result] = []
        self._started = 0  # stats deltas, added once per turn
        self._ended = 0
        self._ok = 0
        self._info = log.isEnabledFor(logging.INFO)  # -v: a line per check

    def run(self) -> None:
        try:
            self._loop()
        finally:
            for curl in list(self._active):
                self._multi.remove_handle(curl)
            for t in self._all:
                t.close()
            self._multi.close()

    # -- the loop ------------------------------------------------------------------------
    def _loop(self) -> None:
        sched, cancel, multi = self._sched, self._cancel, self._multi
        while True:
            self._fill()
            if not self._active and not self._parked:
                self._flush()
                job = sched.get(cancel)  # nothing in flight: wait for work or the end
                if job is None:
                    break
                self._begin(job)
                continue
            if self._active:
                self._perform()
                self._collect()
            if self._parked:
                self._unpark()
            self._flush()
            wait = self._wait()
            if self._active:
                multi.select(wait)
            elif wait > 0:
                cancel.wait(wait)
        self._flush()
        drained = sched.drain()  # cancelled: what retries were waiting on is reported now
        if drained:
            self._stats.add(completed=len(drained), ok=sum(r.ok for r in drained))
            self._emit(drained)

    def _fill(self) -> None:
        """Begin checks while there is room and the scheduler has a URL whose host is free."""
        if self._cancel.is_set() or (self._room is not None and not self._room()):
            return
        sched = self._sched
        while self._count < self._capacity and (job := sched.poll()) is not None:
            self._begin(job)

    def _perform(self) -> None:
        """Let libcurl move every transfer: connect, send, read what has arrived."""
        self._multi.perform()

    def _wait(self) -> float:
        """How long select() may sleep: until libcurl's next deadline, a parked request's
        token, or briefly when slots are free and the scheduler may have work."""
        ms = self._multi.timeout()
        wait = _IDLE_WAIT if ms < 0 else min(ms / 1000.0, _IDLE_WAIT)
        if self._count < self._capacity and (self._room is None or self._room()):
            wait = min(wait, _FILL_WAIT)  # (no room: nothing to begin, no reason to spin)
        if self._parked:
            now = time.monotonic()
            for f in self._parked:
                wait = min(wait, max(0.0, f.at - now) if not f.hop else _FILL_WAIT)
                # (a check parked on a `probe.Wait` has `hop` set: polled like a hop)
        return wait

    def _flush(self) -> None:
        if self._started or self._ended:
            self._stats.add(
                in_flight=self._started - self._ended, completed=len(self._out), ok=self._ok
            )
            self._started = self._ended = self._ok = 0
        if self._out:
            out, self._out = self._out, []
            self._emit(out)

    # -- one URL -------------------------------------------------------------------------
    def _begin(self, job: Job[Work]) -> None:
        self._count += 1
        self._started += 1
        self._advance(_Flight(job), None)

    def _advance(self, f: _Flight, resp: Response | None) -> None:
        """Give the check its answer; send the request it asks for next, or settle it."""
        try:
            if f.gen is None:
                f.gen = self._checker(f.job.item, f.job.host, self._context)
                req = next(f.gen)
            else:
                assert resp is not None
                if resp is not _EMPTY:
                    f.last = resp
                req = f.gen.send(resp)
        except StopIteration as stop:
            self._finish(f, stop.value[0])
            return
        except Exception as exc:  # a bug must cost one record, not the run
            work = f.job.item
            log.exception("internal error checking %s", work.url)
            self._finish(f, internal_error(work, exc))
            return
        if isinstance(req, probe.Wait):
            f.wait = req
            self._park(f, None, hop=True, at=0.0)
            return
        self._submit(f, req)

    def _submit(self, f: _Flight, req: probe.Request) -> None:
        """Send `req` once its host admits it. The first request uses the slot the scheduler
        claimed with the job; a repeat to the same host (GET after HEAD) waits for a rate
        token; a redirect to another host gives the slot back and waits for one there, so a
        check never holds one host while waiting for another.

        After a cancel, a request that would have to wait is abandoned instead (`_abandon`).
        """
        host = req.host
        if host == f.held:
            if f.fresh:
                f.fresh = False
            elif (wait := self._sched.try_pace(host)) > 0:
                self._park(f, req, hop=False, at=time.monotonic() + wait)
                return
        else:  # a redirect to another host: give this slot back, then get one there
            f.fresh = False
            if f.held is not None:
                self._sched.release(f.held)
                f.held = None
            if not self._sched.try_acquire(host, waiting=False):
                self._park(f, req, hop=True, at=0.0)
                return
            f.held = host
        self._send(f, req)

    def _park(self, f: _Flight, req: probe.Request | None, *, hop: bool, at: float) -> None:
        f.req, f.hop, f.at = req, hop, at
        self._parked.append(f)
        if self._cancel.is_set():
            self._unpark()

    def _unpark(self) -> None:
        """Send the parked requests whose host admits them now."""
        sched, cancelled = self._sched, self._cancel.is_set()
        now = time.monotonic()
        waiting: list[_Flight] = []
        ready: list[_Flight] = []
        for f in self._parked:
            req = f.req
            if cancelled:
                self._abandon(f, req)
                continue
            if f.wait is not None:
                if f.wait.ready():
                    f.wait = None
                    ready.append(f)
                else:
                    waiting.append(f)
                continue
            assert req is not None
            if f.hop:
                if not sched.try_acquire(req.host, waiting=True):
                    waiting.append(f)
                    continue
                f.held = req.host
            else:
                if now < f.at:
                    waiting.append(f)
                    continue
                wait = sched.try_pace(req.host)
                if wait > 0:
                    f.at = now + wait
                    waiting.append(f)
                    continue
            f.req = None
            self._send(f, req)
        self._parked = waiting
        for f in ready:  # may park again: after the list is whole
            self._advance(f, _EMPTY)

    def _abandon(self, f: _Flight, req: probe.Request | None) -> None:
        """The run was cancelled while this check waited for its host (or for another
        check): it ends unreported, as if never read (a resumed run checks it again).
        Sending it anyway would break the host's limits at the moment the user asked us to
        stop."""
        if f.hop and req is not None:
            self._sched.withdraw(req.host)
        held, f.held = f.held, None
        self._sched.finish(f.job, release=held)
        if f.gen is not None:
            f.gen.close()
        self._count -= 1
        self._ended += 1

    def _send(self, f: _Flight, req: probe.Request) -> None:
        if self._free:
            t = self._free.pop()
        else:
            t = self._make_transport()
            self._all.append(t)
        t.start(req)
        f.transport = t
        self._active[t.curl] = f
        self._multi.add_handle(t.curl)

    def _collect(self) -> None:
        """Hand every finished transfer's answer to its check.

        Answers that arrive together (a wave of 500) are taken `_CHUNK` at a time, and the
        requests that replace them go out in between: otherwise the first freed slot would
        wait for the whole wave to be processed (measured: ~5 % on a latency-bound list).
        """
        multi = self._multi
        while True:
            queued, done, failed = multi.info_read(_CHUNK)
            for curl in done:
                self._landed(curl, 0, "")
            for curl, code, message in failed:
                self._landed(curl, code, message)
            if not queued:
                return
            self._fill()
            self._perform()

    def _landed(self, curl: object, code: int, message: str) -> None:
        self._multi.remove_handle(curl)
        f = self._active.pop(curl)
        t = f.transport
        assert t is not None
        f.transport = None
        resp = t.finish(code, message)
        self._free.append(t)
        self._advance(f, resp)

    def _finish(self, f: _Flight, result: Result) -> None:
        self._count -= 1
        self._ended += 1
        held, f.held = f.held, None
        final = self._settle(f.job, result, f.last, held)
        if self._info:
            log.info(
                "%s %s -> %s %s in %.0f ms",
                result.method or "-",
                mask_userinfo(f.job.item.url),  # no password in a log line
                result.status,
                result.error or "",
                result.elapsed_ms,
            )
        if final is not None:
            self._out.append(final)
            self._ok += final.ok
