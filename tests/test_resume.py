"""--resume after Ctrl-C, SIGTERM and kill -9: nothing lost, nothing reported twice.

A real `urlsweep check` process checks a few thousand slow loopback URLs and is stopped
mid-run; the resumed run must cover every URL exactly once and must not request again any
URL whose result was stored.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.http import TestHTTPServer
from support.store_helpers import CMD, cli, env, log_server, paths, settle, urlsweep

N = 2000
WORKERS = 50


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    with log_server() as s:
        yield s


def stored_urls(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT r.url FROM seen s JOIN results r ON r.id = s.result_id WHERE s.run_id = 1"
        )
        return [u for (u,) in rows]


def wait_for_rows(db: Path, proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if len(stored_urls(db)) >= at_least:
                return
        except sqlite3.Error:  # not created yet
            pass
        time.sleep(0.02)
    raise AssertionError(f"the run stored fewer than {at_least} results in time")


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL", "SIGINT twice"])
def test_resume_after_interruption(tmp_path: Path, server: TestHTTPServer, how: str) -> None:
    # For a second Ctrl-C to land while checks are still in flight, some of them are slow.
    slow = 50 if how == "SIGINT twice" else N + 1
    urls = [f"{server.base_url}/delay/{2 if i % slow == 0 else 0.05}?i={i}" for i in range(N)]
    url_file = tmp_path / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    db, out1, out2 = tmp_path / "s.db", tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    args = ["check", "--no-progress", "-w", str(WORKERS), "--max-per-host", str(WORKERS)]
    args += ["-f", "jsonl", "--store", str(db)]
    server.clear()
    proc = subprocess.Popen(
        [*CMD, *args, "-o", str(out1), str(url_file)],
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_rows(db, proc, 300)
        sig = getattr(signal, how.split()[0])
        proc.send_signal(sig)
        if how == "SIGINT twice":
            time.sleep(0.2)
            assert proc.poll() is None, "the slow checks should still be in flight"
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == (-9 if how == "SIGKILL" else 130), err
    assert "Traceback" not in err
    if how in ("SIGINT", "SIGTERM"):  # it says how to go on
        assert "; the same command with --resume checks the rest" in err, err
    before = stored_urls(db)
    settle(server)
    requested_before = paths(server)
    assert 300 <= len(before) < N, "the run was not stopped midway"
    assert len(set(before)) == len(before)

    server.clear()
    p = urlsweep(*args, "--resume", "-o", out2, url_file)
    assert p.returncode == 0, p.stderr
    assert f"resuming run 1: {len(before)} URLs already checked" in p.stderr

    # Nothing stored is requested again; only what was in flight (or, after kill -9, in
    # the last uncommitted batch of 250 ms) may be.
    requested_after = paths(server)
    assert not set(map(path_of, before)) & set(requested_after)
    rechecked = set(requested_before) & set(requested_after)
    if how == "SIGKILL":  # ~1,000 results a second here: a 250 ms batch is ~250 of them
        assert len(rechecked) <= WORKERS + 400
    elif how == "SIGINT twice":  # what was received is kept; in flight or queued is not
        assert len(rechecked) <= 3 * WORKERS
    else:  # graceful: every request made was finished and stored
        assert not rechecked, sorted(rechecked)[:5]
    assert all(n == 1 for n in requested_after.values()), requested_after.most_common(3)

    # The resumed output and the store both cover every URL exactly once.
    resumed = [json.loads(line)["url"] for line in out2.read_text().splitlines()]
    assert Counter(resumed) == Counter(urls)
    assert Counter(stored_urls(db)) == Counter(urls)
    runs = json.loads(cli("runs", "--store", db, "-f", "json").stdout)
    assert [(r["id"], r["state"], r["sessions"], r["counts"]["total"]) for r in runs] == [
        (1, "done", 2, N)
    ]


def test_resume_with_nothing_to_resume_starts_a_new_run(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    db = tmp_path / "s.db"
    url = f"{server.base_url}/ok"
    first = urlsweep("check", "--no-progress", "--store", db, "--resume", url)
    assert first.returncode == 0 and "nothing to resume: starting a new run" in first.stderr
    server.clear()
    again = urlsweep("check", "--no-progress", "--store", db, "--resume", url)
    assert "starting a new run" in again.stderr and "stored as run 2" in again.stderr
    assert paths(server) == {"/ok": 1}  # run 1 completed: a new run checks everything
