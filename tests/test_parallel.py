"""--processes: URLs spread over worker processes by host, one output, clean cancellation."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ServerFactory
from support.http import TestHTTPServer
from support.polite_util import Gauge
from urlsweep.engine.pipeline import Engine
from urlsweep.engine.work import Work, pack_results, pack_work, unpack_results, unpack_work
from urlsweep.inputs import InputError, Target
from urlsweep.options import Options
from urlsweep.result import Hop, Result, build_result
from urlsweep.scale.local import (
    AUTO_MIN_URLS,
    ProcessEngine,
    WorkerProcessError,
    auto_processes,
    worker_shares,
)
from urlsweep.urls import host_key

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

OPTS = Options(workers=8, timeout=5.0)


def targets(urls: list[str]) -> list[Target]:
    return [Target(u, f"list:{i + 1}") for i, u in enumerate(urls)]


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie has finished running)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def hosts(server_factory: ServerFactory) -> list[TestHTTPServer]:
    return [server_factory(f"127.0.0.{i}") for i in range(2, 8)]


def test_every_url_checked_once_in_one_output(hosts: list[TestHTTPServer]) -> None:
    urls = [s.url(f"/ok?i={i}") for i in range(20) for s in hosts]
    # Other spellings of the same URLs (scheme case, default-free port) are duplicates.
    dupes = [u.replace("http://", "HTTP://") for u in urls[:15]]
    lines = [*urls, *dupes, "not a url", hosts[0].url("/status/404")]
    engine = ProcessEngine(targets(lines), OPTS, processes=2)
    results = list(engine)

    assert engine.processes == 2
    assert Counter(r.url for r in results) == Counter(
        [*urls, "not a url", hosts[0].url("/status/404")]
    )
    by_url = {r.url: r for r in results}
    assert all(by_url[u].ok and by_url[u].status == 200 for u in urls)
    assert by_url["not a url"].error == "invalid_url"
    assert by_url[hosts[0].url("/status/404")].status == 404
    # The first line's source, and its duplicate's if read while the URL still waited.
    assert by_url[urls[3]].sources in (("list:4",), ("list:4", "list:124"))
    assert engine.stats.duplicates == len(dupes)
    assert engine.stats.completed == len(urls) + 1
    for server in hosts:  # the servers saw each URL once: nothing checked twice
        assert server.wait_idle()
        heads = Counter(r.path for r in server.requests if r.method == "HEAD")
        assert set(heads.values()) == {1}
        assert len(heads) == 20 + (server is hosts[0])
    assert not any(alive(pid) for pid in engine.pids)


def test_the_codec_carries_every_field_of_a_record() -> None:
    # Every field set to something other than its default, whatever fields Result has: a
    # field added later and not carried would come back as its default and fail here.
    values: dict[str, object] = {
        "url": "u",
        "final_url": "f",
        "status": 301,
        "ok": True,
        "outcome": "skipped",
        "error": "timeout",
        "detail": "d",
        "redirects": (Hop("a", 302), Hop("b", 307)),
        "method": "GET",
        "elapsed_ms": 1.25,
        "attempts": 3,
        "ip": "127.0.0.1",
        "sources": ("x.md:1", "y.md:2"),
        "via": ("a[href]",),
        "attempt_ms": (0.5, 0.75, 1.0),
    }
    names = [f.name for f in dataclasses.fields(Result)]
    assert sorted(names) == sorted(values), "a new Result field: give it a value here"
    full = Result(**values)  # type: ignore[arg-type]
    bare = Result(url="v")
    assert unpack_results(pack_results([full, bare])) == [full, bare]
    assert all(getattr(full, n) != getattr(bare, n) for n in names)
    work = [Work("HTTP://X/a", "http://x/a", ("l:1",)), Work("y", "http://y/", ())]
    assert unpack_work(pack_work(work)) == work
    # The fast builder both ends use is the dataclass's own init, field for field.
    built = build_result(*(values[n] for n in names))
    assert built == full and hash(built) == hash(full) and repr(built) == repr(full)
    assert all(getattr(built, n) is values[n] for n in names)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.url = "changed"  # type: ignore[misc]


def test_records_handed_to_emit_are_not_yielded(http_server: TestHTTPServer) -> None:
    # How a worker process takes its records: straight from the driver's thread, each once.
    urls = [http_server.url(f"/ok?i={i}") for i in range(40)] + [http_server.url("/status/404")]
    work = [Work(u, u, (f"list:{i + 1}",)) for i, u in enumerate(urls)] + [
        Work("ftp://x/", "ftp://x/", ())  # left out by --scheme: the feeder's own record
    ]
    got: list[Result] = []
    engine = Engine((), OPTS, work=work, emit=got.extend)
    assert list(engine) == []
    assert sorted(r.url for r in got) == sorted(w.raw for w in work)
    assert {r.url: r.status for r in got}[urls[-1]] == 404
    assert [r.error for r in got if r.url == "ftp://x/"] == ["excluded"]
    assert engine.stats.completed == len(urls)


def test_no_check_begins_while_the_taker_has_no_room(http_server: TestHTTPServer) -> None:
    # A worker process whose main process is behind: its finished records must not pile up,
    # so the engine begins no check while `room` says no (one at a time still goes, so the
    # run ends) and all the concurrency comes back once it says yes.
    for has_room, peak in ((False, 1), (True, 8)):
        gauge = Gauge(http_server, path=f"/slow-{has_room}", delay=0.1)
        work = [Work(u, u, ()) for u in gauge.urls(16)]
        got: list[Result] = []
        room = (lambda: False) if not has_room else (lambda: True)
        engine = Engine((), OPTS, work=work, emit=got.extend, room=room)
        assert list(engine) == []
        assert sorted(r.url for r in got) == sorted(w.url for w in work)
        assert all(r.ok for r in got)
        assert gauge.peak == peak, (has_room, gauge.peak)


def test_screened_work_is_checked_as_given(http_server: TestHTTPServer) -> None:
    # What a worker process or a Dask task does with what the main process screened: the
    # raw text is not normalised again (it would not parse), the given URL is requested.
    work = [Work("  <as typed>  ", http_server.url("/ok?i=1"), ("list:3",))]
    [result] = list(Engine((), OPTS, work=work))
    assert (result.url, result.ok, result.final_url) == ("  <as typed>  ", True, work[0].url)
    assert result.sources == ("list:3",)
    assert [r.path for r in http_server.requests] == ["/ok?i=1"]


def test_unusable_lines_are_reported_by_the_main_process() -> None:
    # Nothing to check: the workers get no work at all, and every line still has its record.
    lines = [f"not a url {i}" for i in range(600)] + ["ftp://127.0.0.1/x"]
    engine = ProcessEngine(targets(lines), OPTS, processes=2)
    results = list(engine)
    assert sorted(r.url for r in results) == sorted(lines)
    assert {r.error for r in results} == {"invalid_url", "unsupported_scheme"}
    assert engine.last_worker == -1  # no worker sent a record
    assert engine.stats.completed == 0


def test_all_urls_of_a_host_go_to_one_process(hosts: list[TestHTTPServer]) -> None:
    urls = [s.url(f"/ok?i={i}") for i in range(12) for s in hosts]
    engine = ProcessEngine(targets(urls), OPTS, processes=2)
    checked_by: dict[str, set[int]] = {}
    for r in engine:
        checked_by.setdefault(host_key(r.url), set()).add(engine.last_worker)

    assert len(checked_by) == len(hosts)
    assert all(len(workers) == 1 for workers in checked_by.values()), checked_by
    # Hosts are handed to the least-loaded worker: both get an even share.
    assert Counter(w for (w,) in checked_by.values()) == {0: 3, 1: 3}


def test_per_host_limit_holds_across_processes(hosts: list[TestHTTPServer]) -> None:
    # Two hosts, eight threads in each process: only host affinity keeps each host at 2.
    gauges = [Gauge(s, delay=0.2) for s in hosts[:2]]
    urls = [u for g in gauges for u in g.urls(10)]
    opts = Options(workers=16, timeout=5.0, max_per_host=2)
    results = list(ProcessEngine(targets(urls), opts, processes=2))

    assert len(results) == len(urls) and all(r.ok for r in results)
    assert [g.count for g in gauges] == [10, 10]
    assert all(g.peak <= 2 for g in gauges), [g.peak for g in gauges]


def test_a_slow_receiver_holds_the_dispatcher_back(hosts: list[TestHTTPServer]) -> None:
    """URLs sent and not received back stay within the window, however slowly the caller
    takes the results (a busy store): memory must not grow with the input."""
    urls = [s.url(f"/ok?i={i}") for i in range(60) for s in hosts]
    engine = ProcessEngine(targets(urls), OPTS, processes=2)
    engine._window = 20  # the default (read-ahead + batches in flight) is thousands
    results = []
    most = 0
    for r in engine:
        results.append(r)
        if len(results) in (1, 100, 200):
            time.sleep(0.3)  # the workers are idle long before this ends
        most = max(most, len(engine._pending._works))
    assert most <= 20 + 1  # the URL in the dispatcher's hand
    assert Counter(r.url for r in results) == Counter(urls)  # nothing lost, nothing twice
    assert all(r.ok for r in results)


def test_cancel_reports_what_was_in_flight_and_stops_the_workers(
    hosts: list[TestHTTPServer],
) -> None:
    urls = [s.url(f"/delay/0.5?i={i}") for i in range(50) for s in hosts[:2]]
    engine = ProcessEngine(targets(urls), OPTS, processes=2)
    results = []
    started = time.monotonic()
    for r in engine:
        results.append(r)
        if len(results) == 1:
            engine.cancel()
    took = time.monotonic() - started

    assert 1 <= len(results) < len(urls)
    assert all(r.ok for r in results)  # in-flight checks finished, not cut off
    assert took < 30  # generous: a shared machine; the run itself would take 50 x 0.5 / 4 s
    assert not any(alive(pid) for pid in engine.pids)


def test_dropping_the_iterator_ends_the_workers(hosts: list[TestHTTPServer]) -> None:
    urls = [hosts[0].url(f"/delay/0.3?i={i}") for i in range(40)]
    engine = ProcessEngine(targets(urls), OPTS, processes=2)
    it = iter(engine)
    first = next(it)
    assert first.ok
    it.close()  # type: ignore[attr-defined]
    assert not any(alive(pid) for pid in engine.pids)


def test_a_worker_that_dies_is_an_error_not_a_hang(hosts: list[TestHTTPServer]) -> None:
    urls = [s.url(f"/delay/0.2?i={i}") for i in range(30) for s in hosts[:2]]
    engine = ProcessEngine(targets(urls), OPTS, processes=2)
    with pytest.raises(WorkerProcessError, match="exited unexpectedly"):
        for i, _ in enumerate(engine):
            if i == 0:
                os.kill(engine.pids[0], signal.SIGKILL)
    assert not any(alive(pid) for pid in engine.pids)


def test_an_input_error_is_raised_after_the_urls_before_it(http_server: TestHTTPServer) -> None:
    def lines() -> Iterator[Target]:
        yield Target(http_server.url("/ok?a"))
        yield Target(http_server.url("/ok?b"))
        raise InputError("second.txt: permission denied")

    engine = ProcessEngine(lines(), OPTS, processes=2)
    seen = []
    with pytest.raises(InputError, match="permission denied"):
        for r in engine:
            seen.append(r.url)
    assert sorted(seen) == [http_server.url("/ok?a"), http_server.url("/ok?b")]


def test_started_early_then_run(http_server: TestHTTPServer) -> None:
    engine = ProcessEngine(targets([http_server.url("/ok")]), OPTS, processes=2)
    engine.start()
    assert len(engine.pids) == 2 and all(alive(pid) for pid in engine.pids)
    assert [r.status for r in engine] == [200]
    assert not any(alive(pid) for pid in engine.pids)


def test_workers_are_shared_not_multiplied() -> None:
    assert worker_shares(128, 2) == [64, 64]
    assert worker_shares(5, 2) == [3, 2]
    assert worker_shares(3, 8) == [1, 1, 1]  # never a process without a thread
    assert sum(worker_shares(500, 3)) == 500


def test_auto_is_one_process_for_small_inputs(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("http://a.invalid/\n" * 10)
    big = tmp_path / "big.txt"
    big.write_text("http://a.invalid/\n" * AUTO_MIN_URLS)
    cores = len(os.sched_getaffinity(0))
    assert auto_processes([str(small)]) == 1
    assert auto_processes(["-"]) == 1  # stdin: unknown size, maybe interactive
    assert auto_processes(["http://a.invalid/"]) == 1
    assert auto_processes([str(big)]) == (cores if cores > 1 else 1)


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "urlsweep", "check", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job would be
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("how", ["ctrl-c to the group", "sigterm to the main process"])
def test_cli_interrupted_exits_130_with_no_orphans(
    hosts: list[TestHTTPServer], tmp_path: Path, how: str
) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("".join(s.url(f"/delay/0.3?i={i}\n") for i in range(40) for s in hosts))
    out = tmp_path / "out.jsonl"
    proc = _cli(str(url_file), "--processes", "2", "-w", "8", "-f", "jsonl", "-o", str(out))
    deadline = time.monotonic() + 30
    while not (out.exists() and out.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.05)  # until results flow
    workers = _children(proc.pid)
    assert len(workers) == 2
    if how == "ctrl-c to the group":
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: every process gets it
    else:
        proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)

    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    lines = out.read_text().splitlines()
    assert 0 < len(lines) < 40 * len(hosts)
    assert all(json.loads(line)["ok"] for line in lines)  # in-flight checks were completed
    assert not any(alive(pid) for pid in workers)
