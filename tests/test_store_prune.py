"""Retention: `urlsweep prune` and the automatic default keep a store bounded, keep what the
kept runs need, and give the space back to the file system."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path

from support.store_helpers import cli, record_run, sample_results
from urlsweep.options import Options
from urlsweep.store.db import Store
from urlsweep.store.keys import result_key
from urlsweep.store.prune import DEFAULT_KEEP_RUNS


def grown_store(path: Path, runs: int) -> list[int]:
    """`runs` runs over the same URLs; in each, page/0 has a status of its own."""
    base = sample_results()
    ids = []
    with Store(path) as store:
        for n in range(runs):
            results = [
                dataclasses.replace(r, status=200 + n) if r.url.endswith("page/0") else r
                for r in base
            ]
            results += [
                dataclasses.replace(base[1], url=f"http://once.invalid/{n}", final_url=None)
            ]
            ids.append(record_run(store, results, ("urls.txt",)))
    return ids


def test_prune_keep_runs_keeps_what_the_kept_runs_need(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ids = grown_store(db, 6)
    with Store(db) as store:
        full = {i: list(store.results(i)) for i in ids[-2:]}
        results_before = store.db.execute("SELECT count(*) FROM results").fetchone()[0]
    p = cli("prune", "--store", db, "--keep-runs", "2")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("pruned 4 runs") and "2 runs left" in p.stdout
    with Store(db) as store:
        assert [r.id for r in store.runs()] == ids[-1:-3:-1]
        for i in ids[-2:]:
            assert list(store.results(i)) == full[i]  # kept runs intact
        page0 = result_key(sample_results()[0])
        assert [h.run_id for h in store.history(page0)] == ids[-1:-3:-1]
        assert [h.result.status for h in store.history(page0)] == [205, 204]
        after = store.db.execute("SELECT count(*) FROM results").fetchone()[0]
        assert after < results_before
        unused = store.db.execute(
            "SELECT count(*) FROM results WHERE id NOT IN (SELECT result_id FROM seen)"
        ).fetchone()[0]
        assert unused == 0  # nothing kept that no run refers to
        assert store.db.execute("PRAGMA freelist_count").fetchone()[0] == 0  # given back
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_prune_older_than(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    ids = grown_store(db, 3)
    old = time.time() - 40 * 86400
    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE runs SET started = ?, updated = ?, finished = ? WHERE id < ?",
            (old, old, old, ids[-1]),
        )
    con.close()
    p = cli("prune", "--store", db, "--older-than", "30d")
    assert p.returncode == 0 and "pruned 2 runs" in p.stdout
    runs = json.loads(cli("runs", "--store", db, "-f", "json").stdout)
    assert [r["id"] for r in runs] == [ids[-1]]
    assert cli("prune", "--store", db, "--older-than", "soon").returncode == 2


def test_default_retention_keeps_the_newest_runs(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store(db) as store:
        for _ in range(DEFAULT_KEEP_RUNS + 3):
            run = store.begin_run(("u.txt",), Options())
            store.db.execute("UPDATE runs SET state = 'done' WHERE id = ?", (run.id,))
    p = cli("prune", "--store", db)
    assert p.returncode == 0 and f"{DEFAULT_KEEP_RUNS} runs left" in p.stdout
    assert "pruned 3 runs" in p.stdout
    old = time.time() - 100 * 86400
    with Store(db) as store:
        store.db.execute("UPDATE runs SET updated = ?, finished = ? WHERE id <= 10", (old, old))
    p = cli("prune", "--store", db)  # runs 4-10 are older than 90 days now
    assert "pruned 7 runs" in p.stdout and f"{DEFAULT_KEEP_RUNS - 7} runs left" in p.stdout
