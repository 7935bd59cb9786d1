"""The progress bar on a terminal: it counts checks as they finish, also in a crawl, whose
results are held until the end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from support import sites
from support.http import reply

CMD = [sys.executable, "-m", "urlsweep"]
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """A pseudo-terminal whose output is read (and kept) by a thread, so the CLI never blocks."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.data = bytearray()
        self.lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the last writer has gone
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def counts(self) -> list[int]:
        """Every `done/?` counter the bar has shown so far."""
        with self.lock:
            text = ANSI.sub(b"", bytes(self.data))
        return [int(n) for n in re.findall(rb"(\d+)/\?", text)]

    def close(self) -> None:
        self._reader.join(10)
        os.close(self.master)


def test_progress_advances_while_a_crawl_is_still_running(tmp_path: Path) -> None:
    site = sites.Site()
    release = threading.Event()
    children = [f"/p{i}.html" for i in range(20)]
    site.routes["/"] = sites.html(sites.page(*children, "/held.html"))
    for c in children:
        site.routes[c] = sites.html(sites.page())

    def held(h: BaseHTTPRequestHandler) -> None:
        release.wait(30)
        reply(h, 200, sites.page(), content_type="text/html")

    site.server.route("/held.html", held)
    term = Terminal()
    out = tmp_path / "out.jsonl"
    args = ["crawl", site.base + "/", "--no-sitemap", "--ignore-robots", "-t", "60"]
    try:
        proc = subprocess.Popen(
            [*CMD, *args, "-f", "jsonl", "-o", str(out), "--no-store"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=term.slave,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
        )
        os.close(term.slave)
        try:
            # The start page and its 20 children are done; /held.html keeps the crawl going.
            end = time.monotonic() + 30
            while max(term.counts(), default=0) < 21:
                assert proc.poll() is None, "the crawl ended while /held.html was held"
                assert time.monotonic() < end, f"the bar showed only {term.counts()[-5:]}"
                time.sleep(0.05)
            assert proc.poll() is None
            # No result out yet (the file is not even opened): the bar counted the checks.
            assert not out.exists() or out.read_text() == ""
            assert site.gets("/held.html") == 1
        finally:
            release.set()
        assert proc.wait(30) == 0
    finally:
        term.close()
        site.close()
    assert len(out.read_text().splitlines()) == 22
    counts = term.counts()
    assert counts == sorted(counts)  # it only counts up
