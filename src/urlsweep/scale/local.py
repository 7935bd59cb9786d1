"""`--processes N`: the threaded Engine in N worker processes, one output in this one.

Why: one CPython process checks URLs on one core at a time (the GIL), and on loopback or a
fast network the interpreter, not the network, is the limit. Each worker process runs the
ordinary threaded `Engine` on the hosts `urls.host_partition` gives it, so every URL of a
host is checked (and deduplicated) in one process and per-host limits still hold.

    main process: input -> screen_unique -> host_partition -> blobs ──pipe──> worker i
                                                                       Engine(work=...)
    caller's thread <- Results <- result blobs <─────────────────pipe────── results

Every input line is screened (normalised, deduplicated) once, here; unusable lines get
their record here too. Work and records cross the pipes in `engine.work`'s codec, the
one the Dask path uses: a batch is one blob, and the workers never normalise again.

Hosts are hashed into buckets (`host_partition`), and a bucket goes to the worker with the
fewest URLs so far when it is first seen: with few hosts, a fixed `hash % N` leaves one
core idle early (50 hosts split 31/19 on the benchmark's port); this stays even and still
keeps each host in one process.

Log records made in a worker travel back with its results and are handled here
(scale/logs.py).

How a worker starts (forked from this process, or a new interpreter) and what it runs is
scale/worker.py. Workers ignore SIGINT and SIGTERM: the main process decides, and tells
them over a control pipe, so Ctrl-C cancels once, cleanly, everywhere. A worker whose main
process vanished exits at once. Only the main process writes output.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

from urlsweep.engine.source import RunsOnce
from urlsweep.engine.stats import Stats
from urlsweep.engine.work import (
    Pending,
    pack_results,
    pack_work,
    screen_unique,
    unpack_results,
)
from urlsweep.inputs import Target
from urlsweep.options import Options
from urlsweep.result import Result
from urlsweep.scale.auto import AUTO_MIN_URLS as AUTO_MIN_URLS
from urlsweep.scale.auto import auto_processes as auto_processes
from urlsweep.scale.logs import handle_logs, levels
from urlsweep.scale.worker import (
    LOGS,
    POLL,
    RESULTS,
    SIGNALS,
    STOP,
    TICK,
    fork_worker,
    load_worker_side,
    may_fork,
    spawn_worker,
)
from urlsweep.urls import host_partition

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from urlsweep.scale.worker import Worker

_BATCH: Final = 256  # URLs or results per message once a run is under way
_JOIN: Final = 5.0  # seconds a finished worker gets to exit before it is killed
_BUCKETS: Final = 4096  # host buckets, each given to the least-loaded worker on first sight
_ROOM_WAIT: Final = 0.005  # seconds between looks while the workers are far ahead


class WorkerProcessError(RuntimeError):
    """A worker process died without finishing its share of the run."""


def worker_shares(workers: int, processes: int) -> list[int]:
    """Split the total concurrency: `--workers` means the same with or without processes."""
    n = max(1, min(processes, workers))
    return [workers // n + (i < workers % n) for i in range(n)]


class _MergedStats(Stats):
    """The sum of every worker's latest counters, read by progress displays as usual."""

    def __init__(self) -> None:
        super().__init__()
        self.own = Stats()  # the main process's part: duplicates found while screening

    def merge(self, snapshots: Iterable[dict[str, int]]) -> None:
        total: dict[str, int] = self.own.snapshot()
        for snap in snapshots:
            for name, value in snap.items():
                total[name] = total.get(name, 0) + value
        with self._lock:
            for name, value in total.items():
                setattr(self, name, value)


class _Outbox:
    """Work on its way to one worker (or records to the caller's thread): sent in
    batches, by size or by age, each batch one blob."""

    def __init__(self, conn: Connection, pack: Callable[[list[Any]], bytes]) -> None:
        self.conn = conn
        self.pack = pack
        self.items: list[Any] = []
        self.since = 0.0
        self.limit = 1  # the first URLs go out alone (first result fast), then batches grow
        self.open = True

    def flush(self) -> None:
        if not self.items or not self.open:
            return
        items, self.items = self.items, []
        try:
            self.conn.send_bytes(self.pack(items))
        except OSError:  # the worker is gone; its exit is reported on the results side
            self.open = False
        self.limit = min(_BATCH, self.limit * 2)


class ProcessEngine(RunsOnce):
    """A `ResultSource` that spreads one run over `processes` worker processes by host."""

    def __init__(self, targets: Iterable[Target], options: Options, processes: int) -> None:
        self.options = options
        self._merged = _MergedStats()
        self.stats: Stats = self._merged
        self._targets = targets
        self._shares = worker_shares(options.workers, processes)
        self._cancel = threading.Event()
        self._lock = threading.Lock()  # outboxes: the dispatcher fills, the ticker flushes
        self._outboxes: list[_Outbox] = []
        self._early: _Outbox | None = None  # records of unusable lines, to the caller's thread
        self._controls: list[Connection] = []
        self._input_error: BaseException | None = None
        self._pending = Pending()  # a duplicate line's source joins its URL's record
        self._workers: tuple[list[Worker], dict[Connection, int]] | None = None
        self.pids: list[int] = []  # the worker processes, once the run has started
        self.start_method = ""  # how they were started: "fork" or "spawn"
        # URLs sent to the workers and not yet received back, at most: without this bound a
        # receiving thread slower than the workers (a busy store, a slow output) let the
        # dispatcher run ahead, and every URL on its way (its Work, its entry in `_pending`,
        # its finished record in a worker's outgoing batch) waited in memory: 700 MB for a
        # million URLs. The read-ahead, what is in flight, and the batches on their way.
        self._window = options.read_ahead + options.workers + 4 * _BATCH * len(self._shares)
        self._received = 0  # written by the caller's thread only
        self.last_worker = -1  # which of them checked the result just yielded (tests, debug)

    @property
    def processes(self) -> int:
        return len(self._shares)

    def cancel(self) -> None:
        """Stop reading input and tell every worker; checks in flight still report."""
        self._cancel.set()
        for control in self._controls:
            with contextlib.suppress(OSError):
                control.send(STOP)

    def start(self) -> None:
        """Start the worker processes now, not at the first `next()`: their start-up (a new
        interpreter, imports, libcurl) then overlaps whatever the caller does meanwhile. A
        started engine should be iterated; its workers exit when this process does anyway."""
        if self._workers is None:
            self._workers = self._start_workers()

    # -- the run -------------------------------------------------------------------------
    def _run(self) -> Iterator[Result]:
        self.start()
        assert self._workers is not None
        from multiprocessing.connection import wait

        procs, results = self._workers
        if self._cancel.is_set():  # cancelled while the workers were starting
            self.cancel()
        feeder = threading.Thread(target=self._feed, name="urlsweep-dispatch", daemon=True)
        ticker = threading.Thread(target=self._tick, name="urlsweep-batches", daemon=True)
        feeder.start()
        ticker.start()
        snapshots: dict[int, dict[str, int]] = {}
        errors: list[BaseException] = []
        live = dict(results)
        try:
            while live:
                for ready in wait(list(live), timeout=POLL):
                    conn = _as_conn(ready)
                    index = live[conn]
                    if index < 0:  # the feeder's records of unusable lines
                        try:
                            blob = conn.recv_bytes()
                        except (EOFError, OSError):  # all sent
                            del live[conn]
                            continue
                        yield from unpack_results(blob)
                        continue
                    try:
                        kind, payload, snapshots[index] = conn.recv()
                    except (EOFError, OSError):  # died: its share is lost, stop the rest
                        del live[conn]
                        errors.append(self._died(procs[index], index))
                        self.cancel()
                        continue
                    self._merged.merge(snapshots.values())
                    if kind == RESULTS:
                        self.last_worker = index
                        for result in unpack_results(payload):
                            self._received += 1
                            yield self._pending.completed(result)  # duplicates' sources
                    elif kind == LOGS:
                        handle_logs(payload)
                    else:
                        del live[conn]
                        if payload is not None:
                            errors.append(payload)
        finally:
            # Normal end, an exception, or the caller dropped the iterator.
            self.cancel()
            if live:  # abandoned: a worker must not block on results nobody reads
                for conn in live:
                    conn.close()
            self._close_input()
            self._reap(procs)
            for conn in results:
                conn.close()
            for control in self._controls:
                control.close()
        if self._input_error is not None:
            raise self._input_error
        if errors:
            raise errors[0]

    def _start_workers(self) -> tuple[list[Worker], dict[Connection, int]]:
        procs: list[Worker] = []
        results: dict[Connection, int] = {}
        forking = may_fork()
        if forking:
            load_worker_side()  # once, here: every child has it already, and shares it
        # Blocked signals are inherited: a Ctrl-C while a worker starts up must not reach
        # it before it has set its signals to be ignored.
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        # Every pipe first: a forked child closes the ends that are not its own, so that
        # no worker holds another's pipe open (its EOF would wait for both).
        pipes = [[os.pipe() for _ in range(3)] for _ in self._shares]  # work, results, control
        ends = [(w[1], r[0], c[1]) for w, r, c in pipes]  # this side of each worker's pipes
        try:
            for own in pipes:
                (work_r, _), (_, result_w), (control_r, _) = own
                child_fds = (work_r, result_w, control_r)
                if forking:
                    others = [fd for w in pipes for pair in w for fd in pair if fd not in child_fds]
                    procs.append(fork_worker(child_fds, others))
                else:
                    procs.append(spawn_worker(child_fds))
                self.pids.append(procs[-1].pid)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            for w, r, c in pipes:  # the children's ends: theirs now (or nobody's)
                for fd in (w[0], r[1], c[0]):
                    os.close(fd)
        self.start_method = "fork" if forking else "spawn"
        # Imported once every worker is on its way (10 ms the workers need not wait for).
        from multiprocessing.connection import Connection, Pipe

        for index, (share, (work_w, result_r, control_w)) in enumerate(
            zip(self._shares, ends, strict=True)
        ):
            work = Connection(work_w, readable=False)
            work.send((self._worker_options(share), index + 1, levels()))
            results[Connection(result_r, writable=False)] = index
            self._outboxes.append(_Outbox(work, pack_work))
            self._controls.append(Connection(control_w, readable=False))
        early_r, early_w = Pipe(duplex=False)
        results[early_r] = -1
        self._early = _Outbox(early_w, pack_results)
        return procs, results

    def _worker_options(self, share: int) -> Options:
        """Each process gets its share of the threads and of the read-ahead: the totals, and
        so the concurrency and the memory the options promise, are what they are in one."""
        n = len(self._shares)
        return self.options.replace(workers=share, read_ahead=max(1, self.options.read_ahead // n))

    def _died(self, proc: Worker, index: int) -> BaseException:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(_JOIN)
        return WorkerProcessError(
            f"worker process {index + 1} exited unexpectedly (exit code {proc.returncode})"
        )

    def _reap(self, procs: list[Worker]) -> None:
        deadline = time.monotonic() + _JOIN
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
        for proc in procs:  # only a worker that ignored the stop message gets here
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # -- the input side ------------------------------------------------------------------
    def _boxes(self) -> list[_Outbox]:
        return [*self._outboxes, self._early] if self._early else self._outboxes

    def _feed(self) -> None:
        owner = [-1] * _BUCKETS
        sent = [0] * len(self._outboxes)
        total = 0
        assert self._early is not None
        try:
            for item in screen_unique(self._targets, self._cancel, self._merged.own, self._pending):
                box: _Outbox
                if isinstance(item, Result):
                    box = self._early
                else:
                    work, _ = item
                    bucket = host_partition(work.url, _BUCKETS)
                    shard = owner[bucket]
                    if shard < 0:
                        shard = owner[bucket] = sent.index(min(sent))
                    sent[shard] += 1
                    total += 1
                    if total - self._received > self._window and not self._room(total):
                        return
                    box = self._outboxes[shard]
                with self._lock:
                    if not box.items:
                        box.since = time.monotonic()
                    box.items.append(item if isinstance(item, Result) else work)
                    if len(box.items) >= box.limit:
                        box.flush()
        except BaseException as exc:  # an unreadable input: reported after the run
            self._input_error = exc
        finally:
            self._close_input()

    def _room(self, total: int) -> bool:
        """Wait until the records of all but `_window` of the `total` URLs sent are back;
        False if the run was cancelled meanwhile."""
        with self._lock:  # what waits goes out first: the workers must not starve
            for box in self._outboxes:
                box.flush()
        while total - self._received > self._window:
            if self._cancel.wait(_ROOM_WAIT):
                return False
        return True

    def _tick(self) -> None:
        """Sends batches that waited a tick: a slow input still reaches the workers."""
        while not self._cancel.wait(TICK):
            now = time.monotonic()
            with self._lock:
                boxes = self._boxes()
                if all(not box.open for box in boxes):
                    return
                for box in boxes:
                    if box.items and now - box.since >= TICK:
                        box.flush()

    def _close_input(self) -> None:
        with self._lock:
            for box in self._boxes():
                if box.open and not self._cancel.is_set():
                    box.flush()
                box.open = False
                box.conn.close()


def _as_conn(ready: object) -> Connection:
    """`wait` returns what it was given; only Connections are given here."""
    from multiprocessing.connection import Connection

    assert isinstance(ready, Connection)
    return ready
