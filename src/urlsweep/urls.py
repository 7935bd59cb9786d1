"""URL normalisation: turn what people type into what goes on the wire, or say why not."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are in a path or query: RFC 3986 reserved + unreserved + '%'.
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A URL that is already canonical except maybe for a default port: lower-case ASCII host,
# no userinfo, escapes, fragment or empty query, and only characters quote() leaves alone.
_CANONICAL = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([1-9][0-9]{0,4}))?"
    r"(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(?:\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]+))?"
)
MAX_URL_LENGTH = 16 * 1024
_PLAIN_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+)(?::([1-9][0-9]{0,4}))?(?=[/?#]|\Z)")


class InvalidURL(ValueError):
    """Not a URL we can request; `error` is the result category to report."""

    def __init__(self, message: str, error: str = "invalid_url") -> None:
        super().__init__(message)
        self.error = error


def _encode_host(host: str) -> str:
    if not host:
        raise InvalidURL("no host")
    if host.startswith("["):
        if not host.endswith("]"):
            raise InvalidURL("unterminated IPv6 address")
        try:
            addr = ipaddress.IPv6Address(host[1:-1].split("%", 1)[0])
        except ValueError:
            raise InvalidURL(f"bad IPv6 address {host!r}") from None
        return f"[{addr.compressed}]"
    host = host.rstrip(".").lower() if host != "." else host
    if any(c in host for c in ' \t<>"{}|\\^`%[]') or not host:
        raise InvalidURL(f"bad host {host!r}")
    if host.isascii():
        labels = host.split(".")
    else:
        try:
            # The stdlib idna codec applies nameprep (IDNA 2003) and label length checks.
            labels = host.encode("idna").decode("ascii").split(".")
        except UnicodeError:
            raise InvalidURL(f"host {host!r} is not a valid internationalised name") from None
    if any(len(lbl) == 0 or len(lbl) > 63 for lbl in labels) or len(host) > 253:
        raise InvalidURL(f"bad host {host!r}")
    return ".".join(labels)


def normalise(raw: str) -> str:
    """Return the canonical request URL for `raw`, or raise InvalidURL.

    Canonical means: scheme and host lower-case, IDNA host, default port dropped, empty path
    made "/", non-ASCII and spaces percent-encoded. Two inputs that name the same resource
    this way are checked once. The fragment is kept (fragment checks need it) but is never sent.
    """
    return _canonical_shortcut(raw) or _normalise(raw)


def _canonical_shortcut(raw: str) -> str | None:
    """The common case without the general parser (10x faster): None unless `raw` is plain.

    Gives exactly what `_normalise` would (a property test holds them to it).
    """
    if len(raw) > MAX_URL_LENGTH or (m := _CANONICAL.fullmatch(raw)) is None:
        return None
    scheme, host, port, path, query = m.groups()
    if len(host) > 63 and (len(host) > 253 or any(len(lbl) > 63 for lbl in host.split("."))):
        return None
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
    text = raw.strip()
    if not text:
        raise InvalidURL("empty line")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InvalidURL("control or undecodable characters in URL")
    if not _SCHEME_RE.match(text):
        hint = f" (did you mean https://{text}?)" if "." in text and " " not in text else ""
        raise InvalidURL(f"not a URL: no scheme{hint}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"cannot parse URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InvalidURL(f"scheme {scheme!r} is not checked", error="unsupported_scheme")
    if not parts.netloc:
        raise InvalidURL("no host")
    hostport = parts.netloc.rpartition("@")[2]
    host_text = hostport
    if host_text.startswith("["):
        host_text = host_text[: host_text.find("]") + 1] if "]" in host_text else host_text
    elif ":" in host_text:
        host_text = host_text.rsplit(":", 1)[0]
    host = _encode_host(host_text)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        if port == 0:
            raise InvalidURL("port 0 is not a valid port")
        netloc = f"{host}:{port}"
    if userinfo:
        netloc = f"{quote(userinfo, safe=':%!$&()*+,;=-._~')}@{netloc}"
    path = _encode_part(parts.path, _SAFE_PATH) or "/"
    query = _encode_part(parts.query, _SAFE_QUERY)
    fragment = _encode_part(parts.fragment, _SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, fragment))


def _encode_part(part: str, safe: str) -> str:
    # Keep valid %XX escapes, encode a lone '%' and everything non-ASCII (as UTF-8).
    part = _BAD_PERCENT.sub("%25", part)
    return quote(part, safe=safe)


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
    host = key[key.index("://") + 3 : key.rindex(":")].lower().rstrip(".")
    return host == "invalid" or host.endswith(".invalid")
