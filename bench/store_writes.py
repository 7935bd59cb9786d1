"""The store's writer alone: `write_batch` on N results new to a store, CPU and wall per URL.

    .venv/bin/python bench/store_writes.py --urls 1000000
    .venv/bin/python bench/store_writes.py --urls 200000 --ref /path/to/other/checkout/src

The results are made here (what a loopback run of `bench/store.py` records: HEAD 200, one
source line each), so no server and no network is involved. Each measurement is a fresh
process writing into a new store in a temporary folder, in batches of the recorder's size
(`recorder.BATCH_ROWS`), with the writer thread's pragmas. With `--ref`, the same is run
with another checkout's `src/` on the path, alternating, and the ratio printed: how a
change to the store's format or its SQL shows up, side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

# Runs in the child, with the src folder to measure first on sys.path.
_CHILD = r"""
import json, os, sys, tempfile, time
from pathlib import Path
from urlsweep.result import Result
from urlsweep.store import schema, writes
from urlsweep.store import recorder
BATCH_ROWS = recorder.BATCH_ROWS
COMMIT_ROWS = getattr(recorder, "COMMIT_ROWS", BATCH_ROWS)  # a tree from before 2026-12-04
n = int(sys.argv[1])
results = [
    Result(url=f"http://127.0.0.{i % 50 + 1}:8080/ok?i={i}",
           final_url=f"http://127.0.0.{i % 50 + 1}:8080/ok?i={i}", status=200, ok=True,
           outcome="ok", method="HEAD", elapsed_ms=1.3, attempts=1,
           ip=f"127.0.0.{i % 50 + 1}", sources=(f"urls.txt:{i + 1}",), attempt_ms=(1.3,))
    for i in range(n)
]
with tempfile.TemporaryDirectory() as tmp:
    db = schema.connect(Path(tmp) / "s.db", create=True)
    db.execute("PRAGMA cache_size=-8000")
    db.execute("PRAGMA wal_autocheckpoint=10000")
    profile = writes.profile_id(db, "p")
    items = [writes.Item(r, 1.7e9 + i, None, i) for i, r in enumerate(results)]
    def written():  # bytes this process wrote (the WAL and the checkpoints into the file)
        return int(Path("/proc/self/io").read_text().split("wchar: ")[1].split()[0])
    w0 = written()
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, n, BATCH_ROWS):
        if i % COMMIT_ROWS == 0:
            db.execute("BEGIN IMMEDIATE")
        writes.write_batch(db, 1, profile, items[i : i + BATCH_ROWS], begin=False)
        if (i + BATCH_ROWS) % COMMIT_ROWS == 0 or i + BATCH_ROWS >= n:
            db.execute("COMMIT")
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    wrote = written() - w0
    db.close()
    size = sum(p.stat().st_size for p in Path(tmp).iterdir())
print(json.dumps({"cpu_us": cpu / n * 1e6, "wall_us": wall / n * 1e6, "bytes": size,
                  "written": wrote / n}))
"""


def measure(src: Path, urls: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(urls)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--urls", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ref", type=Path, help="another checkout's src/ to compare with")
    args = ap.parse_args()
    trees = [("this tree", SRC)] + ([("ref", args.ref)] if args.ref else [])
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    for _ in range(args.reps):
        for name, src in trees:
            runs[name].append(measure(src, args.urls))
    print(f"write_batch, {args.urls:,} results new to the store, median of {args.reps} (min-max)")
    for name, got in runs.items():
        cpu = [r["cpu_us"] for r in got]
        wall = [r["wall_us"] for r in got]
        print(
            f"  {name}: CPU {statistics.median(cpu):.1f} ({min(cpu):.1f}-{max(cpu):.1f}) µs/URL,"
            f" wall {statistics.median(wall):.1f} ({min(wall):.1f}-{max(wall):.1f}) µs/URL,"
            f" store {statistics.median(r['bytes'] for r in got) / 1e6:.0f} MB,"
            f" written {statistics.median(r['written'] for r in got) / 1e3:.1f} KB/URL"
        )
    if args.ref:
        pairs = zip(runs["this tree"], runs["ref"], strict=True)
        ratio = [a["cpu_us"] / b["cpu_us"] for a, b in pairs]
        print(
            f"  CPU ratio this tree / ref: {statistics.median(ratio):.2f}"
            f" ({min(ratio):.2f}-{max(ratio):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
