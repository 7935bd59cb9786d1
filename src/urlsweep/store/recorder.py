"""Writing one run's results as they arrive, in batched transactions."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Final

from urlsweep.reports.jsonfmt import result_json
from urlsweep.result import Result
from urlsweep.store.db import Store
from urlsweep.store.keys import result_key
from urlsweep.store.runs import DONE, HEARTBEAT_SECONDS, INTERRUPTED, RUNNING, Run
from urlsweep.summary import Summary

BATCH_ROWS: Final = 1000
BATCH_SECONDS: Final = 0.05  # the most results a SIGKILL can lose, besides the checks in flight


def row_of(
    run_id: int, result: Result, checked_at: float, cached_from: int | None = None
) -> tuple[object, ...]:
    return (
        run_id,
        result_key(result),
        result.url,
        checked_at,
        int(result.ok),
        result.outcome,
        result.status,
        result.error,
        result.elapsed_ms,
        cached_from,
        result_json(result),
    )


class Recorder:
    """Writes one run's results as they arrive, in batched transactions.

    Used like a sink by the thread that receives results. Results that are already stored
    (replayed by --resume) or reused from an earlier run are announced with `note` first.
    """

    def __init__(self, store: Store, run: Run) -> None:
        self.store = store
        self.run = run
        self._pending: list[tuple[object, ...]] = []
        self._last_commit = time.monotonic()
        self._started = time.monotonic()
        self._notes: dict[int, tuple[float, int | None] | None] = {}
        self.written = 0  # results received, stored now or before
        self._heartbeat = Heartbeat(store.path, run.id)
        self._heartbeat.start()

    def note(self, result: Result, checked_at: float | None, cached_from: int | None) -> None:
        """Say where the next write of `result` comes from: None means already stored."""
        self._notes[id(result)] = None if checked_at is None else (checked_at, cached_from)

    def write(self, result: Result) -> None:
        origin = self._notes.pop(id(result), (time.time(), None))
        self.written += 1
        if origin is None:
            return
        self._pending.append(row_of(self.run.id, result, origin[0], origin[1]))
        if (
            len(self._pending) >= BATCH_ROWS
            or time.monotonic() - self._last_commit >= BATCH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        if rows:
            self.store.insert(rows)
        self._last_commit = time.monotonic()

    def close(self, summary: Summary, complete: bool) -> None:
        """End this session: the run is done, or interrupted and can be resumed."""
        self._heartbeat.stop()
        self.flush()
        state = DONE if complete else INTERRUPTED
        self.store.end_run(self.run.id, state, summary, time.monotonic() - self._started)

    def abort(self) -> None:
        """Last words before an immediate exit (second Ctrl-C): keep what was received."""
        self._heartbeat.stop(wait=False)
        with contextlib.suppress(Exception):
            self.flush()
        with contextlib.suppress(Exception):
            self.store.db.execute(
                "UPDATE runs SET state = ?, updated = ? WHERE id = ?",
                (INTERRUPTED, time.time(), self.run.id),
            )


class Heartbeat(threading.Thread):
    """Writes the run's `updated` time every few seconds while it goes on, so that another
    machine sharing the store can tell a live run from one that died."""

    def __init__(self, path: Path, run_id: int, every: float = HEARTBEAT_SECONDS) -> None:
        super().__init__(name="urlsweep-heartbeat", daemon=True)
        self._every = every
        self._path = path
        self._run_id = run_id
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            db = sqlite3.connect(self._path, timeout=HEARTBEAT_SECONDS, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while not self._stopped.wait(self._every):
                with contextlib.suppress(sqlite3.Error):  # busy: the next beat will do
                    db.execute(
                        "UPDATE runs SET updated = ? WHERE id = ? AND state = ?",
                        (time.time(), self._run_id, RUNNING),
                    )
        finally:
            db.close()

    def stop(self, *, wait: bool = True) -> None:
        self._stopped.set()
        if wait and self.ident is not None:
            self.join()
