"""The threaded pipeline: feeder -> bounded work queue -> N workers -> results queue -> caller.

Shaped like CPython's ThreadPoolExecutor, specialised for streams that may never fit in
memory: the feeder blocks when the work queue is full, so a million-line input is read only
as fast as it is checked; workers are started on demand up to `workers`; the caller's thread
receives results and is the only one that writes output. `cancel()` (an Event) stops the
feeder at once and lets every in-flight check finish within its timeout.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Protocol

from . import probe
from . import result as R
from .inputs import Target
from .options import Options
from .result import Result
from .transport import Transport
from .urls import InvalidURL, normalise

log = logging.getLogger("urlsweep")

_POLL: Final = 0.1  # how often blocked threads look at the cancel flag (seconds)
_WORKER_EXIT: Final = object()
_FEEDER_EXIT: Final = object()

# How a worker checks one URL: `probe.check_one`, or a caller's function with its signature
# (a crawler fetches and parses pages there, in the worker, with the worker's transport).
Checker = Callable[[Transport, str, str, Options, tuple[str, ...]], Result]


@dataclass(frozen=True, slots=True)
class Work:
    raw: str
    url: str
    sources: tuple[str, ...]


class Stats:
    """Counters shared by all threads; read by progress displays while the run goes on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.queued = 0
        self.duplicates = 0
        self.in_flight = 0
        self.completed = 0
        self.ok = 0

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
            }


class ResultSource(Protocol):
    """What the CLI drives: the threaded Engine, or a layer spreading work over processes."""

    stats: Stats

    def cancel(self) -> None: ...

    def __iter__(self) -> Iterator[Result]: ...


def url_digest(url: str) -> int:
    """8 bytes per seen URL instead of the whole string: flat memory for huge inputs."""
    return int.from_bytes(hashlib.blake2b(url.encode(), digest_size=8).digest(), "little")


class Engine:
    """One run over `targets`. Iterate it once to drive the run and receive the results."""

    def __init__(
        self, targets: Iterable[Target], options: Options, *, checker: Checker | None = None
    ) -> None:
        self.options = options
        self._checker: Checker = checker or probe.check_one
        self.stats = Stats()
        self._targets = targets
        self._cancel = threading.Event()
        self._closed = threading.Event()
        size = options.queue_size or max(64, options.workers * 2)
        self._work: queue.Queue[Work | None] = queue.Queue(maxsize=size)
        self._out: queue.Queue[object] = queue.Queue(maxsize=size)
        self._feeder_done = threading.Event()
        self._feeder_error: BaseException | None = None
        self._fatal: BaseException | None = None
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._idle = 0
        self._started = False

    # -- control -------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop taking input; in-flight checks finish and are still delivered."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- the run -------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Result]:
        if self._started:
            raise RuntimeError("an Engine runs once")
        self._started = True
        return self._run()

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
        while not self._closed.is_set():
            try:
                self._out.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    # -- feeder --------------------------------------------------------------------------
    def _feed(self) -> None:
        seen: set[int] = set()
        try:
            for target in self._targets:
                if self._cancel.is_set():
                    break
                sources = (target.source,) if target.source else ()
                if target.invalid:
                    self._put_out(
                        Result(
                            url=target.raw,
                            error=R.INVALID_URL,
                            detail=target.invalid,
                            sources=sources,
                        )
                    )
                    continue
                try:
                    url = normalise(target.raw)
                except InvalidURL as exc:
                    self._put_out(probe.invalid(target.raw, exc, sources))
                    continue
                digest = url_digest(url)
                if digest in seen:
                    self.stats.add(duplicates=1)
                    continue
                seen.add(digest)
                self._submit(Work(target.raw, url, sources))
        except BaseException as exc:  # reported to the caller after the in-flight work ends
            self._feeder_error = exc
        finally:
            with self._lock:
                started = len(self._workers)
            for _ in range(started):  # one stop sentinel per worker: no polling at the end
                self._put_work(None)
            self._feeder_done.set()
            self._put_out(_FEEDER_EXIT)

    def _put_work(self, work: Work | None) -> bool:
        while not self._cancel.is_set():
            try:
                self._work.put(work, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _submit(self, work: Work) -> None:
        if self._put_work(work):
            self.stats.add(queued=1)
            self._adjust_workers()

    def _adjust_workers(self) -> None:
        with self._lock:
            if self._idle > 0 or len(self._workers) >= self.options.workers:
                return
            t = threading.Thread(
                target=self._worker, name=f"urlsweep-worker-{len(self._workers) + 1}", daemon=True
            )
            self._workers.append(t)
            self._idle += 1
        t.start()

    # -- workers -------------------------------------------------------------------------
    def _worker(self) -> None:
        try:
            transport = Transport(self.options)
        except Exception as exc:  # e.g. an unreadable CA file: nothing can be checked
            self._fatal = exc
            self._cancel.set()
            self._put_out(_WORKER_EXIT)
            return
        try:
            while not self._cancel.is_set():
                try:
                    work = self._work.get(timeout=_POLL)
                except queue.Empty:
                    continue
                if work is None:
                    break
                with self._lock:
                    self._idle -= 1
                self.stats.add(in_flight=1)
                result = self._check(transport, work)
                self.stats.add(in_flight=-1, completed=1, ok=int(result.ok))
                with self._lock:
                    self._idle += 1
                self._put_out(result)
        finally:
            transport.close()
            self._put_out(_WORKER_EXIT)

    def _check(self, transport: Transport, work: Work) -> Result:
        try:
            result = self._checker(transport, work.raw, work.url, self.options, work.sources)
        except Exception as exc:  # a bug must cost one record, not the run
            log.exception("internal error checking %s", work.url)
            return Result(
                url=work.raw,
                final_url=work.url,
                error=R.PROTOCOL,
                detail=f"internal error: {exc!r}",
                sources=work.sources,
            )
        log.debug(
            "%s %s -> %s %s in %.0f ms",
            result.method or "-",
            work.url,
            result.status,
            result.error or "",
            result.elapsed_ms,
        )
        return result


def check(urls: Iterable[str | Target], **options: object) -> Iterator[Result]:
    """Check every URL concurrently and yield a Result for each as it completes.

    Accepts any iterable (a generator over a huge file is fine: it is consumed lazily).
    Duplicates, after normalisation, are checked and reported once. Stopping the iteration
    early cancels the run.
    """
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
    with Transport(opts) as transport:
        result = probe.check_one(transport, url, normalised, opts)
    return url, result.status if result.error is None else None
