#!/usr/bin/env python3
"""Extraction speed: MB of HTML per second through `parse_html`, this tree against a git
revision, side by side in one process (alternating rounds, so a busy machine hurts both).

    .venv/bin/python bench/extract.py                  # against the pre-links-work extractor
    .venv/bin/python bench/extract.py --ref main --pages 200 --rounds 7

The corpus is generated (seed 42): documentation pages with a head of <meta>/<link>/<script>,
navigation, paragraphs with links, images with srcset, a <style> block, a few style
attributes, forms and an <object>. The reference is the whole package of a git revision
(`git archive` into a temporary directory), default 151d983, main before the links work of
issue 14; each round runs each tree's `parse_html` in a fresh process, one after the other.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
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


PRE_LINKS_WORK = "151d983"  # main before issue 14's links work (git log links/extract)


def checkout(ref: str, into: Path) -> Path:
    """The package of `ref`, whole (its own model.py, css.py...), unpacked into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def worker(src: str, pages: int, repeat: int) -> None:
    """Run in a child process: time `parse_html` of the package under `src` on the corpus."""
    sys.path.insert(0, src)
    from urlsweep.links.extract.html import parse_html

    rng = random.Random(42)
    corpus = [page(rng, i) for i in range(pages)]
    links = sum(len(parse_html(p).links) for p in corpus[:5])
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for p in corpus:
            parse_html(p)
        best = min(best, time.perf_counter() - t0)
    print(f"{best} {sum(map(len, corpus))} {links}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default=PRE_LINKS_WORK, help="the extractor to compare with")
    ap.add_argument("--pages", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.pages, 2)
        return
    with tempfile.TemporaryDirectory(prefix="urlsweep-extract-ref-") as tmp:
        trees = {"ref " + args.ref: checkout(args.ref, Path(tmp)), "this tree": REPO / "src"}
        times: dict[str, list[float]] = {name: [] for name in trees}
        counts: dict[str, int] = {}
        size = 0
        for _ in range(args.rounds):  # alternating: a busy machine hurts both alike
            for name, src in trees.items():
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", str(src), "--pages", str(args.pages)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()
                times[name].append(float(out[0]))
                size, counts[name] = int(out[1]), int(out[2])
    mb = size / 1e6
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
