"""The results store: every result of every run, kept in SQLite as it arrives.

One thread (the one receiving results) writes, in batched transactions, so the store never
slows a run down; WAL mode lets `report` and `history` read while a run writes. A commit in
WAL mode is an append to the log file, which the OS keeps even if the process is killed with
SIGKILL: what was committed is never lost, and `--resume` checks again only the URLs that
were in flight or received in the last batch window.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import socket
import sqlite3
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from urlsweep.engine.dedup import url_digest
from urlsweep.inputs import Target
from urlsweep.options import Options, StatusSet
from urlsweep.reports.jsonfmt import result_json
from urlsweep.result import SKIPPED, TOLERATED, Result
from urlsweep.summary import NEWLY_BROKEN, NEWLY_FIXED, Summary
from urlsweep.urls import InvalidURL, normalise

DEFAULT_PATH: Final = os.path.join(".urlsweep", "results.db")
SCHEMA_VERSION: Final = 1
BATCH_ROWS: Final = 1000
BATCH_SECONDS: Final = 0.05  # the most results a SIGKILL can lose, besides the checks in flight

# Options that change what a result says (the cache and --resume only reuse results made
# with the same ones); speed knobs (workers, timeout, per-host limits, retries) are left out.
RESULT_OPTIONS: Final = (
    "method",
    "max_redirects",
    "accept",
    "headers",
    "user_agent",
    "insecure",
    "ca_cert",
    "system_ca",
    "basic_auth",
    "cookies",
    "include",
    "exclude",
    "schemes",
    "deny_private",
    "allow_nets",
    "hosts",
)
# Header names whose values are secrets: never written to the store.
_SECRET_HEADER = re.compile(r"auth|cookie|token|key|secret|session|passw", re.I)

RUNNING: Final = "running"
INTERRUPTED: Final = "interrupted"
DONE: Final = "done"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,            -- unix time of the first session
    updated REAL NOT NULL,            -- last commit: a heartbeat
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


class StoreError(Exception):
    """The store cannot be opened or used as asked; the CLI reports it in one line."""


def _signed(digest: int) -> int:
    """SQLite integers are signed 64-bit."""
    return digest - (1 << 64) if digest >= 1 << 63 else digest


def key_of(url: str) -> int:
    return _signed(url_digest(url))


def target_key(target: Target) -> int:
    """The key of the URL a target names: its normalised form, or the raw text if invalid.

    Must agree with `result_key` for the result the target produces.
    """
    if target.invalid:
        return key_of(target.raw)
    try:
        return key_of(normalise(target.raw))
    except InvalidURL:
        return key_of(target.raw)


def result_key(result: Result) -> int:
    """The same key from a result, without normalising again (that costs ~50 µs a URL).

    The probe records the normalised URL as the first hop of a redirect chain, or as the final
    URL when there was none; results of invalid input have no final URL.
    """
    if result.redirects:
        return key_of(result.redirects[0].url)
    if result.final_url is not None:
        return key_of(result.final_url)
    return key_of(result.url)


def url_key(url: str) -> int:
    """The key of a URL typed by a person (history lookups)."""
    return target_key(Target(url))


def options_dict(options: Options) -> dict[str, Any]:
    """The options as JSON, with passwords, secret headers and proxy credentials masked."""
    return {f.name: _plain(getattr(options, f.name), f.name) for f in dataclasses.fields(options)}


def _plain(value: object, name: str = "") -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if name == "password":
            return "***"
        if name == "proxy" and "@" in value:
            scheme, _, rest = value.rpartition("://")
            return (scheme + "://" if scheme else "") + "***@" + rest.rpartition("@")[2]
        return value
    if name == "headers" and isinstance(value, tuple):
        return [[k, "***" if _SECRET_HEADER.search(k) else v] for k, v in value]
    if isinstance(value, (tuple, list)):
        return [_plain(v, name) for v in value]
    if isinstance(value, StatusSet):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    return str(value)


def input_names(inputs: Sequence[str]) -> list[str]:
    """Inputs as they identify a run: files by absolute path, URLs and stdin as given."""
    names = []
    for arg in inputs:
        if arg == "-" or "://" in arg:
            names.append(arg)
        else:
            names.append(os.path.abspath(arg))
    return names


@dataclass(frozen=True, slots=True)
class Identity:
    """Digests that say which runs are comparable."""

    fingerprint: str  # inputs + result options: what --resume matches
    profile: str  # result options: what the cache matches
    inputs_key: str  # inputs: what report compares against

    @classmethod
    def of(cls, inputs: Sequence[str], options: Options) -> Identity:
        names = input_names(inputs)
        opts = options_dict(options)
        profile = {k: opts.get(k) for k in RESULT_OPTIONS}
        return cls(_hash({"inputs": names, "options": profile}), _hash(profile), _hash(names))


def _hash(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:32]


def _alive(pid: int | None, host: str | None) -> bool:
    """Whether the process that wrote a 'running' run may still be running."""
    if pid is None or host != socket.gethostname():
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie has finished: its parent just has not waited
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    return True


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    started: float
    finished: float | None
    state: str
    pid: int | None
    host: str | None
    fingerprint: str
    profile: str
    inputs_key: str
    inputs: list[str]
    options: dict[str, Any]
    counts: dict[str, Any] | None
    elapsed: float
    sessions: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Run:
        return cls(
            id=row["id"],
            started=row["started"],
            finished=row["finished"],
            state=row["state"],
            pid=row["pid"],
            host=row["host"],
            fingerprint=row["fingerprint"],
            profile=row["profile"],
            inputs_key=row["inputs_key"],
            inputs=json.loads(row["inputs"]),
            options=json.loads(row["options"]),
            counts=json.loads(row["counts"]) if row["counts"] else None,
            elapsed=row["elapsed"],
            sessions=row["sessions"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": iso(self.started),
            "finished": iso(self.finished) if self.finished else None,
            "state": self.state,
            "inputs": self.inputs,
            "elapsed_s": round(self.elapsed, 3),
            "sessions": self.sessions,
        }


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


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
        if not create and not self.path.exists():
            raise StoreError(f"no store at {self.path} (urlsweep check creates it)")
        try:
            if create:
                self._make_dir()
            self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer urlsweep")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if version < SCHEMA_VERSION:
                self.db.executescript(_SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use {self.path} as a results store: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot create {self.path}: {exc.strerror or exc}") from None

    def _make_dir(self) -> None:
        parent = self.path.parent
        if parent.exists():
            return
        parent.mkdir(parents=True)
        if parent.name == ".urlsweep":  # like .pytest_cache: never committed by accident
            (parent / ".gitignore").write_text("# created by urlsweep\n*\n")

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
        if run.state == RUNNING and _alive(run.pid, run.host):
            raise StoreError(f"run {run.id} is still running (pid {run.pid}); not resuming it")
        return run

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
        self.flush()
        state = DONE if complete else INTERRUPTED
        self.store.end_run(self.run.id, state, summary, time.monotonic() - self._started)

    def abort(self) -> None:
        """Last words before an immediate exit (second Ctrl-C): keep what was received."""
        with contextlib.suppress(Exception):
            self.flush()
        with contextlib.suppress(Exception):
            self.store.db.execute(
                "UPDATE runs SET state = ?, updated = ? WHERE id = ?",
                (INTERRUPTED, time.time(), self.run.id),
            )
