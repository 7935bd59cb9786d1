"""A tiny DNS server on loopback UDP for tests: answers MX/A/AAAA from a table, NXDOMAIN for
names it does not know. Tests of `--check-mail` point urlsweep at it: no real DNS is asked."""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

_TYPES = {"MX": 15, "A": 1, "AAAA": 28}


class DNSServer:
    def __init__(self, records: dict[str, set[str]]) -> None:
        """`records`: name -> record types it has ({"MX"}, {"A"}, ...)."""
        self.records = {k.lower().rstrip("."): {_TYPES[t] for t in v} for k, v in records.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.asked: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> DNSServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                continue
            self.sock.sendto(self._answer(data), peer)

    def _answer(self, data: bytes) -> bytes:
        ident = data[:2]
        pos, labels = 12, []
        while data[pos]:
            n = data[pos]
            labels.append(data[pos + 1 : pos + 1 + n].decode())
            pos += n + 1
        question = data[12 : pos + 5]
        qtype = struct.unpack(">H", data[pos + 1 : pos + 3])[0]
        name = ".".join(labels).lower()
        self.asked.append((name, qtype))
        known = self.records.get(name)
        if known is None:
            return ident + struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + question
        if qtype not in known:
            return ident + struct.pack(">HHHHH", 0x8180, 1, 0, 0, 0) + question
        rdata = b"\x00\x0a\x04mail\xc0\x0c" if qtype == 15 else bytes(4 if qtype == 1 else 16)
        answer = b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 60, len(rdata)) + rdata
        return ident + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + question + answer
