"""urlsweep on Dask against the default local run, side by side, with a time breakdown.

    .venv/bin/python bench/dask_scaling.py [--urls 100000] [--repeats 3] [--before DIR]

Run it with the repository's venv (`make test` builds it; it has the `dask` extra). The
target is the nginx of `bench/run.py` (run `bench/run.sh --serve 1` once to install it),
answering on 127.0.0.1 ... 127.0.0.50: every request stays on loopback.

1. The comparison: whole `urlsweep check` processes on the same URL list, the default local
   run (`--processes auto`: two processes on two cores) and `--dask local:2`, interleaved
   `--repeats` times; the median of each and their ratio. `--before DIR` adds the same two
   runs of another checkout's `src/` (e.g. a `git worktree` of main) for before/after.
2. The breakdown: one `--dask local:2`-like run through the library, timing the cluster
   start, the first record, the check and the shutdown, with the CPU seconds of the client,
   the worker processes and the rest (scheduler, nannies) over the check.

Every run is bounded in time (LIMIT_S). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # bench/run.py: the nginx target and the URL lists

LIMIT_S = 300.0  # a run that takes longer is stopped (and its row says so)
HERE = Path(__file__).resolve().parent
BASE = ["check", "--no-progress", "--no-store", "--no-config", "-f", "jsonl"]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli_run(src: Path, url_file: Path, out: Path, extra: list[str]) -> dict[str, Any]:
    """One whole `urlsweep check` process (and its children): wall, CPU, records, ok."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = str(src)
    env["URLSWEEP_STORE"] = ""
    cmd = [sys.executable, "-m", "urlsweep", *BASE, "-o", str(out), str(url_file), *extra]
    cpu0 = children_cpu()
    start = time.perf_counter()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=LIMIT_S)
        code, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        code, err = -1, "timed out"
    wall = time.perf_counter() - start
    lines = out.read_text().splitlines() if out.exists() else []
    ok = sum('"ok": true' in line or '"ok":true' in line for line in lines)
    return {
        "wall": wall,
        "cpu": children_cpu() - cpu0,
        "records": len(lines),
        "ok": ok,
        "code": code,
        "err": err.strip().splitlines()[-1:] if code not in (0,) else [],
    }


def breakdown(url_file: Path) -> dict[str, float]:
    """A `--dask local:2` run through the library, in pieces (seconds)."""
    import distributed

    from urlsweep.scale import dask as udask

    def cpu_now() -> float:
        t = os.times()
        return t.user + t.system

    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    with udask.connect("local:2") as client:
        marks["cluster start"] = time.perf_counter() - t0

        def usage() -> float:
            r = resource.getrusage(resource.RUSAGE_SELF)
            return r.ru_utime + r.ru_stime

        w0 = sum(client.run(usage).values())
        c0, m0 = cpu_now(), time.thread_time()
        t1 = time.perf_counter()
        first = None
        n = 0
        for _ in udask.check(urls_of(url_file), client=client):
            n += 1
            if first is None:
                first = time.perf_counter() - t1
        marks["check"] = time.perf_counter() - t1
        marks["first record"] = first or 0.0
        main_cpu = time.thread_time() - m0
        # A LocalCluster's scheduler and nannies run in this process, on Dask's threads.
        marks["CPU: client's main thread (records out, gathering)"] = main_cpu
        marks["CPU: rest of the client process (feeder, scheduler, comms)"] = (
            cpu_now() - c0 - main_cpu
        )
        marks["CPU: the 2 worker processes"] = sum(client.run(usage).values()) - w0
        marks["records"] = n
        t2 = time.perf_counter()
    marks["shutdown"] = time.perf_counter() - t2
    del distributed
    return marks


def urls_of(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield line.strip()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--urls", type=int, default=100_000, help="URLs in the list (default 100000)")
    ap.add_argument("--route", default="/ok", help="/ok (fast) or /delay/50, /delay/200")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each (default 3)")
    ap.add_argument("--before", type=Path, help="another checkout to compare (its src/ is used)")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the library run")
    ap.add_argument("--write", action="store_true", help="put the figures in RESULTS.md")
    ap.add_argument("--port", type=int, default=18090)
    args = ap.parse_args(argv)
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        print("needs nginx with the echo module: run bench/run.sh --serve 1 once", file=sys.stderr)
        return 2
    trees = [("", HERE.parent / "src")]
    if args.before is not None:
        trees.insert(0, ("before: ", args.before.resolve() / "src"))
    variants = [
        (f"{label}{name}", src, extra)
        for label, src in trees
        for name, extra in (("default local", []), ("--dask local:2", ["--dask", "local:2"]))
    ]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
    with tempfile.TemporaryDirectory(prefix="urlsweep-dask-bench-") as tmp:
        port = bench.pick_port(args.port)
        nginx = bench.Nginx(Path(tmp), port, workers=1)
        nginx.start()
        try:
            url_file = bench.write_urls(Path(tmp) / "urls.txt", args.urls, port, args.route)
            print(f"{args.urls} URLs {args.route} on 50 loopback hosts, port {port}", flush=True)
            start_load = os.getloadavg()
            print(f"load average at start: {start_load[0]:.2f}", flush=True)
            for rep in range(args.repeats):
                for name, src, extra in variants:
                    r = cli_run(src, url_file, Path(tmp) / "out.jsonl", extra)
                    runs[name].append(r)
                    print(
                        f"  run {rep + 1} {name}: {r['wall']:.2f} s, CPU {r['cpu']:.1f} s, "
                        f"{r['records']} records, {r['ok']} ok, exit {r['code']} {r['err']}",
                        flush=True,
                    )
            parts = None if args.no_breakdown else breakdown(url_file)
        finally:
            nginx.stop()
    end_load = os.getloadavg()
    md = [
        f"{args.urls:,} URLs `{args.route}` on 50 loopback hosts (nginx, 1 worker process), "
        f"{os.cpu_count()} CPUs; load average {start_load[0]:.2f} at the start, "
        f"{end_load[0]:.2f} at the end. HEAD {head()}.",
        "",
    ]
    if max(start_load[0], end_load[0]) > 1.0:
        md += [
            "**The machine was busy with other work**: single runs vary widely; read the "
            "medians, the CPU seconds and the ratio of runs made side by side.",
            "",
        ]
    md += [
        f"| run (median of {args.repeats}) | wall s | CPU s | records | ok | vs default local |",
        "|---|---|---|---|---|---|",
    ]
    for label, _ in trees:
        ref = statistics.median(r["wall"] for r in runs[f"{label}default local"])
        for name in (f"{label}default local", f"{label}--dask local:2"):
            rs = runs[name]
            wall = statistics.median(r["wall"] for r in rs)
            cpu = statistics.median(r["cpu"] for r in rs)
            recs = min(r["records"] for r in rs)
            ok = min(r["ok"] for r in rs)
            md.append(f"| {name} | {wall:.2f} | {cpu:.1f} | {recs} | {ok} | {wall / ref:.2f}x |")
    md += ["", "Every run (wall s, in the order run):", ""]
    md += [f"- {name}: " + ", ".join(f"{r['wall']:.2f}" for r in rs) for name, rs in runs.items()]
    if parts is not None:
        md += ["", "| one --dask local:2 run through the library | seconds |", "|---|---|"]
        for key, value in parts.items():
            shown = f"{value:.0f}" if key == "records" else f"{value:.2f}"
            md.append(f"| {key} | {shown} |")
    print()
    print("\n".join(md))
    if args.write:
        write_section(md)
    return 0


def head() -> str:
    p = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return p.stdout.strip() or "unknown"


def write_section(md: list[str]) -> None:
    """Put these figures into bench/RESULTS.md, in the section bench/run.py keeps."""
    section = "\n".join(
        [
            bench.DASK_BEGIN,
            "",
            "## Dask",
            "",
            "`.venv/bin/python bench/dask_scaling.py`"
            " (see [README.md](README.md#dask---dask-local2-against-the-default-local-run)): "
            "whole `urlsweep check` processes, side by side in one run.",
            "",
            *md,
            "",
            bench.DASK_END,
        ]
    )
    old = bench.RESULTS_MD.read_text() if bench.RESULTS_MD.exists() else ""
    if bench.DASK_BEGIN in old and bench.DASK_END in old:
        start = old.index(bench.DASK_BEGIN)
        end = old.index(bench.DASK_END) + len(bench.DASK_END)
        text = old[:start] + section + old[end:]
    else:
        text = old.rstrip() + "\n\n" + section + "\n"
    bench.RESULTS_MD.write_text(text)
    print(f"wrote the Dask section of {bench.RESULTS_MD}")


if __name__ == "__main__":  # the guard matters: Dask's worker processes import this file
    sys.exit(main(sys.argv[1:]))
