"""Policy: which URLs and addresses are checked, outcomes, credentials, cookies, proxies."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from support import http as http_srv
from support.polite_util import check_all
from urlsweep.probe.policy import address_kind


def test_deny_private_refuses_a_direct_loopback_url(http_server: Any, free_port: int) -> None:
    url, closed = http_server.url("/ok"), f"http://127.0.0.1:{free_port}/"
    r = check_all([url, closed], deny_private=True)
    assert (r[url].error, r[url].outcome, r[url].ok, r[url].status) == (
        "blocked",
        "skipped",
        False,
        None,
    )
    assert "loopback" in r[url].detail and r[url].attempts == 1
    assert http_server.connection_count == 0  # refused before connecting, not just before sending
    # Open or closed port, the answer is the same: no port-scanning oracle, no retries.
    assert (r[closed].error, r[closed].attempts) == ("blocked", 1)


def test_deny_private_judges_the_address_after_name_resolution(http_server: Any) -> None:
    url = f"http://localhost:{http_server.port}/ok"  # a name, not an IP literal
    r = check_all([url], deny_private=True)[url]
    assert (r.error, r.outcome) == ("blocked", "skipped")
    assert http_server.connection_count == 0


def test_deny_private_checks_every_redirect_hop(server_factory: Any) -> None:
    allowed, internal = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    url = allowed.url(f"/redirect-to?url={internal.url('/ok')}")
    r = check_all([url, allowed.url("/ok")], deny_private=True, allow_nets=["127.0.0.2/32"])
    assert r[allowed.url("/ok")].ok  # the exception works...
    hop = r[url]
    assert (hop.error, hop.outcome) == ("blocked", "skipped")  # ...but not for the next hop
    assert [h.status for h in hop.redirects] == [302]
    assert hop.final_url == internal.url("/ok")
    assert internal.connection_count == 0


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoints
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not public"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_kinds(ip: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(ip)) == kind


def test_include_exclude_and_scheme_skip_without_requests(http_server: Any) -> None:
    base = http_server.base_url
    urls = [f"{base}/ok", f"{base}/ok?skip=1", f"{base}/status/404", "mailto:x@example.invalid"]
    r = check_all(urls, include=[r"/ok"], exclude=[r"skip=1"])
    assert r[f"{base}/ok"].ok
    assert (r[f"{base}/ok?skip=1"].outcome, r[f"{base}/ok?skip=1"].error) == (
        "skipped",
        "excluded",
    )
    assert r[f"{base}/status/404"].outcome == "skipped"  # matches no --include
    assert r["mailto:x@example.invalid"].outcome == "skipped"  # not an http(s) URL
    assert [q.path for q in http_server.requests] == ["/ok"]
    only_https = check_all([f"{base}/ok"], schemes=["https"])[f"{base}/ok"]
    assert (only_https.outcome, only_https.error) == ("skipped", "excluded")
    assert "scheme http" in only_https.detail


def test_outcomes_separate_broken_from_unverifiable(http_server: Any) -> None:
    http_server.route("/linkedin", lambda h: http_srv.reply(h, 999, "denied\n"))
    base = http_server.base_url
    bot = f"{base}/status/403?header=cf-mitigated:challenge"
    urls = [bot, f"{base}/status/403", f"{base}/linkedin", f"{base}/status/429", f"{base}/ok"]
    r = check_all(urls, retries=0)
    assert r[bot].outcome == "unverifiable" and "cf-mitigated" in r[bot].detail
    assert r[f"{base}/status/403"].outcome == "broken"  # a plain 403 is an answer
    assert r[f"{base}/linkedin"].outcome == "unverifiable"
    assert r[f"{base}/status/429"].outcome == "unverifiable"
    assert r[f"{base}/ok"].outcome == "ok"
    assert not any(x.ok for u, x in r.items() if u != f"{base}/ok")


def test_credentials_never_cross_to_another_host(server_factory: Any) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    cross = a.url(f"/redirect-to?url={b.url('/headers')}")
    same = a.url("/redirect/1")
    r = check_all(
        [cross, same],
        workers=1,
        basic_auth=[r"^http://127\.0\.0\.[23]:\d+/ user:secret"],  # would match both hosts
        headers={"Cookie": "session=1", "X-Trace": "t"},
    )
    assert r[cross].ok and r[same].ok
    a.wait_idle()
    b.wait_idle()
    on_a = {q.path: q.headers for q in a.requests}
    assert all(h.get("authorization", "").startswith("Basic ") for h in on_a.values())
    assert all(h.get("cookie") == "session=1" for h in on_a.values())  # same host: kept
    assert len(on_a) == 3  # cross, same, and same's redirect target
    (on_b,) = [q.headers for q in b.requests]
    assert "authorization" not in on_b and "cookie" not in on_b
    assert on_b.get("x-trace") == "t"  # ordinary headers still go everywhere


def test_cookies_are_kept_per_run_only_when_asked(http_server: Any) -> None:
    def set_cookie(h: Any) -> None:
        http_srv.reply(h, 200, "set\n", [("Set-Cookie", "sid=42; Path=/")])

    http_server.route("/login", set_cookie)
    urls = [http_server.url("/login"), http_server.url("/ok")]
    check_all(urls, workers=1)
    check_all(urls, workers=1, cookies=True)
    http_server.wait_idle()
    cookies = [(q.path, q.headers.get("cookie")) for q in http_server.requests]
    assert cookies == [("/login", None), ("/ok", None), ("/login", None), ("/ok", "sid=42")]


def test_proxy_option_sends_requests_through_the_proxy(server_factory: Any) -> None:
    proxy = server_factory("127.0.0.2")
    target = "http://127.0.0.3:9/ok"  # nothing listens there: only the proxy could answer
    r = check_all([target], proxy=proxy.base_url, retries=0)[target]
    assert r.status == 404  # the test server, acting as a proxy, does not know the route
    proxy.wait_idle()
    assert proxy.requests[0].path == target  # absolute-form: a proxy request


def test_system_ca_uses_the_os_store(
    https_server: Any, tls_ca: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = https_server.url("/ok")
    # Our test CA is in no real system store: refused...
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")
    assert check_all([url], system_ca=True, retries=0)[url].error == "tls"
    # ...until the "system" bundle (SSL_CERT_FILE, as OpenSSL reads it) contains it.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_ca.ca_cert_path))
    assert check_all([url], system_ca=True)[url].ok
