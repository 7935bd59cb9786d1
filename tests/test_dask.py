"""Checks on a Dask cluster: a LocalCluster of 2 worker processes on loopback.

The cluster starts once for the module (a few seconds); every target is a loopback server.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest

import urlsweep
from support.http import TestHTTPServer, reply
from urlsweep.engine.source import SourceError
from urlsweep.engine.work import Work, pack_work, unpack_results
from urlsweep.inputs import InputError, Target
from urlsweep.options import OptionError, Options
from urlsweep.result import Result
from urlsweep.scale import dask as udask
from urlsweep.urls import normalise

ServerFactory = Callable[..., TestHTTPServer]
CMD = [sys.executable, "-m", "urlsweep"]


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with udask.connect("local:2") as c:
        yield c


@pytest.fixture
def hosts(server_factory: ServerFactory) -> list[TestHTTPServer]:
    """Five distinct hosts: 127.0.0.2 ... 127.0.0.6."""
    return [server_factory(host=f"127.0.0.{i}") for i in range(2, 7)]


def by_url(results: list[Result]) -> dict[str, Result]:
    counts = Counter(r.url for r in results)
    assert max(counts.values(), default=1) == 1, "a URL reported twice"
    return {r.url: r for r in results}


def requests_made(servers: list[TestHTTPServer]) -> int:
    return sum(len(s.requests) for s in servers)


def source_for(
    client: distributed.Client, urls: list[str], workers: int, partition_size: int
) -> udask.DaskSource:
    targets = (Target(u) for u in urls)
    return udask.DaskSource(
        client, targets, Options(workers=workers, timeout=10), partition_size=partition_size
    )


def settled(servers: list[TestHTTPServer], quiet: float = 1.0, limit: float = 20.0) -> int:
    """The number of requests once none has arrived for `quiet` seconds."""
    deadline = time.monotonic() + limit
    count, since = requests_made(servers), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "requests never stopped"
        time.sleep(0.05)
        now = requests_made(servers)
        if now != count:
            count, since = now, time.monotonic()
    return count


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "URLSWEEP_STORE": "", **(env or {})},
    )


def test_same_records_as_a_local_run(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    urls: list[str] = []
    for n, server in enumerate(hosts):
        urls += [server.url(f"/ok?i={i}") for i in range(40)]
        urls += [server.url("/status/404"), server.url("/redirect/2"), server.url("/status/503")]
        urls.append(server.url("/ok?i=1").replace("http://", "HTTP://"))  # a duplicate
        urls.append(f"http://127.0.0.{2 + n}:1/refused")  # nothing listens on port 1
    urls += ["not a url", "ftp://127.0.0.2/x"]

    remote = by_url(list(udask.check(urls, client=client, partition_size=16, timeout=5)))
    local = by_url(list(urlsweep.check(urls, timeout=5)))

    expected = {u for u in urls if "HTTP://" not in u}
    assert set(remote) == expected
    assert set(local) == expected

    def essence(r: Result) -> tuple[Any, ...]:
        return (r.final_url, r.status, r.ok, r.outcome, r.error, r.redirects, r.method)

    assert {u: essence(r) for u, r in remote.items()} == {u: essence(r) for u, r in local.items()}
    assert remote[hosts[0].url("/redirect/2")].redirects[0].status == 302
    assert remote["not a url"].error == "invalid_url"
    assert sum(r.ok for r in remote.values()) == 5 * 41


def test_a_hosts_urls_are_checked_by_one_task_at_a_time(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    # Eight batches per host and two task slots on the cluster: without the one-batch-out-
    # per-host rule, two tasks would hit one host at once. With one thread per task, each
    # request then starts only after the previous one's 30 ms answer.
    a, b = hosts[0], hosts[1]
    urls = [s.url(f"/delay/0.03?i={i}") for i in range(24) for s in (a, b)]
    results = list(udask.check(urls, client=client, partition_size=3, workers=1, timeout=10))
    assert len(by_url(results)) == 48 and all(r.ok for r in results)
    for server in (a, b):
        starts = sorted(r.time_start for r in server.requests)
        assert len(starts) == 24
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert min(gaps) >= 0.029, "two requests to one host at once"


class HostGauges:
    """`/slow` on several servers: the peak of requests in flight per host and overall."""

    def __init__(self, servers: list[TestHTTPServer], delay: float) -> None:
        self.lock = threading.Lock()
        self.delay = delay
        self.current: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.total = self.total_peak = 0
        for server in servers:
            server.route("/slow", self._handle)

    def _handle(self, h: Any) -> None:
        host = str(h.server.server_address[0])
        with self.lock:
            self.current[host] += 1
            self.total += 1
            self.peak[host] = max(self.peak[host], self.current[host])
            self.total_peak = max(self.total_peak, self.total)
        try:
            h.server.stopping.wait(self.delay)
        finally:
            with self.lock:
                self.current[host] -= 1
                self.total -= 1
        reply(h, 200, "slow\n")


def test_one_task_checks_several_hosts_each_within_its_limit(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    # One batch out at a time: whatever overlaps runs in one task. A task of one host would
    # have at most --max-per-host (2) requests in flight; one of four hosts has 8.
    gauges = HostGauges(hosts[:4], delay=0.1)
    urls = [s.url(f"/slow?i={i}") for i in range(10) for s in hosts[:4]]
    source = udask.DaskSource(
        client,
        (Target(u) for u in urls),
        Options(workers=8, max_per_host=2, timeout=10),
        partition_size=40,
        max_in_flight=1,
    )
    results = list(source)
    assert set(by_url(results)) == set(urls) and all(r.ok for r in results)
    assert max(gauges.peak.values()) <= 2, gauges.peak  # per-host limits hold
    assert gauges.total_peak > 2, gauges.total_peak  # and several hosts at once


def test_a_task_checks_the_work_as_the_client_screened_it(
    client: distributed.Client, http_server: TestHTTPServer
) -> None:
    # The raw text would not even parse: a task that screened it again would report it
    # invalid. It checks the normalised URL it was given and reports under the raw text.
    work = [Work("  <as typed by hand>  ", http_server.url("/ok?i=1"), ("list.txt:7",))]
    blob = client.submit(udask.check_partition, pack_work(work), Options(), "no-cancel").result()
    [result] = unpack_results(blob)
    assert (result.url, result.ok, result.final_url) == (work[0].raw, True, work[0].url)
    assert result.sources == ("list.txt:7",)
    assert [r.path for r in http_server.requests] == ["/ok?i=1"]


def test_a_rate_limit_holds_across_batches(
    client: distributed.Client, http_server: TestHTTPServer
) -> None:
    # Four batches of one host, run one after another on any worker: the first request of
    # each must still wait for the rate limit after the last of the one before.
    urls = [http_server.url(f"/ok?i={i}") for i in range(6)]
    results = list(udask.check(urls, client=client, partition_size=2, rate_limit=2))
    assert len(by_url(results)) == 6
    starts = sorted(r.time_start for r in http_server.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 0.5 s apart on average; one gap can look shorter when the request before it reached
    # the server late on a busy machine, but none is near 0 (what a batch that forgot the
    # limit of the one before gives).
    assert starts[-1] - starts[0] >= 5 * 0.5 - 0.15, gaps
    assert min(gaps) >= 0.2, gaps


def executing(dask_worker: distributed.Worker) -> int:
    """How many urlsweep tasks a worker is running (not just holding in its queue)."""
    return sum("urlsweep" in str(ts.key) for ts in dask_worker.state.executing)


def test_a_worker_killed_mid_run_loses_and_repeats_nothing(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    urls = [s.url(f"/delay/0.05?i={i}") for i in range(50) for s in hosts]
    before = client.run(os.getpid)
    results: list[Result] = []
    killed: str | None = None
    source = source_for(client, urls, workers=2, partition_size=10)
    deadline = time.monotonic() + 60
    for result in source:
        results.append(result)
        if killed is None and len(results) >= 20:
            # Between two batches no worker may be executing one: try at the next result.
            busy = [w for w, n in client.run(executing).items() if n]
            if busy:
                killed = busy[0]
                os.kill(before[killed], signal.SIGKILL)
        assert time.monotonic() < deadline
    assert killed is not None
    got = by_url(results)
    assert set(got) == set(urls)  # every URL exactly once ...
    assert all(r.ok for r in results)  # ... with its real answer
    # The dead worker's tasks ran again elsewhere: some URLs were requested twice.
    assert requests_made(hosts) > len(urls)
    assert killed not in client.scheduler_info()["workers"]  # it did die


def test_records_lost_with_their_worker_are_computed_again(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    urls = [s.url(f"/delay/0.1?i={i}") for i in range(10) for s in hosts]
    source = source_for(client, urls, workers=1, partition_size=5)
    results = iter(source)
    got = [next(results)]  # the caller pauses here; finished tasks keep their records
    deadline = time.monotonic() + 30
    while True:
        # Only keys this run still wants: a released one (an earlier test's, or a batch
        # just gathered) may linger in has_what for a moment, and losing it loses nothing.
        held = {
            w: [k for k in keys if "urlsweep" in str(k) and k in client.futures]
            for w, keys in client.has_what().items()
        }
        holder = max(held, key=lambda w: len(held[w]))
        if held[holder]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(client.run(os.getpid, workers=[holder])[holder], signal.SIGKILL)
    while holder in client.scheduler_info()["workers"]:  # until the scheduler knows
        assert time.monotonic() < deadline
        time.sleep(0.05)
    got += list(results)
    assert set(by_url(got)) == set(urls)
    assert all(r.ok for r in got)
    assert requests_made(hosts) > len(urls)  # the lost batch was checked again


def test_cancel_delivers_what_was_checked_and_stops_the_tasks(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    urls = [s.url(f"/delay/0.1?i={i}") for i in range(40) for s in hosts]
    source = source_for(client, urls, workers=2, partition_size=10)
    results: list[Result] = []
    for result in source:
        results.append(result)
        if len(results) == 10:
            source.cancel()
    assert 10 <= len(by_url(results)) < len(urls)
    assert settled(hosts, quiet=0.5) < len(urls)  # the tasks stopped checking
    assert source.stats.completed == len(results)


def test_leaving_the_loop_early_cancels_the_run(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    urls = [s.url(f"/delay/0.2?i={i}") for i in range(40) for s in hosts]
    for _ in udask.check(urls, client=client, partition_size=10, workers=2):
        break
    # The tasks out notice within a second or so and stop; nothing else is sent.
    assert settled(hosts) < len(urls) / 2


def test_input_is_read_as_it_is_checked(
    client: distributed.Client, hosts: list[TestHTTPServer]
) -> None:
    read = itertools.count()

    def endless() -> Iterator[Target]:
        for i in itertools.count():
            next(read)
            yield Target(hosts[i % 5].url(f"/ok?i={i}"))

    source = udask.DaskSource(
        client, endless(), Options(workers=4), partition_size=10, max_in_flight=2
    )
    for _ in source:
        break
    # At most 64 host slots x 10 URLs wait on the client, and 2 batches are out: the rest of
    # the endless input stays unread.
    assert next(read) < 64 * 10 + 2 * 10 + 50


def test_input_error_is_raised_after_the_records_before_it(
    client: distributed.Client, http_server: TestHTTPServer
) -> None:
    def targets() -> Iterator[Target]:
        yield Target(http_server.url("/ok?a"))
        yield Target(http_server.url("/ok?b"))
        raise InputError("list.txt: read error")

    got: list[Result] = []
    with pytest.raises(InputError):
        for r in udask.check(targets(), client=client):
            got.append(r)
    assert sorted(r.url for r in got) == [http_server.url("/ok?a"), http_server.url("/ok?b")]


def test_workers_of_another_version_are_refused(
    client: distributed.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(udask, "__version__", "0.0.0-other")
    with pytest.raises(SourceError, match=r"0\.0\.0-other"):
        udask.check_workers(client)


def test_cli_output_matches_a_local_run(
    client: distributed.Client, http_server: TestHTTPServer, tmp_path: Path
) -> None:
    lines = [http_server.url(f"/ok?i={i}") for i in range(30)]
    lines += [http_server.url("/status/404"), "not a url", http_server.url("/ok?i=3")]
    url_file = tmp_path / "urls.txt"
    url_file.write_text("\n".join(lines) + "\n")
    assert client.scheduler is not None
    address = str(client.scheduler.address)

    remote = run_cli("check", str(url_file), "--dask", address, "-f", "jsonl")
    local = run_cli("check", str(url_file), "-f", "jsonl")

    assert remote.returncode == local.returncode == 1, remote.stderr
    records = [json.loads(line) for line in remote.stdout.splitlines()]
    assert Counter(r["url"] for r in records) == Counter(set(lines))
    # The first line, and the duplicate's if it was read while the URL still waited.
    sources = {r["url"]: r["sources"] for r in records}[http_server.url("/ok?i=3")]
    assert sources in ([f"{url_file}:4"], [f"{url_file}:4", f"{url_file}:33"])

    def essence(out: str) -> set[tuple[Any, ...]]:
        return {
            (r["url"], r["status"], r["ok"], r["error"]) for r in map(json.loads, out.splitlines())
        }

    assert essence(remote.stdout) == essence(local.stdout)
    assert "duplicates" in remote.stderr and "Traceback" not in remote.stderr


def test_cli_starts_a_local_cluster(http_server: TestHTTPServer) -> None:
    p = run_cli(
        "check", http_server.url("/ok"), http_server.url("/status/500"), "--dask", "local:1"
    )
    assert p.returncode == 1, p.stderr
    assert "/status/500" in p.stdout and "500" in p.stdout
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dask", "local:0"], "want local:N"),
        (["--dask", "local:two"], "want local:N"),
        (["--dask", "tcp://127.0.0.1:{port}"], "cannot reach the Dask scheduler"),
        (["--dask", "local:1", "--extract"], "--dask checks URL lists"),
        (["--dask", "local:1", "--processes", "2"], "--processes does not apply"),
    ],
)
def test_cli_usage_errors(
    args: list[str], message: str, free_port: int, http_server: TestHTTPServer
) -> None:
    args = [a.format(port=free_port) for a in args]
    env = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    p = run_cli("check", http_server.url("/ok"), *args, env=env)
    assert p.returncode == 2
    assert message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not http_server.requests


def test_crawl_has_no_dask_option() -> None:
    assert "--dask" not in run_cli("crawl", "--help").stdout
    assert "--dask" in run_cli("check", "--help").stdout


def test_without_dask_installed_the_option_says_what_to_install(
    http_server: TestHTTPServer,
) -> None:
    code = (
        "import sys; sys.modules['distributed'] = sys.modules['dask'] = None; "
        "from urlsweep.cli.main import main; main()"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, "check", http_server.url("/ok"), "--dask", "local"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2
    assert "pip install 'urlsweep[dask]'" in p.stderr
    assert "Traceback" not in p.stderr


def test_version_and_local_checks_do_not_import_dask(http_server: TestHTTPServer) -> None:
    code = (
        "import sys\n"
        "from urlsweep.cli.main import main\n"
        "for argv in (['--version'], ['check', '--no-progress', sys.argv[1]]):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, http_server.url("/ok")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "URLSWEEP_STORE": ""},
    )
    assert p.stdout.strip().endswith("[]"), p.stdout + p.stderr
    assert len(http_server.requests) == 1  # the check really ran


def test_bad_spec_is_an_option_error() -> None:
    assert udask.parse_address("local:3") == 3
    assert udask.parse_address("tcp://10.1.2.3:8786") is None
    assert udask.parse_address("local") == (os.cpu_count() or 1)
    with pytest.raises(OptionError):
        udask.parse_address("local:-1")


def test_records_keep_their_input_sources(
    client: distributed.Client, http_server: TestHTTPServer
) -> None:
    targets = [Target(http_server.url(f"/ok?i={i}"), f"list.txt:{i + 1}") for i in range(5)]
    results = by_url(list(udask.check(targets, client=client)))
    assert {u: r.sources for u, r in results.items()} == {t.raw: (t.source,) for t in targets}
    assert all(normalise(u) == r.final_url for u, r in results.items())
