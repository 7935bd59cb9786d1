"""Retries, Retry-After, host pauses and the deferred pass, against real loopback servers."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from support.polite_util import check_all, scripted, starts
from urlsweep import Engine, Options, Target
from urlsweep.probe import retry


def test_transient_failures_are_retried_and_counted(server_factory: Any, free_port: int) -> None:
    a = server_factory("127.0.0.2")
    scripted(a, "/flaky", [(503, ()), (502, ())])
    refused = f"http://127.0.0.1:{free_port}/"
    urls = [a.url("/flaky"), a.url("/status/404"), refused]
    r = check_all(urls, backoff=0.01, retries=2, method="get")  # one request per attempt
    assert (r[a.url("/flaky")].status, r[a.url("/flaky")].attempts) == (200, 3)
    assert r[a.url("/flaky")].ok
    assert r[a.url("/status/404")].attempts == 1  # a 404 answers the same every time
    assert (r[refused].error, r[refused].attempts, r[refused].outcome) == ("connect", 3, "broken")


def test_no_retries_means_one_attempt(server_factory: Any) -> None:
    a = server_factory("127.0.0.2")
    r = check_all([a.url("/status/503"), a.url("/status/429")], retries=0)
    assert (r[a.url("/status/503")].attempts, r[a.url("/status/503")].outcome) == (1, "broken")
    assert (r[a.url("/status/429")].attempts, r[a.url("/status/429")].outcome) == (
        1,
        "unverifiable",
    )
    assert len(starts(a, "/status/503")) == 2  # HEAD, then GET in case only HEAD fails
    assert len(starts(a, "/status/429")) == 1  # never asked again at once after a 429


def test_retry_after_waits_and_pauses_the_host(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    scripted(a, "/limited", [(429, [("Retry-After", "1")])])
    urls = [a.url("/limited"), a.url("/ok"), b.url("/ok")]
    r = check_all(urls, workers=4, max_per_host=1)
    assert r[a.url("/limited")].ok and r[a.url("/limited")].attempts == 2
    first_429 = starts(a, "/limited")[0]
    # The retry waited the full second the server asked for...
    assert starts(a, "/limited")[1] - first_429 >= 1.0
    # ...and so did every other URL of that host (paused), while other hosts went on.
    assert starts(a, "/ok")[0] - first_429 >= 1.0
    assert starts(b, "/ok")[0] - first_429 < 0.9


def test_retry_after_is_capped_by_max_retry_wait(server_factory: Any) -> None:
    a = server_factory("127.0.0.2")
    scripted(a, "/later", [(429, [("Retry-After", "3600")])])
    r = check_all([a.url("/later")], max_retry_wait=0.2)[a.url("/later")]
    assert (r.ok, r.attempts) == (True, 2)
    t = starts(a, "/later")
    assert 0.2 <= t[1] - t[0] < 2.0


def test_deferred_pass_comes_after_the_main_pass(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    scripted(a, "/busy", [(429, ()), (429, ())])  # both main-pass attempts are refused
    urls = [a.url("/busy"), b.url("/delay/0.3")]
    r = check_all(urls, retries=1, backoff=0.05)
    busy = r[a.url("/busy")]
    assert (busy.ok, busy.status, busy.attempts) == (True, 200, 3)
    deferred = starts(a, "/busy")[2]
    with b.lock:
        b_done = b.requests[-1].time_end
    assert b_done is not None and deferred > b_done  # after everything else was checked
    # The slow pass waits out the host's cool-down: backoff * 2**retries = 0.1 s.
    assert deferred - starts(a, "/busy")[1] >= 0.1


def test_still_rate_limited_after_the_deferred_pass_is_unverifiable(server_factory: Any) -> None:
    a = server_factory("127.0.0.2")
    r = check_all([a.url("/status/429")], retries=1, backoff=0.02)[a.url("/status/429")]
    assert (r.outcome, r.ok, r.status, r.attempts) == ("unverifiable", False, 429, 3)
    assert "rate limited" in r.detail


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry.parse_retry_after("120") == 120.0
    assert retry.parse_retry_after(later, now=now.timestamp()) == pytest.approx(90.0)
    assert retry.parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now.timestamp()) == 0.0
    for bad in (None, "", "soon", "-5", "1.5e9x"):
        assert retry.parse_retry_after(bad) is None


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    for attempt, full in ((1, 0.5), (2, 1.0), (3, 2.0), (10, 8.0)):
        delays = [retry.backoff_delay(attempt, 0.5, 8.0, rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 4  # spread out, not in lockstep


def test_cancel_reports_urls_waiting_for_a_retry(server_factory: Any) -> None:
    a = server_factory("127.0.0.2")
    b = server_factory("127.0.0.3")  # another host: a's pause must not hold the slow URL back
    scripted(a, "/later", [(503, [("Retry-After", "30")])])
    opts = Options(method="get", max_retry_wait=30, timeout=5, workers=2)
    engine = Engine([Target(a.url("/later")), Target(b.url("/delay/0.3"))], opts)
    results = iter(engine)
    first = next(results)  # the slow one: by now /later got its 503 and waits to retry
    assert first.url == b.url("/delay/0.3")
    started = time.monotonic()
    engine.cancel()
    rest = list(results)
    assert time.monotonic() - started < 3  # not the 30 s the server asked for
    assert [(r.url, r.status, r.attempts) for r in rest] == [(a.url("/later"), 503, 1)]
