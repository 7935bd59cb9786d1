"""urlsweep benchmark harness: urlsweep side by side with its peers, on loopback only.

Run it through `bench/run.sh`, which installs what this needs (nginx + echo module,
curl, wrk, the bench venv, linkinator) and then calls this file with the bench venv's
Python. See bench/README.md for what the scenarios mean and how to read the tables.

Every request goes to an nginx this script starts on 127.0.0.1 ... 127.0.0.50 and
stops at exit. Every tool run is bounded in time and killed (its own process group
only) when it overruns.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEERS = BENCH / "peers"
OUT = BENCH / "out"
RESULTS_MD = BENCH / "RESULTS.md"
N_HOSTS = 50
REQUEST_TIMEOUT_S = 10
DELAY_S = 0.2
ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")
STATUS_CODES = [200, 201, 202, 203, 204, 205, 206, 301, 302, 303, 307, 308]
STATUS_CODES += [400, 401, 402, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414]
STATUS_CODES += [415, 416, 418, 422, 425, 426, 429, 451, 500, 501, 502, 503, 504, 505]
DELAYS_MS = [50, 200, 1000, 5000]
MAX_REDIRECTS = 10
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "no_proxy")


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Sizes:
    """Scenario sizes; `--quick` uses roughly a tenth of the full run."""

    s1_urls: int
    s1_conc: int
    s2_urls: int
    s2_conc: int
    s3_urls: int
    s3_conc: int
    s3_window_s: float
    s4_repeats: int
    run_timeout_s: float
    # Slow peers run on a prefix of the list; their times are extrapolated.
    caps: dict[str, dict[int, int]]


FULL = Sizes(
    s1_urls=10_000,
    s1_conc=500,
    s2_urls=50_000,
    s2_conc=100,
    s3_urls=1_000_000,
    s3_conc=100,
    s3_window_s=60.0,
    s4_repeats=5,
    run_timeout_s=300.0,
    caps={
        "tutorial5": {1: 500, 2: 5_000},
        "tutorial": {2: 20_000},
        "linkchecker": {1: 2_000, 2: 5_000},
        "linkinator": {2: 10_000},
    },
)
QUICK = Sizes(
    s1_urls=1_000,
    s1_conc=100,
    s2_urls=5_000,
    s2_conc=50,
    s3_urls=100_000,
    s3_conc=50,
    s3_window_s=10.0,
    s4_repeats=3,
    run_timeout_s=60.0,
    caps={
        "tutorial5": {1: 100, 2: 1_000},
        "linkchecker": {1: 500, 2: 1_000},
    },
)

SCENARIO_TITLES = {
    1: "Latency-bound",
    2: "Throughput-bound",
    3: "Scale",
    4: "Start-up",
}


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for tool runs: no proxy variables, so traffic stays on loopback."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.0/8,localhost"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env


def run_text(cmd: list[str], timeout: float = 30.0) -> str:
    """Run a short command; its stdout+stderr, or '' when it cannot run."""
    try:
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=clean_env(), check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (res.stdout + res.stderr).strip()


def first_line(text: str) -> str:
    return text.splitlines()[0].strip() if text.strip() else ""


def mb(n_bytes: float | None) -> str:
    return "—" if n_bytes is None else f"{n_bytes / 2**20:,.0f}"


def fmt_s(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def fmt_ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:,.2f}×" if x < 100 else f"{x:,.0f}×"


def cpu_busy(sample_s: float = 0.5) -> float:
    """Fraction of all CPUs busy (anyone's work) over a short sample of /proc/stat."""

    def read() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as fh:
            vals = [int(x) for x in fh.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
        return sum(vals[:8]), idle

    total0, idle0 = read()
    time.sleep(sample_s)
    total1, idle1 = read()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_idle(max_wait_s: float, threshold: float = 0.25) -> float:
    """Wait (at most max_wait_s) until the machine is mostly idle; the last busy fraction."""
    deadline = time.monotonic() + max_wait_s
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy(1.0)
    return busy


def port_free(port: int) -> bool:
    for host in (f"127.0.0.{i}" for i in range(1, N_HOSTS + 1)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def pick_port(preferred: int) -> int:
    candidates: list[int] = [preferred, *range(18081, 18200)]
    for port in candidates:
        if port_free(port):
            return port
    raise SystemExit("no free port for nginx on 127.0.0.1-50 between 18080 and 18199")


# --------------------------------------------------------------------------- nginx


def nginx_conf(tmp: Path, port: int, workers: int) -> str:
    listens = "\n".join(
        f"        listen 127.0.0.{i}:{port} backlog=4096;" for i in range(1, N_HOSTS + 1)
    )
    statuses = []
    for code in STATUS_CODES:
        if 300 <= code < 400:
            statuses.append(f"        location = /status/{code} {{ return {code} /ok; }}")
        elif code in (204, 205):
            statuses.append(f"        location = /status/{code} {{ return {code}; }}")
        else:
            statuses.append(f'        location = /status/{code} {{ return {code} "{code}\\n"; }}')
    delays = [
        f'        location = /delay/{ms} {{ echo_sleep {ms / 1000:g}; echo "ok"; }}'
        for ms in DELAYS_MS
    ]
    chain = ["        /redirect/1 /ok;"] + [
        f"        /redirect/{n} /redirect/{n - 1};" for n in range(2, MAX_REDIRECTS + 1)
    ]
    nl = "\n"
    return f"""# Generated by bench/run.py: benchmark target, loopback only.
load_module {ECHO_MODULE};
worker_processes {workers};
worker_rlimit_nofile 65536;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{
    worker_connections 16384;
    multi_accept on;
}}
http {{
    access_log off;
    default_type text/plain;
    server_tokens off;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/nginx-body;
    map $uri $redirect_next {{
        default /ok;
{nl.join(chain)}
    }}
    server {{
{listens}
        # LinkChecker lifts its per-host rate limit for hosts that send this header.
        add_header LinkChecker urlsweep-bench always;
        location = /robots.txt {{ return 200 "User-agent: *\\nDisallow:\\n"; }}
        location = /ok {{ return 200 "ok\\n"; }}
{nl.join(delays)}
{nl.join(statuses)}
        location ^~ /redirect/ {{ return 302 $redirect_next; }}
        location / {{ return 404 "not found\\n"; }}
    }}
}}
"""


class Nginx:
    """nginx as a non-daemon child; stopped by `stop()` (and by run.sh's trap)."""

    def __init__(self, tmp: Path, port: int, workers: int) -> None:
        self.tmp, self.port, self.workers = tmp, port, workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = self.tmp / "nginx.conf"
        conf.write_text(nginx_conf(self.tmp, self.port, self.workers))
        (self.tmp / "nginx-body").mkdir(exist_ok=True)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        check = subprocess.run(
            [nginx, "-t", "-q", "-c", str(conf), "-p", str(self.tmp)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise SystemExit(f"nginx config rejected:\n{check.stderr}")
        with open(self.tmp / "nginx-stdout.log", "wb") as out:
            self.proc = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(self.tmp), "-g", "daemon off;"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("nginx exited at start; see its log in the temp dir")
            try:
                self.get("127.0.0.50", "/ok")
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("nginx did not answer on 127.0.0.50 within 10 s")

    def get(self, host: str, path: str, method: str = "GET") -> tuple[int, dict[str, str]]:
        import http.client

        conn = http.client.HTTPConnection(host, self.port, timeout=5)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def self_check(self) -> None:
        """Every host answers /ok; the other routes behave as designed."""
        for i in range(1, N_HOSTS + 1):
            status, headers = self.get(f"127.0.0.{i}", "/ok")
            if status != 200 or "linkchecker" not in headers:
                raise SystemExit(f"nginx self-check: 127.0.0.{i}/ok gave {status} {headers}")
        t0 = time.perf_counter()
        status, _ = self.get("127.0.0.2", "/delay/200", "HEAD")
        took = time.perf_counter() - t0
        if status != 200 or not 0.18 < took < 1.0:
            raise SystemExit(f"nginx self-check: /delay/200 gave {status} in {took:.3f}s")
        for code in (404, 503, 301):
            status, _ = self.get("127.0.0.3", f"/status/{code}")
            if status != code:
                raise SystemExit(f"nginx self-check: /status/{code} gave {status}")
        status, headers = self.get("127.0.0.4", "/redirect/3")
        if status != 302 or headers.get("location", "").rstrip("/").split("/")[-1] != "2":
            raise SystemExit(f"nginx self-check: /redirect/3 gave {status} {headers}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def wrk_capacity(port: int) -> float | None:
    """Requests/s wrk gets from the target (/ok, keep-alive, 100 connections, 3 s)."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    text = run_text(
        ["timeout", "20", wrk, "-t2", "-c100", "-d3s", f"http://127.0.0.1:{port}/ok"], 30
    )
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    return float(m.group(1)) if m else None


# --------------------------------------------------------------------------- URL lists


def url_for(i: int, port: int, path: str) -> str:
    return f"http://127.0.0.{i % N_HOSTS + 1}:{port}{path}?i={i}"


def write_urls(path: Path, n: int, port: int, route: str) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        chunk: list[str] = []
        for i in range(n):
            chunk.append(url_for(i, port, route))
            if len(chunk) == 10_000:
                fh.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            fh.write("\n".join(chunk) + "\n")
    return path


def prefix_file(src: Path, n: int, dst: Path) -> Path:
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for i, line in enumerate(fin):
            if i >= n:
                break
            fout.write(line)
    return dst


def read_urls(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


# --------------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss: int | None
    ttfr_s: float | None
    returncode: int
    timed_out: bool


def _proc_tree(root: int) -> list[int]:
    """root and its descendants, from /proc/PID/task/TID/children (cheap to poll often)."""
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                    stack += [int(x) for x in fh.read().split()]
            except (OSError, ValueError):
                pass
    return pids


def _rss_hwm(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in bytes. VmHWM is the process's own peak RSS: unlike ru_maxrss it
    is not inflated by the harness's memory inherited at fork time."""
    rss = hwm = None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        return None
    return (rss, hwm) if rss is not None and hwm is not None else None


class TreeMemory:
    """Peak memory of a process tree: per-process VmHWM summed over every process seen,
    or the largest polled sum of current RSS if that is larger."""

    def __init__(self, pid: int) -> None:
        self.root = pid
        self.hwm: dict[int, int] = {}
        self.max_sum = 0

    def poll(self) -> None:
        total = 0
        for pid in _proc_tree(self.root):
            mem = _rss_hwm(pid)
            if mem is not None:
                total += mem[0]
                self.hwm[pid] = max(self.hwm.get(pid, 0), mem[1])
        self.max_sum = max(self.max_sum, total)

    @property
    def peak(self) -> int:
        return max(self.max_sum, sum(self.hwm.values()))


def measure(
    cmd: list[str],
    *,
    stdout_path: Path,
    stderr_path: Path,
    watch: Path,
    time_limit: float,
    stdin_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Run cmd in its own process group; wall, CPU (wait4 rusage), peak tree RSS, TTFR.

    Peak RSS: see TreeMemory (polled every 20-50 ms). CPU: user+system time of the
    tool and its waited-for children. Time to first result: when `watch` first has bytes.
    A run past `time_limit` gets SIGTERM, then SIGKILL 3 s later (its group only).
    """
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                cmd,
                stdin=stdin,
                stdout=out,
                stderr=err,
                env=env or clean_env(),
                start_new_session=True,
                cwd=stdout_path.parent,  # the run's own dir: no stray files in the repo
            )
    finally:
        if stdin_path and not isinstance(stdin, int):
            stdin.close()
    mem = TreeMemory(proc.pid)
    ttfr, timed_out, kill_at = None, False, math.inf
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        now = time.perf_counter() - t0
        if pid:
            break
        mem.poll()
        if ttfr is None:
            try:
                if watch.stat().st_size > 0:
                    ttfr = now
            except FileNotFoundError:
                pass
        if not timed_out and now > time_limit:
            timed_out, kill_at = True, now + 3
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        elif now > kill_at:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            kill_at = math.inf
        time.sleep(0.005 if now < 1 else 0.02 if now < 5 else 0.05)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    # leftovers of the tool's own process group, if any
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if ttfr is None and watch.exists() and watch.stat().st_size > 0:
        ttfr = wall
    return Measurement(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss=mem.peak or None,
        ttfr_s=ttfr,
        returncode=proc.returncode,
        timed_out=timed_out,
    )


# --------------------------------------------------------------------------- parsers

Parsed = dict[str, str]  # url -> what the tool reported; "200" is the only OK answer
OK = "200"


def parse_plain(path: Path) -> Parsed:
    """`STATUS URL` lines (the bench peers and curl's -w)."""
    res: Parsed = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.split(None, 1)
            if len(parts) == 2:
                res[parts[1].strip()] = parts[0]
    return res


def parse_jsonl(path: Path) -> Parsed:
    """urlsweep's JSONL records: url, status, ok, error."""
    res: Parsed = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            url, status = rec.get("url"), rec.get("status")
            if not isinstance(url, str):
                continue
            if status == 200 and rec.get("ok", True) is not False:
                res[url] = OK
            elif status:
                res[url] = f"{status}{'' if rec.get('ok', True) is not False else ' not-ok'}"
            else:
                res[url] = str(rec.get("error") or "error").split(":")[0][:40]
    return res


def parse_linkchecker_csv(path: Path) -> Parsed:
    """LinkChecker `-o csv --verbose`: `;`-separated, `#` comment lines."""
    res: Parsed = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        rows = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(rows, delimiter=";"):
            url = row.get("urlname")
            if not url:
                continue
            result = (row.get("result") or "").strip()
            if row.get("valid") == "True" and result.startswith("200"):
                res[url] = OK
            else:
                res[url] = (result.split(":")[0] or "invalid")[:40]
    return res


def parse_linkinator_csv(path: Path) -> Parsed:
    """linkinator `--format CSV`: url,status,state,parent,failureDetails."""
    res: Parsed = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            url = row.get("url")
            if url and not row.get("parent"):
                status, state = row.get("status") or "", row.get("state") or ""
                res[url] = OK if state == "OK" and status == OK else f"{status} {state}"
    return res


def failure_kinds(got: Parsed) -> str:
    """A short summary of what a tool reported for the URLs it got wrong."""
    counts: dict[str, int] = {}
    for label in got.values():
        if label != OK:
            counts[label] = counts.get(label, 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return "reported " + ", ".join(f"`{k}` ×{v:,}" for k, v in top) if top else ""


# --------------------------------------------------------------------------- tools


@dataclass
class Invocation:
    cmd: list[str]
    result_path: Path  # where results appear (stdout file unless the tool writes its own)
    stdin_path: Path | None = None
    env: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)


Builder = Callable[[Path, int, Path], "Invocation"]  # (url file, concurrency, run dir)


@dataclass
class Tool:
    key: str
    label: str
    parse: Callable[[Path], Parsed]
    build: Builder
    version: str = ""
    version_cmd: list[str] | None = None
    skip_reason: str = ""
    fixed_conc: int | None = None  # a peer whose concurrency is part of its definition
    max_urls: int | None = None  # hard limit (e.g. command-line length)
    takes_file: bool = True


class Toolbox:
    def __init__(self, tmp: Path, conc_label: int) -> None:
        self.tmp = tmp
        self.py = sys.executable
        self.tools: dict[str, Tool] = {}
        self.urlsweep_cmd = ""
        self._urlsweep()
        self._python_peers(conc_label)
        self._curl()
        self._linkchecker()
        self._linkinator()

    # urlsweep ---------------------------------------------------------------
    def _urlsweep(self) -> None:
        bin_ = os.environ.get("URLSWEEP") or str(REPO / ".venv" / "bin" / "urlsweep")
        version = help_text = skip = ""
        if not (Path(bin_).is_file() and os.access(bin_, os.X_OK)):
            skip = f"not installed ({bin_} missing; set $URLSWEEP)"
        else:
            version = run_text([bin_, "--version"])
            help_text = run_text([bin_, "check", "--help"])
            if not version or "Traceback" in version or "--output" not in help_text:
                skip = f"{bin_} not usable yet: {first_line(version or help_text)}"
        # Options this urlsweep does not have (per its `check --help`) are left out.
        flags = [f for f in ("--no-progress", "--no-store", "--no-config") if f in help_text]
        if "--timeout" in help_text:
            flags += ["--timeout", str(REQUEST_TIMEOUT_S)]
        per_host = "--max-per-host" in help_text

        def build(urls: Path, conc: int, rundir: Path) -> Invocation:
            out = rundir / "urlsweep.jsonl"
            cmd = [bin_, "check", str(urls), "--workers", str(conc), "--format", "jsonl"]
            cmd += ["--output", str(out), *flags]
            if per_host:
                # The peers have no per-host cap: the total is urlsweep's only limit too.
                cmd += ["--max-per-host", str(conc)]
            return Invocation(cmd, out)

        tool = Tool("urlsweep", "urlsweep", parse_jsonl, build, skip_reason=skip)
        if not skip:
            tool.version = first_line(version)
            tool.version_cmd = [bin_, "--version"]
            shown = ["check", "FILE", "--workers", "N", "--format", "jsonl", "--output", "OUT"]
            shown += [*flags, *(["--max-per-host", "N"] if per_host else [])]
            self.urlsweep_cmd = " ".join(shown)
        self.tools["urlsweep"] = tool

    # Python peers -----------------------------------------------------------
    def _python_peers(self, conc_label: int) -> None:
        def peer(script: str, fixed: int | None = None) -> Builder:
            def build(urls: Path, conc: int, rundir: Path) -> Invocation:
                n = fixed or conc
                cmd = [self.py, str(PEERS / script), str(urls), str(n), str(REQUEST_TIMEOUT_S)]
                return Invocation(cmd, rundir / "stdout")

            return build

        req = _dist_version("requests")
        self.tools["tutorial5"] = Tool(
            "tutorial5",
            "tutorial: requests + ThreadPool(5)",
            parse_plain,
            peer("tutorial_requests.py", 5),
            version=f"requests {req}",
            fixed_conc=5,
        )
        self.tools["tutorial"] = Tool(
            "tutorial",
            "tutorial: requests + ThreadPool(N)",
            parse_plain,
            peer("tutorial_requests.py"),
            version=f"requests {req}",
        )
        self.tools["urllib3"] = Tool(
            "urllib3",
            "urllib3 + N threads",
            parse_plain,
            peer("urllib3_threads.py"),
            version=f"urllib3 {_dist_version('urllib3')}",
        )
        self.tools["aiohttp"] = Tool(
            "aiohttp",
            "aiohttp + Semaphore(N)",
            parse_plain,
            peer("aiohttp_check.py"),
            version=f"aiohttp {_dist_version('aiohttp')}",
        )

    # curl ---------------------------------------------------------------------
    def _curl(self) -> None:
        def build(urls: Path, conc: int, rundir: Path) -> Invocation:
            cmd = ["bash", str(PEERS / "curl_parallel.sh"), str(urls), str(conc)]
            cmd.append(str(REQUEST_TIMEOUT_S))
            inv = Invocation(cmd, rundir / "stdout")
            if conc > 300:
                k = math.ceil(conc / 300)
                inv.notes.append(f"{k} curl processes × {math.ceil(conc / k)} (max 300 each)")
            return inv

        tool = Tool("curl", "curl --parallel", parse_plain, build)
        if shutil.which("curl"):
            tool.version = first_line(run_text(["curl", "--version"])).split(" (")[0]
            tool.version_cmd = ["curl", "--version"]
        else:
            tool.skip_reason = "curl not installed"
        self.tools["curl"] = tool

    # LinkChecker ----------------------------------------------------------------
    def _linkchecker(self) -> None:
        exe = Path(self.py).parent / "linkchecker"
        home = self.tmp / "linkchecker-home"
        home.mkdir(exist_ok=True)
        os.chmod(home, 0o777)  # LinkChecker drops root privileges to `nobody`
        rc = self.tmp / "linkcheckerrc"
        # The LinkChecker response header (sent by nginx) lets this rate apply per host;
        # without it LinkChecker waits 0.1-0.6 s between requests to one host.
        rc.write_text("[checking]\nmaxrequestspersecond=100000\nrobotstxt=1\n")

        def build(urls: Path, conc: int, rundir: Path) -> Invocation:
            cmd = [str(exe), "--stdin", "-f", str(rc), "--no-status", "-o", "csv", "--verbose"]
            cmd += ["--no-warnings", "--threads", str(conc), "--timeout", str(REQUEST_TIMEOUT_S)]
            env = clean_env({"HOME": str(home)})
            return Invocation(cmd, rundir / "stdout", stdin_path=urls, env=env)

        tool = Tool("linkchecker", "LinkChecker", parse_linkchecker_csv, build)
        if exe.exists():
            tool.version = f"LinkChecker {_dist_version('linkchecker')}"
            tool.version_cmd = [str(exe), "--version"]
        else:
            tool.skip_reason = "linkchecker not installed in bench/.venv"
        self.tools["linkchecker"] = tool

    # linkinator -------------------------------------------------------------------
    def _linkinator(self) -> None:
        exe = BENCH / "node_modules" / ".bin" / "linkinator"

        def build(urls: Path, conc: int, rundir: Path) -> Invocation:
            cmd = [str(exe), *read_urls(urls), "--format", "CSV", "--concurrency", str(conc)]
            cmd += ["--timeout", str(REQUEST_TIMEOUT_S * 1000)]
            return Invocation(cmd, rundir / "stdout")

        tool = Tool(
            "linkinator",
            "linkinator",
            parse_linkinator_csv,
            build,
            max_urls=20_000,  # URLs are command-line arguments: ARG_MAX bounds the list
            takes_file=False,
        )
        if exe.exists() and shutil.which("node"):
            tool.version = f"linkinator {run_text([str(exe), '--version'])}"
            tool.version_cmd = [str(exe), "--version"]
        else:
            tool.skip_reason = "linkinator not installed (npm install in bench/)"
        self.tools["linkinator"] = tool


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------- rows


@dataclass
class Row:
    scenario: int
    tool: str
    label: str
    n_list: int = 0  # URLs in the scenario's list
    n_run: int = 0  # URLs this tool was given (a prefix for capped peers)
    conc: int = 0
    reported: int = 0
    false_failures: int = 0
    missing: int = 0
    wall_s: float | None = None
    rate: float | None = None  # URLs/s
    ttfr_s: float | None = None
    peak_rss: int | None = None
    cpu_s: float | None = None
    returncode: int | None = None
    timed_out: bool = False
    skipped: str = ""
    notes: list[str] = field(default_factory=list)
    # start-up scenario only
    version_s: float | None = None
    one_url_s: float | None = None
    version_min_s: float | None = None
    busy_at_start: float | None = None
    one_url_min_s: float | None = None

    @property
    def extrapolated(self) -> bool:
        return 0 < self.n_run < self.n_list and self.scenario in (1, 2)

    @property
    def wall_full_s(self) -> float | None:
        """Wall time for the whole list (linear extrapolation for a prefix run)."""
        if self.wall_s is None or not self.n_run:
            return None
        return self.wall_s * self.n_list / self.n_run if self.extrapolated else self.wall_s


def run_load(
    scenario: int,
    tool: Tool,
    urls_file: Path,
    n_list: int,
    conc: int,
    cap: int | None,
    time_limit: float,
    rundir: Path,
    idle_wait_s: float = 0,
) -> Row:
    row = Row(scenario, tool.key, tool.label, n_list=n_list)
    if tool.skip_reason:
        row.skipped = tool.skip_reason
        return row
    rundir.mkdir(parents=True, exist_ok=True)
    n_run = n_list
    limits = [c for c in (cap, tool.max_urls) if c]
    if scenario == 3 and not tool.takes_file:
        row.skipped = "takes URLs only as command-line arguments: cannot read a 1M-line list"
        return row
    if limits and min(limits) < n_list:
        n_run = min(limits)
        urls_file = prefix_file(urls_file, n_run, rundir / "urls-prefix.txt")
        if scenario != 3:
            row.notes.append(f"first {n_run:,} URLs, time ×{n_list / n_run:g}")
    row.n_run = n_run
    row.conc = tool.fixed_conc or conc
    inv = tool.build(urls_file, conc, rundir)
    row.notes += inv.notes
    busy = wait_idle(idle_wait_s) if idle_wait_s else cpu_busy()
    row.busy_at_start = busy
    if busy > 0.25:
        row.notes.append(f"CPUs {busy:.0%} busy with other work at start")
    log(f"scenario {scenario}: {tool.key} on {n_run:,} URLs, concurrency {row.conc}")
    m = measure(
        inv.cmd,
        stdout_path=rundir / "stdout",
        stderr_path=rundir / "stderr",
        watch=inv.result_path,
        time_limit=time_limit,
        stdin_path=inv.stdin_path,
        env=inv.env,
    )
    parsed = tool.parse(inv.result_path) if inv.result_path.exists() else {}
    wanted = set(read_urls(urls_file))
    got = {u: label for u, label in parsed.items() if u in wanted}
    row.reported = len(got)
    row.false_failures = sum(1 for label in got.values() if label != OK)
    row.missing = n_run - row.reported
    row.wall_s, row.cpu_s, row.peak_rss = m.wall_s, m.cpu_s, m.peak_rss
    row.ttfr_s, row.returncode, row.timed_out = m.ttfr_s, m.returncode, m.timed_out
    row.rate = row.reported / m.wall_s if m.wall_s > 0 else None
    if m.timed_out:
        if scenario == 3:
            row.notes.append(f"stopped at the {time_limit:g} s window")
            if not row.reported:
                row.notes.append("no result written within it")
        else:
            row.notes.append(f"killed after {time_limit:g} s")
    elif m.returncode not in (0, 1) or (m.returncode != 0 and not row.reported):
        row.notes.append(f"exit {m.returncode}: {_stderr_tail(rundir / 'stderr')}")
    if row.missing and scenario != 3 and not m.timed_out:
        row.notes.append(f"{row.missing:,} URLs missing from its output")
    if scenario != 3:
        # rate over what it was asked to do (a missing URL is not a fast URL)
        row.rate = (row.reported if m.timed_out else n_run) / m.wall_s if row.reported else None
    if row.false_failures:
        row.notes.append(failure_kinds(got))
    return row


def _stderr_tail(path: Path) -> str:
    try:
        lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return (lines[-1][:160] if lines else "").replace("|", "/")


def run_startup(tool: Tool, one_url: Path, repeats: int, rundir: Path) -> Row:
    row = Row(4, tool.key, tool.label, n_list=1, n_run=1)
    if tool.skip_reason:
        row.skipped = tool.skip_reason
        return row
    rundir.mkdir(parents=True, exist_ok=True)
    log(f"scenario 4: {tool.key}, {repeats} runs each")
    if tool.version_cmd:
        walls = []
        for _ in range(repeats):
            m = measure(
                tool.version_cmd,
                stdout_path=rundir / "version.out",
                stderr_path=rundir / "version.err",
                watch=rundir / "version.out",
                time_limit=30,
            )
            walls.append(m.wall_s)
        row.version_s, row.version_min_s = statistics.median(walls), min(walls)
    walls, cpus, rss, oks = [], [], [], 0
    for _ in range(repeats):
        inv = tool.build(one_url, tool.fixed_conc or 1, rundir)
        m = measure(
            inv.cmd,
            stdout_path=rundir / "stdout",
            stderr_path=rundir / "stderr",
            watch=inv.result_path,
            time_limit=60,
            stdin_path=inv.stdin_path,
            env=inv.env,
        )
        parsed = tool.parse(inv.result_path) if inv.result_path.exists() else {}
        oks += sum(1 for label in parsed.values() if label == OK)
        walls.append(m.wall_s)
        cpus.append(m.cpu_s)
        rss.append(m.peak_rss or 0)
    row.one_url_s, row.one_url_min_s = statistics.median(walls), min(walls)
    row.cpu_s = statistics.median(cpus)
    row.peak_rss = max(rss) or None
    row.reported = oks
    row.false_failures = repeats - oks
    if row.false_failures:
        row.notes.append(f"{row.false_failures} of {repeats} one-URL runs not reported OK")
    return row


# --------------------------------------------------------------------------- report


@dataclass
class Context:
    args: argparse.Namespace
    sizes: Sizes
    port: int
    nginx_workers: int
    wrk_rps: float | None
    started: str
    machine: dict[str, str]
    versions: dict[str, str]
    rows: dict[int, list[Row]] = field(default_factory=dict)
    elapsed: dict[int, float] = field(default_factory=dict)
    load: dict[int, tuple[float, float, float]] = field(default_factory=dict)


def machine_info() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    debian = Path("/etc/debian_version")
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU model": cpu,
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "kernel": platform.release(),
        "OS": f"Debian {debian.read_text().strip()}" if debian.exists() else platform.platform(),
        "Python": platform.python_version(),
    }


def tool_versions(box: Toolbox) -> dict[str, str]:
    vers = {t.label: (t.version or f"(skipped: {t.skip_reason})") for t in box.tools.values()}
    if box.urlsweep_cmd:
        bin_ = box.tools["urlsweep"].version_cmd or ["?"]
        vers["urlsweep binary"] = f"`{bin_[0]}`"
        vers["urlsweep invocation"] = f"`urlsweep {box.urlsweep_cmd}`"
    head = run_text(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    vers["repository HEAD"] = head if re.fullmatch(r"[0-9a-f]{7,40}", head) else "?"
    vers["nginx (target)"] = run_text(["nginx", "-v"]).replace("nginx version: ", "")
    vers["node"] = run_text(["node", "--version"]) or "(absent)"
    vers["wrk"] = first_line(run_text(["wrk", "--version"])).split(" [")[0] or "(absent)"
    return vers


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def scenario_lines(ctx: Context, scenario: int) -> list[str]:
    sz = ctx.sizes
    rows = ctx.rows.get(scenario, [])
    us = next((r for r in rows if r.tool == "urlsweep" and r.rate), None)
    lines = [f"### {scenario}. {SCENARIO_TITLES[scenario]}", ""]
    if scenario in (1, 2):
        conc = sz.s1_conc if scenario == 1 else sz.s2_conc
        n = sz.s1_urls if scenario == 1 else sz.s2_urls
        ideal_rate: float | None
        if scenario == 1:
            ideal_rate = conc / DELAY_S
            ideal_wall = n / ideal_rate
            lines.append(
                f"{n:,} URLs over {N_HOSTS} hosts, each answering after {DELAY_S * 1000:.0f} ms; "
                f"concurrency {conc} for every tool (the 5-worker tutorial excepted). "
                f"Ideal = {n:,} / {conc} × {DELAY_S} s = **{ideal_wall:.2f} s** "
                f"({ideal_rate:,.0f} URLs/s)."
            )
        else:
            ideal_rate = ctx.wrk_rps
            lines.append(
                f"{n:,} URLs over {N_HOSTS} hosts answering at once (keep-alive allowed); "
                f'concurrency {conc}. "vs ideal" compares with the target\'s capacity as '
                f"measured by wrk ({fmt_s(ctx.wrk_rps, 0)} req/s)."
            )
        lines.append("")
        body = []
        for r in rows:
            if r.skipped:
                body.append(
                    [
                        r.label,
                        "—",
                        "—",
                        "—",
                        "—",
                        "—",
                        "—",
                        "—",
                        "—",
                        "—",
                        "—",
                        f"skipped: {r.skipped}",
                    ]
                )
                continue
            wall = r.wall_full_s
            tilde = "~" if r.extrapolated else ""
            vs_us = us.rate / r.rate if us and us.rate and r.rate else None
            vs_ideal = ideal_rate / r.rate if ideal_rate and r.rate else None
            body.append(
                [
                    r.label,
                    f"{r.n_run:,}",
                    str(r.conc),
                    f"{tilde}{fmt_s(wall)}",
                    fmt_s(r.rate, 0),
                    fmt_ratio(vs_us),
                    fmt_ratio(vs_ideal),
                    mb(r.peak_rss),
                    fmt_s(r.cpu_s),
                    f"{r.false_failures:,}",
                    f"{r.missing:,}",
                    "; ".join(r.notes),
                ]
            )
        lines += table(
            [
                "tool",
                "URLs run",
                "conc",
                f"wall s (for {n:,})",
                "URLs/s",
                "time vs urlsweep",
                "time vs ideal",
                "peak RSS MB",
                "CPU s",
                "false failures",
                "missing",
                "notes",
            ],
            body,
        )
    elif scenario == 3:
        lines.append(
            f"A {sz.s3_urls:,}-line URL file against fast local responses (`/ok`), "
            f"concurrency {sz.s3_conc}; each tool gets the whole file and a "
            f"{sz.s3_window_s:g} s window (stopped at the window if not done)."
        )
        lines.append("")
        body = []
        for r in rows:
            if r.skipped:
                body.append(
                    [r.label, "—", "—", "—", "—", "—", "—", "—", "—", f"skipped: {r.skipped}"]
                )
                continue
            finished = "yes" if not r.timed_out and not r.missing else "no"
            vs_us = us.rate / r.rate if us and us.rate and r.rate else None
            body.append(
                [
                    r.label,
                    f"{r.reported:,}",
                    finished,
                    fmt_s(r.ttfr_s),
                    mb(r.peak_rss),
                    fmt_s(r.rate, 0),
                    fmt_ratio(vs_us),
                    fmt_s(r.cpu_s),
                    f"{r.false_failures:,}",
                    "; ".join(r.notes),
                ]
            )
        lines += table(
            [
                "tool",
                "URLs done",
                "finished",
                "time to first result s",
                "peak RSS MB",
                "URLs/s",
                "time vs urlsweep",
                "CPU s",
                "false failures",
                "notes",
            ],
            body,
        )
    else:
        lines.append(
            f"Whole processes, median (and minimum) of {sz.s4_repeats} runs: `--version` "
            "(where the tool has one) and a check of one URL (`/ok`)."
        )
        lines.append("")
        us4 = next((r for r in rows if r.tool == "urlsweep" and r.one_url_s), None)
        body = []
        for r in rows:
            if r.skipped:
                body.append([r.label, "—", "—", "—", "—", "—", f"skipped: {r.skipped}"])
                continue
            vs = r.one_url_s / us4.one_url_s if us4 and us4.one_url_s and r.one_url_s else None
            body.append(
                [
                    r.label,
                    f"{fmt_s(r.version_s, 3)} ({fmt_s(r.version_min_s, 3)})",
                    f"{fmt_s(r.one_url_s, 3)} ({fmt_s(r.one_url_min_s, 3)})",
                    fmt_ratio(vs),
                    mb(r.peak_rss),
                    fmt_s(r.cpu_s, 3),
                    "; ".join(r.notes),
                ]
            )
        lines += table(
            [
                "tool",
                "--version s (min)",
                "one-URL check s (min)",
                "vs urlsweep",
                "peak RSS MB",
                "CPU s",
                "notes",
            ],
            body,
        )
    if scenario in ctx.elapsed:
        load = ", ".join(f"{x:.2f}" for x in ctx.load.get(scenario, ()))
        lines += [
            "",
            f"_Scenario time: {ctx.elapsed[scenario]:.0f} s; load average at its start: "
            f"{load} ({os.cpu_count()} CPUs)._",
        ]
    return [*lines, ""]


def shown_command(argv: list[str]) -> str:
    """The command as a person types it (without run.sh's internal --tmp DIR)."""
    shown, skip = ["bench/run.sh"], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--tmp":
            skip = True
        elif not arg.startswith("--tmp="):
            shown.append(arg)
    return " ".join(shown)


def busy_warning(ctx: Context) -> list[str]:
    """A warning paragraph when other work loaded the machine during the run."""
    cpus = os.cpu_count() or 1
    loads = [v[0] for v in ctx.load.values()]
    busy = [r.busy_at_start for rows in ctx.rows.values() for r in rows if r.busy_at_start]
    busy_runs = sum(1 for b in busy if b > 0.25)
    if not (loads and max(loads) > cpus) and not busy_runs:
        return []
    return [
        f"**Warning: the machine was busy with other work during this run** (load average "
        f"up to {max(loads, default=0):.1f} on {cpus} CPUs; {busy_runs} of {len(busy)} tool "
        "runs started with the CPUs over 25 % busy). Every tool shared the CPUs with that "
        "load, so the numbers are noisy and mostly slower than on a quiet machine; ratios "
        "between tools are more telling than absolute rates. Rerun on a quiet machine "
        "before quoting absolute figures.",
        "",
    ]


def default_configuration() -> list[str]:
    """bench/STORE.md (written by bench/store.py) leads: figures in the default configuration,
    store on. The scenario tables after it are tuned (no store, per-host cap lifted)."""
    store_md = BENCH / "STORE.md"
    if not store_md.exists():
        return []
    body = store_md.read_text().splitlines()[1:]  # its own title dropped
    return [
        "## Default configuration (store on, default limits)",
        *body,
        "",
        "The scenario tables below are **tuned**: urlsweep runs with `--no-store --no-config"
        " --max-per-host N` (see Versions), to compare engines at the same concurrency.",
        "",
    ]


def results_md(ctx: Context) -> str:
    sz = ctx.sizes
    mode = "QUICK run (sizes about 1/10; not for quoting)" if ctx.args.quick else "Full run"
    lines = [
        "# urlsweep benchmark results",
        "",
        f"{mode}, started {ctx.started}, written by `{shown_command(ctx.args.argv)}`. "
        "See bench/README.md for what each scenario and column means.",
        "",
        *default_configuration(),
        *busy_warning(ctx),
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in ctx.machine.items()]
    lines += ["", "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in ctx.versions.items()]
    lines += [
        "",
        "## Target",
        "",
        f"nginx with the echo module on 127.0.0.1 ... 127.0.0.{N_HOSTS} port {ctx.port}, "
        f"{ctx.nginx_workers} worker process(es), keep-alive on, access log off; wrk "
        f"(2 threads, 100 connections, 3 s, `/ok`) measured "
        f"**{fmt_s(ctx.wrk_rps, 0)} req/s** against it, so the target is not the bottleneck. "
        f"Every URL in every list answers 200 by design: any URL a tool reports as broken "
        "is a false failure. Per-request timeout "
        f"{REQUEST_TIMEOUT_S} s for every tool; each tool run is capped at "
        f"{sz.run_timeout_s:g} s.",
        "",
        "## Results",
        "",
    ]
    for scenario in sorted(ctx.rows):
        lines += scenario_lines(ctx, scenario)
    return "\n".join(lines).rstrip() + "\n"


def print_scenario(ctx: Context, scenario: int) -> None:
    print("\n".join(scenario_lines(ctx, scenario)), flush=True)


# bench/dask_scaling.py keeps its own section at the end of RESULTS.md, between these.
DASK_BEGIN = "<!-- dask_scaling.py: begin -->"
DASK_END = "<!-- dask_scaling.py: end -->"


def write_results_md(text: str) -> None:
    """RESULTS.md is this run's, plus the Dask section bench/dask_scaling.py wrote."""
    old = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    if DASK_BEGIN in old and DASK_END in old:
        start, end = old.index(DASK_BEGIN), old.index(DASK_END) + len(DASK_END)
        text = text.rstrip() + "\n\n" + old[start:end] + "\n"
    RESULTS_MD.write_text(text)


def save(ctx: Context) -> None:
    write_results_md(results_md(ctx))
    OUT.mkdir(exist_ok=True)
    data = {
        "started": ctx.started,
        "argv": ctx.args.argv,
        "machine": ctx.machine,
        "versions": ctx.versions,
        "wrk_rps": ctx.wrk_rps,
        "load": {str(k): v for k, v in ctx.load.items()},
        "elapsed": {str(k): v for k, v in ctx.elapsed.items()},
        "port": ctx.port,
        "nginx_workers": ctx.nginx_workers,
        "rows": {str(k): [asdict(r) for r in v] for k, v in ctx.rows.items()},
    }
    (OUT / "results.json").write_text(json.dumps(data, indent=2))


def report_only(args: argparse.Namespace) -> int:
    """Write RESULTS.md again from bench/out/results.json (no measuring)."""
    data = json.loads((OUT / "results.json").read_text())
    run_args = parse_args(data.get("argv", []))
    ctx = Context(
        args=run_args,
        sizes=QUICK if run_args.quick else FULL,
        port=data.get("port", run_args.port),
        nginx_workers=data.get("nginx_workers", run_args.nginx_workers),
        wrk_rps=data.get("wrk_rps"),
        started=data["started"],
        machine=data["machine"],
        versions=data["versions"],
    )
    ctx.rows = {int(k): [Row(**r) for r in v] for k, v in data["rows"].items()}
    ctx.load = {int(k): tuple(v) for k, v in data.get("load", {}).items()}
    ctx.elapsed = {int(k): v for k, v in data.get("elapsed", {}).items()}
    write_results_md(results_md(ctx))
    log(f"wrote {RESULTS_MD.relative_to(REPO)} from {(OUT / 'results.json').relative_to(REPO)}")
    return 0


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="about 1/10 of the sizes")
    ap.add_argument("--scenario", default="1,2,3,4", help="comma-separated: 1,2,3,4")
    ap.add_argument(
        "--tools",
        default="",
        help="comma-separated subset of: urlsweep,tutorial5,tutorial,urllib3,aiohttp,"
        "curl,linkchecker,linkinator (default: all)",
    )
    ap.add_argument("--port", type=int, default=18080, help="nginx port (default 18080)")
    ap.add_argument("--nginx-workers", type=int, default=1, help="nginx worker processes")
    ap.add_argument(
        "--serve",
        type=float,
        default=0,
        metavar="SECONDS",
        help="only start the target, print its URLs and keep it up this long (max 3600)",
    )
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each tool run, wait up to this long for the CPUs to be <25%% busy "
        "(for shared machines); the busy share at start is noted when above that",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="only write RESULTS.md again from bench/out/results.json",
    )
    ap.add_argument("--tmp", type=Path, default=None, help="temp dir (run.sh passes one)")
    args = ap.parse_args(argv)
    args.argv = argv
    return args


def iter_tools(box: Toolbox, wanted: str) -> Iterator[Tool]:
    keys = [k.strip() for k in wanted.split(",") if k.strip()] or list(box.tools)
    unknown = [k for k in keys if k not in box.tools]
    if unknown:
        raise SystemExit(f"unknown tool(s): {', '.join(unknown)}; known: {', '.join(box.tools)}")
    for key in box.tools:  # table order is fixed, whatever order was asked
        if key in keys:
            yield box.tools[key]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.report_only:
        return report_only(args)
    scenarios = sorted({int(s) for s in args.scenario.split(",") if s.strip()})
    if not set(scenarios) <= {1, 2, 3, 4}:
        raise SystemExit("--scenario takes numbers from 1,2,3,4")
    sizes = QUICK if args.quick else FULL
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    own_tmp = args.tmp is None
    tmp = Path(tempfile.mkdtemp(prefix="urlsweep-bench.")) if own_tmp else args.tmp
    tmp.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o755)  # LinkChecker drops root privileges and must read its config here
    port = pick_port(args.port)
    nginx = Nginx(tmp, port, args.nginx_workers)
    try:
        log(f"starting nginx on 127.0.0.1-{N_HOSTS}:{port} (temp dir {tmp})")
        nginx.start()
        nginx.self_check()
        if args.serve:
            secs = min(args.serve, 3600)
            log(
                f"serving for {secs:g} s: http://127.0.0.{{1..{N_HOSTS}}}:{port}/ok, "
                "/delay/{50,200,1000,5000}, /status/NNN, /redirect/N (Ctrl-C stops)"
            )
            time.sleep(secs)
            return 0
        wrk = wrk_capacity(port)
        log(f"target capacity (wrk): {fmt_s(wrk, 0)} req/s")
        box = Toolbox(tmp, sizes.s1_conc)
        tools = list(iter_tools(box, args.tools))
        for t in tools:
            if t.skip_reason:
                log(f"{t.key}: skipped: {t.skip_reason}")
        ctx = Context(
            args=args,
            sizes=sizes,
            port=port,
            nginx_workers=args.nginx_workers,
            wrk_rps=wrk,
            started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            machine=machine_info(),
            versions=tool_versions(box),
        )
        t_all = time.perf_counter()
        for scenario in scenarios:
            t0 = time.perf_counter()
            ctx.load[scenario] = os.getloadavg()
            if ctx.load[scenario][0] > 0.5 * (os.cpu_count() or 1):
                log(f"warning: machine busy (load {ctx.load[scenario][0]:.2f}): numbers are noisy")
            sdir = tmp / f"s{scenario}"
            sdir.mkdir(exist_ok=True)
            rows: list[Row] = []
            ctx.rows[scenario] = rows
            if scenario in (1, 2, 3):
                n, conc, route = {
                    1: (sizes.s1_urls, sizes.s1_conc, "/delay/200"),
                    2: (sizes.s2_urls, sizes.s2_conc, "/ok"),
                    3: (sizes.s3_urls, sizes.s3_conc, "/ok"),
                }[scenario]
                urls = write_urls(sdir / "urls.txt", n, port, route)
                limit = sizes.s3_window_s if scenario == 3 else sizes.run_timeout_s
                for tool in tools:
                    cap = sizes.caps.get(tool.key, {}).get(scenario)
                    row = run_load(
                        scenario,
                        tool,
                        urls,
                        n,
                        conc,
                        cap,
                        limit,
                        sdir / tool.key,
                        args.wait_idle,
                    )
                    rows.append(row)
                    _keep_logs(sdir / tool.key, scenario, tool.key)
                    if scenario == 3:
                        shutil.rmtree(sdir / tool.key, ignore_errors=True)  # big outputs
            else:
                one = write_urls(sdir / "one.txt", 1, port, "/ok")
                for tool in tools:
                    if args.wait_idle:
                        wait_idle(args.wait_idle)
                    rows.append(run_startup(tool, one, sizes.s4_repeats, sdir / tool.key))
            ctx.elapsed[scenario] = time.perf_counter() - t0
            print_scenario(ctx, scenario)
            save(ctx)
        log(f"done in {time.perf_counter() - t_all:.0f} s; wrote {RESULTS_MD.relative_to(REPO)}")
    finally:
        nginx.stop()
        if own_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _keep_logs(rundir: Path, scenario: int, key: str) -> None:
    """Keep each run's stderr (small) under bench/out/ for a look after the run."""
    src = rundir / "stderr"
    if src.exists():
        dst = OUT / f"s{scenario}-{key}.stderr"
        OUT.mkdir(exist_ok=True)
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fout.write(fin.read(1 << 20))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
