"""Forgetting on purpose: the oldest runs go, with the results only they referred to, and
the space goes back to the file system.

A result row is referred to by the runs that covered its URL while it was the URL's latest
result under its profile; once a newer result of the same URL and profile first appeared
in a run older than every kept run, no kept run can refer to it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Final

from urlsweep.store.runs import RUNNING, alive

# The automatic default, applied at the end of every `check` that stores its results.
DEFAULT_KEEP_RUNS: Final = 200
DEFAULT_OLDER_THAN: Final = 90 * 86400.0


@dataclass(frozen=True, slots=True)
class Pruned:
    runs: int
    results: int
    size_before: int
    size_after: int
    rows: int = 0  # other rows dropped beside the runs (a watch's, see Store.prune)


def due(db: sqlite3.Connection, keep_runs: int | None, older_than: float | None) -> list[int]:
    """The ids of the runs to drop, always the oldest ones: those beyond the newest
    `keep_runs`, and those whose last activity is more than `older_than` seconds ago; never
    a live run, nor anything newer than one."""
    rows = db.execute(
        "SELECT id, coalesce(finished, updated), state, pid, host, updated FROM runs"
        " ORDER BY id DESC"
    ).fetchall()
    cut = len(rows)
    if keep_runs is not None:
        cut = min(cut, keep_runs)
    if older_than is not None:
        limit = time.time() - older_than
        cut = min(cut, next((n for n, row in enumerate(rows) if row[1] < limit), cut))
    drop = rows[cut:]
    live = [n for n, row in enumerate(drop) if row[2] == RUNNING and alive(*row[3:6])]
    if live:
        drop = drop[live[-1] + 1 :]
    return [row[0] for row in drop]


def prune(db: sqlite3.Connection, drop: list[int], size: int) -> Pruned:
    """Drop the runs in `drop` (the oldest ones, as `due` picks them)."""
    if not drop:
        return Pruned(0, 0, size, size)
    newest_dropped = max(drop)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM seen WHERE run_id <= ?", (newest_dropped,))
        db.execute("DELETE FROM runs WHERE id <= ?", (newest_dropped,))
        oldest_kept = db.execute("SELECT min(id) FROM runs").fetchone()[0]
        if oldest_kept is None:
            db.execute("DELETE FROM current")
            n = db.execute("DELETE FROM results").rowcount
        else:
            # URLs no kept run saw: forget them; results superseded before the kept runs.
            db.execute("DELETE FROM current WHERE last_run < ?", (oldest_kept,))
            n = db.execute(
                "DELETE FROM results WHERE NOT EXISTS (SELECT 1 FROM current c"
                " WHERE c.profile = results.profile AND c.digest = results.digest)"
            ).rowcount
            # Superseded: the URL's next result came in a run no newer than the oldest kept
            # (so does every later one's next: the chain's tail goes, its head stays).
            n += db.execute(
                "DELETE FROM results WHERE id NOT IN (SELECT result_id FROM current)"
                " AND id IN (SELECT prev FROM results WHERE prev IS NOT NULL AND run_id <= ?)",
                (oldest_kept,),
            ).rowcount
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return Pruned(len(drop), n, size, size)


def give_back(db: sqlite3.Connection) -> None:
    """Return free pages to the file system and empty the write-ahead log."""
    mode = db.execute("PRAGMA auto_vacuum").fetchone()[0]
    if mode == 2:  # incremental
        for _ in range(8):  # moving pages can free another: until none is left
            db.execute("PRAGMA incremental_vacuum").fetchall()  # one page per step
            if not db.execute("PRAGMA freelist_count").fetchone()[0]:
                break
    else:  # a store migrated from format 1: made incremental once, by a full VACUUM
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
