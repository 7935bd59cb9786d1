#!/usr/bin/env python3
"""Extraction speed: MB of HTML per second through `parse_html`, this tree against a git
revision, side by side in one process (alternating rounds, so a busy machine hurts both).

    .venv/bin/python bench/extract.py                  # against main's extractor
    .venv/bin/python bench/extract.py --ref main --pages 200 --rounds 7

The corpus is generated (seed 42): documentation pages with a head of <meta>/<link>/<script>,
navigation, paragraphs with links, images with srcset, a <style> block, a few style
attributes, forms and an <object>. The reference's html.py is loaded from `git show` and uses
this tree's `model.py` (its `Link` takes the same positional fields).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = "install configure request response server client option value thread queue page".split()


def page(rng: random.Random, i: int) -> bytes:
    nav = "".join(f'<li><a href="/s{k}/index.html">Section {k}</a></li>' for k in range(40))
    body = []
    for j in range(30):
        words = " ".join(rng.choice(WORDS) for _ in range(50))
        body.append(
            f'<h2 id="h{j}">Part {j}</h2><p>{words} <a href="/s{rng.randrange(20)}/p'
            f'{rng.randrange(500)}.html#h{rng.randrange(30)}">see</a> and '
            f'<a href="https://ext{rng.randrange(9)}.invalid/x?q={j}" rel="nofollow">ext</a></p>'
        )
        if j % 6 == 0:
            body.append(
                f'<img src="/img/{j}.png" srcset="/img/{j}.png 1x, /img/{j}@2x.png 2x" alt="">'
                f'<div style="background: url(/img/bg{j}.png) no-repeat">note</div>'
            )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Page {i}</title>"
        '<meta property="og:image" content="/img/og.png">'
        '<link rel="stylesheet" href="/static/style.css"><link rel="icon" href="/favicon.ico">'
        '<script src="/static/app.js"></script>'
        "<style>body{font:14px sans-serif} .hero{background:url('/img/hero.jpg')}</style>"
        f"</head><body><nav><ul>{nav}</ul></nav><main>{''.join(body)}"
        '<form action="/search"><input name=q><button formaction="/search2">go</button></form>'
        '<object data="/media/movie.swf"></object>'
        "</main></body></html>"
    ).encode()


def load_ref(ref: str) -> Callable[[bytes], object]:
    src = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:src/urlsweep/links/extract/html.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    mod = types.ModuleType("_ref_html")
    exec(compile(src, f"{ref}:html.py", "exec"), mod.__dict__)
    return mod.parse_html  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="main")
    ap.add_argument("--pages", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from urlsweep.links.extract.html import parse_html

    rng = random.Random(42)
    corpus = [page(rng, i) for i in range(args.pages)]
    mb = sum(map(len, corpus)) / 1e6
    tools = {"ref " + args.ref: load_ref(args.ref), "this tree": parse_html}
    times: dict[str, list[float]] = {name: [] for name in tools}
    counts = {name: sum(len(fn(p).links) for p in corpus[:5]) for name, fn in tools.items()}  # type: ignore[attr-defined]
    for _ in range(args.rounds):
        for name, fn in tools.items():
            t0 = time.perf_counter()
            for p in corpus:
                fn(p)
            times[name].append(time.perf_counter() - t0)
    print(f"corpus: {args.pages} pages, {mb:.2f} MB; {args.rounds} rounds (best, median)")
    best = min(times["ref " + args.ref])
    base = statistics.median(times["ref " + args.ref])
    for name, ts in times.items():
        low, med = min(ts), statistics.median(ts)
        print(
            f"{name:>14}: best {mb / low:6.2f} MB/s ({best / low:.2f}x ref), "
            f"median {mb / med:6.2f} MB/s ({base / med:.2f}x ref); "
            f"links on 5 pages: {counts[name]}"
        )


if __name__ == "__main__":
    main()
