"""Format 1 (one JSON record per URL per run) to format 2, in place, in the caller's
transaction: every stored result is kept, each run's in its order of arrival."""

from __future__ import annotations

import json
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
