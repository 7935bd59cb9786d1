"""The store file itself: private modes, another application's database left alone, runs
that died shown as interrupted, what --resume says when it cannot resume, secrets in keys."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.http import TestHTTPServer
from support.store_helpers import CMD, cli, env, flip, log_server, paths, urlsweep
from urlsweep.options import Options
from urlsweep.store.db import Store
from urlsweep.store.keys import Identity
from urlsweep.store.recorder import Writer
from urlsweep.store.schema import SCHEMA_VERSION


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    with log_server() as s:
        yield s


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_applications_database_is_refused_and_left_alone(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        con.execute("INSERT INTO notes (text) VALUES ('keep me')")
    con.close()
    before = digest(other)
    url = f"{server.base_url}/ok"
    for args in (("check", "--no-progress", url), ("runs",), ("report",), ("history", url)):
        p = urlsweep(*args, "--store", other)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.splitlines()) == 1 and "another application" in p.stderr
        assert "Traceback" not in p.stderr
    assert digest(other) == before
    assert not Path(f"{other}-wal").exists() and not Path(f"{other}-shm").exists()
    with sqlite3.connect(f"file:{other}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master")]
    assert names == ["notes"]


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_store_file_and_folder_are_private_whatever_the_umask(
    tmp_path: Path, server: TestHTTPServer, umask: int
) -> None:
    url = f"{server.base_url}/ok"
    p = subprocess.run(
        [*CMD, "check", "--no-progress", url],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(umask) and None,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    folder = tmp_path / ".urlsweep"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    db = folder / "results.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    nested = tmp_path / "a" / "b" / "s.db"
    p = subprocess.run(
        [*CMD, "check", "--no-progress", "--store", str(nested), url],
        env=env(),
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(umask) and None,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    for f in (nested, Path(f"{nested}-wal"), Path(f"{nested}-shm")):
        if f.exists():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_profile_keys_on_a_digest_of_secret_values() -> None:
    a = Options(headers=(("Authorization", "Bearer one"),))
    b = Options(headers=(("Authorization", "Bearer two"),))
    assert Identity.of(["u"], a).profile == Identity.of(["u"], a).profile
    assert Identity.of(["u"], a).profile != Identity.of(["u"], b).profile
    assert Identity.of(["u"], a).fingerprint != Identity.of(["u"], b).fingerprint
    c = Options(headers=(("X-Api-Key", "k1"),))
    d = Options(headers=(("X-Api-Key", "k2"),))
    assert Identity.of(["u"], c).profile != Identity.of(["u"], d).profile


def test_cache_is_not_shared_between_credentials(tmp_path: Path, server: TestHTTPServer) -> None:
    db = tmp_path / "s.db"
    url = f"{server.base_url}/ok?secret"
    base = ("check", "--no-progress", "--store", db, "--cache-max-age", "1h", url)
    assert urlsweep(*base, "-H", "Authorization: Bearer one").returncode == 0
    server.clear()
    assert urlsweep(*base, "-H", "Authorization: Bearer one").returncode == 0
    assert paths(server) == {}  # the same credential: reused
    p = urlsweep(*base, "-H", "Authorization: Bearer two")
    assert p.returncode == 0
    assert paths(server) == {"/ok?secret": 1}  # another credential: checked again
    wal = Path(f"{db}-wal")
    text = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"Bearer one" not in text and b"Bearer two" not in text


def _fake_run(db: Path, *, pid: int | None, host: str, updated: float) -> int:
    with Store(db) as store:
        run = store.begin_run(("u.txt",), Options())
        store.db.execute(
            "UPDATE runs SET pid = ?, host = ?, updated = ? WHERE id = ?",
            (pid, host, updated, run.id),
        )
        return run.id


def _states(db: Path) -> dict[int, str]:
    p = cli("runs", "--store", db, "-f", "json")
    return {r["id"]: r["state"] for r in json.loads(p.stdout)}


def test_runs_lists_dead_runs_as_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        live = _fake_run(db, pid=sleeper.pid, host=socket.gethostname(), updated=time.time())
        dead = subprocess.Popen(["true"])
        dead.wait()
        killed = _fake_run(db, pid=dead.pid, host=socket.gethostname(), updated=time.time())
        far_live = _fake_run(db, pid=1, host="elsewhere.invalid", updated=time.time())
        far_dead = _fake_run(db, pid=1, host="elsewhere.invalid", updated=time.time() - 3600)
        assert _states(db) == {
            live: "running",
            killed: "interrupted",
            far_live: "running",
            far_dead: "interrupted",
        }
        text = cli("runs", "--store", db).stdout
        assert "interrupted" in text and "4 runs" in text and "kB in" in text
    finally:
        sleeper.kill()
        sleeper.wait()
    assert _states(db)[live] == "interrupted"


def test_heartbeat_is_written_while_a_run_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store(db) as store:
        run = store.begin_run(("u.txt",), Options())
        store.db.execute("UPDATE runs SET updated = 0 WHERE id = ?", (run.id,))
        beat = Writer(db, run, every=0.02)
        beat.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if store.db.execute("SELECT updated FROM runs").fetchone()[0] > 0:
                    break
                time.sleep(0.02)
        finally:
            beat.finish()
        assert store.db.execute("SELECT updated FROM runs").fetchone()[0] > time.time() - 60


def test_resume_says_what_differs_from_the_interrupted_run(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    db = tmp_path / "s.db"
    a = tmp_path / "a.txt"
    a.write_text(f"{server.base_url}/ok\n")
    b = tmp_path / "b.txt"
    b.write_text(f"{server.base_url}/ok\n")
    with Store(db) as store:
        run = store.begin_run((str(a),), Options())
        store.db.execute("UPDATE runs SET state = 'interrupted' WHERE id = ?", (run.id,))
    base = ("check", "--no-progress", "--store", db, "--resume")
    p = urlsweep(*base, b)
    assert p.returncode == 0
    assert "nothing to resume: starting a new run (interrupted run 1 differs: inputs" in p.stderr
    assert "a.txt" in p.stderr and "b.txt" in p.stderr
    p = urlsweep(*base, a, "-m", "get")
    assert 'method "head" (now "get")' in p.stderr and "interrupted run 1" in p.stderr
    p = urlsweep(*base, a)  # the same inputs and options: resumed
    assert "resuming run 1" in p.stderr


# The schema of format 1 (urlsweep before the compact store), as its code created it.
V1_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, started REAL NOT NULL, updated REAL NOT NULL, finished REAL,
    state TEXT NOT NULL, pid INTEGER, host TEXT, fingerprint TEXT NOT NULL,
    profile TEXT NOT NULL, inputs_key TEXT NOT NULL, inputs TEXT NOT NULL,
    options TEXT NOT NULL, counts TEXT, elapsed REAL NOT NULL DEFAULT 0,
    sessions INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE results (
    run_id INTEGER NOT NULL REFERENCES runs(id), digest INTEGER NOT NULL, url TEXT NOT NULL,
    checked_at REAL NOT NULL, ok INTEGER NOT NULL, outcome TEXT NOT NULL, status INTEGER,
    error TEXT, elapsed_ms REAL NOT NULL, cached_from INTEGER, record TEXT NOT NULL
);
CREATE UNIQUE INDEX results_run ON results(run_id, digest);
CREATE INDEX results_digest ON results(digest, run_id);
PRAGMA user_version=1;
"""


def test_a_store_of_the_previous_format_is_migrated_in_place(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    from support.store_helpers import sample_results
    from urlsweep.reports.jsonfmt import result_json
    from urlsweep.store.keys import Identity, input_names, options_dict, result_key

    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(V1_SCHEMA)
    results = sample_results()
    ident = Identity.of(["urls.txt"], Options())
    for run_id, status in ((1, 200), (2, 500)):
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, 'done', 1, 'h', ?, ?, ?, ?, ?, ?, 1.0, 1)",
            (
                run_id,
                1000.0 * run_id,
                1000.0 * run_id,
                1000.0 * run_id + 1,
                ident.fingerprint,
                ident.profile,
                ident.inputs_key,
                json.dumps(input_names(["urls.txt"])),
                json.dumps(options_dict(Options())),
                json.dumps({"total": len(results)}),
            ),
        )
        for r in results:
            if r.url.endswith("/page/0"):
                r = dataclasses.replace(r, status=status, ok=status == 200)
            con.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    run_id,
                    result_key(r),
                    r.url,
                    1000.0 * run_id,
                    int(r.ok),
                    r.outcome,
                    r.status,
                    r.error,
                    r.elapsed_ms,
                    result_json(r),
                ),
            )
    con.commit()
    con.close()
    runs = cli("runs", "--store", db, "-f", "json")
    assert runs.returncode == 0 and "Traceback" not in runs.stderr
    assert [r["id"] for r in json.loads(runs.stdout)] == [2, 1]
    with Store(db) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        for run_id in (1, 2):
            back = list(store.results(run_id))
            assert [b.url for b in back] == [r.url for r in results]
        hist = store.history(result_key(results[0]))
        assert [(h.run_id, h.result.status) for h in hist] == [(2, 500), (1, 200)]
        # unchanged results are stored once
        assert store.db.execute("SELECT count(*) FROM results").fetchone()[0] == len(results) + 1
    p = urlsweep("check", "--no-progress", "--store", db, f"{server.base_url}/ok")
    assert p.returncode == 0 and "stored as run 3" in p.stderr


# Format 2's `current` (rows in digest order), as its code created it.
V2_CURRENT = """
CREATE TABLE current (
    profile INTEGER NOT NULL, digest INTEGER NOT NULL, result_id INTEGER NOT NULL,
    sig INTEGER NOT NULL, first_run INTEGER NOT NULL, first_seen REAL NOT NULL,
    last_run INTEGER NOT NULL, last_checked REAL NOT NULL, checked_run INTEGER NOT NULL,
    changed_run INTEGER NOT NULL, streak INTEGER NOT NULL, PRIMARY KEY (profile, digest)
) WITHOUT ROWID
"""
_CURRENT_COLUMNS = (
    "profile, digest, result_id, sig, first_run, first_seen, last_run, last_checked,"
    " checked_run, changed_run, streak"
)


# Format 3's results table: no link to the previous result, an index on the URL's digest.
_V3_COLUMNS = (
    "id, digest, profile, run_id, sig, url, final_url, status, ok, outcome, error, detail,"
    " method, attempts, ip, redirects, sources, extra"
)
_V3_RESULTS = f"""
ALTER TABLE results RENAME TO r4;
CREATE TABLE results (
    id INTEGER PRIMARY KEY, digest INTEGER NOT NULL, profile INTEGER NOT NULL,
    run_id INTEGER NOT NULL, sig INTEGER NOT NULL, url TEXT NOT NULL, final_url TEXT,
    status INTEGER, ok INTEGER NOT NULL, outcome TEXT NOT NULL, error TEXT, detail TEXT,
    method TEXT, attempts INTEGER, ip TEXT, redirects TEXT, sources TEXT, extra TEXT
);
INSERT INTO results SELECT {_V3_COLUMNS} FROM r4; DROP TABLE r4;
CREATE INDEX results_digest ON results(digest);
"""


def test_a_format_3_store_gets_its_results_chained(tmp_path: Path, server: TestHTTPServer) -> None:
    """Format 3 found a URL's results through an index on its digest; opening it links each
    result to the one before it (what format 4 writes) and drops the index. History, prune
    and the next run's changes read the same as before."""
    db = tmp_path / "s.db"
    flaky, ok = f"{server.base_url}/flip", f"{server.base_url}/ok"
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{flaky}\n{ok}\n")
    base = ("check", "--no-progress", "--store", db, "-q", urls)
    for status in (500, 200, 500, 500):
        flip(server, status)
        urlsweep(*base)
    urlsweep(*base, "--max-redirects", "7")  # another result profile: chains of its own
    con = sqlite3.connect(db)
    chains = con.execute("SELECT id, prev, url, profile FROM results ORDER BY id").fetchall()
    assert len(chains) == 6  # flaky 500, 200, 500 and ok; then each once more in profile 2
    for n, (_, prev, url, profile) in enumerate(chains):  # the URL's previous, same profile
        earlier = [i for i, _, u, p in chains[:n] if (u, p) == (url, profile)]
        assert prev == (earlier[-1] if earlier else None)
    assert sum(prev is not None for _, prev, _, _ in chains) == 2
    hist = cli("history", "--store", db, flaky, "-f", "json")
    before = json.loads(hist.stdout)
    assert [(h["run"], h["status"]) for h in before] == [
        (5, 500),
        (4, 500),
        (3, 500),
        (2, 200),
        (1, 500),
    ]
    con.executescript(f"BEGIN; {_V3_RESULTS} PRAGMA user_version=3; COMMIT;")
    con.close()
    hist = cli("history", "--store", db, flaky, "-f", "json")
    assert hist.returncode == 0 and "Traceback" not in hist.stderr, hist.stderr
    assert json.loads(hist.stdout) == before
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    migrated = con.execute("SELECT id, prev, url, profile FROM results ORDER BY id")
    assert migrated.fetchall() == chains
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "results_digest" not in indexes
    con.close()
    flip(server, 200)
    assert urlsweep(*base).returncode == 0
    report = cli("report", "--store", db, "-f", "json")
    changes = json.loads(report.stdout)["summary"]["changes"]
    assert changes == {"newly_broken": [], "newly_fixed": [flaky]}
    pruned = cli("prune", "--store", db, "--keep-runs", "2")
    assert pruned.returncode == 0, pruned.stderr
    hist = json.loads(cli("history", "--store", db, flaky, "-f", "json").stdout)
    assert [(h["run"], h["status"]) for h in hist] == [(6, 200), (5, 500)]


def test_a_format_2_store_gets_current_in_first_seen_order(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    """Format 2 kept `current` in digest order; opening it rebuilds the table in the order the
    URLs were first seen, every row kept, and the store works on (history, streaks, runs)."""
    db = tmp_path / "s.db"
    urls = tmp_path / "urls.txt"
    lines = [f"{server.base_url}/ok?i={i}" for i in range(30)] + [f"{server.base_url}/status/500"]
    urls.write_text("\n".join(lines) + "\n")
    base = ("check", "--no-progress", "--store", db, "-q", urls)
    assert urlsweep(*base).returncode == 1
    assert urlsweep(*base).returncode == 1
    con = sqlite3.connect(db)
    rows = sorted(con.execute(f"SELECT {_CURRENT_COLUMNS} FROM current").fetchall())
    con.executescript(
        f"BEGIN; {_V3_RESULTS} ALTER TABLE current RENAME TO c3;"
        f"{V2_CURRENT}; INSERT INTO current SELECT {_CURRENT_COLUMNS} FROM c3; DROP TABLE c3;"
        "PRAGMA user_version=2; COMMIT;"
    )
    con.close()
    runs = cli("runs", "--store", db, "-f", "json")
    assert runs.returncode == 0 and "Traceback" not in runs.stderr, runs.stderr
    with Store(db) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        after = store.db.execute(f"SELECT id, {_CURRENT_COLUMNS} FROM current ORDER BY id")
        migrated = [tuple(r) for r in after]
        assert sorted(r[1:] for r in migrated) == rows  # every row, every value
        assert [r[0] for r in migrated] == list(range(1, len(rows) + 1))
        order = [(r[5], r[3]) for r in migrated]  # (first_run, result_id)
        assert order == sorted(order)
        broken = [r for r in migrated if r[-1]]
        assert len(broken) == 1 and broken[0][-1] == 2  # failed twice in a row
    p = urlsweep(*base, "--fail-after", "3")
    assert p.returncode == 1, p.stderr  # the third failure in a row: the streak was kept
    p = urlsweep(*base, "--fail-after", "5")
    assert p.returncode == 0, p.stderr  # the fourth is tolerated by 5
    hist = cli("history", "--store", db, f"{server.base_url}/status/500", "-f", "json")
    assert hist.returncode == 0 and len(json.loads(hist.stdout)) == 4
