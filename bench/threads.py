"""Where a default run's CPU goes, thread by thread, side by side with another checkout.

    .venv/bin/python bench/threads.py                         # 100,000 URLs, 3 reps
    .venv/bin/python bench/threads.py --ref ../other/src      # this tree vs another one

Each run is `urlsweep check urls.txt -f jsonl -o out.jsonl --no-progress` in a fresh
directory (so a new default store), every other setting the default. The threads of every
process of the run are read from /proc while it runs; a `sitecustomize` given to the runs
names each Python thread at the OS level (Python 3.11 does not), so the store's writer,
the dispatcher, the driver... each get their own line. With `--ref`, the two trees run
one after the other in every repetition, with the same interpreter and the same venv;
figures are medians with the spread (min-max), in µs of CPU per URL.

Every request goes to an nginx started here on 127.0.0.1 ... 127.0.0.50 (bench/run.py's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import REPO, Nginx, clean_env, log, pick_port, write_urls

_NAMING = """
import ctypes, threading
_libc = ctypes.CDLL(None)
_inner = threading.Thread._bootstrap_inner
def _named(self):
    try:
        _libc.prctl(15, self.name[:15].encode(), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass
    _inner(self)
threading.Thread._bootstrap_inner = _named
"""
_TICK = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    out = [root]
    try:
        for tid in os.listdir(f"/proc/{root}/task"):
            try:
                kids = Path(f"/proc/{root}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for kid in kids:
                out += _tree(int(kid))
    except OSError:
        pass
    return out


def one_run(src: Path, urls: Path, cwd: Path, naming: Path, limit: float) -> tuple[float, dict]:
    """(wall seconds, {(process, thread): CPU seconds}) of one default run from `src`."""
    cwd.mkdir(parents=True)
    env = clean_env({"PYTHONPATH": os.pathsep.join([str(src), str(naming)])})
    env = {k: v for k, v in env.items() if not k.startswith("URLSWEEP_")}
    python = str(REPO / ".venv" / "bin" / "python")
    cmd = [python, "-m", "urlsweep", "check", str(urls), "-f", "jsonl", "-o", "out.jsonl"]
    started = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, "--no-progress"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    last: dict[tuple[int, int], tuple[str, str, int]] = {}
    while proc.poll() is None:
        if time.monotonic() - started > limit:
            proc.kill()
            raise SystemExit(f"a run took over {limit:.0f} s")
        for pid in _tree(proc.pid):
            try:
                role = "main" if pid == proc.pid else "worker"  # forked or spawned
                for tid in os.listdir(f"/proc/{pid}/task"):
                    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                    name = stat[stat.index("(") + 1 : stat.rindex(")")]
                    fields = stat[stat.rindex(")") + 2 :].split()
                    last[(pid, int(tid))] = (role, name, int(fields[11]) + int(fields[12]))
            except (OSError, ValueError):
                continue
        time.sleep(0.05)
    wall = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"urlsweep exited with {proc.returncode}")
    cpu: dict[tuple[str, str], float] = defaultdict(float)
    for role, name, ticks in last.values():
        if name.startswith("Thread-"):  # unnamed: the worker's shipper, its control reader
            name = "(other)"
        cpu[(role, name)] += ticks / _TICK
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--urls", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ref", type=Path, help="another checkout's src/ to run side by side")
    args = ap.parse_args()
    trees = {"this": REPO / "src"}
    if args.ref is not None:
        trees["ref"] = args.ref.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="urlsweep-threads-"))
    naming = tmp / "naming"
    naming.mkdir()
    (naming / "sitecustomize.py").write_text(_NAMING)
    port = pick_port(18090)
    nginx = Nginx(tmp, port, 1)
    nginx.start()
    walls: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, dict[tuple[str, str], list[float]]] = defaultdict(lambda: defaultdict(list))
    try:
        urls = write_urls(tmp / "urls.txt", args.urls, port, "/ok")
        for rep in range(args.reps):
            for label, src in trees.items():
                wall, cpu = one_run(src, urls, tmp / f"{label}-{rep}", naming, 600)
                walls[label].append(wall)
                for key, seconds in cpu.items():
                    cpus[label][key].append(seconds)
                cpus[label][("all", "all")].append(sum(cpu.values()))
                log(f"{label} rep {rep + 1}: {wall:.2f} s wall, {sum(cpu.values()):.2f} s CPU")
    finally:
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def cell(values: list[float], scale: float) -> str:
        v = [x * scale for x in values]
        return f"{statistics.median(v):.1f} ({min(v):.1f}–{max(v):.1f})"

    per_url = 1e6 / args.urls
    labels = list(trees)
    print(
        f"{args.urls:,} loopback URLs, urlsweep defaults (new store each run), "
        f"{args.reps} reps; µs of CPU per URL, median (min–max)"
    )
    print("| thread | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))

    def order(key: tuple[str, str]) -> tuple[bool, float]:
        values = cpus[labels[0]].get(key) or [0.0]
        return key == ("all", "all"), -statistics.median(values)

    keys = sorted({k for label in labels for k in cpus[label]}, key=order)
    for key in keys:
        row = [cell(cpus[label].get(key) or [0.0], per_url) for label in labels]
        print(f"| {key[0]} {key[1]} | " + " | ".join(row) + " |")
    print("| wall, s | " + " | ".join(cell(walls[label], 1.0) for label in labels) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
