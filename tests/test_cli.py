"""The `urlsweep` command as a user runs it: formats, exit codes, stdin, signals."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

CMD = [sys.executable, "-m", "urlsweep"]


def run(
    *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "URLSWEEP_STORE": os.environ.get("URLSWEEP_STORE", "")},
    )


@pytest.fixture
def url_file(tmp_path: Path, http_server: Any) -> Path:
    base = http_server.base_url
    f = tmp_path / "urls.txt"
    f.write_text(
        "\n".join(
            [
                "# my links",
                f"{base}/ok",
                f"{base}/status/404",
                f"{base}/redirect/2",
                "not a url",
                "",
                f"{base}/ok",  # duplicate
            ]
        )
        + "\n"
    )
    return f


def test_version() -> None:
    p = run("--version")
    assert p.returncode == 0
    assert p.stdout.startswith("urlsweep, version ")


def test_urlsweep_alone_shows_the_help_as_help() -> None:
    p = run()  # click >= 8.2 raises for a group called with nothing: not a one-line error
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.startswith("Usage: ") and "urlsweep [OPTIONS] COMMAND" in p.stdout
    assert "\\x0a" not in p.stdout and "\n  check " in p.stdout


def test_help_lists_options() -> None:
    p = run("check", "--help")
    assert p.returncode == 0
    for opt in (
        "--workers",
        "--timeout",
        "--method",
        "--max-redirects",
        "--accept",
        "--format",
        "--output",
        "--insecure",
        "--user-agent",
        "--header",
        "--no-progress",
        "--verbose",
        "--quiet",
    ):
        assert opt in p.stdout


def test_jsonl_streams_records(url_file: Path, http_server: Any) -> None:
    p = run("check", str(url_file), "--format", "jsonl")
    assert p.returncode == 1
    records = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(records) == 4
    by_url = {r["url"]: r for r in records}
    base = http_server.base_url
    assert by_url[f"{base}/ok"]["ok"] is True
    assert by_url[f"{base}/status/404"]["status"] == 404
    assert by_url[f"{base}/redirect/2"]["redirects"][1] == {
        "url": f"{base}/redirect/1",
        "status": 302,
    }
    assert by_url["not a url"]["error"] == "invalid_url"
    assert by_url["not a url"]["sources"] == [f"{url_file}:5"]
    for r in records:
        assert set(r) >= {
            "url",
            "final_url",
            "status",
            "ok",
            "error",
            "detail",
            "redirects",
            "method",
            "elapsed_ms",
            "attempts",
        }
    # The summary goes to stderr, never into the data.
    assert "total" in p.stderr


def test_json_is_one_document(url_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    p = run("check", str(url_file), "-f", "json", "-o", str(out), "-q")
    assert p.returncode == 1
    assert p.stdout == ""
    doc = json.loads(out.read_text())
    assert len(doc["results"]) == 4
    assert doc["summary"]["total"] == 4
    assert doc["summary"]["ok"] == 2
    assert doc["summary"]["duplicates"] == 1
    assert doc["summary"]["by_category"] == {"http_404": 1, "invalid_url": 1, "ok": 2}


def test_csv_parses_back(url_file: Path, http_server: Any) -> None:
    p = run("check", str(url_file), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 4
    by_url = {r["url"]: r for r in rows}
    redirect = by_url[f"{http_server.base_url}/redirect/2"]
    assert redirect["status"] == "200" and redirect["ok"] == "true"
    assert len(json.loads(redirect["redirects"])) == 2
    assert by_url["not a url"]["status"] == ""


def test_csv_neutralises_formulas() -> None:
    p = run("check", "-f", "csv", "-", stdin='=HYPERLINK("http://x")\n')
    rows = list(csv.reader(io.StringIO(p.stdout)))
    assert rows[1][0] == '\'=HYPERLINK("http://x")'


def test_text_output(url_file: Path, http_server: Any) -> None:
    p = run("check", str(url_file))
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert len(lines) == 4
    assert any("404" in ln and "/status/404" in ln for ln in lines)
    assert any("→" in ln and "2 redirects" in ln for ln in lines)
    assert "broken" in p.stderr and "URLs/s" in p.stderr


def test_quiet_lists_only_failures(url_file: Path) -> None:
    p = run("check", str(url_file), "--quiet")
    assert p.returncode == 1
    assert len(p.stdout.splitlines()) == 2
    assert p.stderr == ""


def test_all_ok_exits_zero(http_server: Any) -> None:
    p = run("check", http_server.base_url + "/ok", http_server.base_url + "/redirect/1")
    assert p.returncode == 0, p.stderr


def test_stdin_is_default_input(http_server: Any) -> None:
    p = run("check", "-f", "jsonl", stdin=f"{http_server.base_url}/ok\n")
    assert p.returncode == 0
    assert json.loads(p.stdout)["sources"] == ["<stdin>:1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "/no/such/file.txt"], "no such file"),
        (["check", "--workers", "0", "http://x.invalid/"], "workers"),
        (["check", "--accept", "abc", "http://x.invalid/"], "bad status"),
        (["check", "--header", "nocolon", "http://x.invalid/"], "bad header"),
        (["check", "--format", "xml", "http://x.invalid/"], "format"),
        (["check", "--timeout", "-1", "http://x.invalid/"], "timeout"),
        (["check", "--ca-cert", "/no/such/ca.pem", "http://x.invalid/"], "ca-cert"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    p = run(*args)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr


def test_directory_input_is_usage_error(tmp_path: Path) -> None:
    p = run("check", str(tmp_path))
    assert p.returncode == 2 and "directory" in p.stderr and "Traceback" not in p.stderr


def test_unwritable_output_is_usage_error(tmp_path: Path) -> None:
    p = run("check", "http://x.invalid/", "-o", str(tmp_path / "no" / "dir" / "out.txt"))
    assert p.returncode == 2 and "cannot write" in p.stderr


def test_bad_ca_file_content_is_a_clean_error(tmp_path: Path, http_server: Any) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    p = run("check", "--ca-cert", str(bad), http_server.base_url.replace("http:", "https:") + "/")
    # Refused before any request: a usage error naming the problem, in one line.
    assert p.returncode == 2, p.stderr
    assert "holds no PEM certificate" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr


def test_verbose_logs_thread_names(http_server: Any) -> None:
    p = run("check", "-vv", http_server.base_url + "/ok")
    assert "urlsweep-driver-1" in p.stderr


def test_verbose_levels_hold_in_worker_processes(server_factory: Any, tmp_path: Path) -> None:
    """--processes (and so any list of 10,000 URLs or more) logs what one process logs."""
    hosts = [server_factory("127.0.0.1").base_url, server_factory("127.0.0.2").base_url]
    urls = tmp_path / "urls.txt"  # two hosts: one for each worker
    urls.write_text("".join(f"{hosts[i % 2]}/ok?{i}\n" for i in range(12)))
    args = ("check", "-P", "2", "--no-store", "-f", "jsonl", "-o", str(tmp_path / "o.jsonl"))
    quiet = run(*args, str(urls))
    assert quiet.returncode == 0 and " INFO " not in quiet.stderr
    v = run(*args, "-v", str(urls))
    checks = [line for line in v.stderr.splitlines() if " INFO " in line and "/ok?" in line]
    assert len(checks) == 12, v.stderr  # one line per check, none of a request
    assert {line.split()[2].split("/")[0] for line in checks} == {"w1", "w2"}  # both workers
    vv = run(*args, "-vv", str(urls))
    requests = [line for line in vv.stderr.splitlines() if " DEBUG " in line and "HEAD " in line]
    assert len(requests) == 12 and all(" from 127.0.0." in line for line in requests)
    vvv = run(*args, "-vvv", str(urls))
    assert vvv.stderr.count("> HEAD /ok?") == 12, vvv.stderr[-2000:]


def test_empty_input_exits_zero() -> None:
    p = run("check", "-", stdin="# nothing here\n\n")
    assert p.returncode == 0
    assert "no URLs" in p.stderr


def _start(args: list[str], **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CMD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def _wait_for_lines(path: Path, n: int, deadline: float = 20) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if path.exists() and path.read_text().count("\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} results in {path} after {deadline} s")


def test_sigint_flushes_finished_records_and_exits_130(tmp_path: Path, http_server: Any) -> None:
    urls = tmp_path / "slow.txt"
    urls.write_text("".join(f"{http_server.base_url}/delay/0.3?i={i}\n" for i in range(2000)))
    out = tmp_path / "out.jsonl"
    proc = _start(["check", str(urls), "-w", "8", "-f", "jsonl", "-o", str(out), "--no-progress"])
    _wait_for_lines(out, 10)
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = out.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line complete
    assert 10 <= len(records) < 2000
    assert len({r["url"] for r in records}) == len(records)
    assert all(r["ok"] for r in records)  # in-flight checks finished, not cut
    # Every request the server completed has its record (none lost).
    served = {q.path for q in http_server.requests if q.time_end is not None}
    written = {r["url"].removeprefix(http_server.base_url) for r in records}
    assert served <= written
    assert "interrupted" in stderr


def test_second_sigint_exits_at_once(tmp_path: Path, raw_server_factory: Any) -> None:
    import threading

    from support import raw as raw_srv

    arrived = threading.Event()

    def hang_and_tell(conn: Any) -> None:
        arrived.set()
        raw_srv.hang(conn)

    srv = raw_server_factory(hang_and_tell)
    out = tmp_path / "out.jsonl"
    proc = _start(
        ["check", srv.base_url + "/", "-t", "60", "-f", "jsonl", "-o", str(out), "--no-progress"]
    )
    # Signal handlers are in place before the first request is sent.
    assert arrived.wait(30)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # still waiting for the in-flight check
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=5)
    assert proc.returncode == 130


class StuckStderr:
    """A stderr pipe the test can fill, so the CLI blocks at its next write (the summary).

    Nothing else in the command writes to stderr after the results, so a signal sent once
    the output file is complete arrives while the summary is being printed: after the run.
    """

    def __init__(self) -> None:
        import threading

        self.read_fd, self.write_fd = os.pipe()
        self.data = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._draining = threading.Event()
        self._reader.start()

    def _drain(self) -> None:
        self._draining.wait()
        while chunk := os.read(self.read_fd, 65536):
            self.data += chunk

    def read_until(self, text: bytes, deadline: float = 20) -> None:
        """Read (before draining starts) until `text` has arrived."""
        end = time.monotonic() + deadline
        while text not in self.data:
            assert time.monotonic() < end, f"no {text!r} on stderr: {bytes(self.data)!r}"
            self.data += os.read(self.read_fd, 4096)

    def fill(self) -> None:
        # A second open file description of the pipe: non-blocking for us, not for the CLI.
        fd = os.open(f"/proc/self/fd/{self.write_fd}", os.O_WRONLY | os.O_NONBLOCK)
        try:
            while True:
                os.write(fd, b"." * 4096)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)

    def drain(self) -> None:
        os.close(self.write_fd)  # the CLI holds the only write end left
        self._draining.set()

    def text(self) -> str:
        self._reader.join(10)
        return self.data.decode(errors="replace").strip(".")


def _wait_for_json(path: Path, deadline: float = 20) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with contextlib.suppress(OSError, ValueError):
            json.loads(path.read_text())
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} not a complete JSON document after {deadline} s")


def _start_stuck(args: list[str], err: StuckStderr) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CMD, *args, "--no-store", "--no-progress"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=err.write_fd,
    )


def test_sigint_after_the_run_still_exits_130(tmp_path: Path, http_server: Any) -> None:
    err = StuckStderr()
    err.fill()
    out = tmp_path / "out.json"
    proc = _start_stuck(["check", http_server.base_url + "/ok", "-f", "json", "-o", str(out)], err)
    _wait_for_json(out)  # the run is over; the CLI is stuck printing its summary
    proc.send_signal(signal.SIGINT)
    err.drain()
    assert proc.wait(20) == 130, err.text()
    assert "Aborted" not in err.text()
    assert json.loads(out.read_text())["results"][0]["ok"]


def test_second_sigint_while_the_summary_prints_exits_130(
    tmp_path: Path, raw_server_factory: Any
) -> None:
    import threading

    from support import net as net_srv

    arrived, release = threading.Event(), threading.Event()

    def answer_when_released(conn: Any) -> None:
        net_srv.read_request_head(conn)
        arrived.set()
        release.wait(30)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    srv = raw_server_factory(answer_when_released)
    err = StuckStderr()
    out = tmp_path / "out.json"
    proc = _start_stuck(
        ["check", srv.base_url + "/", "-t", "60", "-f", "json", "-o", str(out)], err
    )
    assert arrived.wait(30)
    proc.send_signal(signal.SIGINT)  # first: finish the check in flight
    err.read_until(b"interrupted")
    err.fill()
    release.set()
    _wait_for_json(out)  # the run is over; the CLI is stuck printing its summary
    proc.send_signal(signal.SIGINT)  # second: leave now, still 130
    err.drain()
    assert proc.wait(20) == 130, err.text()
    assert "Aborted" not in err.text()
    assert json.loads(out.read_text())["results"][0]["ok"]


def test_demo_runs_offline() -> None:
    p = run("demo", timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Sequential: 1 worker" in p.stdout
    assert "Concurrent: 8 workers" in p.stdout
    assert "faster" in p.stdout
    assert "dns" in p.stdout and "404" in p.stdout


def test_vvv_adds_libcurls_own_account_with_secrets_masked(
    http_server: Any, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"  # a file: checked by the worker processes of the default run
    urls.write_text(f"{http_server.base_url}/ok\n{http_server.base_url}/ok?2\n")
    secret = ["-H", "Authorization: Bearer s3cr3t-value", "-H", "X-Api-Key: k3y-value"]
    p = run("check", str(urls), "--no-store", "-vvv", *secret)
    assert p.returncode == 0, p.stderr
    assert "curl > HEAD /ok HTTP/1.1" in p.stderr
    assert "curl < HTTP/1." in p.stderr and "curl * " in p.stderr
    assert "curl > Authorization: ***" in p.stderr and "curl > X-Api-Key: ***" in p.stderr
    assert "s3cr3t-value" not in p.stderr and "k3y-value" not in p.stderr
    # The server did get them: masking is for the log only.
    assert any(r.headers.get("x-api-key") == "k3y-value" for r in http_server.requests)
    p = run("check", str(urls), "--no-store", "-vv", *secret)
    assert p.returncode == 0 and "HEAD" in p.stderr and "curl >" not in p.stderr
