"""`mailto:` and `tel:` links: an address's syntax is checked (RFC 5322 addr-spec, the
dot-atom and quoted forms, with an LDH domain), and with `--check-mail` its domain is looked
up: an MX record, else an A or AAAA record (RFC 5321 5.1), as LinkChecker does. `tel:` links
are reported as skipped. No mail is sent and no SMTP server is contacted.

The lookup is a plain DNS query over UDP to one resolver (the first `nameserver` of
/etc/resolv.conf, or `--dns-server`), answered or not within the timeout: no dependency, and
tests point it at a DNS server of their own on loopback.
"""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
from dataclasses import dataclass
from urllib.parse import unquote

from urlsweep import result as R
from urlsweep.result import Result

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*|\"(?:[^\"\\\r\n]|\\.)*\"")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MX, _A, _AAAA = 15, 1, 28


def mail_addresses(href: str) -> list[str]:
    """The addresses of a `mailto:` URL (RFC 6068): comma-separated, percent-decoded."""
    to = href.split(":", 1)[1].split("?", 1)[0]
    return [unquote(a).strip() for a in to.split(",") if a.strip()]


def address_problem(address: str) -> str | None:
    """Why `address` is not an e-mail address, or None."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return f"{address!r} has no local part and domain (user@example.org)"
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        return f"bad local part {local!r}"
    if domain.startswith("[") and domain.endswith("]"):
        return None  # an address literal, [192.0.2.1]
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return f"bad domain {domain!r}"
    labels = ascii_domain.split(".")
    if len(labels) < 2 or len(ascii_domain) > 253 or not all(map(_LABEL.fullmatch, labels)):
        return f"bad domain {domain!r}"
    return None


def default_dns_server() -> tuple[str, int]:
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    return parts[1], 53
    except OSError:
        pass
    return "127.0.0.1", 53


def parse_server(text: str) -> tuple[str, int]:
    """`HOST`, `HOST:PORT` or `[V6]:PORT` of --dns-server."""
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--dns-server {text!r} is not HOST or HOST:PORT")
    return host, int(port)


def _query(name: str, qtype: int) -> tuple[int, bytes]:
    ident = random.randrange(1 << 16)
    qname = b"".join(bytes([len(p)]) + p for p in name.encode("ascii").split(b".") if p)
    packet = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + qname + b"\0"
    return ident, packet + struct.pack(">HH", qtype, 1)


@dataclass(frozen=True, slots=True)
class Answer:
    found: bool  # the name has a record of the type asked
    problem: str = ""  # the lookup itself failed (no answer, server failure)


def lookup(name: str, qtype: int, server: tuple[str, int], timeout: float) -> Answer:
    """One DNS question over UDP: does `name` have a `qtype` record?"""
    ident, packet = _query(name, qtype)
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, server)
            while True:
                data, _ = sock.recvfrom(4096)
                if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == ident:
                    break
        except OSError as exc:
            return Answer(False, f"no answer from DNS server {server[0]}: {exc}")
    flags, _qd, answers = struct.unpack(">HHH", data[2:8])
    rcode = flags & 0xF
    if rcode == 3:  # NXDOMAIN
        return Answer(False)
    if rcode != 0:
        return Answer(False, f"DNS server failure (rcode {rcode})")
    return Answer(answers > 0 and _has_type(data, qtype))


def _skip_name(data: bytes, pos: int) -> int:
    while pos < len(data):
        n = data[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += n + 1
    raise ValueError("truncated name")


def _has_type(data: bytes, qtype: int) -> bool:
    try:
        pos = _skip_name(data, 12) + 4
        for _ in range(struct.unpack(">H", data[6:8])[0]):
            pos = _skip_name(data, pos)
            rtype, _cls, _ttl, length = struct.unpack(">HHIH", data[pos : pos + 10])
            if rtype == qtype:
                return True
            pos += 10 + length
    except (ValueError, struct.error):
        return False
    return False


class MailChecker:
    """Checks `mailto:` links (domains looked up once each, cached) and skips `tel:`."""

    def __init__(
        self, check_mail: bool, server: tuple[str, int] | None = None, timeout: float = 5.0
    ) -> None:
        self.check_mail = check_mail
        self.server = server or default_dns_server()
        self.timeout = timeout
        self._lock = threading.Lock()
        self._domains: dict[str, str | None] = {}  # domain -> problem (None: receives mail)

    def domain_problem(self, domain: str) -> str | None:
        with self._lock:
            if domain in self._domains:
                return self._domains[domain]
        problem = self._look_up(domain)
        with self._lock:
            self._domains[domain] = problem
        return problem

    def _look_up(self, domain: str) -> str | None:
        if domain.rstrip(".").lower().endswith(".invalid"):
            return f"{domain} is a reserved name (.invalid): it has no mail servers"
        name = domain.rstrip(".").encode("idna").decode("ascii")
        failures = []
        for qtype, what in ((_MX, "MX"), (_A, "A"), (_AAAA, "AAAA")):
            answer = lookup(name, qtype, self.server, self.timeout)
            if answer.found:
                return None
            if answer.problem:
                failures.append(f"{what}: {answer.problem}")
        if failures:
            return "; ".join(failures)
        return f"{domain} has no MX, A or AAAA record: no mail can be delivered"

    def check(self, href: str, sources: tuple[str, ...], via: tuple[str, ...] = ()) -> Result:
        scheme = href.split(":", 1)[0].lower()
        if scheme == "tel":
            return Result(
                url=href,
                outcome=R.SKIPPED,
                detail="tel: link (a phone number) not checked",
                sources=sources,
                via=via,
            )
        addresses = mail_addresses(href)
        if not addresses:
            return Result(
                url=href, outcome=R.SKIPPED, detail="mailto: without an address", sources=sources
            )
        for address in addresses:
            problem = address_problem(address)
            if problem:
                return Result(
                    url=href,
                    error=R.INVALID_URL,
                    detail=f"not an e-mail address: {problem}",
                    sources=sources,
                    via=via,
                )
        if not self.check_mail:
            return Result(
                url=href,
                outcome=R.SKIPPED,
                detail="address syntax ok; --check-mail looks up its domain",
                sources=sources,
                via=via,
            )
        for address in addresses:
            domain = address.rpartition("@")[2]
            if domain.startswith("["):
                continue
            problem = self.domain_problem(domain)
            if problem:
                return Result(url=href, error=R.DNS, detail=problem, sources=sources, via=via)
        return Result(
            url=href,
            ok=True,
            outcome=R.OK,
            detail="the domain receives mail (MX or A record)",
            sources=sources,
            via=via,
        )


def is_mail_or_phone(href: str) -> bool:
    return href[:7].lower() == "mailto:" or href[:4].lower() == "tel:"
