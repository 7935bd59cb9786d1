"""The library against real loopback servers: every error category and HTTP behaviour."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

import pytest

import urlsweep
from support import raw as raw_srv
from support.net import read_request_head
from urlsweep import Result


def check1(url: str, **options: Any) -> Result:
    options.setdefault("timeout", 5)
    results = list(urlsweep.check([url], **options))
    assert len(results) == 1
    return results[0]


def test_ok_head(http_server: Any) -> None:
    r = check1(http_server.base_url + "/ok")
    assert (r.status, r.ok, r.outcome, r.error, r.method) == (200, True, "ok", None, "HEAD")
    assert r.final_url == http_server.base_url + "/ok"
    assert r.ip == "127.0.0.1"
    assert r.attempts == 1
    assert [q.method for q in http_server.requests] == ["HEAD"]


def test_404_is_broken_after_get_fallback(http_server: Any) -> None:
    r = check1(http_server.base_url + "/status/404")
    assert (r.status, r.ok, r.outcome, r.error) == (404, False, "broken", None)
    assert r.method == "GET"
    assert [q.method for q in http_server.requests] == ["HEAD", "GET"]


@pytest.mark.parametrize("path", ["/head-405", "/head-501", "/head-404"])
def test_head_falls_back_to_get(http_server: Any, path: str) -> None:
    r = check1(http_server.base_url + path)
    assert (r.status, r.ok, r.method) == (200, True, "GET")


def test_head_protocol_error_falls_back_to_get(http_server: Any) -> None:
    r = check1(http_server.base_url + "/head-reset")
    assert (r.status, r.ok, r.method) == (200, True, "GET")


def test_method_get_never_sends_head(http_server: Any) -> None:
    r = check1(http_server.base_url + "/ok", method="get")
    assert r.method == "GET"
    assert [q.method for q in http_server.requests] == ["GET"]


def test_accept_ranges(http_server: Any) -> None:
    assert check1(http_server.base_url + "/status/403", accept="200-299,403").ok
    assert not check1(http_server.base_url + "/status/204", accept="200").ok


def test_redirect_hops_are_recorded(http_server: Any) -> None:
    base = http_server.base_url
    r = check1(base + "/redirect/3")
    assert r.ok and r.status == 200
    assert [h.to_dict() for h in r.redirects] == [
        {"url": base + "/redirect/3", "status": 302},
        {"url": base + "/redirect/2", "status": 302},
        {"url": base + "/redirect/1", "status": 302},
    ]
    assert r.final_url == base + "/redirect/0"


def test_redirect_to_another_host(server_factory: Any) -> None:
    a = server_factory(host="127.0.0.1")
    b = server_factory(host="127.0.0.2")
    r = check1(f"{a.base_url}/redirect-to?url={b.base_url}/ok&status=301")
    assert r.ok and r.final_url == b.base_url + "/ok"
    assert r.redirects[0].status == 301
    assert r.ip == "127.0.0.2"


def test_redirect_loop_is_too_many_redirects(http_server: Any) -> None:
    r = check1(http_server.base_url + "/loop", max_redirects=5)
    assert r.error == "too_many_redirects" and not r.ok
    assert len(r.redirects) == 6
    assert len(http_server.requests) == 6


def test_max_redirects_zero_reports_the_redirect(http_server: Any) -> None:
    r = check1(http_server.base_url + "/redirect/1", max_redirects=0)
    assert r.error == "too_many_redirects"


@pytest.mark.parametrize(
    "target", ["ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd"]
)
def test_redirect_to_other_scheme_is_refused(http_server: Any, target: str) -> None:
    from urllib.parse import quote

    r = check1(f"{http_server.base_url}/redirect-to?url={quote(target, safe='')}&status=302")
    assert r.error == "unsupported_scheme" and not r.ok
    assert r.redirects[0].status == 302
    assert len(http_server.requests) == 1


def test_relative_redirect(http_server: Any) -> None:
    r = check1(f"{http_server.base_url}/redirect-to?url=../ok&status=307")
    assert r.ok and r.final_url == http_server.base_url + "/ok"


def test_connection_refused_is_connect(free_port: int) -> None:
    r = check1(f"http://127.0.0.1:{free_port}/")
    assert r.error == "connect" and r.status is None and not r.ok


def test_invalid_tld_is_dns_without_network() -> None:
    started = time.monotonic()
    r = check1("http://no-such-host.invalid/")
    assert r.error == "dns"
    assert time.monotonic() - started < 2


def test_redirect_to_invalid_host_is_dns(http_server: Any) -> None:
    r = check1(f"{http_server.base_url}/redirect-to?url=http://gone.invalid/&status=302")
    assert r.error == "dns" and len(r.redirects) == 1


def test_total_deadline_beats_header_dribble(raw_server_factory: Any) -> None:
    srv = raw_server_factory(raw_srv.dribble_headers)
    started = time.monotonic()
    r = check1(srv.base_url + "/", timeout=1.5, retries=0)  # retries: test_polite_retry.py
    took = time.monotonic() - started
    assert r.error == "timeout"
    # HEAD times out, then no GET fallback for timeouts: one deadline, not many.
    assert took < 5


def test_hanging_server_times_out(raw_server_factory: Any) -> None:
    r = check1(raw_server_factory(raw_srv.hang).base_url + "/", timeout=0.5)
    assert r.error == "timeout"


def test_headers_then_silence_is_ok_for_get(raw_server_factory: Any) -> None:
    # The status is known from the headers; a body that never comes must not matter.
    r = check1(
        raw_server_factory(raw_srv.headers_then_hang).base_url + "/", method="get", timeout=3
    )
    assert r.status == 200 and r.ok


@pytest.mark.parametrize("path", ["/endless", "/trickle", "/gzip-bomb"])
def test_bodies_are_never_downloaded(http_server: Any, path: str) -> None:
    started = time.monotonic()
    r = check1(http_server.base_url + path, method="get", timeout=5)
    assert r.ok and r.status == 200
    assert time.monotonic() - started < 3


def test_a_giant_response_header_is_protocol_saying_why(raw_server_factory: Any) -> None:
    def giant(conn: socket.socket) -> None:
        read_request_head(conn)
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n")

    r = check1(raw_server_factory(giant).base_url + "/", retries=0)
    assert r.error == "protocol" and r.status is None
    assert "header over libcurl's limit" in r.detail, r.detail


def test_connection_reset_is_protocol(raw_server_factory: Any) -> None:
    r = check1(raw_server_factory(raw_srv.reset_connection).base_url + "/")
    assert r.error == "protocol" and r.status is None
    assert r.detail


def test_close_without_reply_is_protocol(raw_server_factory: Any) -> None:
    r = check1(raw_server_factory(raw_srv.close_without_reply).base_url + "/")
    assert r.error == "protocol"


def test_non_http_answer_is_protocol(raw_server_factory: Any) -> None:
    r = check1(raw_server_factory(raw_srv.garbage_reply).base_url + "/")
    assert r.error == "protocol"


def test_tls_verified_with_ca(https_server: Any, tls_ca: Any) -> None:
    r = check1(https_server.base_url + "/ok", ca_cert=tls_ca.ca_cert_path)
    assert r.ok and r.status == 200


def test_tls_untrusted_is_tls_error(https_server: Any) -> None:
    # Default trust store (Mozilla's) does not know the test CA.
    r = check1(https_server.base_url + "/ok")
    assert r.error == "tls" and not r.ok


def test_self_signed_is_tls_error_unless_insecure(
    https_self_signed_server: Any, tls_ca: Any
) -> None:
    url = https_self_signed_server.base_url + "/ok"
    assert check1(url, ca_cert=tls_ca.ca_cert_path).error == "tls"
    r = check1(url, insecure=True)
    assert r.ok and r.status == 200


def test_headers_and_user_agent_are_sent(http_server: Any) -> None:
    check1(http_server.base_url + "/ok", user_agent="sweeper/1", headers={"X-Token": "abc"})
    sent = http_server.requests[0].headers
    assert sent["user-agent"] == "sweeper/1"
    assert sent["x-token"] == "abc"


def test_default_user_agent_names_urlsweep(http_server: Any) -> None:
    check1(http_server.base_url + "/ok")
    assert http_server.requests[0].headers["user-agent"].startswith("urlsweep/")


def test_unicode_path_is_percent_encoded(http_server: Any) -> None:
    r = check1(http_server.base_url + "/utf8/über straße")
    assert r.ok
    assert http_server.requests[0].path == "/utf8/%C3%BCber%20stra%C3%9Fe"


def test_many_urls_concurrently_each_once(http_server: Any) -> None:
    base = http_server.base_url
    urls = [f"{base}/delay/0.2?i={i}" for i in range(40)]
    started = time.monotonic()
    results = list(urlsweep.check(urls, workers=40, timeout=5))
    took = time.monotonic() - started
    assert sorted(r.url for r in results) == sorted(urls)
    assert all(r.ok for r in results)
    assert http_server.max_in_flight > 1
    assert took < 40 * 0.2  # concurrency happened (sequential would take 8 s)


def test_duplicates_checked_once(http_server: Any) -> None:
    base = http_server.base_url
    urls = [f"{base}/ok", f"{base.upper()}/ok", f"{base}/ok", f"{base}/ok#frag2"]
    results = list(urlsweep.check(urls, workers=4))
    checked = [r.url for r in results]
    assert checked.count(f"{base}/ok") == 1
    assert len([q for q in http_server.requests if q.path == "/ok"]) == len(results)
    assert len(results) == 2  # /ok and /ok#frag2 (fragments are kept distinct)


def test_invalid_lines_become_records_and_run_continues(http_server: Any) -> None:
    urls = ["http://", "http://[::1", "not a url", "ftp://x/", http_server.base_url + "/ok"]
    by_url = {r.url: r for r in urlsweep.check(urls)}
    assert by_url["http://"].error == "invalid_url"
    assert by_url["http://[::1"].error == "invalid_url"
    assert by_url["not a url"].error == "invalid_url"
    assert by_url["ftp://x/"].error == "unsupported_scheme"
    assert by_url[http_server.base_url + "/ok"].ok


def test_url_as_given_is_kept(http_server: Any) -> None:
    raw = "  " + http_server.base_url.upper().replace("HTTP://", "http://") + "/ok  "
    r = check1(raw)
    assert r.url == raw and r.ok


def test_stopping_iteration_cancels(http_server: Any) -> None:
    urls = (f"{http_server.base_url}/delay/0.2?i={i}" for i in range(10_000))
    it = urlsweep.check(urls, workers=4)
    first = next(it)
    assert first.ok
    started = time.monotonic()
    it.close()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 3
    assert len(http_server.requests) < 100


def test_check_url_status(http_server: Any, free_port: int) -> None:
    base = http_server.base_url
    assert urlsweep.check_url_status(base + "/ok") == (base + "/ok", 200)
    assert urlsweep.check_url_status(base + "/status/404") == (base + "/status/404", 404)
    assert urlsweep.check_url_status(f"http://127.0.0.1:{free_port}/", timeout=1) == (
        f"http://127.0.0.1:{free_port}/",
        None,
    )
    assert urlsweep.check_url_status("not a url") == ("not a url", None)


def test_unknown_option_is_type_error() -> None:
    with pytest.raises(TypeError, match="unknown option"):
        urlsweep.check(["http://x.invalid/"], wrokers=3)  # type: ignore[call-arg]


def test_bad_option_value() -> None:
    from urlsweep.options import OptionError

    with pytest.raises(OptionError):
        urlsweep.check(["http://x.invalid/"], workers=0)
    with pytest.raises(OptionError):
        urlsweep.check(["http://x.invalid/"], accept="abc")


def test_result_round_trips_through_dict(http_server: Any) -> None:
    r = check1(http_server.base_url + "/redirect/1")
    assert Result.from_dict(r.to_dict()) == r


def test_default_ca_bundle_is_certifis() -> None:
    import certifi

    from urlsweep.probe.transport import mozilla_ca_file

    assert mozilla_ca_file() == certifi.where()
