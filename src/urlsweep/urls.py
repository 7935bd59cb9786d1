"""URL normalisation: turn what people type into what goes on the wire, or say why not."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import can_ada

if TYPE_CHECKING:
    from urlsweep.result import ErrorName

SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What the URL Standard strips from both ends, and the controls it would keep (refused here:
# no one types them, and a list line holding them is damaged).
_C0_SPACE = "".join(map(chr, range(33)))
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# A scheme, allowing the tabs and newlines the standard removes anywhere.
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-\t\n\r]*:")
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)
# A URL that is already canonical except maybe for a default port: lower-case ASCII host,
# no userinfo, escapes, fragment or empty query, and only characters the standard leaves
# alone (in a query, `'` is encoded).
_CANONICAL = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([1-9][0-9]{0,4}))?"
    r"(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(?:\?([A-Za-z0-9._~!$&()*+,;=:@/?-]+))?"
)
MAX_URL_LENGTH = 16 * 1024
_PLAIN_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+)(?::([1-9][0-9]{0,4}))?(?=[/?#]|\Z)")


class InvalidURL(ValueError):
    """Not a URL we can request; `error` is the result category to report."""

    def __init__(self, message: str, error: ErrorName = "invalid_url") -> None:
        super().__init__(message)
        self.error = error


def normalise(raw: str) -> str:
    """Return the canonical request URL for `raw`, or raise InvalidURL.

    Parsed as browsers parse it (the WHATWG URL Standard, by Ada through can_ada): IDNA
    (UTS #46), IPv4 in decimal/octal/hex forms, backslashes, tabs and newlines removed, dot
    segments resolved, percent-encoding as browsers send it. On top, for the dedup key: an
    empty query or fragment and a host's trailing dot are dropped, and hosts that can never
    resolve (empty or over-long labels) and port 0 are invalid. The fragment is kept
    (fragment checks need it) but is never sent.
    """
    return _canonical_shortcut(raw) or _normalise(raw)


def _canonical_shortcut(raw: str) -> str | None:
    """The common case without the general parser: None unless `raw` is plain.

    Gives exactly what `_normalise` would (a property test holds them to it): a lower-case
    ASCII host that is no number and no punycode, no dot segment, escape or character the
    standard encodes.
    """
    if len(raw) > MAX_URL_LENGTH or (m := _CANONICAL.fullmatch(raw)) is None:
        return None
    scheme, host, port, path, query = m.groups()
    if len(host) > 63 and (len(host) > 253 or any(len(lbl) > 63 for lbl in host.split("."))):
        return None
    if "xn--" in raw or "/." in raw:
        return None  # punycode to validate, or a dot segment to resolve
    if (host[-1].isdigit() or "0x" in host) and not _IPV4.fullmatch(host):
        return None  # maybe a number: the standard reads those as IPv4 addresses
    netloc = host
    if port is not None:
        number = int(port)
        if number > 65535:
            return None
        if number != _DEFAULT_PORTS[scheme]:
            netloc = f"{host}:{port}"
    url = f"{scheme}://{netloc}{path or '/'}"
    return f"{url}?{query}" if query else url


def _normalise(raw: str) -> str:
    """The general parser behind `normalise`, for any input."""
    text = raw.strip(_C0_SPACE)
    if not text:
        raise InvalidURL("empty line")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(text):
        raise InvalidURL("control or undecodable characters in URL")
    scheme = _SCHEME_RE.match(text)
    if scheme is None:
        hint = f" (did you mean https://{text}?)" if "." in text and " " not in text else ""
        raise InvalidURL(f"not a URL: no scheme{hint}")
    name = scheme.group()[:-1].lower().replace("\t", "").replace("\n", "").replace("\r", "")
    if name not in SCHEMES:
        raise InvalidURL(f"scheme {name!r} is not checked", error="unsupported_scheme")
    try:
        url = can_ada.parse(text)
    except ValueError:
        raise InvalidURL(_why_not(text)) from None
    host = url.hostname
    if host.endswith(".") and not host.startswith("["):
        host = host.rstrip(".")
    if not host:
        raise InvalidURL("no host")
    if not host.startswith("[") and (
        (len(host) > 63 and (len(host) > 253 or any(len(lbl) > 63 for lbl in host.split("."))))
        or ".." in host
        or host.startswith(".")
    ):
        raise InvalidURL(f"bad host {host!r}")
    port = url.port
    if port == "0":
        raise InvalidURL("port 0 is not a valid port")
    href = url.href
    if host == url.hostname and not href.endswith(("?", "#")) and "?#" not in href:
        return href
    auth = url.username
    if url.password:
        auth += ":" + url.password
    netloc = f"{auth}@{host}" if auth else host
    if port:
        netloc += ":" + port
    return f"{url.protocol}//{netloc}{url.pathname}{url.search}{url.hash}"


def _why_not(text: str) -> str:
    """A reason for a URL the standard rejects (Ada says only that it failed)."""
    rest = text.split(":", 1)[1].lstrip("/\\")
    hostport = re.split(r"[/\\?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    if not hostport:
        return "no host"
    if hostport.startswith("[") and "]" not in hostport:
        return "unterminated IPv6 address"
    if hostport.startswith("["):
        return f"bad IPv6 address {hostport[: hostport.index(']') + 1]!r}"
    host, _, port = hostport.partition(":")
    if port and (not port.isdigit() or int(port) > 65535):
        return f"bad port {port!r}"
    return f"bad host {host!r}"


def request_url(url: str) -> str:
    """What is sent: the URL without its fragment."""
    return url.split("#", 1)[0]


def host_key(url: str) -> str:
    """The unit of politeness: scheme, host and port of a normalised URL.

    Asked several times per URL (scheduler, each hop, each request): plain URLs take a
    shortcut around urlsplit that gives the same answer.
    """
    m = _PLAIN_ORIGIN.match(url)
    if m is not None:
        scheme, host, port = m.groups()
        if port is None:
            return f"{scheme}://{host}:{_DEFAULT_PORTS[scheme]}"
        if int(port) <= 65535:
            return f"{scheme}://{host}:{port}"
    return _host_key(url)


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"


def host_partition(url: str, n: int) -> int:
    """Which of `n` shards owns this URL's host: the same on every machine and every run.

    Python's hash() is salted per process, so it cannot route work between processes.
    """
    if n < 1:
        raise ValueError("host_partition needs at least one shard")
    key = host_key(url).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % n


def is_reserved_invalid(url: str) -> bool:
    """RFC 6761: names under .invalid never resolve; answer without asking DNS."""
    return reserved_key(host_key(url))


def reserved_key(key: str) -> bool:
    """`is_reserved_invalid` for a `host_key` (cheap: no URL parsing)."""
    if "INVALID" not in key.upper():  # every request asks: no slicing
        return False
    host = key[key.index("://") + 3 : key.rindex(":")].lower().rstrip(".")
    return host == "invalid" or host.endswith(".invalid")
