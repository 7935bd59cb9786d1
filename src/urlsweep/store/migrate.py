"""Older formats to the current one, in place, in the caller's transaction.

Format 1 (one JSON record per URL per run): every stored result is kept, each run's in its
order of arrival. Format 2 (`current` kept in digest order): its rows are copied in the order
the URLs were first seen. Format 3 (results found by an index on their URL's digest): each
result is linked to the one before it, and the index dropped."""

from __future__ import annotations

import json
import re
import sqlite3

from urlsweep.result import Result
from urlsweep.store.writes import Item, profile_id, write_batch

_BATCH = 5000


def migrate(db: sqlite3.Connection, schema: str) -> None:
    db.execute("ALTER TABLE results RENAME TO results_v1")
    db.execute("DROP INDEX IF EXISTS results_run")
    db.execute("DROP INDEX IF EXISTS results_digest")
    for statement in schema.split(";"):
        if statement.strip():
            db.execute(statement)
    runs = db.execute("SELECT id, profile FROM runs ORDER BY id").fetchall()
    for run_id, profile_key in runs:
        profile = profile_id(db, profile_key)
        cur = db.execute(
            "SELECT record, checked_at, cached_from FROM results_v1 WHERE run_id = ?"
            " ORDER BY rowid",
            (run_id,),
        )
        seq = 0
        while rows := cur.fetchmany(_BATCH):
            items = []
            for record, checked_at, cached_from in rows:
                items.append(
                    Item(Result.from_dict(json.loads(record)), checked_at, cached_from, seq)
                )
                seq += 1
            write_batch(db, run_id, profile, items, begin=False)
    db.execute("DROP TABLE results_v1")


_COLUMNS = (
    "profile, digest, result_id, sig, first_run, first_seen, last_run, last_checked,"
    " checked_run, changed_run, streak"
)


def cluster_current(db: sqlite3.Connection, schema: str) -> None:
    """Format 2 to 3: `current` becomes a table in first-seen order (see schema.py)."""
    found = re.search(r"CREATE TABLE current \(.*?\n\);", schema, re.S)
    assert found is not None, "schema.py defines the current table"
    db.execute("ALTER TABLE current RENAME TO current_v2")
    db.execute(found.group())
    db.execute(
        f"INSERT INTO current ({_COLUMNS}) SELECT {_COLUMNS} FROM current_v2"
        " ORDER BY first_run, result_id"
    )
    db.execute("DROP TABLE current_v2")


def chain_results(db: sqlite3.Connection) -> None:
    """Format 3 to 4: each result points at the URL's previous one (`prev`), found through
    the index on `digest` while it is still there; then the index goes."""
    db.execute("ALTER TABLE results ADD COLUMN prev INTEGER")  # NULL in every row, unwritten
    # Only the rows that have a previous result are rewritten: most URLs never changed.
    # (No UPDATE ... FROM: SQLite before 3.33 has none.)
    earlier = (
        "FROM results n WHERE n.digest = results.digest AND n.profile = results.profile"
        " AND n.id < results.id"
    )
    db.execute(
        f"UPDATE results SET prev = (SELECT max(n.id) {earlier}) WHERE EXISTS (SELECT 1 {earlier})"
    )
    db.execute("DROP INDEX IF EXISTS results_digest")
