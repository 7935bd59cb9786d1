"""The results store: every result of every run, kept in SQLite as it arrives.

One thread (the one receiving results) writes, in batched transactions (see `recorder`);
WAL mode lets `report` and `history` read while a run writes. A commit in WAL mode is an
append to the log file, which the OS keeps even if the process is killed with SIGKILL: what
was committed is never lost, and `--resume` checks again only the URLs that were in flight
or received in the last batch window.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from urlsweep.options import Options
from urlsweep.result import SKIPPED, TOLERATED, Result
from urlsweep.store.keys import Identity, input_names, options_dict
from urlsweep.store.runs import DONE, RUNNING, Run
from urlsweep.store.schema import StoreError, connect
from urlsweep.summary import NEWLY_BROKEN, NEWLY_FIXED, Summary

__all__ = ["DEFAULT_PATH", "Store", "StoreError", "Stored"]

DEFAULT_PATH: Final = os.path.join(".urlsweep", "results.db")


@dataclass(frozen=True, slots=True)
class Stored:
    """A result as the store holds it: when it was checked, in which run, reused or not."""

    run_id: int
    checked_at: float
    cached_from: int | None
    result: Result


class Store:
    """One connection to a store file; use it from one thread."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        self.db = connect(self.path, create=create)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs ----------------------------------------------------------------------------
    def begin_run(self, inputs: Sequence[str], options: Options) -> Run:
        ident = Identity.of(inputs, options)
        now = time.time()
        cur = self.db.execute(
            "INSERT INTO runs (started, updated, state, pid, host, fingerprint, profile,"
            " inputs_key, inputs, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now,
                now,
                RUNNING,
                os.getpid(),
                socket.gethostname(),
                ident.fingerprint,
                ident.profile,
                ident.inputs_key,
                json.dumps(input_names(inputs)),
                json.dumps(options_dict(options)),
            ),
        )
        run = self.run(int(cur.lastrowid or 0))
        assert run is not None
        return run

    def resumable(self, inputs: Sequence[str], options: Options) -> Run | None:
        """The latest run with these inputs and result options, if it did not complete."""
        row = self.db.execute(
            "SELECT * FROM runs WHERE fingerprint = ? ORDER BY id DESC LIMIT 1",
            (Identity.of(inputs, options).fingerprint,),
        ).fetchone()
        if row is None or row["state"] == DONE:
            return None
        run = Run.from_row(row)
        if run.state == RUNNING and not run.dead:
            where = f"pid {run.pid}" if run.host == socket.gethostname() else f"on {run.host}"
            raise StoreError(f"run {run.id} is still running ({where}); not resuming it")
        return run

    def unfinished(self) -> Run | None:
        """The latest run that did not complete and is not running: what --resume would
        continue, had the inputs and options been the same."""
        rows = self.db.execute(
            "SELECT * FROM runs WHERE state != ? ORDER BY id DESC LIMIT 50", (DONE,)
        )
        for row in rows:
            run = Run.from_row(row)
            if run.state != RUNNING or run.dead:
                return run
        return None

    def heartbeat(self, run_id: int) -> None:
        self.db.execute(
            "UPDATE runs SET updated = ? WHERE id = ? AND state = ?",
            (time.time(), run_id, RUNNING),
        )

    def claim(self, run: Run) -> Run:
        """Continue `run` in this process."""
        self.db.execute(
            "UPDATE runs SET state = ?, pid = ?, host = ?, updated = ?, sessions = sessions + 1"
            " WHERE id = ?",
            (RUNNING, os.getpid(), socket.gethostname(), time.time(), run.id),
        )
        claimed = self.run(run.id)
        assert claimed is not None
        return claimed

    def discard_run(self, run_id: int) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM results WHERE run_id = ?", (run_id,))
            self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def end_run(self, run_id: int, state: str, summary: Summary, session_elapsed: float) -> None:
        now = time.time()
        self.db.execute(
            "UPDATE runs SET state = ?, finished = ?, updated = ?, counts = ?,"
            " elapsed = elapsed + ? WHERE id = ?",
            (state, now, now, json.dumps(summary.to_dict()), session_elapsed, run_id),
        )

    def run(self, run_id: int) -> Run | None:
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return Run.from_row(row) if row else None

    def latest_run(self) -> Run | None:
        row = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return Run.from_row(row) if row else None

    def runs(self, limit: int = 20) -> list[Run]:
        rows = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [Run.from_row(r) for r in rows]

    def run_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM runs").fetchone()[0])

    def size(self) -> int:
        """Bytes the store takes on disk, its write-ahead log included."""
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += os.stat(f"{self.path}{suffix}").st_size
        return total

    def previous_run(self, run: Run) -> Run | None:
        """The run before `run` over the same inputs: what its changes are measured against."""
        row = self.db.execute(
            "SELECT * FROM runs WHERE inputs_key = ? AND id < ? ORDER BY id DESC LIMIT 1",
            (run.inputs_key, run.id),
        ).fetchone()
        return Run.from_row(row) if row else None

    # -- results -------------------------------------------------------------------------
    def insert(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Append rows in one transaction; a URL already stored for the run is kept as is."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO results (run_id, digest, url, checked_at, ok, outcome,"
                " status, error, elapsed_ms, cached_from, record)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def results(self, run_id: int) -> Iterator[Result]:
        """A run's results in the order they arrived."""
        cur = self.db.execute(
            "SELECT record FROM results WHERE run_id = ? ORDER BY rowid", (run_id,)
        )
        for (record,) in cur:
            yield Result.from_dict(json.loads(record))

    def count(self, run_id: int) -> int:
        row = self.db.execute("SELECT count(*) FROM results WHERE run_id = ?", (run_id,))
        return int(row.fetchone()[0])

    def finished_keys(self, run_id: int) -> array[int]:
        """Sorted keys of the URLs a run has finished: 8 bytes each, searched by bisection."""
        cur = self.db.execute(
            "SELECT digest FROM results WHERE run_id = ? ORDER BY digest", (run_id,)
        )
        keys = array("q")
        while batch := cur.fetchmany(10_000):
            keys.extend(d for (d,) in batch)
        return keys

    def history(self, key: int, limit: int = 20) -> list[Stored]:
        rows = self.db.execute(
            "SELECT run_id, checked_at, cached_from, record FROM results WHERE digest = ?"
            " ORDER BY run_id DESC LIMIT ?",
            (key, limit),
        )
        return [
            Stored(r["run_id"], r["checked_at"], r["cached_from"], _record(r["record"]))
            for r in rows
        ]

    def fresh(self, key: int, since: float, profile: str) -> Stored | None:
        """The newest result for `key` checked at `since` or later with the same options."""
        row = self.db.execute(
            "SELECT r.run_id, r.checked_at, r.cached_from, r.record FROM results r"
            " JOIN runs u ON u.id = r.run_id"
            " WHERE r.digest = ? AND r.checked_at >= ? AND u.profile = ?"
            " ORDER BY r.checked_at DESC LIMIT 1",
            (key, since, profile),
        ).fetchone()
        if row is None:
            return None
        return Stored(row["run_id"], row["checked_at"], row["cached_from"], _record(row["record"]))

    def failures_before(self, key: int, run_id: int, limit: int) -> int:
        """How many runs before `run_id` in a row ended with this URL not ok (at most limit)."""
        rows = self.db.execute(
            "SELECT ok FROM results WHERE digest = ? AND run_id < ? AND cached_from IS NULL"
            " AND outcome != ? ORDER BY run_id DESC LIMIT ?",
            (key, run_id, SKIPPED, limit),
        )
        streak = 0
        for (ok,) in rows:
            if ok:
                break
            streak += 1
        return streak

    def changes(self, run_id: int, previous_id: int) -> dict[str, str]:
        """URL -> 'newly_broken' or 'newly_fixed' compared with the previous run.

        Broken means flagged: not ok and not tolerated by --fail-after. A URL the previous run
        did not have counts as newly broken if it is broken now.
        """
        rows = self.db.execute(
            "SELECT r.url, r.ok, r.outcome, p.ok AS pok, p.outcome AS poutcome FROM results r"
            " LEFT JOIN results p ON p.run_id = ? AND p.digest = r.digest WHERE r.run_id = ?",
            (previous_id, run_id),
        )
        out: dict[str, str] = {}
        for r in rows:
            now_broken = _flagged(r["ok"], r["outcome"])
            had = r["poutcome"] is not None
            was_broken = had and _flagged(r["pok"], r["poutcome"])
            if now_broken and not was_broken:
                out[r["url"]] = NEWLY_BROKEN
            elif r["ok"] and was_broken:
                out[r["url"]] = NEWLY_FIXED
        return out


def _flagged(ok: int, outcome: str) -> bool:
    return not ok and outcome not in (TOLERATED, SKIPPED)


def _record(text: str) -> Result:
    return Result.from_dict(json.loads(text))
