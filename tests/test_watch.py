"""`urlsweep watch`: the schedule, change confirmation, stdout events, the store, signals,
restart, exit codes. Intervals are sub-second and rounds few, so these stay fast."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from support.http import TestHTTPServer, reply
from urlsweep.inputs import Target
from urlsweep.options import OptionError
from urlsweep.result import Outcome, Result
from urlsweep.watch.changes import Tracker
from urlsweep.watch.schedule import Schedule, WatchRule

CMD = [sys.executable, "-m", "urlsweep"]


def run(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


class Flip:
    """A route whose status follows a script, one entry per HEAD request (one per round)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.heads = 0
        self.lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            if handler.command == "HEAD":
                self.heads += 1
            i = min(max(self.heads, 1), len(self.statuses)) - 1
            status = self.statuses[i]
        reply(handler, status, f"status {status}\n")


# -- the schedule ----------------------------------------------------------------------------
def test_schedule_intervals_from_rules_and_due_rounds() -> None:
    rules = (WatchRule("*.slow.test", 10.0), WatchRule("http://a.test/api/*", 1.0))
    s = Schedule(5.0, rules)
    assert s.tick == 1.0  # rounds come as often as the shortest interval
    assert s.interval_of("http://x.slow.test/") == 10.0
    assert s.interval_of("http://slow.test:80/") == 10.0
    assert s.interval_of("http://a.test/api/v1") == 1.0
    assert s.interval_of("http://a.test/other") == 5.0
    targets = [Target("http://x.slow.test/"), Target("http://a.test/api/v1")]
    assert [t.raw for t in s.due(targets, 100.0)] == [t.raw for t in targets]  # all new
    from urlsweep.store.keys import target_key

    for t in targets:
        s.checked(target_key(t), 100.0)
    # One second later only the 1 s URL is due; ten seconds later both again.
    assert [t.raw for t in s.due(targets, 101.0)] == ["http://a.test/api/v1"]
    assert len(list(s.due(targets, 110.0))) == 2
    # After a restart the first round waits for the earliest URL's next check.
    keys = {target_key(t): t.raw for t in targets}
    assert s.first_round(100.2, keys) == 101.0
    assert s.first_round(500.0, keys) == 500.0


def test_host_port_rule_and_bad_values() -> None:
    assert WatchRule("example.com:8080", 1).matches("http://EXAMPLE.com:8080/x")
    assert not WatchRule("example.com:8080", 1).matches("http://example.com/x")
    assert WatchRule("example.com:443", 1).matches("https://example.com/")
    with pytest.raises(OptionError):
        WatchRule("x", 0.0)
    with pytest.raises(OptionError):
        Schedule(0.0)


# -- change confirmation ----------------------------------------------------------------------
def _r(outcome: Outcome, status: int | None = 200) -> Result:
    if outcome == "ok":
        return Result(url="http://a.test/", status=status, ok=True, outcome="ok")
    return Result(url="http://a.test/", status=500, outcome=outcome)


def test_changes_confirmed_over_fail_after_rounds() -> None:
    t = Tracker(fail_after=2)
    seq = [
        _r("ok"),
        _r("broken"),
        _r("ok"),
        _r("broken"),
        _r("broken"),
        _r("broken"),
        _r("ok"),
        _r("ok"),
    ]
    got = [t.observe(1, r, i + 1, float(i)) for i, r in enumerate(seq)]
    assert got[0] is None  # the first ok settles silently
    assert got[1] is None and got[2] is None  # one failure: noise
    assert got[3] is None  # first of two
    e = got[4]
    assert e is not None and (e.before, e.after, e.round, e.since) == ("ok", "broken", 5, 3.0)
    assert e.to_dict()["status"] == 500 and set(e.to_dict()) == {
        "url",
        "from",
        "to",
        "status",
        "error",
        "at",
        "round",
        "since",
    }
    assert got[5] is None and got[6] is None
    fixed = got[7]
    assert fixed is not None and (fixed.before, fixed.after) == ("broken", "ok")
    assert t.broken() == 0


def test_first_observation_not_ok_is_an_event_once_confirmed() -> None:
    t = Tracker(fail_after=1)
    e = t.observe(1, _r("broken"), 1, 0.0)
    assert e is not None and e.before is None and e.after == "broken"
    assert t.observe(1, _r("broken"), 2, 1.0) is None
    assert t.broken() == 1


# -- the command -------------------------------------------------------------------------------
def test_change_is_one_json_line_and_exit_1(tmp_path: Path, http_server: TestHTTPServer) -> None:
    flip = Flip([200, 200, 500, 500, 500])
    http_server.route("/flip", flip)
    url = http_server.url("/flip")
    store = tmp_path / "s.db"
    p = run(
        "watch",
        url,
        "--every",
        "0.2s",
        "--rounds",
        "5",
        "--fail-after",
        "2",
        "--retries",
        "0",
        "--store",
        str(store),
    )
    assert p.returncode == 1, p.stderr  # broken at the end, like check
    evs = events(p.stdout)
    assert len(evs) == 1, p.stdout  # the start (ok) is silent; the change confirmed once
    ev = evs[0]
    assert (ev["url"], ev["from"], ev["to"], ev["status"], ev["round"]) == (
        url,
        "ok",
        "broken",
        500,
        4,
    )
    assert ev["since"] <= ev["at"]
    assert flip.heads == 5  # one check per round
    assert "round 5:" in p.stderr and "Traceback" not in p.stderr
    with sqlite3.connect(store) as db:  # every round is a run; the event is stored
        assert db.execute("SELECT count(*) FROM runs WHERE state='done'").fetchone()[0] == 5
        (stored,) = db.execute("SELECT event FROM watch_events").fetchone()
        assert json.loads(stored) == ev


def test_all_ok_exits_0_with_no_events(tmp_path: Path, http_server: TestHTTPServer) -> None:
    p = run("watch", http_server.url("/ok"), "--every", "0.1s", "--rounds", "3", "--no-store")
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert len([q for q in http_server.requests if q.path == "/ok"]) == 3


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("[a](http://127.0.0.1:9/)\n")
    cases = (
        (["watch", "-"], "stdin"),
        (["watch", "http://127.0.0.1:9/", "--every", "soon"], "bad duration"),
        (["watch", "http://127.0.0.1:9/", "--every", "0s"], "at least"),
        (["watch"], "no INPUT"),
        (["watch", str(tmp_path / "missing.txt")], "missing.txt"),
        (["watch", "http://127.0.0.1:9/", "--serve", "nope"], "--serve"),
        (["watch", "http://127.0.0.1:9/", "--on-change-webhook", "ftp://x/"], "http(s)"),
        (["watch", str(page), "--dask", "local:1"], "--dask watches URL lists"),
    )
    procs = [  # side by side: each is a whole interpreter start
        subprocess.Popen(
            [*CMD, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for args, _ in cases
    ]
    for (args, words), proc in zip(cases, procs, strict=True):
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (args, err)
        assert words in err and "Traceback" not in err, err


def test_sigterm_finishes_the_round_and_exits_130(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    store = tmp_path / "s.db"
    proc = subprocess.Popen(
        [*CMD, "watch", http_server.url("/delay/1"), "--every", "0.2s", "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    end = time.monotonic() + 20
    while not http_server.requests and time.monotonic() < end:
        time.sleep(0.02)
    assert http_server.requests, "the first round never started"
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    with sqlite3.connect(store) as db:
        runs = db.execute("SELECT id, state FROM runs").fetchall()
        assert [s for _, s in runs] == ["interrupted"]  # the round in flight, recorded as such
        # its check in flight finished and was kept
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 1


def test_restart_resumes_schedule_states_and_rounds(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    fast, slow = http_server.url("/status/404?fast"), http_server.url("/ok?slow")
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{fast}\n{slow}\n")
    (tmp_path / "urlsweep.toml").write_text(
        f'[[watch]]\npattern = "{slow.replace("?", "[?]")}"\ninterval = "1h"\n'
    )
    store = str(tmp_path / "s.db")
    args = ["watch", "urls.txt", "--every", "0.2s", "--store", store, "--retries", "0"]
    first = run(*args, "--rounds", "3", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert [(e["url"], e["to"]) for e in events(first.stdout)] == [(fast, "broken")]
    second = run(*args, "--rounds", "2", cwd=tmp_path)
    assert second.returncode == 1, second.stderr  # still broken: settled state restored
    assert second.stdout == ""  # no second announcement of the same change
    assert "resuming after round 3" in second.stderr
    assert "round 4:" in second.stderr and "round 5:" in second.stderr
    heads = [q.path for q in http_server.requests if q.method == "HEAD"]
    assert heads.count("/ok?slow") == 1  # the 1 h URL: once, in the first round only
    assert heads.count("/status/404?fast") == 5
    env_free = {k: v for k, v in os.environ.items() if k != "URLSWEEP_STORE"}
    assert env_free is not None


def test_dask_rounds_keep_the_schedule_here(tmp_path: Path, http_server: TestHTTPServer) -> None:
    """With --dask the checks run on the cluster; which URLs a round takes is decided here."""
    fast, slow = http_server.url("/status/404?fast"), http_server.url("/ok?slow")
    (tmp_path / "urlsweep.toml").write_text(
        f'[[watch]]\npattern = "{slow.replace("?", "[?]")}"\ninterval = "1h"\n'
    )
    p = run(
        "watch", fast, slow, "--every", "0.2s", "--rounds", "3", "--no-store", "--retries",
        "0", "--dask", "local:1", cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 1, p.stderr
    assert [(e["url"], e["to"], e["round"]) for e in events(p.stdout)] == [(fast, "broken", 1)]
    heads = [q.path for q in http_server.requests if q.method == "HEAD"]
    assert heads.count("/ok?slow") == 1 and heads.count("/status/404?fast") == 3
    assert "Traceback" not in p.stderr


def test_rate_limit_holds_across_rounds(http_server: TestHTTPServer) -> None:
    # Rounds are due every 50 ms, but the host takes 4 requests a second at most.
    p = run(
        "watch", http_server.url("/ok"), "--every", "0.05s", "--rounds", "4", "--no-store",
        "--rate-limit", "4",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    t = [q.time_start for q in http_server.requests]
    assert len(t) == 4
    # Slack for a busy machine, as in test_polite_limits; unlimited they come 50 ms apart.
    assert min(b - a for a, b in itertools.pairwise(t)) >= 0.25 - 0.06


def test_library_watcher_sends_events_to_its_sinks(http_server: TestHTTPServer) -> None:
    from urlsweep.options import Options
    from urlsweep.watch.changes import Event
    from urlsweep.watch.runner import WatchConfig, Watcher

    got: list[Event] = []

    class Collect:
        def send(self, event: Event) -> None:
            got.append(event)

    urls = [http_server.url("/ok"), http_server.url("/status/404")]
    w = Watcher(urls, Options(retries=0), WatchConfig(every=0.05, rounds=3), sinks=[Collect()])
    w.run()
    assert [(e.url, e.before, e.after, e.round) for e in got] == [(urls[1], None, "broken", 1)]
    assert w.exit_status() == 1 and len(w.stats.lags) == 3
    assert w.metrics.render().count(b"probe_success{") == 2


def test_a_round_never_overlaps_the_previous_one_on_a_host(http_server: TestHTTPServer) -> None:
    # Each check takes 0.4 s where rounds are due every 0.1 s.
    p = run(
        "watch", http_server.url("/delay/0.4"), "--every", "0.1s", "--rounds", "3",
        "--no-store",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    http_server.wait_idle()
    assert len(http_server.requests) == 3
    assert http_server.max_in_flight == 1  # round n+1 waited for round n's check
    t = sorted(q.time_start for q in http_server.requests)
    ends = sorted(q.time_end or 0.0 for q in http_server.requests)
    assert all(t[i + 1] >= ends[i] for i in range(2))


def test_uptime_over_day_and_week_survives_a_restart(tmp_path: Path) -> None:
    from urlsweep.store.db import Store
    from urlsweep.watch.board import Uptime
    from urlsweep.watch.changes import UrlState
    from urlsweep.watch.state import WatchState

    u = Uptime()
    day = 86400.0
    now = 1000 * day
    for i in range(10):  # 8 days ago: ok; today: 3 of 4 ok
        u.add(True, now - 8 * day + i)
    for ok in (True, True, False, True):
        u.add(ok, now - 60)
    assert u.ratio(24, now) == 0.75 and u.ratio(168, now) == 0.75  # older than a week: gone
    assert u.ratio(24, now + 2 * day) is None
    with Store(tmp_path / "s.db") as store:
        WatchState(store, "w").save([(7, UrlState("http://a.test/", "ok"), now, u.to_bytes())])
    with Store(tmp_path / "s.db") as store:
        ((key, state, planned, blob),) = list(WatchState(store, "w").load())
    assert (key, state.settled, planned) == (7, "ok", now)
    assert Uptime(blob).ratio(24, now) == 0.75


def test_an_input_gone_for_a_round_is_logged_and_the_watch_goes_on(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    from urlsweep.options import Options
    from urlsweep.summary import Summary
    from urlsweep.watch.runner import WatchConfig, Watcher

    listing = tmp_path / "urls.txt"
    listing.write_text(http_server.url("/ok") + "\n")
    errors: list[str] = []

    def after(n: int, summary: Summary, seconds: float, lag: float) -> None:
        if n == 1:
            listing.unlink()  # gone for round 2

    def error(message: str) -> None:
        errors.append(message)
        listing.write_text(http_server.url("/ok") + "\n")  # back for round 3

    w = Watcher(
        [str(listing)], Options(), WatchConfig(every=0.05, rounds=3), on_round=after,
        on_error=error,
    )  # fmt: skip
    w.run()
    assert len(errors) == 1 and errors[0].startswith("round 2: ") and "urls.txt" in errors[0]
    assert len([q for q in http_server.requests if q.path == "/ok"]) == 2  # rounds 1 and 3


def test_on_a_terminal_a_change_is_a_line_to_read(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    from support.term import Pty

    flip = Flip([200, 404, 404])
    http_server.route("/flip", flip)
    url = http_server.url("/flip")
    argv = [*CMD, "watch", url, "--every", "0.2s", "--rounds", "3", "--retries", "0", "--no-store"]
    term = Pty(100, 24)
    assert term.run(argv, dict(os.environ)) == 1
    lines = [line for line in term.screen().text() if "broken" in line]
    assert len(lines) == 1, term.screen().text()
    line = lines[0]
    assert "✗ broken (was ok)  HTTP 404  " in line and line.rstrip().endswith(url)
    assert not line.lstrip().startswith("{")
    when = line[:19]
    assert time.strptime(when, "%Y-%m-%d %H:%M:%S")  # local time, to the second
    # --events-format jsonl keeps JSON on a terminal; piped, auto is JSON.
    term = Pty(100, 24)
    flip.heads = 0
    assert term.run([*argv, "--events-format", "jsonl"], dict(os.environ)) == 1
    assert any(line.startswith('{"url": ') for line in term.screen().text())
    flip.heads = 0
    p = run(*argv[3:])
    assert p.returncode == 1 and events(p.stdout)[0]["to"] == "broken"
