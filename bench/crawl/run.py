#!/usr/bin/env python3
"""Crawl benchmark: a documentation site served from loopback, crawled by `urlsweep crawl`
and by LinkChecker side by side (runs alternate), timed, with each tool's peak memory.

    python3 bench/crawl/run.py                     # 530 generated pages, 3 runs each, medians
    python3 bench/crawl/run.py --site DIR          # a real site (a directory with index.html)
    python3 bench/crawl/run.py --sizes 500,2000,5000 --tools urlsweep --runs 1
    URLSWEEP=/path/to/other/urlsweep python3 bench/crawl/run.py --tools urlsweep

Both tools skip other hosts: LinkChecker by its default (no --check-extern), urlsweep by
one --exclude of every URL off the start host; otherwise urlsweep runs with its defaults
and LinkChecker at its best settings: 32 threads and its rate cap lifted (a config file
with maxrequestspersecond = 1000000, and the server sends the `LinkChecker` header that
LinkChecker requires before it goes above 10 requests per second to a host).

Serves with nginx when installed (bench/run.sh installs it), else Python's threaded
http.server. Every request goes to 127.0.0.1 / 127.0.0.2; everything stops at exit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORDS = ["install", "configure", "request", "response", "server", "client", "option", "value", "thread", "queue", "page", "link", "crawl", "anchor", "section", "guide", "reference", "timeout", "retry", "header", "status", "redirect", "cache", "index"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def generate(root: Path, other: Path, pages: int, port: int, seed: int = 42) -> dict[str, int]:
    """A docs site: sections of pages with navigation, cross links, assets, anchors,
    a few external links (to 127.0.0.2) and a few broken links."""
    rng = random.Random(seed)
    sections = max(1, pages // 25)
    names = [f"/s{i % sections}/p{i}.html" for i in range(pages)]
    names[0] = "/index.html"
    (root / "static").mkdir(parents=True, exist_ok=True)
    (root / "static" / "style.css").write_text("body{font:14px sans-serif}\n")
    (root / "static" / "app.js").write_text("console.log('docs');\n")
    (root / "static" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    other.mkdir(parents=True, exist_ok=True)
    for i in range(20):
        (other / f"ext{i}.html").write_text(f"<p>external {i}</p>\n")
    broken = 0
    nav = "".join(f'<li><a href="{names[k]}">Section {k}</a></li>' for k in range(min(sections, 12)))
    for i, name in enumerate(names):
        links = [rng.choice(names) for _ in range(15)]
        body = []
        for j, href in enumerate(links):
            words = " ".join(rng.choice(WORDS) for _ in range(60))
            body.append(f'<h2 id="h{j}">{rng.choice(WORDS).title()}</h2><p>{words} '
                        f'<a href="{href}#h{rng.randrange(15)}">see also</a></p>')
        ext = rng.randrange(20)
        body.append(f'<p><a href="http://127.0.0.2:{port}/ext{ext}.html">external</a></p>')
        if i % 20 == 7:
            body.append(f'<p><a href="/gone/p{i}.html">old page</a></p>')
            broken += 1
        html = (
            "<!doctype html><html><head><meta charset=utf-8>"
            f"<title>Page {i}</title><link rel=stylesheet href=/static/style.css>"
            "<script src=/static/app.js></script></head><body>"
            f'<img src="/static/logo.png" alt=logo><nav><ul>{nav}</ul></nav>'
            f"<main>{''.join(body)}</main></body></html>\n"
        )
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html)
    return {"pages": pages, "broken": broken}


def serve(root: Path, other: Path, port: int, tmp: Path, lc_header: bool = True) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    for d in (tmp, root, other):
        os.chmod(d, 0o755)
    if nginx:
        conf = tmp / "nginx.conf"
        header = "add_header LinkChecker urlsweep-bench always;" if lc_header else ""
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(
            f"""{user}
daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off; keepalive_requests 100000;
  types {{ text/html html; text/css css; application/javascript js; image/png png;
            image/svg+xml svg; font/woff2 woff2; application/json json; }}
  default_type application/octet-stream;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; root {root}; index index.html;
             {header} }}
  server {{ listen 127.0.0.2:{port}; root {other}; }}
}}
"""
        )
        proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
        server = "nginx"
    else:
        code = (
            "import functools,http.server,sys,threading\n"
            "def run(host,d):\n"
            " h=functools.partial(http.server.SimpleHTTPRequestHandler,directory=d)\n"
            " http.server.ThreadingHTTPServer((host,int(sys.argv[1])),h).serve_forever()\n"
            "threading.Thread(target=run,args=('127.0.0.2',sys.argv[3]),daemon=True).start()\n"
            "run('127.0.0.1',sys.argv[2])\n"
        )
        proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(root), str(other)],
                                stderr=subprocess.DEVNULL)
        server = "python http.server"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    print(f"[crawl-bench] serving with {server} on 127.0.0.1:{port}", file=sys.stderr)
    return proc


def timed(cmd: list[str], out: Path, timeout: float, cwd: Path | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one run, via /usr/bin/time."""
    stats = out.with_suffix(".time")
    full = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), *cmd]
    started = time.monotonic()
    with open(out, "wb") as f:
        p = subprocess.run(full, stdout=f, stderr=subprocess.DEVNULL, timeout=timeout, cwd=cwd)
    wall = time.monotonic() - started
    try:
        rss_kb = int(stats.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        rss_kb = 0
    return wall, rss_kb // 1024, p.returncode


LINKCHECKER_RC = """[checking]
threads=32
maxrequestspersecond=1000000
[output]
status=0
"""


def count(name: str, text: str) -> tuple[int, int]:
    """(records, broken) in a tool's output."""
    if name.startswith("urlsweep"):
        recs = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        return len(recs), sum(1 for r in recs if r["outcome"] == "broken")
    rows = [ln for ln in text.splitlines() if ln and not ln.startswith("#")][1:]
    return len(rows), sum(1 for ln in rows if ";False;" in ln or ln.endswith(";False"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="530", help="generated site sizes in pages (default 530)")
    ap.add_argument("--site", help="serve this directory instead (a real site; start at /)")
    ap.add_argument("--tools", default="urlsweep,linkchecker")
    ap.add_argument("--runs", type=int, default=3, help="runs of each tool (median reported)")
    ap.add_argument("--timeout", type=float, default=900, help="per run, seconds")
    ap.add_argument("--lc-capped", action="store_true",
                    help="no LinkChecker header: its per-host cap (0.1-0.6 s apart) stays")
    args = ap.parse_args()
    urlsweep = os.environ.get("URLSWEEP") or str(REPO / ".venv" / "bin" / "urlsweep")
    linkchecker = os.environ.get("LINKCHECKER") or str(REPO / "bench" / ".venv" / "bin" / "linkchecker")
    tools = args.tools.split(",")
    rows = []
    with tempfile.TemporaryDirectory(prefix="urlsweep-crawl-bench-") as t:
        tmp = Path(t)
        os.chmod(tmp, 0o755)  # LinkChecker run as root drops to nobody
        rc = tmp / "linkcheckerrc"
        rc.write_text(LINKCHECKER_RC)
        os.chmod(rc, 0o644)
        sizes = [0] if args.site else [int(x) for x in args.sizes.split(",")]
        for size in sizes:
            port = free_port()
            if args.site:
                site, other = Path(args.site).resolve(), tmp / "other"
                other.mkdir(exist_ok=True)
                info = {"pages": sum(1 for _ in site.rglob("*.html")), "broken": -1}
            else:
                site, other = tmp / f"site{size}", tmp / f"other{size}"
                info = generate(site, other, size, port)
            server = serve(site, other, port, tmp, lc_header=not args.lc_capped)
            try:
                start = f"http://127.0.0.1:{port}/" + ("" if args.site else "index.html")
                off_host = f"^(?!http://127\\.0\\.0\\.1:{port}/)"
                cmds = {}
                if "urlsweep" in tools and os.access(urlsweep, os.X_OK):
                    cmds["urlsweep"] = [urlsweep, "crawl", start, "--exclude", off_host,
                                        "--no-progress", "-f", "jsonl"]
                if "linkchecker" in tools and os.access(linkchecker, os.X_OK):
                    cmds["linkchecker"] = [linkchecker, "-f", str(rc), "--no-status",
                                           "-o", "csv", start]
                runs: dict[str, list[tuple[float, int, int, int]]] = {n: [] for n in cmds}
                for i in range(args.runs):  # alternating, so a busy machine hurts both
                    for name, cmd in cmds.items():
                        work = tmp / f"{name}-{size}-{i}"
                        work.mkdir()
                        os.chmod(work, 0o777)
                        out = work / "out.txt"
                        wall, rss, code = timed(cmd, out, args.timeout, cwd=work)
                        records, broken = count(name, out.read_text(errors="replace"))
                        runs[name].append((wall, rss, records, broken))
                        print(json.dumps({"tool": name, "pages": info["pages"], "run": i,
                                          "seconds": round(wall, 2), "peak_rss_mib": rss,
                                          "exit": code, "records": records, "broken": broken}),
                              file=sys.stderr)
                for name, results in runs.items():
                    walls = sorted(r[0] for r in results)
                    rsss = sorted(r[1] for r in results)
                    rows.append({"tool": name, "pages": info["pages"],
                                 "seconds": walls[len(walls) // 2], "all": walls,
                                 "peak_rss_mib": rsss[len(rsss) // 2],
                                 "records": results[-1][2], "broken": results[-1][3],
                                 "planted": info["broken"]})
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=10)
    print(f"| tool | pages | median s (of {args.runs}) | runs s | median peak RSS MiB | records | broken found / planted |")
    print("|---|---:|---:|---|---:|---:|---|")
    for r in rows:
        runs_s = " ".join(f"{w:.2f}" for w in r["all"])
        planted = "?" if r["planted"] < 0 else r["planted"]
        print(f"| {r['tool']} | {r['pages']} | {r['seconds']:.2f} | {runs_s} | {r['peak_rss_mib']} | "
              f"{r['records']} | {r['broken']} / {planted} |")
    by = {r["tool"]: r for r in rows}
    if "urlsweep" in by and "linkchecker" in by:
        u, lc = by["urlsweep"], by["linkchecker"]
        print(f"\nurlsweep {lc['seconds'] / u['seconds']:.1f}x faster, "
              f"{u['peak_rss_mib'] / max(1, lc['peak_rss_mib']):.2f} of LinkChecker's memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
