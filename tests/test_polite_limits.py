"""Per-host limits and fairness, observed by real loopback servers on distinct addresses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import urlsweep
from support.polite_util import Gauge, check_all, max_overlap, starts
from urlsweep.engine.scheduler import Scheduler
from urlsweep.options import HostRule, Options
from urlsweep.probe.policy import Policy


def test_in_flight_per_host_never_exceeds_limit_and_workers_stay_busy(
    server_factory: Any,
) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    ga, gb = Gauge(a, delay=0.2), Gauge(b, delay=0.2)
    results = check_all(ga.urls(9) + gb.urls(9), workers=8, max_per_host=3)
    assert all(r.ok for r in results.values()) and len(results) == 18
    assert (ga.peak, gb.peak) == (3, 3)
    # A's backlog came first in the input, yet both hosts were served at their limit at once.
    assert max_overlap(a, b) >= 6


def test_one_hosts_backlog_does_not_stall_another(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    urls = [f"{a.base_url}/delay/0.05?i={i}" for i in range(2000)]
    urls += [f"{b.base_url}/ok?i={i}" for i in range(10)]
    seen: list[str] = []
    for r in urlsweep.check(urls, workers=8, max_per_host=4, timeout=5):
        seen.append(r.url)
        if sum(u.startswith(b.base_url) for u in seen) == 10:
            break  # leaving the loop cancels the run: A's backlog is never waited for
    assert sum(u.startswith(b.base_url) for u in seen) == 10
    # B's 10 were done while A had answered only a small part of its 2000.
    assert len(seen) < 150
    assert len(starts(a)) < 200


def test_rate_limit_spaces_requests_per_host(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    urls = [f"{a.base_url}/ok?i={i}" for i in range(10)]
    urls += [f"{b.base_url}/ok?i={i}" for i in range(10)]
    results = check_all(urls, workers=8, rate_limit=20)  # 20/s: one every 50 ms
    assert all(r.ok for r in results.values())
    for server in (a, b):
        t = starts(server)
        assert len(t) == 10
        # Tokens are granted 50 ms apart; a busy machine may delay one send more than the
        # next, so arrivals get some slack. Unlimited, all 10 would arrive within ~10 ms.
        assert min(t[i + 4] - t[i] for i in range(len(t) - 4)) >= 4 * 0.05 - 0.06
        assert t[-1] - t[0] >= 9 * 0.05 - 0.06
    # The limit is per host: both hosts were paced side by side, not one after the other.
    assert abs(starts(a)[0] - starts(b)[0]) < 0.3


def test_per_host_rule_overrides_limits(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    ga, gb = Gauge(a, delay=0.15), Gauge(b, delay=0.15)
    rule = HostRule("127.0.0.2", max_per_host=1)
    results = check_all(ga.urls(4) + gb.urls(8), workers=8, max_per_host=4, hosts=[rule])
    assert all(r.ok for r in results.values())
    assert (ga.peak, gb.peak) == (1, 4)


def test_redirect_hops_obey_the_target_hosts_limit(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    gb = Gauge(b)
    urls = [f"{a.base_url}/redirect-to?url={gb.url}%3Fi%3D{i}" for i in range(6)]
    rule = HostRule(f"127.0.0.3:{b.port}", max_per_host=1)
    results = check_all(urls, workers=6, max_per_host=6, hosts=[rule])
    assert all(r.ok and len(r.redirects) == 1 for r in results.values())
    assert (gb.count, gb.peak) == (6, 1)


def test_scheduler_serves_hosts_round_robin_and_bounds_read_ahead() -> None:
    sched: Scheduler[str] = Scheduler(Policy(Options()), read_ahead=7)
    cancel = threading.Event()
    for item in ["a1", "a2", "a3", "a4", "b1", "c1", "c2"]:
        assert sched.put(item, "http://" + item[0] + ":80", cancel)
    cancel.set()  # a full read-ahead blocks the feeder; cancelling lets it give up
    assert not sched.put("d1", "http://d:80", cancel)
    cancel.clear()
    order = []
    while (job := sched.get(cancel)) is not None:
        order.append(job.item)
        sched.release(job.host)
        sched.finish(job)
        if len(order) == 7:
            sched.close()
    assert order == ["a1", "b1", "c1", "a2", "c2", "a3", "a4"]


def test_feeder_reads_only_read_ahead_lines_beyond_the_work_in_flight(
    http_server: Any,
) -> None:
    gauge = Gauge(http_server, delay=0.3)
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for url in gauge.urls(1000):
            consumed += 1
            yield url

    for _ in urlsweep.check(lines(), workers=1, read_ahead=5, timeout=5):
        at_first_answer = consumed
        break
    # 1 answered, 1 in flight, 5 waiting, 1 in the feeder's hand; 992 lines not read yet.
    assert 2 <= at_first_answer <= 8
