"""--processes with forked workers: what a command-line run gets (one thread when the
engine starts), checked in a fresh interpreter, since the test process has server threads
alive and so spawns its workers (tests/test_parallel.py covers that path)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from support.http import TestHTTPServer

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")

# Runs a ProcessEngine over argv's URLs in a process of its own and prints what it saw.
_SCRIPT = r"""
import json, os, signal, sys, threading, time
from urlsweep.inputs import Target
from urlsweep.options import Options
from urlsweep.scale.local import ProcessEngine, WorkerProcessError

scenario, *urls = sys.argv[1:]
if scenario == "thread":  # a thread alive when the engine starts: no fork
    threading.Thread(target=threading.Event().wait, daemon=True).start()
def link(pid, fd):
    if fd == "2":  # stderr, which every process of the run shares
        return None
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:  # closed meanwhile (a spawned interpreter opens files as it starts)
        return None

targets = [Target(u, f"list:{i + 1}") for i, u in enumerate(urls)]
engine = ProcessEngine(targets, Options(workers=4, timeout=5.0), 2)
engine.start()
fds = {}
for pid in engine.pids:
    # A child closes what is not its own, then puts /dev/null on stdin and stdout: seen
    # that, it has done both (or never will: then the assertions on its fds fail).
    for _ in range(500):
        if link(pid, "0") == link(pid, "1") == "/dev/null":
            break
        time.sleep(0.01)
    fds[pid] = sorted(filter(None, (link(pid, fd) for fd in os.listdir(f"/proc/{pid}/fd"))))
    fds[pid] += [link(pid, "0"), link(pid, "1")]
got, error = [], None
it = iter(engine)
try:
    for r in it:
        got.append([r.url, r.status, list(r.sources)])
        if scenario == "kill" and len(got) == 1:
            os.kill(engine.pids[0], signal.SIGKILL)
        if scenario == "cancel" and len(got) == 1:
            engine.cancel()
        if scenario == "drop" and len(got) == 1:
            it.close()
            break
except WorkerProcessError as exc:
    error = str(exc)

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

print(json.dumps({"method": engine.start_method, "results": got, "error": error,
                  "fds": fds, "alive": [alive(pid) for pid in engine.pids]}))
"""


def run(scenario: str, urls: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, scenario, *urls],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def _pipes(fds: list[str]) -> set[str]:
    return {f for f in fds if f.startswith("pipe:")}


def test_forked_workers_check_every_url_once(server_factory: Any) -> None:
    hosts: list[TestHTTPServer] = [server_factory(f"127.0.0.{i}") for i in range(2, 6)]
    urls = [s.url(f"/ok?i={i}") for i in range(25) for s in hosts]
    out = run("all", [*urls, urls[0]])  # the last line repeats the first

    assert out["method"] == "fork"
    assert Counter(u for u, _, _ in out["results"]) == Counter(urls)
    assert all(status == 200 for _, status, _ in out["results"])
    first = next(r for r in out["results"] if r[0] == urls[0])
    assert first[2] == ["list:1", f"list:{len(urls) + 1}"]  # the duplicate's source joined
    assert out["alive"] == [False, False]


def test_a_forked_worker_holds_only_its_own_pipes(http_server: TestHTTPServer) -> None:
    out = run("all", [http_server.url("/ok")])
    one, two = out["fds"].values()
    # Three pipes each (work, results, control) and none of the other's: a worker holding
    # another's work pipe would keep it from seeing the end of its input.
    assert len(_pipes(one)) == len(_pipes(two)) == 3
    assert not _pipes(one) & _pipes(two)
    assert one[-2:] == two[-2:] == ["/dev/null", "/dev/null"]  # stdin, stdout


def test_with_a_thread_alive_workers_are_spawned(http_server: TestHTTPServer) -> None:
    out = run("thread", [http_server.url("/ok")])
    assert out["method"] == "spawn"
    assert [status for _, status, _ in out["results"]] == [200]


@pytest.mark.parametrize("scenario", ["cancel", "drop"])
def test_forked_workers_end_when_the_run_is_cancelled_or_dropped(
    server_factory: Any, scenario: str
) -> None:
    hosts = [server_factory(f"127.0.0.{i}") for i in (2, 3)]
    urls = [s.url(f"/delay/0.3?i={i}") for i in range(20) for s in hosts]
    out = run(scenario, urls)
    assert out["method"] == "fork"
    assert 1 <= len(out["results"]) < len(urls)
    assert out["alive"] == [False, False]


def test_a_forked_worker_that_dies_is_an_error_not_a_hang(server_factory: Any) -> None:
    hosts = [server_factory(f"127.0.0.{i}") for i in (2, 3)]
    urls = [s.url(f"/delay/0.2?i={i}") for i in range(15) for s in hosts]
    out = run("kill", urls)
    assert out["method"] == "fork"
    assert out["error"] is not None and "exited unexpectedly" in out["error"]
    assert out["alive"] == [False, False]


def test_the_command_line_forks_its_workers(http_server: TestHTTPServer, tmp_path: Path) -> None:
    """The store's writer thread starts after the engine, or there would be no fork."""
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(http_server.url(f"/ok?i={i}") + "\n" for i in range(30)))
    code = (
        "import sys, urlsweep.scale.local as local, urlsweep._entry as entry\n"
        "start = local.ProcessEngine._start_workers\n"
        "def spy(self):\n"
        "    out = start(self)\n"
        "    print('METHOD', self.start_method, file=sys.stderr, flush=True)\n"
        "    return out\n"
        "local.ProcessEngine._start_workers = spy\n"
        "entry.main()\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "check",
            str(urls),
            "--processes",
            "2",
            "-f",
            "jsonl",
            "--store",
            str(tmp_path / "s.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "METHOD fork" in proc.stderr
    assert len(proc.stdout.splitlines()) == 30
    assert "stored as run 1" in proc.stderr


def test_a_thread_threading_does_not_know_of_also_means_no_fork() -> None:
    """A thread started below `threading` (as a C library would) is counted by the kernel."""
    code = (
        "import _thread, threading, time\n"
        "from urlsweep.scale.worker import may_fork\n"
        "alone = may_fork()\n"
        "_thread.start_new_thread(time.sleep, (5,))\n"
        "time.sleep(0.1)\n"
        "print(alone, threading.active_count(), may_fork())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert proc.stdout.split() == ["True", "1", "False"]
