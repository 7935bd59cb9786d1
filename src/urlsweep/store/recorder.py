"""Writing one run's results as they arrive.

The receiving thread only collects results and hands them over in batches (every 2,500
results or 250 ms); a writer thread of its own encodes each batch as it comes and commits
every 20,000 results or second, so neither the receiving thread nor the transfer loop ever
waits on SQLite. The writer also beats the run's heartbeat.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Final

from urlsweep.result import Result
from urlsweep.store.db import Store
from urlsweep.store.runs import DONE, HEARTBEAT_SECONDS, INTERRUPTED, RUNNING, Run
from urlsweep.store.schema import connect
from urlsweep.store.writes import Item, profile_id, write_batch
from urlsweep.summary import Summary

# A commit costs the same page writes whatever its size (the current rows are clustered in
# first-seen order): 250 ms windows instead of 50 ms cut the writer thread's CPU on 200,000
# URLs from 11.1 to 8.5 s (new store) and 7.2 to 4.8-5.8 s (daily store), measured end to end.
BATCH_ROWS: Final = 2500
BATCH_SECONDS: Final = 0.25
# A transaction spans several batches: each commit writes every index page its rows touched,
# and a URL's key lands on a random page of `current`'s index, so fewer, larger commits
# write each page fewer times. bench/store_writes.py, 1,000,000 URLs new to the store: a
# commit per 2,500 results wrote 3.7 KB and took 20.5 µs of writer CPU per URL, one per
# 20,000 2.0 KB and 17.7 µs (100,000 URLs: 0.9 -> 0.3 KB, 14.5 -> 13.6 µs). What a SIGKILL
# can cost is what is not committed yet (a second or so of results, plus the checks in
# flight): `--resume` checks those again.
COMMIT_ROWS: Final = 20_000
COMMIT_SECONDS: Final = 1.0
_ABORT_WAIT: Final = 5.0
_NOW: Final = (0.0, None)  # not noted: checked just now
# Results handed over and not yet committed are held as Result objects: with 4
# batches waiting and 5 in a commit, a 1,000,000-URL run's main process peaked at 121 MB;
# with 1 and 2, at 101 MB (measured, new store). A writer that is behind holds the receiving
# thread back either way, so a longer queue only absorbs bursts.
_BACKLOG: Final = 1  # batches handed over and not yet written, at most
_item: Final = tuple.__new__


class Recorder:
    """Stores one run's results as they arrive.

    Used like a sink by the thread that receives results. Results that are already stored
    (replayed by --resume) or reused from an earlier run are announced with `note` first.
    """

    def __init__(self, store: Store, run: Run) -> None:
        self.store = store
        self.run = run
        self._pending: list[Item] = []
        self._last_commit = time.monotonic()
        self._started = time.monotonic()
        self._notes: dict[int, tuple[float, int | None] | None] = {}
        self._seq = store.next_seq(run.id)
        self.written = 0  # results received, stored now or before
        self.complete: bool | None = None  # known once closed: done, or interrupted
        self._writer = Writer(store.path, run)

    def start(self) -> None:
        """Start the writer's thread (the first hand-over does, if this was not called).
        Not at once: the worker processes of --processes are forked while this process has
        one thread, so `check` starts its engine first and then this."""
        if self._writer.ident is None:
            self._writer.start()

    def note(self, result: Result, checked_at: float | None, cached_from: int | None) -> None:
        """Say where the next write of `result` comes from: None means already stored."""
        self._notes[id(result)] = None if checked_at is None else (checked_at, cached_from)

    def write(self, result: Result) -> None:
        origin = self._notes.pop(id(result), _NOW) if self._notes else _NOW
        if origin is _NOW:
            origin = (time.time(), None)
        self.written += 1
        if origin is None:
            return
        # tuple.__new__: a NamedTuple's own constructor costs ~1.5 µs, once per result
        self._pending.append(_item(Item, (result.masked(), origin[0], origin[1], self._seq)))
        self._seq += 1
        if (
            len(self._pending) >= BATCH_ROWS
            or time.monotonic() - self._last_commit >= BATCH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        """Hand what was received to the writer (it commits in its own time)."""
        items, self._pending = self._pending, []
        if items:
            self.start()
            self._writer.put(items)
        self._last_commit = time.monotonic()

    def close(self, summary: Summary, complete: bool) -> None:
        """End this session: the run is done, or interrupted and can be resumed."""
        self.flush()
        self.start()
        self._writer.finish()
        state = DONE if complete else INTERRUPTED
        self.complete = complete
        self.store.end_run(self.run.id, state, summary, time.monotonic() - self._started)

    def abort(self) -> None:
        """Last words before an immediate exit (second Ctrl-C): keep what was received."""
        with contextlib.suppress(Exception):
            self.flush()
            self.start()
            self._writer.finish(timeout=_ABORT_WAIT)
        with contextlib.suppress(Exception):
            self.store.db.execute(
                "UPDATE runs SET state = ?, updated = ? WHERE id = ?",
                (INTERRUPTED, time.time(), self.run.id),
            )


class Writer(threading.Thread):
    """Commits batches of results with a connection of its own, and writes the heartbeat
    (`runs.updated`) every few seconds so another machine can tell a live run from a dead one.
    """

    def __init__(self, path: Path, run: Run, every: float = HEARTBEAT_SECONDS) -> None:
        super().__init__(name="urlsweep-store", daemon=True)
        self._path = path
        self._run = run
        self._every = every
        # Bounded, so a writer that falls behind (a slow disk) holds back the receiving
        # thread rather than memory without end; normally it is empty.
        self._queue: queue.Queue[list[Item] | None] = queue.Queue(maxsize=_BACKLOG)
        self._ready = threading.Event()
        self.error: BaseException | None = None

    def put(self, items: list[Item]) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(items)

    def finish(self, timeout: float | None = None) -> None:
        """Commit everything handed over, then stop; raises what the writer met."""
        self._queue.put(None, timeout=timeout)
        self.join(timeout)
        if self.error is not None:
            raise self.error

    def run(self) -> None:
        try:
            db = connect(self._path, create=False)
        except BaseException as exc:
            self.error = exc
            self._drain()
            return
        try:
            db.execute("PRAGMA cache_size=-8000")  # 8 MB: a run's current rows stay cached
            # A checkpoint every 40 MB of log, not 4: an index page that many commits touch
            # is copied into the file once, and there are a tenth of the fsyncs. New store,
            # 300,000 results: 28.8 -> 26.6 µs of CPU and 57 -> 48 µs of wall per result.
            db.execute("PRAGMA wal_autocheckpoint=10000")
            profile = profile_id(db, self._run.profile)
            beat = time.monotonic()
            rows = 0  # written since the transaction began
            began = 0.0
            while True:
                wait = self._every if not rows else began + COMMIT_SECONDS - time.monotonic()
                try:
                    items = self._queue.get(timeout=max(0.0, wait))
                except queue.Empty:
                    items = []
                if items:
                    if not rows:
                        db.execute("BEGIN IMMEDIATE")
                        began = time.monotonic()
                    write_batch(db, self._run.id, profile, items, begin=False)
                    rows += len(items)
                now = time.monotonic()
                if rows and (items is None or rows >= COMMIT_ROWS or now - began >= COMMIT_SECONDS):
                    db.execute("COMMIT")
                    rows = 0
                if items is None:
                    return
                if now - beat >= self._every:
                    beat = now
                    with contextlib.suppress(Exception):  # busy: the next beat will do
                        self._heartbeat(db)
        except BaseException as exc:
            self.error = exc
            with contextlib.suppress(Exception):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            self._drain()
        finally:
            db.close()

    def _heartbeat(self, db: sqlite3.Connection) -> None:
        db.execute(
            "UPDATE runs SET updated = ? WHERE id = ? AND state = ?",
            (time.time(), self._run.id, RUNNING),
        )

    def _drain(self) -> None:
        while self._queue.get() is not None:
            pass
