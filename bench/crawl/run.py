#!/usr/bin/env python3
"""Crawl benchmark: a generated documentation site served from loopback, crawled by
`urlsweep crawl` and by LinkChecker, timed, with each tool's peak memory.

    python3 bench/crawl/run.py                    # 500 pages; urlsweep also at 2000 for memory
    python3 bench/crawl/run.py --sizes 500 --tools urlsweep

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


def serve(root: Path, other: Path, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    for d in (tmp, root, other):
        os.chmod(d, 0o755)
    if nginx:
        conf = tmp / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(
            f"""{user}
daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off; keepalive_requests 100000;
  types {{ text/html html; text/css css; application/javascript js; image/png png; }}
  default_type application/octet-stream;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; root {root}; index index.html; }}
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


def timed(cmd: list[str], out: Path, timeout: float) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one run, via /usr/bin/time."""
    stats = out.with_suffix(".time")
    full = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), *cmd]
    started = time.monotonic()
    with open(out, "wb") as f:
        p = subprocess.run(full, stdout=f, stderr=subprocess.DEVNULL, timeout=timeout)
    wall = time.monotonic() - started
    try:
        rss_kb = int(stats.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        rss_kb = 0
    return wall, rss_kb // 1024, p.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="500,2000", help="site sizes in pages (default 500,2000)")
    ap.add_argument("--tools", default="urlsweep,linkchecker")
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=600, help="per run, seconds")
    args = ap.parse_args()
    urlsweep = os.environ.get("URLSWEEP") or str(REPO / ".venv" / "bin" / "urlsweep")
    linkchecker = os.environ.get("LINKCHECKER") or str(REPO / "bench" / ".venv" / "bin" / "linkchecker")
    tools = args.tools.split(",")
    rows = []
    with tempfile.TemporaryDirectory(prefix="urlsweep-crawl-bench-") as t:
        tmp = Path(t)
        for size in (int(s) for s in args.sizes.split(",")):
            port = free_port()
            site, other = tmp / f"site{size}", tmp / f"other{size}"
            info = generate(site, other, size, port)
            server = serve(site, other, port, tmp)
            try:
                start = f"http://127.0.0.1:{port}/index.html"
                runs = []
                if "urlsweep" in tools and os.access(urlsweep, os.X_OK):
                    runs.append(("urlsweep", [urlsweep, "crawl", start, "--workers", str(args.workers),
                                              "--no-progress", "-f", "jsonl"]))
                if "linkchecker" in tools and os.access(linkchecker, os.X_OK) and size <= 500:
                    runs.append(("linkchecker", [linkchecker, "--no-status", "--check-extern",
                                                 "-t", str(args.workers), "-o", "csv", start]))
                for name, cmd in runs:
                    out = tmp / f"{name}-{size}.out"
                    wall, rss, code = timed(cmd, out, args.timeout)
                    text = out.read_text(errors="replace")
                    if name == "urlsweep":
                        recs = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
                        found = sum(1 for r in recs if r["outcome"] == "broken")
                        checked = len(recs)
                    else:
                        lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
                        found = sum(1 for ln in lines[1:] if ";False;" in ln or ";False" in ln[-8:])
                        checked = max(0, len(lines) - 1)
                    rows.append({"tool": name, "pages": size, "seconds": round(wall, 2),
                                 "peak_rss_mib": rss, "exit": code, "records": checked,
                                 "broken_found": found, "broken_planted": info["broken"]})
                    print(json.dumps(rows[-1]), file=sys.stderr)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=10)
    print("| tool | pages | seconds | peak RSS MiB | records | broken found / planted |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['tool']} | {r['pages']} | {r['seconds']} | {r['peak_rss_mib']} | "
              f"{r['records']} | {r['broken_found']} / {r['broken_planted']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
