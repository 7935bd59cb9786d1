"""What the results store costs, in the DEFAULT configuration, side by side in one run.

    .venv/bin/python bench/store.py                    # 20,000 URLs, 100 earlier runs, 3 reps
    .venv/bin/python bench/store.py --million          # and 1,000,000 URLs, once each

Every urlsweep run is `urlsweep check urls.txt -f jsonl -o out.jsonl --no-progress` in a
fresh working directory with no config file: the store is the default one
(`.urlsweep/results.db` there), workers and per-host limits are the defaults. The reference
adds `--no-store` and nothing else. Figures are the median of the repetitions, with the
spread (min-max) beside it; ratios pair runs made one after the other.

Every request goes to an nginx started here on 127.0.0.1 ... 127.0.0.50 (bench/run.py's).
Writes bench/out/store.json and bench/STORE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # noqa: E402
    BENCH,
    OUT,
    REPO,
    Measurement,
    Nginx,
    _proc_tree,
    clean_env,
    log,
    measure,
    pick_port,
    write_urls,
)

URLSWEEP = os.environ.get("URLSWEEP") or str(REPO / ".venv" / "bin" / "urlsweep")
STORE_MD = BENCH / "STORE.md"


def command(urls: Path, *extra: str) -> list[str]:
    return [URLSWEEP, "check", str(urls), "-f", "jsonl", "-o", "out.jsonl", "--no-progress", *extra]


def run_in(cwd: Path, urls: Path, *extra: str, limit: float = 600) -> Measurement:
    cwd.mkdir(parents=True, exist_ok=True)
    env = clean_env()
    env = {k: v for k, v in env.items() if not k.startswith("URLSWEEP_")}
    m = measure(
        command(urls, *extra),
        stdout_path=cwd / "stdout.txt",
        stderr_path=cwd / "stderr.txt",
        watch=cwd / "out.jsonl",
        time_limit=limit,
        env=env,
    )
    if m.returncode != 0 or m.timed_out:
        raise SystemExit(f"run failed ({m.returncode}): {(cwd / 'stderr.txt').read_text()[-500:]}")
    return m


def _pss(pid: int) -> int:
    """Proportional set size in bytes: shared pages (the interpreter, libcurl) counted once
    over the processes that share them, which summed RSS counts in every one."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def run_pss(cwd: Path, urls: Path, *extra: str, limit: float = 900) -> dict[str, float]:
    """One run with its peak summed PSS over every process of it (polled every 0.2 s)."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in clean_env().items() if not k.startswith("URLSWEEP_")}
    with open(cwd / "stdout.txt", "wb") as out, open(cwd / "stderr.txt", "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command(urls, *extra), stdout=out, stderr=err, env=env, cwd=cwd)
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > limit:
                proc.kill()
            peak = max(peak, sum(_pss(p) for p in _proc_tree(proc.pid)))
            time.sleep(0.2)
        wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {(cwd / 'stderr.txt').read_text()[-500:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_pss": peak}


def store_bytes(cwd: Path) -> int:
    """The store's size once its write-ahead log is folded in (what it keeps)."""
    db = cwd / ".urlsweep" / "results.db"
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    total = db.stat().st_size
    wal = Path(f"{db}-wal")
    return total + (wal.stat().st_size if wal.exists() else 0)


def spread(values: list[float], digits: int = 2) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls", type=int, default=20_000)
    ap.add_argument("--history-runs", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--million", action="store_true", help="also 1,000,000 URLs, once each")
    ap.add_argument("--peers", action="store_true", help="also curl parity and latency-bound")
    ap.add_argument("--only-peers", action="store_true", help="only curl and latency-bound")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="urlsweep-store-bench-"))
    port = pick_port(18080)
    nginx = Nginx(tmp, port, 1)
    nginx.start()
    load_start = os.getloadavg()[0]
    out: dict[str, object] = {
        "urls": args.urls,
        "reps": args.reps,
        "command": command(Path("urls.txt")),
        "args": sys.argv[1:],
    }
    try:
        urls = write_urls(tmp / "urls.txt", args.urls, port, "/ok")
        run_in(tmp / "warm", urls, "--no-store")  # page cache, nginx, Python bytecode
        if args.peers or args.only_peers:
            peers(tmp, urls, port, args.reps, out)
        if args.only_peers:
            return finish(out)

        # 1. default (fresh store) vs --no-store
        log("default vs --no-store")
        default, nostore, cpu = [], [], []
        for rep in range(args.reps):
            pair = [("n", ("--no-store",)), ("d", ())]
            if rep % 2:  # alternate which goes first
                pair.reverse()
            got = {k: run_in(tmp / f"{k}{rep}", urls, *extra) for k, extra in pair}
            nostore.append(got["n"].wall_s)
            default.append(got["d"].wall_s)
            cpu.append(got["d"].cpu_s / got["n"].cpu_s)
        ratios = [d / n for d, n in zip(default, nostore, strict=True)]
        out["default_s"], out["nostore_s"], out["default_vs_nostore"] = default, nostore, ratios
        out["default_vs_nostore_cpu"] = cpu

        # 2. bytes per unchanged URL per run, in one store
        log("bytes per unchanged URL")
        grow = tmp / "grow"
        run_in(grow, urls)
        sizes = [store_bytes(grow)]
        for _ in range(args.reps):
            run_in(grow, urls)
            sizes.append(store_bytes(grow))
        per_url = [(b - a) / args.urls for a, b in zip(sizes, sizes[1:], strict=False)]
        out["store_sizes"], out["bytes_per_unchanged_url"] = sizes, per_url

        # 3. a store holding N earlier runs of the same URLs vs a fresh store
        log(f"filling a store with {args.history_runs} runs")
        t0 = time.perf_counter()
        for _ in range(args.history_runs - len(sizes)):
            run_in(grow, urls)
        out["fill_s"] = time.perf_counter() - t0
        before = store_bytes(grow)
        grown, fresh, gcpu, steady_cpu, steady_wall = [], [], [], [], []
        for rep in range(args.reps):
            if rep % 2:
                g = run_in(grow, urls)
                f = run_in(tmp / f"fresh{rep}", urls)
                n = run_in(tmp / f"sn{rep}", urls, "--no-store")
            else:
                n = run_in(tmp / f"sn{rep}", urls, "--no-store")
                f = run_in(tmp / f"fresh{rep}", urls)
                g = run_in(grow, urls)
            fresh.append(f.wall_s)
            grown.append(g.wall_s)
            gcpu.append(g.cpu_s / f.cpu_s)
            # the daily case: the same URLs again, most of them unchanged, vs no store
            steady_cpu.append(g.cpu_s / n.cpu_s)
            steady_wall.append(g.wall_s / n.wall_s)
        out["grown_vs_fresh_cpu"] = gcpu
        out["steady_vs_nostore_cpu"], out["steady_vs_nostore"] = steady_cpu, steady_wall
        after = store_bytes(grow)
        con = sqlite3.connect(grow / ".urlsweep" / "results.db")
        runs_held = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        con.close()
        out["grown_s"], out["fresh_s"] = grown, fresh
        out["grown_vs_fresh"] = [g / f for g, f in zip(grown, fresh, strict=True)]
        out["grown_store_bytes"] = [before, after]
        out["grown_runs"] = runs_held

        # 4. a million URLs, once each
        if args.million:
            log("1,000,000 URLs")
            big = write_urls(tmp / "million.txt", 1_000_000, port, "/ok")
            a = run_pss(tmp / "m-nostore", big, "--no-store")
            b = run_pss(tmp / "m-default", big)
            out["million"] = {
                "nostore_cpu_s": a["cpu_s"],
                "default_cpu_s": b["cpu_s"],
                "nostore_s": a["wall_s"],
                "nostore_peak_pss": a["peak_pss"],
                "default_s": b["wall_s"],
                "default_peak_pss": b["peak_pss"],
                "store_bytes": store_bytes(tmp / "m-default"),
            }
    finally:
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out["load"] = [load_start, os.getloadavg()[0]]
    return finish(out)


def peers(tmp: Path, urls: Path, port: int, reps: int, out: dict[str, object]) -> None:
    """curl's --parallel loop at concurrency 64 vs urlsweep's defaults (store on), and the
    latency-bound case: 10,000 URLs x 200 ms, --workers 500 --max-per-host 25, store on."""
    log("curl parity")
    curl_sh = BENCH / "peers" / "curl_parallel.sh"
    curl, ours, ours64 = [], [], []
    for rep in range(reps):
        d = tmp / f"curl{rep}"
        d.mkdir()
        m = measure(
            ["bash", str(curl_sh), str(urls), "64", "10"],
            stdout_path=d / "stdout.txt",
            stderr_path=d / "stderr.txt",
            watch=d / "stdout.txt",
            time_limit=600,
        )
        curl.append(m.wall_s)
        ours.append(run_in(tmp / f"ud{rep}", urls).wall_s)
        ours64.append(run_in(tmp / f"u64{rep}", urls, "--workers", "64").wall_s)
    out["curl64_s"], out["default_again_s"], out["workers64_s"] = curl, ours, ours64
    out["curl_vs_default"] = [c / u for c, u in zip(curl, ours, strict=True)]
    out["curl_vs_workers64"] = [c / u for c, u in zip(curl, ours64, strict=True)]
    log("latency-bound")
    slow = write_urls(tmp / "slow.txt", 10_000, port, "/delay/200")
    lat = []
    for rep in range(reps):
        flags = ("--workers", "500", "--max-per-host", "25")
        lat.append(run_in(tmp / f"lat{rep}", slow, *flags).wall_s / 4.0)
    out["latency_vs_ideal"] = lat


def finish(out: dict[str, object]) -> int:
    OUT.mkdir(exist_ok=True)
    (OUT / "store.json").write_text(json.dumps(out, indent=1))
    STORE_MD.write_text(report(out))
    print(report(out))
    return 0


def report(o: dict[str, object]) -> str:
    def f(key: str) -> list[float]:
        value = o[key]
        assert isinstance(value, list)
        return [float(v) for v in value]

    n = o["urls"]
    given = o.get("args")
    args = [str(a) for a in given] if isinstance(given, list) else []
    loads = o.get("load")
    load = "/".join(f"{x:.1f}" for x in loads) if isinstance(loads, list) else str(loads)
    lines = [
        "# The results store in the default configuration",
        "",
        f"Measured by `.venv/bin/python {' '.join(['bench/store.py', *args])}` on"
        f" {time.strftime('%Y-%m-%d')}, 2 cores,"
        " a machine shared with other work (so every figure is an upper bound). Each urlsweep"
        f" run: `urlsweep check urls.txt -f jsonl -o out.jsonl --no-progress` over {n:,}"
        " loopback URLs (nginx, 50 hosts), in a fresh directory with no config file, so the"
        " store is the default `.urlsweep/results.db` and every other setting is the default;"
        " the reference adds `--no-store`. Median of"
        f" {o['reps']} (min–max). Load average at the start and the end of the benchmark:"
        f" {load}. The first row's default runs each start with a new store, so every URL"
        " is new to it: the store's costliest case (a result row, a current row and a seen"
        " row per URL); the bytes row is the steady state, runs of unchanged URLs.",
        "",
    ]
    if "default_vs_nostore" in o:
        sizes = f("grown_store_bytes")
        lines += [
            "| figure | goal | measured |",
            "|---|---|---|",
            f"| default run vs `--no-store` (time ratio) | ≤ 1.10× | {spread(f('default_vs_nostore'))}× "
            f"({spread(f('default_s'))} s vs {spread(f('nostore_s'))} s) |",
            f"| the same, CPU time (user + system) | — | {spread(f('default_vs_nostore_cpu'))}× |",
            f"| store bytes per unchanged URL per run | ≤ 64 | {spread(f('bytes_per_unchanged_url'), 1)} |",
            f"| run against a store of {o['grown_runs']} runs of the same URLs vs a fresh store | ≤ 1.05× "
            f"| {spread(f('grown_vs_fresh'))}× ({spread(f('grown_s'))} s vs {spread(f('fresh_s'))} s) |",
            f"| the same, CPU time | — | {spread(f('grown_vs_fresh_cpu'))}× |",
            "| that run (the daily case: the same URLs again, unchanged) vs `--no-store`, CPU"
            f" time | ≤ 1.10× | {spread(f('steady_vs_nostore_cpu'))}× (wall"
            f" {spread(f('steady_vs_nostore'))}×) |",
            f"| that store's size before / after the {o['reps']} measured runs | — | "
            f"{sizes[0] / 1e6:.1f} MB / {sizes[1] / 1e6:.1f} MB |",
        ]
    if "curl64_s" in o:
        lines += [
            "",
            f"Peers ({n:,} instant URLs; curl: `bench/peers/curl_parallel.sh urls.txt 64 10`,"
            " i.e. `curl --parallel --parallel-max 64 -I`):",
            "",
            "| figure | goal | measured |",
            "|---|---|---|",
            f"| urlsweep defaults (store on) throughput / curl's at 64 | ≥ 1.00× | "
            f"{spread(f('curl_vs_default'))}× ({spread(f('default_again_s'))} s vs"
            f" {spread(f('curl64_s'))} s) |",
            f"| tuned: urlsweep `--workers 64` (store on) / curl's at 64 | — | "
            f"{spread(f('curl_vs_workers64'))}× ({spread(f('workers64_s'))} s) |",
            "| 10,000 URLs × 200 ms, `--workers 500 --max-per-host 25` (store on), vs ideal 4.0 s"
            f" | ≤ 1.08× | {spread(f('latency_vs_ideal'))}× |",
        ]
    m = o.get("million")
    if isinstance(m, dict):
        lines += [
            "",
            "1,000,000 URLs, once each (same command):",
            "",
            "| | goal | default (store on) | `--no-store` |",
            "|---|---|---|---|",
            f"| wall time | ≤ 60 s | {m['default_s']:.1f} s | {m['nostore_s']:.1f} s |",
            f"| CPU time | — | {m['default_cpu_s']:.1f} s | {m['nostore_cpu_s']:.1f} s |",
            "| peak memory, summed PSS of every process | < 100 MB |"
            f" {m['default_peak_pss'] / 2**20:.0f} MB | {m['nostore_peak_pss'] / 2**20:.0f} MB |",
            f"| store size after the run | — | {m['store_bytes'] / 1e6:.1f} MB | — |",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
