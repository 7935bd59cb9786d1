"""The multi-handle driver (multi.py): many transfers from one thread, host limits asked
without blocking, parked requests, cancellation. Real loopback servers throughout."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

import urlsweep
from support.polite_util import Gauge, check_all, starts
from urlsweep.engine import pipeline as engine
from urlsweep.engine.work import Work
from urlsweep.inputs import Target
from urlsweep.options import HostRule, Options
from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext


def test_many_transfers_in_flight_from_one_thread(http_server: Any) -> None:
    gauge = Gauge(http_server, delay=1.0)  # long enough for a busy machine to open them all
    ours: set[str] = set()
    results = []
    for r in urlsweep.check(gauge.urls(150), workers=150, max_per_host=150, timeout=10):
        results.append(r)
        ours.update(t.name for t in threading.enumerate() if t.name.startswith("urlsweep-"))
    assert len(results) == 150 and all(r.ok for r in results)
    # 150 requests overlapped on the server (which runs a thread per connection), from
    # one driver thread and the feeder: not from 150 threads.
    assert gauge.peak >= 100
    assert "urlsweep-driver-1" in ours and ours <= {"urlsweep-feeder", "urlsweep-driver-1"}


def test_redirect_hops_wait_for_a_slot_on_a_full_host(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    gauge = Gauge(b, delay=0.1)
    urls = [
        f"{a.base_url}/redirect-to?url={quote(gauge.url + f'?i={i}', safe='')}" for i in range(12)
    ]
    results = check_all(urls, workers=12, max_per_host=2)
    assert len(results) == 12
    assert all(r.ok and r.status == 200 and len(r.redirects) == 1 for r in results.values())
    assert all(r.final_url and r.final_url.startswith(b.base_url) for r in results.values())
    # Every hop to B went through B's limit although 12 checks were under way at once.
    assert gauge.count == 12 and gauge.peak == 2


def test_get_fallback_waits_for_the_hosts_rate_token(http_server: Any) -> None:
    urls = [f"{http_server.base_url}/head-405?i={i}" for i in range(4)]
    results = check_all(urls, workers=4, rate_limit=10)  # one request every 100 ms
    assert all(r.ok and r.method == "GET" for r in results.values())
    t = starts(http_server, "/head-405")
    assert len(t) == 8  # a HEAD and a GET for each
    # Eight requests paced by tokens granted 100 ms apart (some slack for a busy machine);
    # without pacing the GETs would follow their HEADs at once.
    assert t[-1] - t[0] >= 7 * 0.1 - 0.08


def _read(work: Work, host: str, context: CheckContext) -> probe.Check:
    """A caller's own check, as a crawl's page read is: a GET with its body kept."""
    return probe.steps(work.raw, work.url, context, work.sources, max_body=4096, host=host)


def _run(urls: list[str], own: bool, **options: Any) -> Iterator[urlsweep.Result]:
    """Plain checks (`urlsweep.check`), or a caller's checker: the same driver runs both."""
    if not own:
        return urlsweep.check(urls, **options)
    opts = Options.from_kwargs(**options)
    return iter(engine.Engine((Target(u) for u in urls), opts, checker=_read))


@pytest.mark.parametrize("own", [False, True], ids=["plain", "checker"])
def test_leaving_early_with_hops_waiting_ends_the_run(server_factory: Any, own: bool) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    gauge = Gauge(b, delay=0.5)
    target = quote(gauge.url, safe="")
    urls = [f"{a.base_url}/redirect-to?url={target}%3Fi%3D{i}" for i in range(40)]
    urls.insert(0, f"{a.base_url}/ok")
    started = time.monotonic()
    seen = []
    one_on_b = [HostRule("127.0.0.3", max_per_host=1)]
    for r in _run(urls, own, workers=40, max_per_host=40, hosts=one_on_b, timeout=5):
        seen.append(r)
        if len(seen) == 2:
            break  # up to 39 hops wait for B's one slot: the run must still end
    assert len(seen) == 2
    # On cancel the waiting hops were abandoned: neither sent at once past B's limit of one,
    # nor served one by one at 0.5 s each (~20 s).
    assert gauge.count <= 3 and gauge.peak == 1
    assert time.monotonic() - started < 15


def test_a_check_that_raises_costs_one_record(
    http_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = probe.steps

    def buggy(raw: str, url: str, *args: Any, **kw: Any) -> Any:
        if "boom" in url:
            raise RuntimeError("bug in a check")
        return real(raw, url, *args, **kw)

    monkeypatch.setattr(probe, "steps", buggy)
    urls = [http_server.url("/ok?boom=1"), http_server.url("/ok?fine=1")]
    results = check_all(urls, workers=2)
    boom, fine = results[urls[0]], results[urls[1]]
    assert fine.ok
    assert not boom.ok and boom.error == "protocol" and "bug in a check" in boom.detail


def test_workers_bound_transfers_in_flight(http_server: Any) -> None:
    gauge = Gauge(http_server, delay=0.1)
    eng = engine.Engine(
        (Target(u) for u in gauge.urls(30)), Options(workers=5, max_per_host=50, timeout=5)
    )
    results = list(eng)
    assert len(results) == 30 and all(r.ok for r in results)
    assert gauge.peak == 5  # --workers is the number of transfers in flight


def _check_with_file_limit(
    tmp_path: Any, server: Any, ulimit: str, n: int = 300, gauge: Gauge | None = None
) -> subprocess.CompletedProcess[str]:
    """`urlsweep check` of `n` slow URLs, 500 at once, under the shell's `ulimit` words."""
    gauge = gauge or Gauge(server, delay=0.2)
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(gauge.urls(n)) + "\n")
    shell = ["bash", "-c", f'ulimit {ulimit} && exec "$@"', "-"]
    args = ["-w", "500", "--max-per-host", "500", "-P", "1", "--no-store", "-f", "jsonl"]
    return subprocess.run(
        [*shell, sys.executable, "-m", "urlsweep", "check", str(urls), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _at_once(stderr: str, limit: int) -> int:
    m = re.search(rf"open-file limit \(ulimit -n\) is {limit}: checking (\d+) URLs at once", stderr)
    assert m is not None, stderr
    return int(m.group(1))


def test_a_low_soft_file_limit_is_raised(tmp_path: Any, http_server: Any) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 2000:
        pytest.skip(f"the hard open-file limit here is {hard}")
    p = _check_with_file_limit(tmp_path, http_server, "-Sn 256")
    records = [json.loads(line) for line in p.stdout.splitlines()]
    # 300 at once need ~900 files (socket, idle connection, resolver): past 256, connections
    # would fail and be reported broken. The soft limit was raised: all ok, nothing said.
    assert p.returncode == 0, p.stderr
    assert len(records) == 300 and all(r["ok"] for r in records)
    assert "open-file limit" not in p.stderr


def test_a_low_hard_file_limit_caps_concurrency_with_a_warning(
    tmp_path: Any, http_server: Any
) -> None:
    p = _check_with_file_limit(tmp_path, http_server, "-n 250")
    records = [json.loads(line) for line in p.stdout.splitlines()]
    assert p.returncode == 0, p.stderr
    assert len(records) == 300 and all(r["ok"] for r in records)
    # What the process holds is measured, not a flat 100 files reserved: (250 - ~30) / 3.
    assert 60 <= _at_once(p.stderr, 250) < 84
    assert "Traceback" not in p.stderr


def test_ulimit_100_still_checks_many_urls_at_once(tmp_path: Any, http_server: Any) -> None:
    gauge = Gauge(http_server, delay=1.0)  # long enough for a busy machine to open them all
    p = _check_with_file_limit(tmp_path, http_server, "-n 100", n=60, gauge=gauge)
    records = [json.loads(line) for line in p.stdout.splitlines()]
    assert p.returncode == 0, p.stderr
    assert len(records) == 60 and all(r["ok"] for r in records)  # no file ran out
    at_once = _at_once(p.stderr, 100)
    assert at_once >= 15  # 100 files reserved left 1 here
    assert 15 <= gauge.peak <= at_once
