"""The worker processes of `--processes`: how they start (forked, or a new interpreter) and
what each runs (the threaded `Engine` on the work the main process sends, its records sent
back in batches). The main process's side is scale/local.py.

On Linux, while the main process still has one thread, workers are forked: it loads the
worker side once and freezes what it has (`gc.freeze`, so no collection in a child writes
to the pages they share), and each child starts checking at once, with no interpreter
start-up, no imports of its own, and those pages shared. Forking is only safe from a
process with one thread: a child gets a copy of every lock, held or not, and only the
forking thread. So `check` starts its engine before any thread of its own (the store's
writer starts after it, cli/main.py); a caller with threads of its own, or a system other
than Linux, gets new interpreters (`python -c`, like multiprocessing's spawn but without
its resource-tracker process and re-import of the main script).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, TypeAlias

from urlsweep.engine.work import Work, pack_results, unpack_work
from urlsweep.options import Options
from urlsweep.result import Result
from urlsweep.scale.logs import LogShipper, ship_logs_from_here

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from subprocess import Popen

    from urlsweep.engine.pipeline import Engine

# The protocol between the main process and a worker.
POLL: Final = 0.1  # seconds between looks at the cancel flag
TICK: Final = 0.02  # a batch waits at most this long before it is sent
# Finished records not yet shipped, at most, before new checks wait: when the main process is
# the slower side (the store, the output), a worker's records piled up while its pipe was
# full (9,290 at once, 200,000 URLs with the store on); a URL that has not begun costs a
# fraction of its record. 1,000,000 URLs, defaults, alternated with the commit before: 135 ->
# 123 MB summed over the processes (docs/performance.md).
BACKLOG: Final = 2048
STOP: Final = "stop"  # on the control pipe: cancel
SIGNALS: Final = {signal.SIGINT, signal.SIGTERM}  # ignored by workers: the main process decides
# What the workers send: ("results", blob, stats) and ("logs", records, stats) ... then
# ("done", error, stats).
RESULTS: Final = "results"
LOGS: Final = "logs"
DONE: Final = "done"


def may_fork() -> bool:
    """Whether workers can be forked now: on Linux (elsewhere system libraries may not
    survive a fork), and with no other thread alive, whose locks the child would copy.
    The kernel's count covers threads that a C library started, which `threading` does not
    know of."""
    if sys.platform != "linux" or threading.active_count() != 1:
        return False
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Threads:"):
                    return int(line.split()[1]) == 1
    except (OSError, ValueError):
        pass
    return False


class Forked:
    """A forked worker, waited for and killed as the `Popen` of a spawned one is."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: its code is unknown
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """As `Popen.wait`: polls, sleeping a little longer each time, up to 50 ms."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:
            left = 0.05 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
            time.sleep(min(delay, left))
            delay = min(2 * delay, 0.05)
        return code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


if TYPE_CHECKING:
    Worker: TypeAlias = Popen[bytes] | Forked  # what the main process waits for


def load_worker_side() -> None:
    """What a worker runs, imported before the fork: once, and shared by every child."""
    import multiprocessing.connection  # noqa: F401

    import urlsweep.engine.pipeline  # noqa: F401  (libcurl with it)


def spawn_worker(fds: tuple[int, int, int]) -> Popen[bytes]:
    """A new interpreter running `worker_process` on `fds`, which it inherits alone."""
    env = dict(os.environ)
    # The child imports this very package, wherever the parent found it.
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER_CODE, *map(str, fds)],
        pass_fds=fds,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )


def fork_worker(fds: tuple[int, int, int], others: list[int]) -> Forked:
    """A child of this process running `worker_process` on `fds`; `others` are the
    pipes of the other workers, closed in the child. The child never returns."""
    gc.freeze()  # what exists now is never collected in the child: its pages stay shared
    pid = os.fork()
    if pid:
        gc.unfreeze()  # this process collects as before
        return Forked(pid)
    try:  # the child: whatever happens, it leaves through os._exit (no atexit, no flush)
        for fd in others:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)  # no reading of this process's stdin, no writing to its stdout
        os.dup2(null, 1)
        os.close(null)
        worker_process(*fds)
    except BaseException:
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    os._exit(1)


# -- in the worker ---------------------------------------------------------------------
_WORKER_CODE: Final = (
    "import sys, urlsweep.scale.worker as p; p.worker_process(*map(int, sys.argv[1:]))"
)


def worker_process(work_fd: int, results_fd: int, control_fd: int) -> None:
    """The entry point of a worker process (see `_WORKER_CODE`)."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    from multiprocessing.connection import Connection

    work = Connection(work_fd, writable=False)
    results = Connection(results_fd, readable=False)
    control = Connection(control_fd, writable=False)
    try:
        options, number, log_levels = work.recv()
    except (EOFError, OSError):
        return  # the main process gave up before the run began
    _worker_main(options, work, results, control, ship_logs_from_here(number, log_levels))
    # Everything is said and the pipes are closed: skip the interpreter's teardown (20-30 ms
    # of freeing modules, handles and threads) that the main process would wait for.
    sys.stderr.flush()
    os._exit(0)


def _worker_main(
    options: Options,
    work: Connection,
    results: Connection,
    control: Connection,
    logs: LogShipper,
) -> None:
    """Runs the Engine on the URLs that arrive; its only output is the results pipe."""
    from urlsweep.engine.pipeline import Engine

    batch: list[Result] = []
    lock = threading.Lock()
    finished = threading.Event()

    def collect(items: list[Result]) -> None:
        with lock:
            batch.extend(items)

    engine = Engine(
        (), options, work=_received(work, control), emit=collect, room=lambda: len(batch) < BACKLOG
    )
    threading.Thread(target=_obey, args=(engine, control), daemon=True).start()

    def send(kind: str, payload: object) -> None:
        try:
            results.send((kind, payload, engine.stats.snapshot()))
        except OSError:  # the main process is gone: nobody wants these results
            os._exit(1)

    def ship() -> None:
        while not finished.wait(TICK):
            with lock:
                items = batch[:]
                batch.clear()
            if records := logs.take():  # before the results they may tell about
                send(LOGS, records)
            if items:
                send(RESULTS, pack_results(items))

    shipper = threading.Thread(target=ship, daemon=True)
    shipper.start()
    error: BaseException | None = None
    try:
        for _ in engine:  # records go to `collect`: nothing is yielded here
            pass
    except BaseException as exc:  # e.g. an unreadable CA file: the main process reports it
        error = exc
    finished.set()
    shipper.join()
    if records := logs.take():
        send(LOGS, records)
    if batch:
        send(RESULTS, pack_results(batch))
    try:
        send(DONE, error)
    except Exception:  # an error that does not pickle still has to be told
        send(DONE, RuntimeError(repr(error)))
    results.close()


def _received(work: Connection, control: Connection) -> Iterator[Work]:
    """The work the main process sends, until it closes the pipe or says stop."""
    while True:
        try:
            if not work.poll(POLL):
                if control.closed:
                    return
                continue
            blob = work.recv_bytes()
        except (EOFError, OSError):
            return
        yield from unpack_work(blob)


def _obey(engine: Engine, control: Connection) -> None:
    """Cancel on the main process's word; leave at once if the main process vanished."""
    try:
        control.recv()
    except (EOFError, OSError):
        os._exit(1)  # no stop message, the pipe just closed: the main process is gone
    engine.cancel()
    control.close()
