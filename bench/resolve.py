#!/usr/bin/env python3
"""Link resolution cost: microseconds per link through `urlsweep.links.resolve.resolve_url`,
this tree against a git revision's resolve.py, side by side in one process (alternating
rounds).

    .venv/bin/python bench/resolve.py                  # against main's resolve.py
    .venv/bin/python bench/resolve.py --ref 8948ba0 --n 50000 --rounds 7

Both resolvers share this tree's `url_key` (the normaliser and its cache), so the figures
differ by the joining alone. Two inputs (generated): a site's links as a crawl reads them
(relative, root-relative, absolute, `../`, fragments: a few hundred distinct links on pages
that repeat them; the key cache warm, as in a crawl), and as many distinct links (the cache
cleared before every round: each link normalised once).
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

Resolver = Callable[[str, str], object]


def links(n: int, distinct: bool) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        k = i if distinct else i % 300
        base = f"http://docs.example/s{k % 7}/p{k % 40}.html"
        forms = [
            f"p{k}.html",
            f"/s{k % 5}/p{k}.html#h{k % 9}",
            f"../s{k % 3}/p{k}.html",
            f"https://other{k % 4}.example/x/{k}",
            f"#h{k % 15}",
            f"sub/./img{k}.png",
        ]
        out.append((base, forms[i % len(forms)]))
    return out


def load_ref(ref: str) -> Resolver:
    src = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:src/urlsweep/links/resolve.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    mod = types.ModuleType("_ref_resolve")
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(src, f"{ref}:resolve.py", "exec"), mod.__dict__)
    return mod.resolve_url  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="main")
    ap.add_argument("--n", type=int, default=30000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from urlsweep.links.graph import keyed
    from urlsweep.links.resolve import resolve_url

    tools: dict[str, Resolver] = {"ref " + args.ref: load_ref(args.ref), "this tree": resolve_url}
    data = {"site": links(args.n, distinct=False), "distinct": links(args.n, distinct=True)}
    print(f"{args.n} links per input, {args.rounds} rounds; µs per link (best, median)")
    for label, pairs in data.items():
        times: dict[str, list[float]] = {name: [] for name in tools}
        for _ in range(args.rounds):
            for name, fn in tools.items():
                if label == "distinct":
                    keyed.cache_clear()
                else:
                    for base, href in pairs[:300]:
                        fn(base, href)  # warm, as a crawl's repeated navigation is
                t0 = time.perf_counter()
                for base, href in pairs:
                    fn(base, href)
                times[name].append((time.perf_counter() - t0) / len(pairs) * 1e6)
        ref = min(times["ref " + args.ref])
        row = ", ".join(
            f"{name} {min(ts):.2f} / {statistics.median(ts):.2f}" for name, ts in times.items()
        )
        print(f"{label:>8}: {row}  (this tree / ref, best: {min(times['this tree']) / ref:.2f}x)")


if __name__ == "__main__":
    main()
