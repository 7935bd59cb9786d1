"""The floor under urlsweep's per-URL cost: the least a Python program can do per URL with
pycurl's multi interface, side by side with curl's own `--parallel` loop and urlsweep's
default run, on the same loopback URLs.

    .venv/bin/python bench/floor.py                 # 20,000 URLs, concurrency 64, 3 reps

The floor loop sends a HEAD per URL on kept-alive connections and counts the 200s: no
record, no output, no store, one process. Whatever urlsweep spends above it per URL is the
engine's own Python (checks, scheduling, records, processes, output, store), which is what
stands between it and curl's throughput (issue 13's goal). Starts its own nginx
(bench/run.py's) on 127.0.0.1-50; nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BENCH, REPO, Nginx, log, measure, pick_port, write_urls

URLSWEEP = os.environ.get("URLSWEEP") or str(REPO / ".venv" / "bin" / "urlsweep")

_FLOOR = r"""
import sys, pycurl
urls = open(sys.argv[1]).read().split()
conc = int(sys.argv[2])
m = pycurl.CurlMulti()
m.setopt(pycurl.M_MAXCONNECTS, conc)
free = []
for _ in range(conc):
    c = pycurl.Curl()
    c.setopt(pycurl.NOBODY, 1)
    c.setopt(pycurl.TIMEOUT, 10)
    c.setopt(pycurl.WRITEFUNCTION, len)
    free.append(c)
todo = iter(urls)
active = ok = 0
def fill():
    global active
    while free:
        url = next(todo, None)
        if url is None:
            return
        c = free.pop()
        c.setopt(pycurl.URL, url)
        m.add_handle(c)
        active += 1
fill()
while active:
    while m.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
        pass
    while True:
        queued, good, bad = m.info_read()
        for c in good:
            ok += c.getinfo(pycurl.RESPONSE_CODE) == 200
        for c in [*good, *(b[0] for b in bad)]:
            m.remove_handle(c)
            free.append(c)
            active -= 1
        if not queued:
            break
    fill()
    if active:
        m.select(0.1)
print(ok)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--urls", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="urlsweep-floor-"))
    port = pick_port(18080)
    nginx = Nginx(tmp, port, 1)
    nginx.start()
    try:
        urls = write_urls(tmp / "urls.txt", args.urls, port, "/ok")
        python = str(REPO / ".venv" / "bin" / "python")
        curl_sh = str(BENCH / "peers" / "curl_parallel.sh")
        tools = {
            "floor (pycurl multi loop)": [python, "-c", _FLOOR, str(urls), str(args.concurrency)],
            f"curl --parallel-max {args.concurrency}": [
                "bash",
                curl_sh,
                str(urls),
                str(args.concurrency),
                "10",
            ],
            "urlsweep defaults": [
                *(URLSWEEP, "check", str(urls), "-f", "jsonl", "-o", "out.jsonl", "--no-progress")
            ],
        }
        got: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
        for rep in range(args.reps):
            for index, (name, cmd) in enumerate(tools.items()):
                cwd = tmp / f"run{rep}-{index}"
                cwd.mkdir()
                m = measure(
                    cmd,
                    stdout_path=cwd / "stdout.txt",
                    stderr_path=cwd / "stderr.txt",
                    watch=cwd / "stdout.txt",
                    time_limit=600,
                )
                if m.returncode not in (0, 1) or m.timed_out:
                    err = (cwd / "stderr.txt").read_text()[-300:]
                    raise SystemExit(f"{name} failed ({m.returncode}): {err}")
                stdout = (cwd / "stdout.txt").read_text()
                wall, cpu = m.wall_s, m.cpu_s
                if name.startswith("floor") and int(stdout.strip() or 0) != args.urls:
                    raise SystemExit(f"the floor loop got {stdout.strip()} of {args.urls} answers")
                got[name].append((wall, cpu))
                log(f"{name}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    finally:
        nginx.stop()
    print(
        f"{args.urls:,} loopback URLs, concurrency {args.concurrency} (urlsweep: its defaults),"
        f" median of {args.reps} (min-max); CPU is the tool's, nginx's not counted"
    )
    for name, runs in got.items():
        walls = [w for w, _ in runs]
        cpu = statistics.median(c for _, c in runs) / args.urls * 1e6
        print(
            f"  {name}: {statistics.median(walls):.2f} s ({min(walls):.2f}-{max(walls):.2f}),"
            f" {cpu:.0f} µs of CPU per URL"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
