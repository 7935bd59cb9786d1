"""Shared fixtures: loopback HTTP/HTTPS/raw TCP servers (see support/)."""

from __future__ import annotations

import os
import socket
import ssl
import sys
import time
from collections.abc import Callable, Iterator

import pytest

_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from support.http import TestHTTPServer  # noqa: E402
from support.raw import RawHandler, RawServer  # noqa: E402
from support.tls import TLSMaterial, make_tls  # noqa: E402

_PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "all_proxy",
    "no_proxy",
    "NO_PROXY",
)

ServerFactory = Callable[..., TestHTTPServer]
RawServerFactory = Callable[..., RawServer]


def pytest_configure(config: pytest.Config) -> None:
    """Only makes sure ``from servers import ...`` works for test modules; sets nothing else."""
    if _TESTS_DIR not in sys.path:
        sys.path.insert(0, _TESTS_DIR)


@pytest.fixture(autouse=True, scope="session")
def _no_proxy_env() -> Iterator[None]:
    """libcurl must never route the loopback test traffic through a proxy."""
    with pytest.MonkeyPatch.context() as mp:
        for name in _PROXY_VARS:
            mp.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True, scope="session")
def _results_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI runs keep their results store in a temp dir, not in the checkout's .urlsweep/."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("URLSWEEP_STORE", str(tmp_path_factory.mktemp("store") / "results.db"))
        yield


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    """Test CA (``ca_cert_path``), ``server_context`` and untrusted ``self_signed_context``."""
    return make_tls(tmp_path_factory.mktemp("tls"))


def _stop_all(servers: list[TestHTTPServer] | list[RawServer], timeout: float = 1.5) -> None:
    # Signal every server first, then share one deadline for joining their threads.
    for server in servers:
        server._signal_stop()
    deadline = time.monotonic() + timeout
    for server in servers:
        server._join(deadline)


@pytest.fixture
def http_server() -> Iterator[TestHTTPServer]:
    """Started :class:`TestHTTPServer` on 127.0.0.1 (``base_url`` http://127.0.0.1:PORT)."""
    server = TestHTTPServer("127.0.0.1").start()
    yield server
    server.stop()


@pytest.fixture
def server_factory(tls_ca: TLSMaterial) -> Iterator[ServerFactory]:
    """``factory(host="127.0.0.1", tls=False)`` -> started server; all stopped at teardown.

    ``tls`` may be True (trusted test-CA cert) or an ``ssl.SSLContext`` (e.g.
    ``tls_ca.expired_context``). Distinct loopback hosts (127.0.0.2, 127.0.0.3, ...) act as
    distinct hosts.
    """
    servers: list[TestHTTPServer] = []

    def factory(host: str = "127.0.0.1", tls: bool | ssl.SSLContext = False) -> TestHTTPServer:
        if isinstance(tls, ssl.SSLContext):
            context: ssl.SSLContext | None = tls
        else:
            context = tls_ca.server_context if tls else None
        server = TestHTTPServer(host, tls_context=context)
        servers.append(server)
        return server.start()

    yield factory
    _stop_all(servers)


@pytest.fixture
def raw_server_factory() -> Iterator[RawServerFactory]:
    """``factory(handler, host="127.0.0.1")`` -> started :class:`RawServer`."""
    servers: list[RawServer] = []

    def factory(handler: RawHandler, host: str = "127.0.0.1") -> RawServer:
        server = RawServer(handler, host)
        servers.append(server)
        return server.start()

    yield factory
    _stop_all(servers)


@pytest.fixture
def https_server(tls_ca: TLSMaterial) -> Iterator[TestHTTPServer]:
    """HTTPS server with a cert from the test CA; ``base_url`` is https://localhost:PORT."""
    server = TestHTTPServer("127.0.0.1", tls_context=tls_ca.server_context).start()
    yield server
    server.stop()


@pytest.fixture
def https_self_signed_server(tls_ca: TLSMaterial) -> Iterator[TestHTTPServer]:
    """HTTPS server with a self-signed cert nobody trusts; https://localhost:PORT."""
    server = TestHTTPServer("127.0.0.1", tls_context=tls_ca.self_signed_context).start()
    yield server
    server.stop()


@pytest.fixture
def free_port() -> int:
    """A loopback port with nothing listening on it (for connection-refused tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
