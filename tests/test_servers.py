"""Self-tests of the loopback test servers and fixtures (stdlib clients only)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote

import pytest

from support.bodies import _zeros_crc32
from support.http import TestHTTPServer, reply
from support.raw import (
    RawServer,
    close_without_reply,
    dribble_headers,
    garbage_reply,
    hang,
    headers_then_hang,
    reset_connection,
)
from support.tls import TLSMaterial

ServerFactory = Callable[..., TestHTTPServer]
RawServerFactory = Callable[..., RawServer]


def request(
    server: TestHTTPServer | RawServer,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- routes


def test_ok_keepalive_and_recording(http_server: TestHTTPServer) -> None:
    assert http_server.base_url == f"http://127.0.0.1:{http_server.port}"
    conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=5)
    for method, path in [("GET", "/"), ("GET", "/ok?x=1"), ("HEAD", "/ok")]:
        conn.request(method, path, headers={"X-Probe": "yes"})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200
        assert resp.getheader("Content-Length") == "3"
        assert body == (b"" if method == "HEAD" else b"ok\n")
    conn.close()
    assert http_server.wait_idle()
    reqs = http_server.requests
    assert [(r.method, r.path) for r in reqs] == [("GET", "/"), ("GET", "/ok?x=1"), ("HEAD", "/ok")]
    assert len({r.client_port for r in reqs}) == 1  # one kept-alive connection
    assert http_server.connection_count == 1
    assert all(r.headers["x-probe"] == "yes" for r in reqs)
    assert all(r.time_end is not None and r.time_end >= r.time_start for r in reqs)
    http_server.clear()
    assert http_server.requests == []
    assert http_server.max_in_flight == 0


def test_keepalive_is_fast(http_server: TestHTTPServer) -> None:
    # Header and body go out in separate writes: without TCP_NODELAY every response on a
    # kept-alive connection would stall ~40 ms on the client's delayed ACK.
    conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=5)
    started = time.monotonic()
    for _ in range(20):
        conn.request("GET", "/redirect/1")
        conn.getresponse().read()
    assert time.monotonic() - started < 0.6  # ~0.8 s with the 40 ms stalls
    conn.close()
    assert http_server.connection_count == 1


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("code", [200, 204, 301, 304, 404, 418, 500, 503, 599])
def test_status(http_server: TestHTTPServer, method: str, code: int) -> None:
    resp, body = request(http_server, f"/status/{code}", method)
    assert resp.status == code
    if code in (204, 304):
        assert resp.getheader("Content-Length") is None
    if method == "HEAD" or code in (204, 304):
        assert body == b""
    else:
        assert body == f"status {code}\n".encode()


def test_status_extra_headers(http_server: TestHTTPServer) -> None:
    resp, _ = request(http_server, "/status/429?retry_after=7&header=X-A:1&header=X-B:%20two")
    assert resp.status == 429
    assert resp.getheader("Retry-After") == "7"
    assert resp.getheader("X-A") == "1"
    assert resp.getheader("X-B") == "two"


def test_redirects(http_server: TestHTTPServer) -> None:
    resp, _ = request(http_server, "/redirect/3")
    assert (resp.status, resp.getheader("Location")) == (302, "/redirect/2")
    resp, _ = request(http_server, "/redirect/0")
    assert resp.status == 200
    resp, _ = request(http_server, "/loop", "HEAD")
    assert (resp.status, resp.getheader("Location")) == (302, "/loop")
    target = "ftp://example.invalid/a b?c=d&e"
    resp, _ = request(http_server, f"/redirect-to?url={quote(target, safe='')}&status=308")
    assert (resp.status, resp.getheader("Location")) == (308, target)
    resp, _ = request(http_server, "/redirect-to?url=../rel")
    assert (resp.status, resp.getheader("Location")) == (302, "../rel")


@pytest.mark.parametrize("code", [405, 501, 404])
def test_head_only_failures(http_server: TestHTTPServer, code: int) -> None:
    resp, _ = request(http_server, f"/head-{code}", "HEAD")
    assert resp.status == code
    resp, body = request(http_server, f"/head-{code}", "GET")
    assert resp.status == 200
    assert body


def test_head_reset(http_server: TestHTTPServer) -> None:
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        request(http_server, "/head-reset", "HEAD")
    resp, _ = request(http_server, "/head-reset", "GET")
    assert resp.status == 200


def test_headers_utf8_and_404(http_server: TestHTTPServer) -> None:
    resp, body = request(http_server, "/headers", headers={"User-Agent": "ua/1", "X-Y": "z"})
    assert resp.status == 200
    data = json.loads(body)
    assert data["user-agent"] == "ua/1"
    assert data["x-y"] == "z"
    raw = "/utf8/" + quote("été/ü")
    resp, _ = request(http_server, raw)
    assert resp.status == 200
    assert http_server.requests[-1].path == raw
    resp, _ = request(http_server, "/nope")
    assert resp.status == 404


def test_custom_route_overrides_builtin(http_server: TestHTTPServer) -> None:
    def teapot(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 418, "custom\n", [("X-Custom", "1")])

    http_server.route("/ok", teapot)
    resp, body = request(http_server, "/ok?ignored=1")
    assert (resp.status, body, resp.getheader("X-Custom")) == (418, b"custom\n", "1")
    resp, _ = request(http_server, "/")
    assert resp.status == 200


def test_delay_and_max_in_flight(http_server: TestHTTPServer) -> None:
    statuses: list[int] = []

    def worker() -> None:
        statuses.append(request(http_server, "/delay/0.3")[0].status)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert statuses == [200] * 5
    assert 0.3 <= elapsed < 0.9
    assert http_server.wait_idle()
    assert http_server.max_in_flight == 5
    assert http_server.in_flight == 0


def test_endless_stops_when_client_leaves(
    http_server: TestHTTPServer, capfd: pytest.CaptureFixture[str]
) -> None:
    resp, _ = request(http_server, "/endless", "HEAD")
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=5)
    conn.request("GET", "/endless")
    resp = conn.getresponse()
    got = 0
    while got < 1 << 20:
        got += len(resp.read1(65536))
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    assert http_server.wait_idle(2.0)
    assert capfd.readouterr().err == ""


def test_endless_blocks_without_spinning(http_server: TestHTTPServer) -> None:
    sock = socket.create_connection(("127.0.0.1", http_server.port))
    sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)  # client never reads: the server's writes must just block
    cpu = time.process_time()
    time.sleep(0.3)
    assert time.process_time() - cpu < 0.1
    sock.close()


def test_trickle(http_server: TestHTTPServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=5)
    conn.request("GET", "/trickle")
    resp = conn.getresponse()
    assert resp.getheader("Content-Length") == "1000000"
    started = time.monotonic()
    assert resp.read(3) == b"xxx"
    assert 0.3 <= time.monotonic() - started < 1.0
    conn.close()
    assert http_server.wait_idle(2.0)


def test_gzip_bomb(http_server: TestHTTPServer) -> None:
    resp, _ = request(http_server, "/gzip-bomb", "HEAD")
    assert resp.getheader("Content-Encoding") == "gzip"
    resp, body = request(http_server, "/gzip-bomb")
    assert resp.status == 200
    assert len(body) == int(resp.getheader("Content-Length") or 0) < 4 << 20
    crc, isize = struct.unpack("<II", body[-8:])
    assert isize == 1 << 30
    assert crc == _zeros_crc32(1 << 30, 1 << 20)
    out = zlib.decompressobj(31).decompress(body[: 4 << 10], 16 << 20)
    assert len(out) >= 2 << 20  # ~1000:1
    assert out == bytes(len(out))


def test_zeros_crc32() -> None:
    for total, block in [(8 << 20, 1 << 20), (3 << 20, 1 << 20), (7 * 4096, 4096)]:
        assert _zeros_crc32(total, block) == zlib.crc32(bytes(total))


# --------------------------------------------------------------------------- hosts


def test_other_loopback_hosts(server_factory: ServerFactory) -> None:
    a = server_factory("127.0.0.2")
    b = server_factory("127.0.0.3")
    assert a.base_url == f"http://127.0.0.2:{a.port}"
    for server in (a, b):
        resp, _ = request(server, "/ok")
        assert resp.status == 200
        assert len(server.requests) == 1
    if socket.has_ipv6:
        try:
            c = server_factory("::1")
        except OSError:
            pytest.skip("no IPv6 loopback")
        assert c.base_url == f"http://[::1]:{c.port}"
        assert request(c, "/ok")[0].status == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::", "example.com"])
def test_non_loopback_refused(host: str) -> None:
    with pytest.raises(ValueError):
        TestHTTPServer(host)
    with pytest.raises(ValueError):
        RawServer(hang, host)


def test_free_port_refuses(free_port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", free_port), timeout=2).close()


def test_proxy_env_removed() -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        assert name not in os.environ


# --------------------------------------------------------------------------- TLS


def test_https_verifies_with_test_ca(https_server: TestHTTPServer, tls_ca: TLSMaterial) -> None:
    assert https_server.base_url == f"https://localhost:{https_server.port}"
    ctx = ssl.create_default_context(cafile=tls_ca.ca_cert_path)
    for host in ("localhost", "127.0.0.1"):
        conn = http.client.HTTPSConnection(host, https_server.port, context=ctx, timeout=5)
        conn.request("GET", "/ok")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"ok\n")
        conn.close()


def test_https_other_host(server_factory: ServerFactory, tls_ca: TLSMaterial) -> None:
    server = server_factory("127.0.0.2", tls=True)
    assert server.base_url == f"https://127.0.0.2:{server.port}"
    ctx = ssl.create_default_context(cafile=tls_ca.ca_cert_path)
    conn = http.client.HTTPSConnection("127.0.0.2", server.port, context=ctx, timeout=5)
    conn.request("HEAD", "/")
    assert conn.getresponse().status == 200
    conn.close()


@pytest.mark.parametrize("which", ["self_signed", "wrong_host", "expired"])
def test_https_untrusted(server_factory: ServerFactory, tls_ca: TLSMaterial, which: str) -> None:
    server = server_factory(tls=getattr(tls_ca, f"{which}_context"))
    ctx = ssl.create_default_context(cafile=tls_ca.ca_cert_path)
    conn = http.client.HTTPSConnection("localhost", server.port, context=ctx, timeout=5)
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/ok")
    conn.close()
    if which == "self_signed":  # the server survives the failed handshake
        ctx = ssl.create_default_context(cafile=tls_ca.self_signed_cert_path)
        conn = http.client.HTTPSConnection("localhost", server.port, context=ctx, timeout=5)
        conn.request("GET", "/ok")
        assert conn.getresponse().status == 200
        conn.close()


def test_https_self_signed_fixture(https_self_signed_server: TestHTTPServer) -> None:
    ctx = ssl.create_default_context()
    conn = http.client.HTTPSConnection(
        "localhost", https_self_signed_server.port, context=ctx, timeout=5
    )
    with pytest.raises(ssl.SSLCertVerificationError, match=r"self[- ]signed"):
        conn.request("GET", "/")
    conn.close()


# --------------------------------------------------------------------------- raw server


def test_raw_reset(raw_server_factory: RawServerFactory) -> None:
    server = raw_server_factory(reset_connection)
    with pytest.raises(ConnectionResetError):
        request(server, "/")


def test_raw_close_and_garbage(raw_server_factory: RawServerFactory) -> None:
    with pytest.raises(http.client.RemoteDisconnected):
        request(raw_server_factory(close_without_reply), "/")
    with pytest.raises(http.client.BadStatusLine):
        request(raw_server_factory(garbage_reply), "/")


def test_raw_headers_then_hang(raw_server_factory: RawServerFactory) -> None:
    server = raw_server_factory(headers_then_hang)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=0.3)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.getheader("Content-Length") == "1000000"
    with pytest.raises(TimeoutError):
        resp.read(1)
    conn.close()


def test_raw_dribble(raw_server_factory: RawServerFactory) -> None:
    server = raw_server_factory(dribble_headers)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    deadline = time.monotonic() + 1.2
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            data += sock.recv(100)
        except TimeoutError:
            break
    sock.close()
    assert data.startswith(b"HTTP/1.1 200 OK\r\nX")
    assert 2 <= len(data) - len(b"HTTP/1.1 200 OK\r\n") <= 3


def test_raw_hang(raw_server_factory: RawServerFactory) -> None:
    server = raw_server_factory(hang)
    with pytest.raises(TimeoutError):
        request(server, "/", timeout=0.3)


# --------------------------------------------------------------------------- teardown


def test_stop_is_fast_with_stuck_clients(tls_ca: TLSMaterial) -> None:
    blocker = threading.Event()

    def stuck(handler: BaseHTTPRequestHandler) -> None:
        blocker.wait(30)  # ignores the server's stop event on purpose

    http_srv = TestHTTPServer().start()
    http_srv.route("/stuck", stuck)
    raw = [RawServer(h).start() for h in (hang, dribble_headers, headers_then_hang)]
    tls_srv = TestHTTPServer(tls_context=tls_ca.server_context).start()
    socks = []
    for path in ("/stuck", "/endless", "/trickle", "/delay/30", "/"):
        s = socket.create_connection(("127.0.0.1", http_srv.port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        socks.append(s)
    others: list[TestHTTPServer | RawServer] = [*raw, tls_srv]
    for srv in others:  # connected, TLS handshake never started
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        socks.append(s)
    time.sleep(0.3)
    started = time.monotonic()
    for srv in [http_srv, *others]:
        srv.stop(timeout=0.5)
    assert time.monotonic() - started < 2.5
    blocker.set()
    for s in socks:
        s.close()
