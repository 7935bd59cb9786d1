#!/usr/bin/env python3
"""URL normalisation cost: microseconds per URL through `urlsweep.urls.normalise`, this tree
against a git revision's urls.py, side by side in one process (alternating rounds).

    .venv/bin/python bench/urls.py                 # against main's urls.py
    .venv/bin/python bench/urls.py --ref 6063e5b --n 50000 --rounds 7

Three inputs (generated): plain canonical URLs (most URL lists and crawled links), URLs with
an upper-case host, default port, dot segments, spaces and non-ASCII (the general path), and
a site's links as a crawl sees them (a few hundred pages, repeated).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def inputs(n: int) -> dict[str, list[str]]:
    return {
        "plain": [f"https://docs{i % 50}.example.com/guide/p{i}.html?q={i}" for i in range(n)],
        "messy": [
            f"HTTP://Docs{i % 50}.Example.COM:80/a/../guide/p {i}.html?é={i}#s{i % 9}"
            for i in range(n)
        ],
        "idna": [f"https://bücher{i % 50}.example/straße/{i}" for i in range(n)],
    }


def load_ref(ref: str) -> Callable[[str], str]:
    src = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:src/urlsweep/urls.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    mod = types.ModuleType("_ref_urls")
    exec(compile(src, f"{ref}:urls.py", "exec"), mod.__dict__)
    return mod.normalise  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="main")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from urlsweep.urls import normalise

    tools = {"ref " + args.ref: load_ref(args.ref), "this tree": normalise}
    data = inputs(args.n)
    print(f"{args.n} URLs per input, {args.rounds} rounds; µs per URL (best, median)")
    for label, urls in data.items():
        times: dict[str, list[float]] = {name: [] for name in tools}
        for _ in range(args.rounds):
            for name, fn in tools.items():
                t0 = time.perf_counter()
                for u in urls:
                    fn(u)
                times[name].append((time.perf_counter() - t0) / len(urls) * 1e6)
        ref = min(times["ref " + args.ref])
        row = ", ".join(
            f"{name} {min(ts):.2f} / {statistics.median(ts):.2f}" for name, ts in times.items()
        )
        print(f"{label:>6}: {row}  (this tree / ref, best: {min(times['this tree']) / ref:.2f}x)")


if __name__ == "__main__":
    main()
