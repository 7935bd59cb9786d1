"""urlsweep on Dask: 1 vs 2 worker processes of a LocalCluster on this machine.

    .venv/bin/python bench/dask_scaling.py [--urls 20000] [--route /ok] [--workers 64]

Run it with the repository's venv (`make test` builds it; it has the `dask` extra). The
target is the nginx of `bench/run.py` (run `bench/run.sh --serve 1` once to install it),
answering on 127.0.0.1 ... 127.0.0.50: every request stays on loopback. Each row is one run
over the same URL list: the threaded engine without Dask for reference, then a LocalCluster
with 1 and 2 worker processes (cluster start-up is timed apart from the check). Every run is
bounded in time. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # bench/run.py: the nginx target and the URL lists

import urlsweep
from urlsweep.scale import dask as udask

LIMIT_S = 300.0  # a run that takes longer is stopped (and its row says so)


def urls_of(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield line.strip()


def timed(results: Iterator[urlsweep.Result]) -> tuple[int, int, float, bool]:
    """(records, ok, seconds, finished) for one run, stopped at LIMIT_S."""
    start = time.perf_counter()
    total = ok = 0
    for r in results:
        total += 1
        ok += r.ok
        if time.perf_counter() - start > LIMIT_S:
            return total, ok, time.perf_counter() - start, False
    return total, ok, time.perf_counter() - start, True


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--urls", type=int, default=20_000, help="URLs in the list (default 20000)")
    ap.add_argument("--route", default="/ok", help="/ok (fast) or /delay/50, /delay/200")
    ap.add_argument("--workers", type=int, default=64, help="threads per engine (default 64)")
    ap.add_argument("--partition-size", type=int, default=500)
    ap.add_argument("--port", type=int, default=18090)
    args = ap.parse_args(argv)
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        print("needs nginx with the echo module: run bench/run.sh --serve 1 once", file=sys.stderr)
        return 2
    options = {"workers": args.workers, "max_per_host": args.workers, "timeout": 10}
    rows: list[tuple[str, str, int, int, float, bool]] = []
    with tempfile.TemporaryDirectory(prefix="urlsweep-dask-bench-") as tmp:
        port = bench.pick_port(args.port)
        nginx = bench.Nginx(Path(tmp), port, workers=1)
        nginx.start()
        try:
            url_file = bench.write_urls(Path(tmp) / "urls.txt", args.urls, port, args.route)
            print(f"{args.urls} URLs {args.route} on 50 loopback hosts, port {port}", flush=True)
            rows.append(
                (
                    "threaded engine, no Dask",
                    "-",
                    *timed(urlsweep.check(urls_of(url_file), **options)),
                )
            )
            for n in (1, 2):
                started = time.perf_counter()
                with udask.connect(f"local:{n}") as client:
                    startup = f"{time.perf_counter() - started:.1f} s"
                    results = udask.check(
                        urls_of(url_file),
                        client=client,
                        partition_size=args.partition_size,
                        **options,
                    )
                    rows.append((f"Dask LocalCluster, {n} process(es)", startup, *timed(results)))
                print(f"done: {rows[-1][0]}", flush=True)
        finally:
            nginx.stop()
    print()
    print("| run | cluster start | records | ok | check time | URLs/s |")
    print("|---|---|---|---|---|---|")
    for name, startup, total, ok, secs, finished in rows:
        note = "" if finished else f" (stopped at {LIMIT_S:.0f} s)"
        print(f"| {name} | {startup} | {total} | {ok} | {secs:.2f} s{note} | {total / secs:,.0f} |")
    return 0


if __name__ == "__main__":  # the guard matters: Dask's worker processes import this file
    sys.exit(main(sys.argv[1:]))
