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
import sqlite3
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from urlsweep.options import Options
from urlsweep.result import SKIPPED, TOLERATED, Result
from urlsweep.store.keys import Identity, input_names, options_dict
from urlsweep.store.prune import Pruned, due, give_back, prune
from urlsweep.store.runs import DONE, RUNNING, Run
from urlsweep.store.schema import StoreError, connect
from urlsweep.store.writes import RESULT_FIELDS, decode
from urlsweep.summary import NEWLY_BROKEN, NEWLY_FIXED, Summary

__all__ = ["DEFAULT_PATH", "Store", "StoreError", "Stored"]

DEFAULT_PATH: Final = os.path.join(".urlsweep", "results.db")
_FIELDS: Final = ", ".join(f"r.{name}" for name in RESULT_FIELDS)
# Every result of a URL (all profiles): back from its current ones along `prev`.
_CHAIN: Final = (
    "WITH RECURSIVE chain(id) AS (SELECT result_id FROM current"
    " WHERE profile IN (SELECT id FROM profiles) AND digest = ?"
    " UNION ALL SELECT r.prev FROM results r JOIN chain ON r.id = chain.id"
    " WHERE r.prev IS NOT NULL) SELECT id FROM chain"
)


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
        """Forget a run that stored nothing (it stopped before it began)."""
        with self._transaction():
            if not self.db.execute("SELECT 1 FROM seen WHERE run_id = ?", (run_id,)).fetchone():
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

    def prune(
        self,
        keep_runs: int | None,
        older_than: float | None,
        *,
        also: Callable[[sqlite3.Connection], int] | None = None,
    ) -> Pruned:
        """Drop the oldest runs (see `prune.due`) and give the space back.

        `also` drops rows of tables beside the store's own (a watch's, which refer to
        runs) once the runs are gone, before the space is given back; it returns how many.
        """
        before = self.size()
        drop = due(self.db, keep_runs, older_than)
        done = prune(self.db, drop, before)
        rows = also(self.db) if also is not None else 0
        if not done.runs and not rows:
            return Pruned(0, 0, before, before)
        give_back(self.db)
        return Pruned(done.runs, done.results, before, self.size(), rows)

    def previous_run(self, run: Run) -> Run | None:
        """The run before `run` over the same inputs: what its changes are measured against."""
        row = self.db.execute(
            "SELECT * FROM runs WHERE inputs_key = ? AND id < ? ORDER BY id DESC LIMIT 1",
            (run.inputs_key, run.id),
        ).fetchone()
        return Run.from_row(row) if row else None

    # -- results -------------------------------------------------------------------------
    def profile_id(self, key: str) -> int | None:
        row = self.db.execute("SELECT id FROM profiles WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else None

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
            f"SELECT {_FIELDS}, s.elapsed FROM seen s JOIN results r ON r.id = s.result_id"
            " WHERE s.run_id = ? ORDER BY s.seq",
            (run_id,),
        )
        while batch := cur.fetchmany(1000):
            for row in batch:
                yield decode(row, row[-1])

    def count(self, run_id: int) -> int:
        row = self.db.execute("SELECT count(*) FROM seen WHERE run_id = ?", (run_id,))
        return int(row.fetchone()[0])

    def next_seq(self, run_id: int) -> int:
        row = self.db.execute("SELECT max(seq) FROM seen WHERE run_id = ?", (run_id,))
        last = row.fetchone()[0]
        return 0 if last is None else int(last) + 1

    def finished_keys(self, run_id: int) -> array[int]:
        """Sorted keys of the URLs a run has finished: 8 bytes each, searched by bisection."""
        cur = self.db.execute(
            "SELECT r.digest FROM seen s JOIN results r ON r.id = s.result_id"
            " WHERE s.run_id = ? ORDER BY r.digest",
            (run_id,),
        )
        keys = array("q")
        while batch := cur.fetchmany(10_000):
            keys.extend(d for (d,) in batch)
        return keys

    def history(self, key: int, limit: int = 20) -> list[Stored]:
        """One entry per run that covered the URL, newest first (any profile)."""
        ids = [i for (i,) in self.db.execute(_CHAIN, (key,))]
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT s.run_id, s.checked_at, s.cached_from, s.elapsed, {_FIELDS}"
            " FROM runs u CROSS JOIN seen s ON s.run_id = u.id AND s.result_id IN"
            f" ({marks}) JOIN results r ON r.id = s.result_id ORDER BY u.id DESC LIMIT ?",
            (*ids, limit),
        )
        return [Stored(r[0], r[1] / 1000, r[2], decode(tuple(r)[4:], r[3])) for r in rows]

    def fresh(self, key: int, since: float, profile: int) -> Stored | None:
        """The URL's latest result under `profile` if it was checked at `since` or later."""
        row = self.db.execute(
            f"SELECT c.checked_run, c.last_checked, coalesce(s.elapsed, 0), {_FIELDS}"
            " FROM current c JOIN results r ON r.id = c.result_id"
            " LEFT JOIN seen s ON s.run_id = c.checked_run AND s.result_id = c.result_id"
            " WHERE c.profile = ? AND c.digest = ? AND c.last_checked >= ?",
            (profile, key, since),
        ).fetchone()
        if row is None:
            return None
        return Stored(row[0], row[1], None, decode(tuple(row)[3:], row[2]))

    def streak(self, key: int, profile: int) -> int:
        """How many checks in a row under `profile` found this URL not ok, up to now."""
        row = self.db.execute(
            "SELECT streak FROM current WHERE profile = ? AND digest = ?", (profile, key)
        ).fetchone()
        return int(row[0]) if row else 0

    def changes(self, run_id: int, previous_id: int) -> dict[str, str]:
        """URL -> 'newly_broken' or 'newly_fixed' compared with the previous run.

        Broken means flagged: not ok and not tolerated by --fail-after. A URL the previous run
        did not have counts as newly broken if it is broken now.
        """
        rows = self.db.execute(
            "WITH p AS (SELECT r.digest, r.ok, r.outcome FROM seen s"
            " JOIN results r ON r.id = s.result_id WHERE s.run_id = ?)"
            " SELECT r.url, r.ok, r.outcome, p.ok AS pok, p.outcome AS poutcome"
            " FROM seen s JOIN results r ON r.id = s.result_id"
            " LEFT JOIN p ON p.digest = r.digest WHERE s.run_id = ?",
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
