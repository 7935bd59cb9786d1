"""The results store as a library: schema, batched writes, keys, runs, history, changes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import urlsweep
from support.http import TestHTTPServer
from support.store_helpers import log_server, record_run
from urlsweep.inputs import Target
from urlsweep.options import OptionError, Options
from urlsweep.result import Hop, Result
from urlsweep.store.cachepolicy import ResultFilter, parse_duration
from urlsweep.store.db import Store, StoreError
from urlsweep.store.keys import result_key, target_key, url_key
from urlsweep.store.recorder import Recorder
from urlsweep.store.runs import INTERRUPTED, RUNNING
from urlsweep.summary import NEWLY_BROKEN, NEWLY_FIXED, Summary


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    with log_server() as s:
        yield s


def res(url: str, status: int, ok: bool | None = None) -> Result:
    ok = 200 <= status < 300 if ok is None else ok
    return Result(url=url, final_url=url, status=status, ok=ok, outcome="ok" if ok else "broken")


def test_schema_wal_and_gitignore(tmp_path: Path) -> None:
    path = tmp_path / ".urlsweep" / "results.db"
    with Store(path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        run = store.begin_run(("a.txt",), Options())
        assert run.state == RUNNING and run.pid == os.getpid()
        assert run.inputs == [str(Path("a.txt").resolve())]
    assert (tmp_path / ".urlsweep" / ".gitignore").read_text().strip().endswith("*")
    with Store(path) as again:  # reopening keeps what was there
        assert again.latest_run() is not None


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.db"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match=r"cannot use .* as a results store"):
        Store(bad)
    with pytest.raises(StoreError, match="no store at"):
        Store(tmp_path / "missing.db", create=False)


def test_keys_of_targets_and_their_results_agree(server: TestHTTPServer, tmp_path: Path) -> None:
    """--resume skips a target when its key equals the key stored from its result."""
    raw = [
        f"{server.base_url}/ok",
        f"HTTP://127.0.0.1:{server.base_url.rsplit(':', 1)[1]}/ok?x=1#frag",
        f"{server.base_url}/redirect/1",  # one redirect
        f"{server.base_url}/status/500",
        "http://name.invalid/x",  # answered without DNS
        "not a url",
        "ftp://example.invalid/",
        "http://bad host/",
        f"{server.base_url}/skipme",  # left out by the policy
    ]
    targets = [Target(u, "t") for u in raw] + [Target("http://x.invalid/" + "a" * 50, "t", "bad")]
    results = list(urlsweep.check(targets, workers=4, timeout=5, exclude=("skipme",)))
    assert len(results) == len(targets)
    by_url = {r.url: r for r in results}
    for t in targets:
        assert result_key(by_url[t.raw]) == target_key(t), t.raw
    assert url_key(f"{server.base_url}/ok") == target_key(Target(raw[0]))
    assert by_url[raw[2]].redirects  # the redirect case was really exercised
    assert by_url[raw[-1]].error == "excluded"


def test_recorder_batches_and_keeps_everything(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        run = store.begin_run(("u",), Options())
        rec = Recorder(store, run)
        results = [res(f"http://h.invalid/{i}", 200 if i % 3 else 404) for i in range(2500)]
        for r in results:
            rec.write(r)
        reader = Store(tmp_path / "s.db")  # another connection sees committed batches
        deadline = time.monotonic() + 30  # the writer thread commits in its own time
        while reader.count(run.id) < 2000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert 2000 <= reader.count(run.id) <= 2500
        summary = Summary()
        for r in results:
            summary.add(r)
        rec.close(summary, complete=False)
        assert reader.count(run.id) == 2500
        back = list(reader.results(run.id))
        assert back == results  # in arrival order, every field intact
        stored = reader.run(run.id)
        assert stored is not None and stored.state == INTERRUPTED
        assert stored.counts is not None and stored.counts["total"] == 2500
        keys = reader.finished_keys(run.id)
        assert list(keys) == sorted(keys) and len(keys) == 2500
        reader.close()


def _wait_for(reader: Store, run_id: int, n: int, within: float) -> int:
    deadline = time.monotonic() + within
    while reader.count(run_id) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return reader.count(run_id)


def _hand_over(rec: Recorder, numbers: range) -> None:
    """A result for each of `numbers`, handed to the writer as one batch."""
    for i in numbers:
        rec.write(res(f"http://h.invalid/{i}", 200))
    rec.flush()


def test_a_commit_spans_batches_up_to_its_row_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urlsweep.store import recorder

    monkeypatch.setattr(recorder, "COMMIT_ROWS", 30)
    monkeypatch.setattr(recorder, "COMMIT_SECONDS", 60.0)  # rows decide here, not time
    with Store(tmp_path / "s.db") as store:
        run = store.begin_run(("u",), Options())
        rec = Recorder(store, run)
        reader = Store(tmp_path / "s.db")
        _hand_over(rec, range(20))  # one batch of 20: under COMMIT_ROWS, so it waits for more
        time.sleep(0.5)
        assert reader.count(run.id) == 0
        _hand_over(rec, range(20, 40))  # 40 rows written in the transaction: committed together
        assert _wait_for(reader, run.id, 40, within=10) == 40
        _hand_over(rec, range(40, 45))
        rec.close(Summary(), complete=True)  # the end commits what waits
        assert reader.count(run.id) == 45
        reader.close()


def test_a_lone_batch_is_committed_within_the_commit_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urlsweep.store import recorder

    monkeypatch.setattr(recorder, "COMMIT_SECONDS", 0.2)
    with Store(tmp_path / "s.db") as store:
        run = store.begin_run(("u",), Options())
        rec = Recorder(store, run)
        reader = Store(tmp_path / "s.db")
        _hand_over(rec, range(5))
        # No more results come: the window, not the next batch (or the heartbeat's 10 s),
        # ends the transaction.
        assert _wait_for(reader, run.id, 5, within=5) == 5
        assert rec._writer.is_alive()
        rec.close(Summary(), complete=True)
        reader.close()


def test_resumable_only_latest_unfinished_same_inputs(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        a = store.begin_run(("a",), Options())
        Recorder(store, a).close(Summary(), complete=False)
        assert store.resumable(("a",), Options()) == store.run(a.id)
        assert store.resumable(("b",), Options()) is None
        assert store.resumable(("a",), Options(accept=Options().accept, method="get")) is None
        assert store.resumable(("a",), Options(workers=3, timeout=1)) is not None  # speed only
        done = store.begin_run(("a",), Options())
        Recorder(store, done).close(Summary(), complete=True)
        assert store.resumable(("a",), Options()) is None  # the latest one completed


def test_running_run_of_a_live_process_is_not_resumed(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        run = store.begin_run(("a",), Options())
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            store.db.execute("UPDATE runs SET pid = ? WHERE id = ?", (sleeper.pid, run.id))
            with pytest.raises(StoreError, match="still running"):
                store.resumable(("a",), Options())
        finally:
            sleeper.kill()
            sleeper.wait()
        resumable = store.resumable(("a",), Options())  # killed: resumable now
        assert resumable is not None and resumable.id == run.id
        claimed = store.claim(resumable)
        assert claimed.pid == os.getpid() and claimed.sessions == 2


def test_history_streak_and_changes(tmp_path: Path) -> None:
    u = "http://h.invalid/"
    with Store(tmp_path / "s.db") as store:
        r1 = record_run(store, [res(u + "a", 200), res(u + "b", 404), res(u + "c", 404)])
        r2 = record_run(store, [res(u + "a", 500), res(u + "b", 404), res(u + "c", 200)])
        r3 = record_run(store, [res(u + "a", 500), res(u + "b", 200), res(u + "d", 404)])
        hist = store.history(url_key(u + "a"))
        assert [h.run_id for h in hist] == [r3, r2, r1]
        assert [h.result.status for h in hist] == [500, 500, 200]
        profile = store.profile_id(store.run(r3).profile)  # type: ignore[union-attr]
        assert profile is not None
        assert store.streak(url_key(u + "a"), profile) == 2  # 500 in runs 2 and 3
        assert store.streak(url_key(u + "b"), profile) == 0  # fixed in run 3
        assert store.streak(url_key(u + "d"), profile) == 1
        assert store.changes(r2, r1) == {u + "a": NEWLY_BROKEN, u + "c": NEWLY_FIXED}
        assert store.changes(r3, r2) == {u + "b": NEWLY_FIXED, u + "d": NEWLY_BROKEN}
        run3 = store.run(r3)
        assert run3 is not None
        previous = store.previous_run(run3)
        assert previous is not None and previous.id == r2


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(StoreError, match="newer urlsweep"):
        Store(path)


def test_result_key_of_a_redirect_is_its_first_hop() -> None:
    r = Result(
        url="http://a.invalid/x",
        final_url="http://a.invalid/y",
        status=200,
        ok=True,
        outcome="ok",
        redirects=(Hop("http://a.invalid/x", 301),),
        sources=("f:1",),
    )
    assert result_key(r) == url_key("http://a.invalid/x")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("12h", 43200), ("1d", 86400), ("2w", 1209600)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration_and_filter() -> None:
    with pytest.raises(OptionError):
        parse_duration("soon")
    with pytest.raises(OptionError):
        ResultFilter.parse("42x")


def test_result_filter() -> None:
    f = ResultFilter.parse("429,5xx,timeout")
    assert res("u", 503) in f and res("u", 429) in f
    assert res("u", 404) not in f and res("u", 200) not in f
    assert Result(url="u", error="timeout") in f
    assert Result(url="u", error="connect") not in f
    assert Result(url="u", error="connect") in ResultFilter.parse("errors")
    assert res("u", 503) not in ResultFilter.parse("none")
    assert res("u", 404) in ResultFilter.parse("400-404")


def test_secrets_never_reach_the_store(tmp_path: Path) -> None:
    from urlsweep.options import BasicAuth

    options = Options(
        headers=(("Authorization", "Bearer s3cret-token"), ("X-Trace", "visible")),
        basic_auth=(BasicAuth("example", "alice", "s3cret-password"),),
        proxy="http://bob:s3cret-proxy@127.0.0.1:3128",
    )
    path = tmp_path / "s.db"
    with Store(path) as store:
        run = store.begin_run(("u",), options)
        assert run.options["headers"] == [["Authorization", "***"], ["X-Trace", "visible"]]
        assert run.options["basic_auth"] == [
            {"pattern": "example", "user": "alice", "password": "***"}
        ]
        assert run.options["proxy"] == "http://***@127.0.0.1:3128"
    for f in tmp_path.iterdir():
        assert b"s3cret" not in f.read_bytes(), f
