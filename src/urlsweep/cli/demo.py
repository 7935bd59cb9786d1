"""`urlsweep demo`: the classic threaded-status-checker exercise, run offline on loopback.

A tiny built-in server answers slowly on purpose, so checking its URLs one at a time and
then all at once shows what threads buy for I/O-bound work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rich.console import Console

from urlsweep.options import Options
from urlsweep.result import Result

MAX_LIFETIME = 120.0  # the server stops by itself even if nobody stops it


class _DemoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "urlsweep-demo"

    def _answer(self, send_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        status, headers = 200, {"Content-Type": "text/plain"}
        if path.startswith("/delay/"):
            try:
                time.sleep(min(float(path.removeprefix("/delay/")), 5.0))
            except ValueError:
                status = 400
        elif path.startswith("/status/"):
            try:
                status = int(path.removeprefix("/status/"))
            except ValueError:
                status = 400
        elif path == "/moved":
            status, headers["Location"] = 301, "/delay/0.5"
        elif path != "/":
            status = 404
        body = f"{status}\n".encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(True)

    def do_HEAD(self) -> None:
        self._answer(False)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _DemoServer(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: the concurrent run opens its connections all at
    # once, and a connection past the backlog has its SYN dropped and retried a second later.
    request_queue_size = 128


@contextmanager
def demo_server() -> Iterator[str]:
    """Serve on 127.0.0.1 at a free port; yields the base URL."""
    server = _DemoServer(("127.0.0.1", 0), _DemoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="urlsweep-demo-server", daemon=True)
    thread.start()
    timer = threading.Timer(MAX_LIFETIME, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()


def demo_urls(base: str) -> list[str]:
    return [
        f"{base}/delay/0.5",
        f"{base}/delay/1",
        f"{base}/delay/1.5",
        f"{base}/delay/2",
        f"{base}/status/404",
        f"{base}/moved",
        f"{base}/",
        "http://no-such-host.invalid/",
    ]


def timed_run(urls: list[str], workers: int) -> tuple[list[Result], float]:
    """Check `urls` and return the results in input order with the wall time."""
    from urlsweep.engine.pipeline import check

    order = {u: i for i, u in enumerate(urls)}
    started = time.perf_counter()
    # One local host: per-host politeness would hide what the threads buy.
    results = list(check(urls, workers=workers, max_per_host=workers, timeout=5.0))
    elapsed = time.perf_counter() - started
    results.sort(key=lambda r: order.get(r.url, len(order)))
    return results, elapsed


def run_demo(workers: int | None = None, console: Console | None = None) -> tuple[float, float]:
    """Run the comparison, print it, and return (sequential, concurrent) seconds."""
    from urlsweep.reports.text import results_table

    console = console or Console()
    with demo_server() as base:
        urls = demo_urls(base)
        n = workers or len(urls)
        Options(workers=n)  # validate before starting
        console.print(f"[bold]urlsweep demo[/]: {len(urls)} URLs on a local server at {base}\n")
        seq, seq_time = timed_run(urls, 1)
        console.print(results_table(seq, title="Sequential: 1 worker", strip_prefix=base))
        console.print(f"  total [bold]{seq_time:.2f} s[/]\n")
        par, par_time = timed_run(urls, n)
        console.print(results_table(par, title=f"Concurrent: {n} workers", strip_prefix=base))
        console.print(f"  total [bold]{par_time:.2f} s[/]\n")
    speedup = seq_time / par_time if par_time > 0 else float("inf")
    console.print(
        f"Concurrency made it [bold green]{speedup:.1f}x[/] faster: the checks spend their "
        "time waiting on the network, and a check that waits does not block the others."
    )
    return seq_time, par_time
