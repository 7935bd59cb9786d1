"""A watch's store stays bounded: the store's retention runs between rounds (every round is a
run), and `urlsweep prune` drops the watch's own rows with the runs they refer to."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from support.http import TestHTTPServer
from urlsweep.options import Options
from urlsweep.summary import Summary

CMD = [sys.executable, "-m", "urlsweep"]
COUNTED = ("runs", "seen", "results", "watch_rounds", "watch_events", "watch_url_states")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args], capture_output=True, text=True, timeout=60, cwd=cwd,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def counts(db: sqlite3.Connection) -> dict[str, int]:
    return {t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED}


def watch_rows(
    path: Path, keep_runs: int | None, rounds: int, urls: list[str]
) -> list[dict[str, int]]:
    """Row counts after each of `rounds` rounds of a watch that prunes after every round."""
    from urlsweep.store.db import Store
    from urlsweep.watch.runner import WatchConfig, Watcher

    seen: list[dict[str, int]] = []
    config = WatchConfig(
        every=0.05, rounds=rounds, keep_runs=keep_runs, older_than=None, prune_every=0,
        prune_overdue=0,
    )  # fmt: skip
    with Store(path) as store:

        def after(n: int, summary: Summary, seconds: float, lag: float) -> None:
            seen.append(counts(store.db))  # on the watch's thread, like the recorder

        w = Watcher(urls, Options(retries=0), config, store=store, on_round=after)
        w.run()
        assert len(w.stats.prunes) == (rounds if keep_runs is not None else 0)  # + one at the end
    return seen


def test_retention_during_a_watch_keeps_row_counts_bounded(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    urls = [http_server.url("/ok"), http_server.url("/status/404"), http_server.url("/ok?b")]
    rounds = 25
    kept = watch_rows(tmp_path / "kept.db", 3, rounds, urls)
    grown = watch_rows(tmp_path / "grown.db", None, rounds, urls)
    assert len(kept) == len(grown) == rounds
    # Without retention every round adds a run, its `seen` rows and a round row...
    assert grown[-1]["runs"] == grown[-1]["watch_rounds"] == rounds
    assert grown[-1]["seen"] == rounds * len(urls)
    # ... with it, at most the 3 kept runs and the one that just ended, whatever the length.
    for n, c in enumerate(kept, 1):
        assert c["runs"] == c["watch_rounds"] == min(n, 4), c
        assert c["seen"] == min(n, 4) * len(urls)
        assert c["results"] <= 2 * len(urls)  # results are written when they change
        assert c["watch_url_states"] <= len(urls) and c["watch_events"] == 1  # the 404's
    # A restart carries on from the round counter, which retention keeps.
    from urlsweep.store.db import Store
    from urlsweep.watch.runner import WatchConfig, Watcher

    with Store(tmp_path / "kept.db") as store:
        w = Watcher(urls, Options(retries=0), WatchConfig(every=0.05, rounds=1), store=store)
        assert w.resumed_rounds == rounds
        assert [e["url"] for e in w.board.events] == [urls[1]]  # its last change, still there


def test_prune_drops_watch_rows_keeps_last_changes_and_the_round_counter(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    ok, missing = http_server.url("/ok"), http_server.url("/status/404")
    store = tmp_path / "s.db"
    args = ["watch", ok, missing, "--every", "0.05s", "--store", str(store), "--retries", "0"]
    first = run(*args, "--rounds", "5", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    day = 86400.0
    now = time.time()
    with sqlite3.connect(store) as db:
        (watch,) = db.execute("SELECT DISTINCT watch FROM watch_rounds").fetchone()
        (real,) = db.execute("SELECT event FROM watch_events").fetchone()
        # 300 events of 8 days ago about three URLs, and a URL unchecked for 100 days.
        db.executemany(
            "INSERT INTO watch_events (watch, at, event) VALUES (?, ?, ?)",
            [
                (watch, now - 8 * day, json.dumps({"url": f"http://old.test/{i % 3}", "n": i}))
                for i in range(300)
            ],
        )
        db.execute(
            "INSERT INTO watch_url_states (watch, digest, url, planned) VALUES (?, 1, ?, ?)",
            (watch, "http://gone.test/", now - 100 * day),
        )
        before = counts(db)
    assert before["runs"] == before["watch_rounds"] == 5 and before["watch_events"] == 301

    p = run("prune", "--store", str(store), "--keep-runs", "2", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "watch rows" in p.stdout and "2 runs left" in p.stdout
    with sqlite3.connect(store) as db:
        after = counts(db)
        kept = [json.loads(e) for (e,) in db.execute("SELECT event FROM watch_events")]
        rounds = [r for (r,) in db.execute("SELECT round FROM watch_rounds ORDER BY round")]
    assert after["runs"] == 2 and rounds == [4, 5]  # the rounds of the kept runs
    # Out of the week: all but the newest 200; this week's event (the 404) stays.
    assert after["watch_events"] == 201 and json.loads(real) in kept
    assert {e["n"] for e in kept if "n" in e} == set(range(100, 300))
    assert after["watch_url_states"] == 3  # --keep-runs alone forgets no URL

    p = run("prune", "--store", str(store), "--keep-runs", "0", "--older-than", "30d", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(store) as db:
        after = counts(db)
        rounds = [r for (r,) in db.execute("SELECT round FROM watch_rounds")]
        urls = {u for (u,) in db.execute("SELECT url FROM watch_url_states")}
    assert after["runs"] == after["seen"] == 0
    assert rounds == [5]  # the round counter stays
    assert urls == {ok, missing}  # the URL unchecked for 100 days is forgotten
    assert after["watch_events"] == 201  # the newest 200 events stay whatever their age

    again = run(*args, "--rounds", "1", cwd=tmp_path)
    assert again.returncode == 1, again.stderr
    assert "resuming after round 5" in again.stderr and "round 6:" in again.stderr
    assert again.stdout == ""  # the 404's change is not announced again


def test_watch_keep_runs_flag_prunes_its_rounds(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    store = tmp_path / "s.db"
    args = ["watch", http_server.url("/ok"), "--every", "0.05s", "--store", str(store)]
    p = run(*args, "--rounds", "6", "--keep-runs", "2", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "pruned 4 old rounds" in p.stderr  # the pass at the end (passes are 30 s apart)
    with sqlite3.connect(store) as db:
        c = counts(db)
    assert c["runs"] == c["watch_rounds"] == 2 and c["seen"] == 2
    p = run(*args, "--rounds", "2", "--older-than", "1h", cwd=tmp_path)  # no --keep-runs
    assert p.returncode == 0 and "resuming after round 6" in p.stderr, p.stderr
    with sqlite3.connect(store) as db:
        assert counts(db)["runs"] == 4  # 1 h alone replaces the default: all rounds stay


def test_watch_help_and_docs_list_every_watch_option(tmp_path: Path) -> None:
    """Each option of watch's own (not check's) is in `watch --help` and in docs/watch.md's
    table, with --keep-runs and --older-than, which watch shares with prune."""
    from urlsweep.options.declare import CHECK, WATCH
    from urlsweep.options.table import DECLARATIONS

    own = [
        d.long for d in DECLARATIONS if d.cli and WATCH in d.commands and CHECK not in d.commands
    ]
    assert {"--every", "--keep-runs", "--older-than"} <= set(own)
    p = run("watch", "--help", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    doc = (Path(__file__).parent.parent / "docs" / "watch.md").read_text()
    table = [line for line in doc.splitlines() if line.startswith("| `--")]
    for flag in own:
        assert flag in p.stdout, flag
        assert any(f"`{flag}" in line for line in table), flag
