#!/usr/bin/env python3
"""Peak memory of a crawl over link-dense pages, before and after, side by side.

A loopback server (127.0.0.1 only) offers a start page linking to PAGES pages that each
stream `<a href>` lines for ever (bounded: at most 64 MiB or 60 s per response, whichever
comes first); urlsweep's body cap (8 MiB) cuts each. Their links are `--exclude`d, so no
request is made for them and the run measures what reading and keeping the links costs,
not checking them. Each urlsweep run is a child process; its peak RSS is the kernel's
(`ru_maxrss` from wait4).

    python bench/hostile_pages.py                       # this tree, 16 pages
    python bench/hostile_pages.py --before /tmp/old/src # and another tree's src, side by side
    python bench/hostile_pages.py --parse --before /tmp/old/src  # one page's parse alone

`--before SRC` runs that tree's package (PYTHONPATH=SRC) with the same Python, so the two
differ in urlsweep's code only. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIMIT_BYTES = 64 * 1024 * 1024
LIMIT_SECONDS = 60.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the body ends when the connection does
    pages = 16

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        if self.path == "/":
            body = "".join(f'<a href="/dense/{n}">{n}</a>\n' for n in range(self.pages))
            self.wfile.write(body.encode())
            return
        n = self.path.rsplit("/", 1)[-1]
        sent, i, t0 = 0, 0, time.monotonic()
        try:
            while sent < LIMIT_BYTES and time.monotonic() - t0 < LIMIT_SECONDS:
                chunk = "".join(f'<a href="/x/{n}/{j}">l</a>\n' for j in range(i, i + 2000))
                data = chunk.encode()
                self.wfile.write(data)
                sent += len(data)
                i += 2000
        except OSError:
            pass  # the reader had enough (its body cap)


def run(src: str | None, url: str, out: str, extra: list[str]) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URLSWEEP_")}
    if src is not None:
        env["PYTHONPATH"] = src
    argv = [sys.executable, "-m", "urlsweep", "crawl", url, "--no-store", "--no-config"]
    argv += ["--no-progress", "--depth", "1", "--exclude", "/x/", "-f", "jsonl", "-o", out]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        argv + extra, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - t0
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    with open(out, "rb") as f:
        records = sum(1 for _ in f)
    return {
        "code": os.waitstatus_to_exitcode(status),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "seconds": round(elapsed, 1),
        "records": records,
        "stderr_tail": err.strip().splitlines()[-1:] if err.strip() else [],
    }


PARSE = """
import resource, sys
from urlsweep.links.extract.html import parse_html
page = bytearray()
for i in range(400000):
    page += b'<a href="/a/%07d">l</a>\\n' % i
page = bytes(page[: 8 * 1024 * 1024])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cap = {cap}
links = parse_html(page) if cap is None else parse_html(page, max_links=cap)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(links.links), round(base / 1024), round(peak / 1024))
"""


def parse_only(src: str | None, cap: int | None) -> str:
    """One 8 MiB page of links parsed in a child: links kept, RSS before and peak (MB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("URLSWEEP_")}
    if src is not None:
        env["PYTHONPATH"] = src
    code = PARSE.format(cap=cap)
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    links, base, peak = p.stdout.split()
    return f"{links} links kept, RSS {base} MB before the parse, peak {peak} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=16)
    ap.add_argument("--before", metavar="SRC", help="another tree's src/ to run side by side")
    ap.add_argument("--parse", action="store_true", help="only parse one 8 MiB page of links")
    ap.add_argument("extra", nargs="*", help="more urlsweep crawl arguments (after --)")
    args = ap.parse_args()
    if args.parse:
        print("after, all links:  ", parse_only(None, None))
        print("after, cap 10000:  ", parse_only(None, 10000))
        if args.before:
            print("before, all links: ", parse_only(args.before, None))
        return
    Handler.pages = args.pages
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("after", None)] + ([("before", args.before)] if args.before else [])
        for name, src in runs:
            results[name] = run(src, url, os.path.join(tmp, f"{name}.jsonl"), args.extra)
            print(name, json.dumps(results[name]), flush=True)
    server.shutdown()
    if "before" in results:
        b, a = results["before"]["peak_rss_mb"], results["after"]["peak_rss_mb"]
        assert isinstance(a, int) and isinstance(b, int)
        print(f"peak RSS before/after: {b} MB / {a} MB = {b / a:.1f}x")


if __name__ == "__main__":
    main()
