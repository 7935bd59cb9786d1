"""Opening a store file: created private, another application's database refused, an older
urlsweep's schema migrated in place.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Final

SCHEMA_VERSION: Final = 1
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,            -- unix time of the first session
    updated REAL NOT NULL,            -- heartbeat: written while the run goes on
    finished REAL,                    -- end of the last session
    state TEXT NOT NULL,              -- running | interrupted | done
    pid INTEGER,                      -- with host: tells a killed run from a live one
    host TEXT,
    fingerprint TEXT NOT NULL,        -- inputs + result options: what --resume matches
    profile TEXT NOT NULL,            -- result options only: what the cache matches
    inputs_key TEXT NOT NULL,         -- inputs only: what report compares against
    inputs TEXT NOT NULL,             -- JSON list
    options TEXT NOT NULL,            -- JSON object
    counts TEXT,                      -- JSON summary of the whole run
    elapsed REAL NOT NULL DEFAULT 0,  -- seconds spent checking, over all sessions
    sessions INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    digest INTEGER NOT NULL,          -- of the normalised URL (see result_key)
    url TEXT NOT NULL,                -- as the input wrote it
    checked_at REAL NOT NULL,         -- unix time of the check (kept when reused from cache)
    ok INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    elapsed_ms REAL NOT NULL,
    cached_from INTEGER,              -- the run whose result was reused, if any
    record TEXT NOT NULL              -- Result.to_dict() as JSON
);
CREATE UNIQUE INDEX IF NOT EXISTS results_run ON results(run_id, digest);
CREATE INDEX IF NOT EXISTS results_digest ON results(digest, run_id);
"""
_OURS: Final = frozenset({"runs", "results"})


class StoreError(Exception):
    """The store cannot be opened or used as asked; the CLI reports it in one line."""


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """A connection to the store at `path`, its schema current; StoreError otherwise."""
    if not create and not path.exists():
        raise StoreError(f"no store at {path} (urlsweep check creates it)")
    try:
        if create:
            _make_private(path)
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        db.row_factory = sqlite3.Row
        _prepare(db, path)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise StoreError(f"cannot use {path} as a results store: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer urlsweep")
    if version == 0:
        # Look before writing anything: another application's database is left as it is.
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if names - _OURS:
            raise StoreError(
                f"{path} is an SQLite database of another application, not a urlsweep store;"
                " not touching it (pick another --store path)"
            )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if version < SCHEMA_VERSION:
        db.executescript(_SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")


def _make_private(path: Path) -> None:
    """Create the folders and the file readable by their owner only, whatever the umask.

    SQLite gives its -wal and -shm files the database file's mode.
    """
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
            os.chmod(folder, DIR_MODE)
    if missing and path.parent.name == ".urlsweep":  # like .pytest_cache: never committed
        (path.parent / ".gitignore").write_text("# created by urlsweep\n*\n")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
