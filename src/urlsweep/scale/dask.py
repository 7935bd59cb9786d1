"""Run a check on a Dask cluster: `urlsweep check --dask ADDRESS` and `urlsweep.dask.check`.

The client reads the input as a stream, screens and deduplicates it (once: the tasks
check the normalised URLs as they get them), and groups the URLs by host hash into batches
(`batches.HostBatches`: one batch per host slot out at a time, so per-host limits hold
cluster-wide; a batch holds several slots, so a task's engine has more than one host's
`--max-per-host` in flight). Each batch is one Dask task that runs the threaded `Engine` on
a worker. Its input and its records each cross as one blob in `engine.work`'s codec (the
one `--processes` uses): Dask walks and pickles a list of 500 items one by one, and that
cost more than the checks. Finished tasks are gathered together, not one at a time. Dask
re-runs the tasks of a worker that dies; a task depends only on its arguments, and the
client keeps the digest of every URL it is waiting for, so each URL is reported exactly
once.

Imported only when asked for: `import dask` below is the top-level package (absolute
imports), and nothing else in urlsweep imports this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Final, Unpack

import distributed

from urlsweep._version import __version__
from urlsweep.engine.pipeline import Engine
from urlsweep.engine.source import RunsOnce, SourceError
from urlsweep.engine.stats import Stats
from urlsweep.engine.work import (
    Pending,
    Work,
    pack_results,
    pack_work,
    screen_unique,
    unpack_results,
    unpack_work,
)
from urlsweep.inputs import Target, not_one_url
from urlsweep.options import OptionError, Options
from urlsweep.options.keywords import CheckOptions
from urlsweep.probe.policy import Policy
from urlsweep.result import Result
from urlsweep.scale.batches import Batch, HostBatches
from urlsweep.urls import host_key, host_partition

Item = tuple[int, Work]  # (digest of the normalised URL, the work)

_POLL: Final = 0.1
_WATCH: Final = 0.5  # how often a task asks whether the run was cancelled (seconds)
_EARLY: Final = 256  # records made on the client (invalid lines) waiting for the caller
# Tasks at a time per local worker process. One: two engines in one process share its GIL,
# and measured 30 % more CPU for the same URLs (docs/dask.md); the next task is queued on
# the worker already, so it starts as soon as the last one ends.
_LOCAL_THREADS: Final = 1


def parse_address(spec: str) -> int | None:
    """`local` or `local:N` -> N worker processes here; a scheduler address -> None."""
    name, sep, count = spec.strip().partition(":")
    if name != "local":
        if not spec.strip():
            raise OptionError("--dask needs a scheduler address or local[:N]")
        return None
    if not sep:
        return os.cpu_count() or 1
    if not count.isdigit() or not 1 <= int(count) <= 256:
        raise OptionError(f"bad --dask {spec!r}: want local:N with N from 1 to 256")
    return int(count)


@contextlib.contextmanager
def connect(spec: str, timeout: float | None = None) -> Iterator[distributed.Client]:
    """A client for the run: a LocalCluster on loopback, or the scheduler at `spec`.

    `timeout` (seconds) defaults to Dask's distributed.comm.timeouts.connect setting.
    """
    n = parse_address(spec)
    cluster: distributed.LocalCluster | None = None
    try:
        if n is not None:
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=_LOCAL_THREADS,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            # Records come straight from the workers, not through the scheduler.
            client = distributed.Client(cluster, direct_to_workers=True)
            client.register_plugin(_IgnoreSigint(), name="urlsweep-ignore-sigint")
        else:
            wait = {} if timeout is None else {"timeout": timeout}
            client = distributed.Client(spec, **wait)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        where = "start a local Dask cluster" if n else f"reach the Dask scheduler at {spec}"
        raise SourceError(f"cannot {where}: {exc}") from None
    try:
        check_workers(client)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _IgnoreSigint(distributed.WorkerPlugin):
    """Local workers share the terminal's process group: Ctrl-C is for the client to handle
    (it cancels the run and collects what was checked), not for them to die of."""

    def setup(self, worker: distributed.Worker) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def check_workers(client: distributed.Client) -> None:
    """Fail early and clearly when a worker lacks urlsweep or runs another version."""
    # A lambda travels by value, so it runs even where urlsweep is not installed.
    versions = client.run(lambda: __import__("urlsweep").__version__, on_error="return")
    for worker, version in sorted(versions.items()):
        if isinstance(version, BaseException):
            raise SourceError(f"Dask worker {worker} cannot run urlsweep: {version!r}")
        if version != __version__:
            raise SourceError(
                f"Dask worker {worker} has urlsweep {version}, this machine {__version__}"
            )


def check_partition(work: bytes, options: Options, cancel: str) -> bytes:
    """One Dask task: check a batch of screened work (a `pack_work` blob) with the threaded
    engine; its records as one `pack_results` blob.

    Depends only on its arguments and writes nowhere but its return value, so running it
    twice (after a worker died) is harmless. The named Event stops it early when the client
    cancels the run; the records checked by then are still returned.
    """
    stop = distributed.Event(cancel, client=distributed.get_client())
    engine = Engine((), options, work=unpack_work(work))
    finished = threading.Event()

    def watch() -> None:
        # Short polls, not a long Event.wait: nothing stays parked on the scheduler.
        with contextlib.suppress(Exception):  # scheduler gone: just finish the batch
            while not finished.wait(_WATCH):
                if stop.is_set():
                    engine.cancel()
                    return

    threading.Thread(target=watch, name="urlsweep-cancel-watch", daemon=True).start()
    try:
        return pack_results(engine)
    finally:
        finished.set()


class DaskSource(RunsOnce):
    """A ResultSource whose checks run as Dask tasks; `cli.run_check` drives it like Engine."""

    def __init__(
        self,
        client: distributed.Client,
        targets: Iterable[Target],
        options: Options,
        *,
        partition_size: int = 500,
        max_in_flight: int | None = None,
    ) -> None:
        self.stats = Stats()
        self.options = options
        self._client = client
        self._targets = targets
        max_out = max_in_flight or max(2, 2 * sum(client.nthreads().values()))
        # Enough hosts in a task for its engine to keep --workers requests in flight.
        hosts = -(-options.workers // options.max_per_host)
        self._batches: HostBatches[Item] = HostBatches(
            slots=max(64, 4 * max_out), size=partition_size, max_out=max_out, hosts=hosts
        )
        limited = options.rate_limit or any(h.rate_limit for h in options.hosts)
        self._policy = Policy(options) if limited else None
        self._token = uuid.uuid4().hex[:12]
        self._cancel_name = f"urlsweep-cancel-{self._token}"
        self._cancel = threading.Event()
        self._cancel_sent = False
        self._cond = threading.Condition()
        self._out: queue.Queue[object] = queue.Queue()  # early records and finished tasks
        self._early = threading.BoundedSemaphore(_EARLY)
        self._futures: dict[str, tuple[distributed.Future[Any], Batch[Item]]] = {}
        self._pending: set[int] = set()  # digests sent and not yet reported
        self._merging = Pending()  # a duplicate line's source joins its URL's record
        self._lost: set[str] = set()  # tasks whose records died with their worker
        self._input_done = False
        self._feeder_done = threading.Event()
        self._feeder_error: BaseException | None = None

    def cancel(self) -> None:
        """Stop reading input; tasks out finish early and their records are still delivered.

        Lock-free: it is called from signal handlers.
        """
        self._cancel.set()

    # -- the caller's thread -------------------------------------------------------------
    def _run(self) -> Iterator[Result]:
        feeder = threading.Thread(target=self._feed, name="urlsweep-dask-feeder", daemon=True)
        feeder.start()
        try:
            while True:
                keys: list[str] = []
                try:
                    item = self._out.get(timeout=_POLL)
                except queue.Empty:
                    item = None
                while True:  # every task finished meanwhile is gathered in one go
                    if isinstance(item, Result):
                        self._early.release()
                        yield item
                    elif isinstance(item, str):
                        keys.append(item)
                    try:
                        item = self._out.get_nowait()
                    except queue.Empty:
                        break
                keys += self._found_again()
                if keys:
                    yield from self._collect(keys)
                if self._cancel.is_set():
                    self._stop_remote()
                self._dispatch()
                if self._finished():
                    break
                if self._client.status == "closed":
                    raise SourceError("lost the connection to the Dask scheduler")
            if self._feeder_error is not None:
                raise self._feeder_error
        finally:
            self._cancel.set()
            with self._cond:
                self._cond.notify_all()
                futures = [f for f, _ in self._futures.values()]
            if futures:  # the caller left early: nobody wants these
                self._stop_remote()
                self._client.cancel(futures)
            feeder.join()
            with contextlib.suppress(Exception):  # forget the Event on the scheduler
                distributed.Event(self._cancel_name, client=self._client).clear()

    def _found_again(self) -> list[str]:
        with self._cond:
            back = [k for k in self._lost if self._futures[k][0].status != "lost"]
        self._lost.difference_update(back)
        return back

    def _finished(self) -> bool:
        with self._cond:
            drained = self._batches.drained
        return self._feeder_done.is_set() and drained and self._out.empty()

    def _stop_remote(self) -> None:
        if self._cancel_sent:
            return
        self._cancel_sent = True
        with self._cond:
            self._batches.drop()
            self._cond.notify_all()
        with contextlib.suppress(Exception):
            distributed.Event(self._cancel_name, client=self._client).set()

    def _collect(self, keys: list[str]) -> Iterator[Result]:
        ready: list[tuple[str, distributed.Future[Any], Batch[Item]]] = []
        for key in keys:
            with self._cond:
                future, batch = self._futures[key]
            status = future.status
            if status == "lost":
                # It finished, then the worker holding its records died: Dask runs it again,
                # and the caller's loop looks again (a done-callback would fire at once).
                self._lost.add(key)
                continue
            if status == "pending":
                self._when_done(future)
                continue
            if status == "error" and not self._cancel.is_set():
                # KilledWorker too: Dask has re-run it allowed-failures times already.
                raise SourceError(f"a Dask task failed: {future.exception()!r}")
            if status == "cancelled" and not self._cancel.is_set():
                raise SourceError("the Dask cluster dropped a task (was the scheduler restarted?)")
            ready.append((key, future, batch))
        finished = [(k, f) for k, f, _ in ready if f.status == "finished"]
        blobs: dict[str, bytes] = {}
        if finished:
            # One request for all of them; it waits for a re-run if records vanish with
            # their worker meanwhile.
            try:
                got = self._client.gather([f for _, f in finished])
            except Exception as exc:
                raise SourceError(f"a Dask task failed: {exc!r}") from None
            blobs = {k: blob for (k, _), blob in zip(finished, got, strict=True)}
        for key, _, batch in ready:
            with self._cond:
                del self._futures[key]
                self._batches.done(batch, rest=self._spacing(batch))
                self._cond.notify_all()
            self.stats.add(in_flight=-len(batch.items))
            blob = blobs.get(key)
            fresh: list[Result] = []
            if blob is not None:
                digests = {work.raw: digest for digest, work in batch.items}
                for result in unpack_results(blob):
                    digest = digests[result.url]
                    if digest in self._pending:  # a record already reported is never repeated
                        self._pending.discard(digest)
                        fresh.append(self._merging.completed(result))  # duplicates' sources
            for digest, _ in batch.items:  # unchecked (cancelled) URLs are not waited for
                self._pending.discard(digest)
            self.stats.add(completed=len(fresh), ok=sum(r.ok for r in fresh))
            yield from fresh

    def _spacing(self, batch: Batch[Item]) -> float:
        """The longest request interval a rate limit sets for a host in `batch`."""
        if self._policy is None:
            return 0.0
        rates = {self._policy.host(host_key(w.url)).rate_limit for _, w in batch.items}
        return max((1.0 / r for r in rates if r), default=0.0)

    def _dispatch(self) -> None:
        with self._cond:
            if self._cancel.is_set():
                return
            for batch in self._batches.take(final=self._input_done):
                self._submit(batch)
                self._pending.update(digest for digest, _ in batch.items)
                self.stats.add(queued=len(batch.items), in_flight=len(batch.items))
            self._cond.notify_all()

    def _submit(self, batch: Batch[Item]) -> None:
        key = f"urlsweep-{self._token}-{batch.number}"
        blob = pack_work([work for _, work in batch.items])
        future = self._client.submit(
            check_partition, blob, self.options, self._cancel_name, key=key
        )
        self._futures[key] = (future, batch)
        self._when_done(future)

    def _when_done(self, future: distributed.Future[Any]) -> None:
        future.add_done_callback(lambda f: self._out.put(f.key))

    # -- the feeder thread ---------------------------------------------------------------
    def _feed(self) -> None:
        try:
            for item in screen_unique(self._targets, self._cancel, self.stats, self._merging):
                if isinstance(item, Result):
                    self._put_early(item)
                    continue
                work, digest = item
                if not self._buffer(host_partition(work.url, self._batches.slots), digest, work):
                    break
        except BaseException as exc:  # reported to the caller after the tasks out end
            self._feeder_error = exc
        finally:
            with self._cond:
                self._input_done = True
            self._feeder_done.set()
            self._out.put(None)  # wake the caller's thread

    def _buffer(self, slot: int, digest: int, work: Work) -> bool:
        with self._cond:
            while not self._batches.has_room():
                if self._cancel.is_set():
                    return False
                self._cond.wait(_POLL)
            if self._batches.add(slot, (digest, work)):
                self._dispatch()
        return True

    def _put_early(self, result: Result) -> None:
        while not self._early.acquire(timeout=_POLL):
            if self._cancel.is_set():
                return
        self._out.put(result)


def check(
    urls: Iterable[str | Target],
    client: distributed.Client,
    *,
    partition_size: int = 500,
    max_in_flight: int | None = None,
    **options: Unpack[CheckOptions],
) -> Iterator[Result]:
    """Like `urlsweep.check`, with the checks spread over the Dask cluster behind `client`.

    `options` are the keyword arguments of `urlsweep.check` (workers = threads per task).
    Records arrive as tasks finish; stopping the iteration early cancels the run.
    """
    not_one_url(urls)
    opts = Options.from_kwargs(**options)
    targets = (u if isinstance(u, Target) else Target(str(u)) for u in urls)
    source = DaskSource(
        client, targets, opts, partition_size=partition_size, max_in_flight=max_in_flight
    )
    return iter(source)
