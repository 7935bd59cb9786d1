"""Opening a store file: created private, another application's database refused, an older
urlsweep's schema migrated in place.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Final

from urlsweep.errors import StoreError as StoreError  # defined there, raised here

SCHEMA_VERSION: Final = 4
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700

_RUNS = """
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
"""
# Format 2: a result is written once, when it differs from the URL's latest one under the
# same profile; each run adds one small `seen` row per URL (which result, when, how long).
_SCHEMA = """
CREATE TABLE profiles (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE results (                -- one row per distinct result of a URL and profile
    id INTEGER PRIMARY KEY,
    digest INTEGER NOT NULL,          -- of the normalised URL (see keys.result_key)
    profile INTEGER NOT NULL,         -- profiles.id
    run_id INTEGER NOT NULL,          -- the run that first got it
    sig INTEGER NOT NULL,             -- digest of what it says, timing aside
    url TEXT NOT NULL,                -- as the input wrote it
    final_url TEXT,
    status INTEGER,
    ok INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    detail TEXT,
    method TEXT,
    attempts INTEGER,
    ip TEXT,
    redirects TEXT,                   -- JSON [[url, status], ...], NULL when none
    sources TEXT,                     -- JSON list, NULL when none
    extra TEXT,                       -- JSON of any other record fields, NULL when none
    -- The URL's result before this one under the same profile (NULL for its first): its
    -- history is the chain back from `current`. An index on `digest` found it before,
    -- at the price of a random insert into a second index for every new result: at a
    -- million new URLs the writer took 45.1 µs of CPU per URL with it, 35.1 without
    -- (bench/store_writes.py, docs/store-and-reports.md).
    prev INTEGER
);
CREATE TABLE current (                -- the latest result of each URL under each profile
    -- Rows in first-seen order, found by (profile, digest) through the index: a run that
    -- checks its URLs in the order of the last one updates neighbouring rows, so a commit
    -- writes a few pages per thousand URLs. Kept in digest order (a random order), each
    -- URL dirtied a page of its own: 13 of a daily run's 40 µs of store per URL went to
    -- writing them at commit (measured, bench/STORE.md).
    id INTEGER PRIMARY KEY,
    profile INTEGER NOT NULL,
    digest INTEGER NOT NULL,
    result_id INTEGER NOT NULL,
    sig INTEGER NOT NULL,
    first_run INTEGER NOT NULL,       -- first seen
    first_seen REAL NOT NULL,
    last_run INTEGER NOT NULL,        -- last seen
    last_checked REAL NOT NULL,       -- when last checked (a cache hit keeps the check's time)
    checked_run INTEGER NOT NULL,     -- the run that last checked it
    changed_run INTEGER NOT NULL,     -- the run whose result is the latest: its last change
    streak INTEGER NOT NULL,          -- failed checks in a row (--fail-after)
    UNIQUE (profile, digest)
);
CREATE TABLE seen (                   -- which URLs each run covered
    run_id INTEGER NOT NULL,
    result_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,             -- arrival order in the run
    checked_at INTEGER NOT NULL,      -- unix time in ms (kept when reused from cache)
    elapsed INTEGER NOT NULL,         -- the check's time in 0.1 ms (as the output rounds it)
    cached_from INTEGER,              -- the run whose result was reused, if any
    PRIMARY KEY (run_id, result_id)
) WITHOUT ROWID;
"""
_OURS: Final = frozenset({"runs", "results", "profiles", "current", "seen"})


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
    if version == 0:
        # New stores give space back as they shrink (prune); set before the first table.
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA temp_store=MEMORY")
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another may have won
        if version == 0:
            for statement in (_RUNS + _SCHEMA).split(";"):
                if statement.strip():
                    db.execute(statement)
        elif version == 1:
            from urlsweep.store.migrate import migrate

            migrate(db, _SCHEMA)
        else:
            from urlsweep.store.migrate import chain_results, cluster_current

            if version == 2:
                cluster_current(db, _SCHEMA)
            chain_results(db)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


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
