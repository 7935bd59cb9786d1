"""The watch's own tables beside the results store: URL states, events, rounds.

The rounds themselves are ordinary runs of the store (so `runs`, `report` and `history`
show them); these tables add what a restart needs to carry on where the last session
stopped: each URL's settled outcome and streak, when it was last checked (its schedule),
the round counter, and the events. Written on the thread that records results, on the
store's own connection.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

from urlsweep.watch.board import RECENT_EVENTS
from urlsweep.watch.changes import Event, UrlState

if TYPE_CHECKING:
    from urlsweep.store.db import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watch_url_states (
    watch TEXT NOT NULL,        -- which watch (its inputs)
    digest INTEGER NOT NULL,    -- the store's key of the URL
    url TEXT NOT NULL,
    settled TEXT, since REAL,   -- the confirmed outcome, and since when
    candidate TEXT, streak INTEGER NOT NULL DEFAULT 0, candidate_since REAL,
    changed_at REAL,            -- the last change event
    planned REAL,               -- planned start of the round that last checked it
    uptime BLOB,                -- hourly ok/total counters (board.Uptime), zlib-compressed
    UNIQUE (watch, digest)      -- (a rowid table: WITHOUT ROWID stores 1 KB rows badly)
);
CREATE TABLE IF NOT EXISTS watch_events (
    id INTEGER PRIMARY KEY,
    watch TEXT NOT NULL,
    at REAL NOT NULL,
    event TEXT NOT NULL         -- the event's JSON, as the sinks got it
);
CREATE INDEX IF NOT EXISTS watch_events_at ON watch_events(watch, at);
CREATE TABLE IF NOT EXISTS watch_rounds (
    watch TEXT NOT NULL,
    round INTEGER NOT NULL,
    run_id INTEGER NOT NULL,    -- the store's run holding the round's results
    planned REAL NOT NULL,
    started REAL NOT NULL,
    PRIMARY KEY (watch, round)
) WITHOUT ROWID;
"""
# What retention keeps of the events: a week of them (what the page's week covers), at most
# EVENTS_CAP a watch even then (a URL flapping every second), and always each URL's latest
# (its "last change") and the newest RECENT_EVENTS (what a restarted page lists).
EVENTS_FOR: Final = 7 * 86400.0
EVENTS_CAP: Final = 20_000


def prune_rows(db: sqlite3.Connection, older_than: float | None = None) -> int:
    """Drop the watch rows nothing needs any more, for every watch in the store: rounds
    whose run the store dropped (each watch's latest stays: its round counter), events
    as EVENTS_FOR says, and URLs no round checked for `older_than` seconds. Run after the
    store dropped its runs (Store.prune's `also`); returns the rows dropped."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"watch_rounds", "watch_events", "watch_url_states"} <= names:
        return 0  # no watch ever used this store
    now = time.time()
    n = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        n += db.execute(
            "DELETE FROM watch_rounds WHERE run_id NOT IN (SELECT id FROM runs)"
            " AND round < (SELECT max(w.round) FROM watch_rounds w"
            " WHERE w.watch = watch_rounds.watch)"
        ).rowcount
        watches = [w for (w,) in db.execute("SELECT DISTINCT watch FROM watch_events")]
        for watch in watches:
            n += _prune_events(db, watch, now)
        if older_than is not None:
            n += db.execute(
                "DELETE FROM watch_url_states WHERE coalesce(planned, since, 0) < ?",
                (now - older_than,),
            ).rowcount
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return n


def _prune_events(db: sqlite3.Connection, watch: str, now: float) -> int:
    def nth_newest(k: int) -> int:
        row = db.execute(
            "SELECT id FROM watch_events WHERE watch = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
            (watch, k - 1),
        ).fetchone()
        return 0 if row is None else int(row[0])

    recent, capped = nth_newest(RECENT_EVENTS), nth_newest(EVENTS_CAP)
    if not recent:
        return 0  # fewer than RECENT_EVENTS events: all stay
    # Older than the newest RECENT_EVENTS, out of the week or beyond the cap, not a latest.
    return db.execute(
        "DELETE FROM watch_events WHERE watch = ? AND id < ? AND (at < ? OR id < ?)"
        " AND id NOT IN (SELECT max(id) FROM watch_events WHERE watch = ?"
        " GROUP BY json_extract(event, '$.url'))",
        (watch, recent, now - EVENTS_FOR, capped, watch),
    ).rowcount


class WatchState:
    """Reads and writes one watch's rows. Use from the thread that owns `store`."""

    def __init__(self, store: Store, watch: str) -> None:
        self.store = store
        self.db: sqlite3.Connection = store.db
        self.watch = watch
        self.db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- restart -------------------------------------------------------------------------
    def rounds(self) -> int:
        row = self.db.execute(
            "SELECT max(round) FROM watch_rounds WHERE watch = ?", (self.watch,)
        ).fetchone()
        return int(row[0] or 0)

    def load(self) -> Iterator[tuple[int, UrlState, float | None, bytes | None]]:
        rows = self.db.execute(
            "SELECT digest, url, settled, since, candidate, streak, candidate_since,"
            " changed_at, planned, uptime FROM watch_url_states WHERE watch = ?",
            (self.watch,),
        )
        for r in rows:
            state = UrlState(
                url=r[1],
                settled=r[2],
                since=r[3],
                candidate=r[4],
                streak=r[5],
                candidate_since=r[6],
                changed_at=r[7],
            )
            yield r[0], state, r[8], _unpack(r[9])

    def events(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT event FROM watch_events WHERE watch = ? ORDER BY id DESC LIMIT ?",
            (self.watch, limit),
        ).fetchall()
        return [json.loads(e) for (e,) in reversed(rows)]

    # -- writes --------------------------------------------------------------------------
    def begin_round(self, round_no: int, run_id: int, planned: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO watch_rounds (watch, round, run_id, planned, started)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.watch, round_no, run_id, planned, time.time()),
        )

    def add_events(self, events: Iterable[Event]) -> None:
        rows = [(self.watch, e.at, json.dumps(e.to_dict())) for e in events]
        if rows:
            with self._tx():
                self.db.executemany(
                    "INSERT INTO watch_events (watch, at, event) VALUES (?, ?, ?)", rows
                )

    def save(self, rows: Iterable[tuple[int, UrlState, float | None, bytes | None]]) -> None:
        with self._tx():
            self.db.executemany(
                "INSERT OR REPLACE INTO watch_url_states (watch, digest, url, settled, since,"
                " candidate, streak, candidate_since, changed_at, planned, uptime)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        self.watch,
                        key,
                        s.url,
                        s.settled,
                        s.since,
                        s.candidate,
                        s.streak,
                        s.candidate_since,
                        s.changed_at,
                        planned,
                        None if uptime is None else zlib.compress(uptime, 1),
                    )
                    for key, s, planned, uptime in rows
                ),
            )


def _unpack(blob: bytes | None) -> bytes | None:
    try:
        return None if blob is None else zlib.decompress(blob)
    except zlib.error:
        return None  # unreadable counters start again from zero
