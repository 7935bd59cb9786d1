"""One libcurl easy handle: a request set up, its answer read (status and headers out).

A `Transport` is used by one thread at a time. Blocking (`request`), it keeps its own
keep-alive connections, DNS and TLS sessions; set up with `start` and run by the multi
driver (multi.py), its transfers share the multi handle's connection pool and DNS cache.
Bodies are never read unless asked for (`max_body`): for a status check the transfer ends
with the header block of the final response.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pycurl

from urlsweep import result as R
from urlsweep.options import OptionError, Options, is_secret_header
from urlsweep.probe.policy import Policy
from urlsweep.urls import host_key

# CURLOPT_SUPPRESS_CONNECT_HEADERS (libcurl >= 7.54); pycurl has no name for it.
_SUPPRESS_CONNECT_HEADERS: Final = 265
_TLS_CODES: Final = frozenset({35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98})
_CODE_TO_ERROR: Final = {
    3: R.INVALID_URL,
    5: R.CONNECT,  # proxy name did not resolve
    6: R.DNS,
    7: R.CONNECT,
    28: R.TIMEOUT,
    45: R.CONNECT,
    47: R.TOO_MANY_REDIRECTS,
}
_SYSTEM_CA_FILES: Final = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, BSDs
)
_CODE_DETAIL: Final = {
    52: "server closed the connection without a response",
    56: "connection reset while receiving",
    55: "connection reset while sending",
    100: "a response header over libcurl's limit (100 kB each, 300 kB in all)",  # TOO_LARGE
}


@dataclass(slots=True)  # not frozen: built for every request, and frozen init costs 3x
class Request:
    """One HTTP request: what a check (`probe.steps`) yields and a `Transport` sends."""

    url: str  # without fragment
    method: str
    max_body: int
    headers: list[str]
    credentials: bool  # the user's secret headers (options.is_secret_header) may go along
    host: str  # host_key(url): the host whose limits the request counts against
    # Where the (decoded, capped) body of a 2xx answer goes chunk by chunk instead of being
    # kept: for documents parsed as they stream (a sitemap). Must not raise.
    sink: Callable[[bytes], None] | None = None


@dataclass(slots=True)
class Response:
    """The final answer to one request (after 1xx interim responses)."""

    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    detail: str = ""
    ip: str | None = None
    elapsed: float = 0.0
    body: bytes = b""
    truncated: bool = False
    # Raw header lines, parsed into `headers` on the first `header()` call: most answers are
    # a plain 200 whose headers nobody reads.
    lines: list[bytes] | None = None

    def header(self, name: str) -> str | None:
        if self.lines is not None:
            self.headers = parse_header_block(self.lines)
            self.lines = None
        name = name.lower()
        for k, v in reversed(self.headers):
            if k == name:
                return v
        return None


def parse_header_block(lines: list[bytes]) -> list[tuple[str, str]]:
    """(lower-case name, value) pairs of the last response in `lines` (after 1xx ones)."""
    start = 0
    for i, line in enumerate(lines):
        if line.startswith(b"HTTP/"):
            start = i + 1
    out = []
    for line in lines[start:]:
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            out.append((name.strip().lower(), value.strip()))
    return out


def classify(code: int, message: str) -> str:
    """Map a libcurl error code to a result category."""
    if code in _TLS_CODES:
        return R.TLS
    if code == 1 and "not supported" in message and "HTTP/0.9" not in message:
        return R.UNSUPPORTED_SCHEME
    return _CODE_TO_ERROR.get(code, R.PROTOCOL)


def mozilla_ca_file() -> str:
    """certifi's bundle, found without importing certifi when it lies beside its module
    (certifi imports importlib.resources: with `where()`, ~7 ms of every process's start)."""
    global _MOZILLA_CA
    if _MOZILLA_CA is None:
        spec = importlib.util.find_spec("certifi")
        origin = spec.origin if spec is not None else None
        path = os.path.join(os.path.dirname(origin), "cacert.pem") if origin else ""
        if not os.path.isfile(path):
            import certifi

            path = certifi.where()
        _MOZILLA_CA = path
    return _MOZILLA_CA


_MOZILLA_CA: str | None = None


def ca_file_of(options: Options) -> str | None:
    """The CA bundle `options` trust, resolved once per run; None with --insecure."""
    if options.insecure:
        return None
    if options.system_ca:
        return system_ca_file()
    return options.ca_cert or mozilla_ca_file()


def system_ca_file() -> str:
    """The operating system's CA bundle, for --system-ca (e.g. with a company's own CA)."""
    import ssl  # only here: 5 ms of start-up that a run without --system-ca never needs

    candidates = [os.environ.get("SSL_CERT_FILE"), ssl.get_default_verify_paths().cafile]
    for path in [*candidates, *_SYSTEM_CA_FILES]:
        if path and os.path.isfile(path):
            return path
    raise OptionError("no system CA bundle found (set SSL_CERT_FILE or use --ca-cert FILE)")


def retry_after_of(resp: Response | None) -> str | None:
    """The Retry-After header of an answer (None for no answer)."""
    return resp.header("retry-after") if resp is not None and resp.error is None else None


_CURL_LOG: Final = logging.getLogger("urlsweep.curl")
_CURL_KINDS: Final = {
    pycurl.INFOTYPE_TEXT: "*",
    pycurl.INFOTYPE_HEADER_IN: "<",
    pycurl.INFOTYPE_HEADER_OUT: ">",
}


def _curl_debug(kind: int, data: bytes) -> None:
    """libcurl's verbose lines (connection, TLS, headers; never bodies), secrets (headers,
    passwords of URLs) masked."""
    mark = _CURL_KINDS.get(kind)
    if mark is None:
        return
    for line in data.decode("latin-1").splitlines():
        name, colon, _ = line.partition(":")
        if kind != pycurl.INFOTYPE_TEXT and colon and is_secret_header(name.strip()):
            line = f"{name}: ***"
        if line.strip():  # a Location may hold a URL's password: masked too
            _CURL_LOG.debug("curl %s %s", mark, R.mask_userinfo(line))


class CookieJar:
    """One cookie store shared by every thread's handle: a per-run jar (--cookies).

    libcurl's share interface locks it; pycurl supplies the locking callbacks.
    """

    def __init__(self) -> None:
        self._share = pycurl.CurlShare()
        self._share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_COOKIE)

    def attach(self, curl: pycurl.Curl) -> None:
        curl.setopt(pycurl.SHARE, self._share)

    def close(self) -> None:
        self._share.close()


class _Exchange:
    """Callback state for one transfer: collects the header block and maybe some body."""

    __slots__ = (
        "body",
        "done",
        "headers",
        "keep_body",
        "max_body",
        "sink",
        "size",
        "status",
        "truncated",
    )

    def __init__(self, max_body: int, sink: Callable[[bytes], None] | None = None) -> None:
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.done = False
        self.max_body = max_body
        self.keep_body = max_body > 0
        self.body: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.sink = sink

    def on_header(self, line: bytes) -> int | None:
        if line.startswith(b"HTTP/"):
            # A new response begins (after 100 Continue, or another hop): start over.
            parts = line.split(None, 2)
            try:
                self.status = int(parts[1])
            except (IndexError, ValueError):
                self.status = None
            self.headers = []
            return None
        if line in (b"\r\n", b"\n"):
            if self.status is not None and self.status >= 200:
                self.done = True
                if not self.keep_body:
                    return 0  # stop here: no body is ever read for a status check
            return None
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            self.headers.append((name.strip().lower(), value.strip()))
        return None

    def on_body(self, chunk: bytes) -> int | None:
        if not self.keep_body:
            return 0
        room = self.max_body - self.size
        if len(chunk) >= room:
            self._take(chunk[:room])
            self.size = self.max_body
            self.truncated = True
            return 0
        self._take(chunk)
        self.size += len(chunk)
        return None

    def _take(self, chunk: bytes) -> None:
        if self.sink is None:
            self.body.append(chunk)
        elif self.status is not None and 200 <= self.status < 300:
            self.sink(chunk)  # streamed: only a success's body, never a redirect's


class Transport:
    """A reusable libcurl handle configured from `Options`; not thread-safe by design."""

    def __init__(
        self,
        options: Options,
        *,
        refuse: Callable[[str], str | None] | None = None,
        cookies: CookieJar | None = None,
        ca_file: str | None = "",
    ) -> None:
        """`refuse(ip)` names why a connection to `ip` must not carry a request (or None);
        `ca_file` is the CA bundle a run resolved once (`ca_file_of`; None: --insecure;
        "": resolve it here)."""
        self.options = options
        if refuse is None:
            refuse = Policy(options).refuser
        if ca_file == "":
            ca_file = ca_file_of(options)
        c = self._curl = pycurl.Curl()
        c.setopt(pycurl.NOSIGNAL, 1)
        c.setopt(pycurl.NOPROGRESS, 1)
        c.setopt(pycurl.FOLLOWLOCATION, 0)  # redirects are followed by the prober, hop by hop
        c.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        c.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        c.setopt(_SUPPRESS_CONNECT_HEADERS, 1)  # a proxy's "200 Connection established" is not ours
        c.setopt(pycurl.USERAGENT, options.user_agent)
        timeout_ms = max(1, int(options.timeout * 1000))
        c.setopt(pycurl.TIMEOUT_MS, timeout_ms)  # total deadline: connect, TLS and headers
        c.setopt(pycurl.CONNECTTIMEOUT_MS, timeout_ms)
        if ca_file is None:
            c.setopt(pycurl.SSL_VERIFYPEER, 0)
            c.setopt(pycurl.SSL_VERIFYHOST, 0)
        else:
            c.setopt(pycurl.CAINFO, ca_file)
        if options.proxy is not None:
            c.setopt(pycurl.PROXY, options.proxy)
        if options.cookies:
            c.setopt(pycurl.COOKIEFILE, "")  # enables the cookie engine, reads no file
            if cookies is not None:
                cookies.attach(c)
        if _CURL_LOG.isEnabledFor(logging.DEBUG):  # -vvv: libcurl's own account, as curl -v
            c.setopt(pycurl.VERBOSE, 1)
            c.setopt(pycurl.DEBUGFUNCTION, _curl_debug)
        self.last: Response | None = None  # the latest answer, for retry decisions
        self._refused: str | None = None
        self._ex: _Exchange | None = None
        # A plain HEAD's header lines, appended by libcurl (C: `list.append`); the handle
        # keeps that callback and NOBODY while HEADs follow each other (`_plain`).
        self._head: list[bytes] = []
        self._plain = False
        self._started = 0.0
        self._encoding = False  # ACCEPT_ENCODING set on the handle
        self._headers_set = False  # HTTPHEADER set on the handle
        if refuse is not None:
            self._refuse = refuse
            c.setopt(pycurl.OPENSOCKETFUNCTION, self._open_socket)
            c.setopt(pycurl.PREREQFUNCTION, self._prereq)
        self._base_headers = [f"{k}: {v}" for k, v in options.headers]
        # What goes to a host the user did not name: no secret header (one list, shared
        # with the store's masking).
        self._public_headers = [f"{k}: {v}" for k, v in options.headers if not is_secret_header(k)]

    def _open_socket(self, purpose: int, address: tuple[int, int, int, tuple[Any, ...]]) -> Any:
        """libcurl asks for a socket to each resolved address: refuse before any packet."""
        family, socktype, protocol, addr = address
        refused = self._refuse(str(addr[0]))
        if refused:
            self._refused = refused
            return pycurl.SOCKET_BAD
        return socket.socket(family, socktype, protocol)  # pycurl keeps a dup of the fd

    def _prereq(self, primary_ip: str, local_ip: str, primary_port: int, local_port: int) -> int:
        """Checked again just before sending, on new and reused connections alike."""
        refused = self._refuse(primary_ip)
        if refused:
            self._refused = refused
            return int(pycurl.PREREQFUNC_ABORT)
        return int(pycurl.PREREQFUNC_OK)

    @property
    def curl(self) -> pycurl.Curl:
        """The easy handle, for a driver that runs many transfers at once (`multi.py`)."""
        return self._curl

    def request(
        self,
        url: str,
        method: str = "HEAD",
        *,
        max_body: int = 0,
        headers: Sequence[str] = (),
        sink: Callable[[bytes], None] | None = None,
        credentials: bool = True,
        host: str | None = None,
    ) -> Response:
        """Send one request to `url` (no fragment) and return the final response or error.

        With `sink`, the (decoded, capped) body of a 2xx answer is passed to it chunk by chunk
        instead of being kept: for documents parsed as they stream. `sink` must not raise.
        With `credentials` False, the user's secret headers are left out.
        `host` is `host_key(url)` when the caller has it already.
        """
        req = Request(url, method, max_body, list(headers), credentials, host or host_key(url))
        return self.send(req, sink)

    def send(self, req: Request, sink: Callable[[bytes], None] | None = None) -> Response:
        """`request`, blocking this thread, for a `Request` already built. Blocking sends
        know no host limits: a run's checks go through the engine's driver instead."""
        self.start(req, sink)
        try:
            self._curl.perform()
        except pycurl.error as exc:
            return self.finish(exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else "")
        return self.finish()

    def start(self, req: Request, sink: Callable[[bytes], None] | None = None) -> None:
        """Set the handle up for one request; whoever performs it then calls `finish`.

        A plain HEAD (the common case) has its header lines appended by C code (`list.append`)
        and its status read from libcurl: no Python call per header line, and the transfer
        ends by itself, so the connection is kept alive. A GET goes through `_Exchange`, which
        stops the transfer at the end of the header block.
        """
        c = self._curl
        self._refused = None
        sink = sink or req.sink
        c.setopt(pycurl.URL, req.url)
        method, max_body = req.method, req.max_body
        if method == "HEAD" and max_body <= 0 and sink is None:
            if not self._plain:  # set once for a run of plain HEADs, not for each
                c.setopt(pycurl.NOBODY, 1)
                c.setopt(pycurl.HEADERFUNCTION, self._head.append)
                self._plain = True
            self._head.clear()
            self._ex = None
        else:
            self._plain = False
            if method == "HEAD":
                c.setopt(pycurl.NOBODY, 1)
            else:
                c.setopt(pycurl.NOBODY, 0)
                c.setopt(pycurl.HTTPGET, 1)
            ex = self._ex = _Exchange(max_body, sink)
            c.setopt(pycurl.HEADERFUNCTION, ex.on_header)
            c.setopt(pycurl.WRITEFUNCTION, ex.on_body)
        if max_body > 0:
            c.setopt(pycurl.ACCEPT_ENCODING, "")  # decoded bytes count against max_body
            self._encoding = True
        elif self._encoding:
            c.setopt(pycurl.ACCEPT_ENCODING, None)
            self._encoding = False
        base = self._base_headers if req.credentials else self._public_headers
        if base or req.headers:
            c.setopt(pycurl.HTTPHEADER, [*base, *req.headers])
            self._headers_set = True
        elif self._headers_set:  # an empty list would leave the previous request's in place
            c.unsetopt(pycurl.HTTPHEADER)
            self._headers_set = False
        self._started = time.monotonic()

    def finish(self, code: int = 0, message: str = "") -> Response:
        """The response to the request set up by `start`, which libcurl ended with `code`."""
        c = self._curl
        resp = Response()
        resp.elapsed = time.monotonic() - self._started
        ex = self._ex
        if code:
            if self._refused is not None:
                resp.error, resp.detail = R.BLOCKED, self._refused
            elif ex is None or not ex.done:  # an abort after the header block is our own doing
                resp.error = classify(code, message)
                resp.detail = _CODE_DETAIL.get(code) or message or f"libcurl error {code}"
        try:
            resp.ip = c.getinfo(pycurl.PRIMARY_IP) or None
        except pycurl.error:
            resp.ip = None
        if resp.error is None:
            if ex is None:
                resp.status = c.getinfo(pycurl.RESPONSE_CODE) or None
                resp.lines = self._head[:]  # the handle's list fills again on its next HEAD
            else:
                resp.status = ex.status
                resp.headers = ex.headers
                resp.body = b"".join(ex.body)
                ex.body.clear()  # the handle keeps its write callback (and so `ex`) until a GET
                resp.truncated = ex.truncated
            if resp.status is None:
                resp.error = R.PROTOCOL
                resp.detail = "no HTTP status line in the answer"
        self._ex = None  # `_head` is cleared by the next `start`
        self.last = resp
        return resp

    def close(self) -> None:
        self._curl.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
