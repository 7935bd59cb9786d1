"""The threaded pipeline: feeder -> scheduler -> driver -> results -> caller.

Shaped like CPython's ThreadPoolExecutor, specialised for streams that may never fit in
memory and for politeness: the feeder blocks when `read_ahead` URLs wait, so a million-line
input is read only as fast as it is checked; the scheduler hands out URLs whose host is
within its limits (see scheduler.py); a retry goes back to the scheduler with a not-before
time instead of holding anything asleep. The checks themselves run on one driver thread
that keeps up to `workers` transfers in flight on a libcurl multi handle (driver.py): plain
checks and a caller's own `checker` (a crawl's page reader, a fragment check) alike, as
generators of requests, so there is one lifecycle and one place host limits are applied.
The caller's thread receives results and is the only one that writes output. `cancel()`
(an Event) stops the feeder at once and lets every in-flight check finish within its
timeout.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Final, Unpack

from urlsweep.engine.dedup import url_digest as url_digest
from urlsweep.engine.driver import Checker as Checker
from urlsweep.engine.driver import Driver, plain_check
from urlsweep.engine.limits import open_files_capacity
from urlsweep.engine.scheduler import Job, Scheduler
from urlsweep.engine.source import ResultSource as ResultSource
from urlsweep.engine.source import RunsOnce
from urlsweep.engine.source import SourceError as SourceError
from urlsweep.engine.stats import Stats as Stats
from urlsweep.engine.work import Pending
from urlsweep.engine.work import Work as Work
from urlsweep.engine.work import internal_error as internal_error
from urlsweep.engine.work import screen as screen
from urlsweep.engine.work import screen_unique as screen_unique
from urlsweep.inputs import Target, not_one_url
from urlsweep.options import Options
from urlsweep.options.keywords import CheckOptions
from urlsweep.probe import retry
from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.policy import Policy
from urlsweep.probe.transport import Response, retry_after_of
from urlsweep.result import Result, mask_userinfo
from urlsweep.urls import InvalidURL, host_key, normalise

log = logging.getLogger("urlsweep")

_POLL: Final = 0.1  # how often blocked threads look at the cancel flag (seconds)
_WORKER_EXIT: Final = object()
_FEEDER_EXIT: Final = object()


class Engine(RunsOnce):
    """One run over `targets`. Iterate it once to drive the run and receive the results."""

    def __init__(
        self,
        targets: Iterable[Target],
        options: Options,
        *,
        checker: Checker | None = None,
        work: Iterable[Work] | None = None,
        emit: Callable[[list[Result]], None] | None = None,
        room: Callable[[], bool] | None = None,
    ) -> None:
        """`work` instead of `targets`: URLs screened and deduplicated already, by whoever
        read the input (a worker process, a Dask task); they are checked as they are.

        `emit`: records are handed to it (from the driver's and the feeder's threads) instead
        of being yielded; iterating the engine then only runs it. A worker process ships
        them this way: through the results queue, its `Condition.notify` alone took 5.5 %
        of a worker's GIL samples (py-spy --gil, 200,000 URLs), besides waking the
        worker's main thread for every batch.

        `room` (with `emit`): False while whoever takes the records is behind; no check
        begins then (those in flight go on), so the URLs wait as compact unstarted work
        rather than as finished records piling up in memory."""
        self.options = options
        self._checker: Checker = checker or plain_check
        self.stats = Stats()
        self._targets = targets
        self._work = work
        self._cancel = threading.Event()
        self._closed = threading.Event()
        size = options.queue_size or max(64, options.workers * 2)
        self._policy = Policy(options)
        self._sched: Scheduler[Work] = Scheduler(
            self._policy, options.read_ahead, on_starved=self._add_worker
        )
        self._pending = Pending()  # duplicate lines' sources join the URL while it waits
        self._out: queue.Queue[object] = queue.Queue(maxsize=size)
        self._emit = emit
        self._room = room
        self._feeder_done = threading.Event()
        self._feeder_error: BaseException | None = None
        self._fatal: BaseException | None = None
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._idle = 0
        # One driver: a second one in the same process measured 25 % slower on fast
        # answers (they share one GIL); more cores are used through --processes.
        self._capacity = open_files_capacity(options.workers)  # checks at once
        self._threads = 1

    # -- control -------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop taking input; in-flight checks finish and are still delivered."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- the run -------------------------------------------------------------------------
    def _run(self) -> Iterator[Result]:
        feeder = threading.Thread(target=self._feed, name="urlsweep-feeder", daemon=True)
        feeder.start()
        exits = 0
        try:
            while True:
                try:
                    item = self._out.get(timeout=_POLL)
                except queue.Empty:
                    item = None
                if isinstance(item, Result):
                    yield item
                    continue
                if isinstance(item, list):  # a driver's batch
                    yield from item
                    continue
                if item is _WORKER_EXIT:
                    exits += 1
                if self._finished(exits):
                    break
            if self._fatal is not None:
                raise self._fatal
            if self._feeder_error is not None:
                raise self._feeder_error
        finally:
            # Reached on normal end, on an exception, and when the caller drops the iterator.
            self._cancel.set()
            self._closed.set()
            feeder.join()
            for t in self._workers:
                t.join()

    def _finished(self, exits: int) -> bool:
        """All input read, every started worker gone, every result delivered."""
        if not self._feeder_done.is_set():
            return False
        with self._lock:
            started = len(self._workers)
        return exits >= started and self._out.empty()

    def _put_out(self, item: object) -> None:
        if self._emit is not None:
            if isinstance(item, list):  # a driver's batch
                self._emit(item)
                return
            if isinstance(item, Result):  # one the feeder made (an excluded or unusable line)
                self._emit([item])
                return
        while not self._closed.is_set():
            try:
                self._out.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    # -- feeder --------------------------------------------------------------------------
    def _feed(self) -> None:
        queued = 0
        try:
            for item in self._screened():
                if isinstance(item, Result):
                    self._put_out(item)
                    continue
                work = item
                url = work.url
                reason = self._policy.excluded(url)
                if reason is not None:
                    sources = self._pending.done(work)
                    self._put_out(probe.excluded(work.raw, url, reason, sources))
                    continue
                if self._sched.put(work, host_key(url), self._cancel):
                    queued += 1
                    if queued == 64:  # counted in batches: the lock is not free
                        self.stats.add(queued=queued)
                        queued = 0
                        time.sleep(0)  # let the driver take the GIL: it has transfers to move
                    self._adjust_workers()
        except BaseException as exc:  # reported to the caller after the in-flight work ends
            self._feeder_error = exc
        finally:
            self.stats.add(queued=queued)
            self._sched.close()
            self._feeder_done.set()
            self._put_out(_FEEDER_EXIT)

    def _screened(self) -> Iterator[Work | Result]:
        if self._work is not None:
            for work in self._work:
                if self._cancel.is_set():
                    return
                yield work
            return
        for item in screen_unique(self._targets, self._cancel, self.stats, self._pending):
            yield item if isinstance(item, Result) else item[0]

    def _adjust_workers(self) -> None:
        """From the feeder: a worker for the new URL, unless one is free already (the
        driver is started with the first URL and takes many at once)."""
        if self._idle == 0:
            self._add_worker()

    def _add_worker(self) -> None:
        """Also called by the scheduler when eligible work waits and no worker is free."""
        if len(self._workers) >= self._threads:
            return  # the common case once the pool is full: no lock needed to know
        with self._lock:
            if len(self._workers) >= self._threads:
                return
            n = len(self._workers) + 1
            t = threading.Thread(target=self._drive, name=f"urlsweep-driver-{n}", daemon=True)
            self._workers.append(t)
            self._idle += 1
        t.start()

    # -- drivers and workers -------------------------------------------------------------
    def _drive(self) -> None:
        """The driver keeps up to `--workers` transfers in flight."""
        context = None
        try:
            context = CheckContext.of(self.options, self._policy)
            Driver(
                self._sched,
                context,
                self._capacity,
                checker=self._checker,
                cancel=self._cancel,
                stats=self.stats,
                settle=self.settle,
                emit=self._put_out,
                room=self._room,
            ).run()
        except BaseException as exc:  # e.g. an unreadable CA file: nothing can be checked
            self._fatal = exc
            self._cancel.set()
        finally:
            if context is not None:
                context.close()
            self._put_out(_WORKER_EXIT)

    def settle(
        self, job: Job[Work], result: Result, last: Response | None, held: str | None
    ) -> Result | None:
        """Report `result`, or send the URL back for another attempt later (then None).

        `last` is the answer the result came from; `held` the host whose slot the check
        still holds (given back here). A host that asked us to wait is paused before its
        slot is given back, so none of its other URLs can slip in between.
        """
        if job.attempts == 0 and not retry.retryable(result) and not retry.rate_limited(result):
            # The common case, a first answer that stands: what the general path below
            # comes to for it, without its clock reads and repeated tests (settle of one
            # URL 1.3 -> 0.75 µs, timeit).
            job.attempts = 1
            if result.attempts != 1:
                result = dataclasses.replace(result, attempts=1)
            return self._reported(job, result, held)
        opts = self.options
        retry_after = retry_after_of(last) if retry.retryable(result) else None
        job.attempts += 1
        now = time.monotonic()
        if job.attempts == 1:
            job.started = now - result.elapsed_ms / 1000.0
        else:  # the record of a retried URL: the whole check's time, and each attempt's
            times = job.attempt_ms or []
            times.append(result.elapsed_ms)
            job.attempt_ms = times
            result = dataclasses.replace(
                result,
                attempts=job.attempts,
                elapsed_ms=round((now - job.started) * 1000.0, 1),
                attempt_ms=tuple(times),
            )
        if result.attempts != job.attempts:  # a checker's record says 1: it cannot know
            result = dataclasses.replace(result, attempts=job.attempts)
        final = job.deferred or self._cancel.is_set()
        retrying = not final and retry.retryable(result) and job.attempts <= opts.retries
        wait = 0.0
        if retrying:
            told = retry.retry_after(result, retry_after)
            wait = retry.wait_before_retry(job.attempts, told, opts.backoff, opts.max_retry_wait)
            if retry.pauses_host(result):
                self._sched.pause(host_key(result.final_url or job.item.url), now + wait)
        # The slot goes back with the job's next step, in one go: the deferred pass starts
        # only once every slot is free.
        if job.attempt_ms is None and (retrying or (not final and retry.rate_limited(result))):
            job.attempt_ms = [result.elapsed_ms]  # the first of several attempts
        if retrying:
            job.last = result
            self._sched.retry(job, now + wait, release=held)
            self.stats.add(retried=1)
            log.info("retry %s in %.2f s: %s", mask_userinfo(job.item.url), wait, result.category)
            return None
        if not final and opts.retries and retry.rate_limited(result):
            job.last = result
            interval = retry.deferred_interval(retry.retry_after(result, retry_after), opts)
            if self._sched.defer(job, interval, release=held):
                self.stats.add(deferred=1)
                return None
            held = None  # defer() gave it back even when it kept nothing
        return self._reported(job, result, held)

    def _reported(self, job: Job[Work], result: Result, held: str | None) -> Result:
        self._sched.finish(job, release=held)
        # Given screened work, this engine read no line: no later one can have joined it.
        sources = job.item.sources if self._work is not None else self._pending.done(job.item)
        if len(sources) > len(result.sources):  # a later line had the same URL
            result = dataclasses.replace(result, sources=sources)
        return result


def check(urls: Iterable[str | Target], **options: Unpack[CheckOptions]) -> Iterator[Result]:
    """Check every URL concurrently and yield a Result for each as it completes.

    Accepts any iterable (a generator over a huge file is fine: it is consumed lazily).
    Duplicates, after normalisation, are checked and reported once. Stopping the iteration
    early cancels the run. The keywords are the options of docs/library.md; a wrong type or
    value is an OptionError naming the option.
    """
    not_one_url(urls)
    opts = Options.from_kwargs(**options)
    targets = (u if isinstance(u, Target) else Target(str(u)) for u in urls)
    return iter(Engine(targets, opts))


def check_url_status(url: str, timeout: float = 10.0) -> tuple[str, int | None]:
    """The classic one-URL check: the final HTTP status, or None if there was no answer."""
    opts = Options(timeout=timeout, workers=1)
    try:
        normalised = normalise(url)
    except InvalidURL:
        return url, None
    context = CheckContext.of(opts)
    with context.transport() as transport:
        result = probe.check_one(transport, url, normalised, context)
    return url, result.status if result.error is None else None
