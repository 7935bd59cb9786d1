"""The path a person takes: a listing on a terminal, with the live progress bar.

    .venv/bin/python bench/terminal.py                 # 20,000 URLs, 3 runs each
    URLSWEEP_REF=/path/to/other/urlsweep .venv/bin/python bench/terminal.py

Each run is `urlsweep check urls.txt` with the default settings (store on, in a fresh
directory, progress bar and listing on the terminal) inside a detached tmux session of
100x30, the screen a person sees; the reference is the same command with `-o out.txt`
(a file: the path the other benchmarks take). With URLSWEEP_REF, that urlsweep runs the
terminal case too, alternating with this tree's. Every request goes to a local nginx on
127.0.0.1-50 (bench/run.py's). Prints a Markdown table: median (min-max) of wall seconds.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import REPO, Nginx, clean_env, log, pick_port, write_urls

URLSWEEP = str(REPO / ".venv" / "bin" / "urlsweep")


def in_tmux(cwd: Path, argv: list[str], limit: float = 300) -> float:
    """Wall seconds of `argv` run in a fresh tmux session (its own server socket)."""
    sock = str(cwd / "tmux.sock")
    done = cwd / "done"
    cmd = f"cd {shlex.quote(str(cwd))} && {shlex.join(argv)}; touch done"
    env = clean_env()
    env = {k: v for k, v in env.items() if not k.startswith("URLSWEEP_")}
    start = time.monotonic()
    subprocess.run(
        ["tmux", "-S", sock, "new-session", "-d", "-x", "100", "-y", "30", cmd],
        check=True,
        env=env,
    )
    try:
        while not done.exists():
            if time.monotonic() - start > limit:
                raise SystemExit(f"no end within {limit} s: {argv}")
            time.sleep(0.02)
        return time.monotonic() - start
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], check=False, capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--urls", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which("tmux"):
        raise SystemExit("bench/terminal.py needs tmux (apt install tmux)")
    ref = os.environ.get("URLSWEEP_REF")
    tmp = Path(tempfile.mkdtemp(prefix="urlsweep-term."))
    port = pick_port(18099)
    nginx = Nginx(tmp, port, workers=1)
    nginx.start()
    cases: dict[str, list[float]] = {"terminal": [], "file (-o out.txt)": []}
    if ref:
        cases["terminal, URLSWEEP_REF"] = []
    try:
        urls = write_urls(tmp / "urls.txt", args.urls, port, "/ok")
        for rep in range(args.runs):
            for case, name in enumerate(cases):
                d = tmp / f"{rep}-{case}"
                d.mkdir()
                tool = ref if name.endswith("REF") and ref else URLSWEEP
                extra = ["-o", "out.txt"] if name.startswith("file") else []
                log(f"{name}, run {rep + 1}")
                cases[name].append(in_tmux(d, [tool, "check", str(urls), *extra]))
    finally:
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"| {args.urls:,} URLs, `urlsweep check urls.txt` in tmux 100x30 | median s | min-max |")
    print("|---|---:|---|")
    for name, times in cases.items():
        print(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f}-{max(times):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
