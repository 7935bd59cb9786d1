"""What the store tests share: the loopback server's request log, the CLI, sample results."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.http import TestHTTPServer, reply

CMD = [sys.executable, "-m", "urlsweep"]


@contextmanager
def log_server() -> Iterator[TestHTTPServer]:
    """The shared loopback server, for a whole module; /flip answers as `flip` says."""
    with TestHTTPServer("127.0.0.1") as server:
        flip(server, 200)
        yield server


def flip(server: TestHTTPServer, status: int) -> None:
    server.route("/flip", lambda handler: reply(handler, status))


def paths(server: TestHTTPServer) -> Counter[str]:
    """How often each path (query included) was requested since the last clear()."""
    with server.lock:
        return Counter(r.path for r in server.requests)


def settle(server: TestHTTPServer, quiet: float = 0.3, limit: float = 10.0) -> None:
    """Wait until no request has arrived for `quiet` seconds: requests a killed client sent
    are still read from the socket backlog after it died."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline:
        with server.lock:
            n = len(server.requests)
        if n == seen:
            return
        seen = n
        time.sleep(quiet)


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("URLSWEEP_")}
    out.update(extra)
    return out


def cli(*args: str | Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    """Run a command in this process (fast; for the read-only report, history and runs)."""
    from click.testing import CliRunner

    from urlsweep.cli.main import main

    argv = [str(a) for a in args]
    result = CliRunner().invoke(main, argv, env=env_extra or None)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(argv, result.exit_code, result.stdout, result.stderr)


def urlsweep(
    *args: str | Path,
    cwd: Path | None = None,
    timeout: float = 60,
    env_extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env(**(env_extra or {})),
        stdin=subprocess.DEVNULL,
    )


XSS = (
    "http://x.invalid/\"><script>document.title='pwned'</script>"
    "<img src=x onerror=\"document.title='pwned'\">"
)
FORMULAS = ('=HYPERLINK("http://evil.invalid","x")', "+1+1", "-2+3", "@SUM(A1:A2)")


def sample_results() -> list[Any]:
    """Results of every kind, with hostile text where an input or a server can put text."""
    from urlsweep.result import Hop, Result

    def ok(url: str, ms: float, **kw: Any) -> Result:
        return Result(
            url=url,
            final_url=url,
            status=200,
            ok=True,
            outcome="ok",
            method="HEAD",
            elapsed_ms=ms,
            attempts=1,
            sources=("urls.txt:1",),
            **kw,
        )

    out = [ok(f"http://site.invalid/page/{i}", 5.0 * (i + 1) ** 2) for i in range(12)]
    out += [
        ok(
            "http://site.invalid/moved",
            80.0,
            redirects=(Hop("http://site.invalid/moved", 301), Hop("http://site.invalid/b", 302)),
        ),
        Result(
            url="http://site.invalid/status/404",
            final_url="http://site.invalid/status/404",
            status=404,
            outcome="broken",
            detail="HTTP 404 <b>not</b> | found",
            method="GET",
            elapsed_ms=12.0,
            sources=("urls.txt:2",),
        ),
        Result(
            url="http://site.invalid/slow",
            final_url="http://site.invalid/slow",
            error="timeout",
            outcome="broken",
            detail="timed out after 10 s",
            elapsed_ms=10000.0,
        ),
        Result(
            url="http://site.invalid/busy",
            final_url="http://site.invalid/busy",
            status=429,
            outcome="unverifiable",
            detail="HTTP 429",
            elapsed_ms=3.0,
        ),
        Result(
            url=XSS,
            final_url=XSS,
            error="dns",
            outcome="broken",
            detail="<script>alert('detail')</script>",
        ),
        Result(
            url="http://a.invalid/pipe|and`tick`",
            final_url="http://a.invalid/pipe",
            status=410,
            outcome="tolerated",
            detail="HTTP 410 (failing 1 run in a row)",
        ),
        Result(url="bad\x01line", error="invalid_url", outcome="broken", detail="control chars"),
    ]
    out += [Result(url=f, error="invalid_url", outcome="broken", detail=f) for f in FORMULAS]
    return out


def sample_store(path: Path) -> list[Any]:
    """Two runs over the same inputs; in the second, page/0 broke and /fixed was fixed.

    Returns the results of run 2 (the latest).
    """
    import dataclasses

    from urlsweep.result import Result
    from urlsweep.store.db import Store

    def fixed(ok: bool) -> Result:
        url = "http://site.invalid/fixed"
        return Result(
            url=url,
            final_url=url,
            status=200 if ok else 404,
            ok=ok,
            outcome="ok" if ok else "broken",
            detail="" if ok else "HTTP 404",
            method="GET",
            elapsed_ms=40.0,
        )

    base = sample_results()
    first = [*base, fixed(False)]
    second = [
        dataclasses.replace(r, status=503, ok=False, outcome="broken", detail="HTTP 503")
        if r.url.endswith("page/0")
        else r
        for r in base
    ] + [fixed(True)]
    with Store(path) as store:
        record_run(store, first, ("urls.txt",))
        record_run(store, second, ("urls.txt",))
    return second


def record_run(store: Any, results: list[Any], inputs: tuple[str, ...] = ("u",)) -> int:
    """Store `results` as one complete run over `inputs`; returns its id."""
    from urlsweep.options import Options
    from urlsweep.store.recorder import Recorder
    from urlsweep.summary import Summary

    run = store.begin_run(inputs, Options())
    rec = Recorder(store, run)
    summary = Summary()
    for r in results:
        summary.add(r)
        rec.write(r)
    rec.close(summary, complete=True)
    return int(run.id)
