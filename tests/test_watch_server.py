"""`urlsweep watch --serve` and the event sinks, against real loopback servers: /metrics parsed
with prometheus_client's own parser, /events, /healthz, the command and the webhook."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.http import TestHTTPServer, reply

CMD = [sys.executable, "-m", "urlsweep"]


class Watch:
    """A `urlsweep watch` process with --serve on a free port; stderr read in the background."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*CMD, "watch", *args, "--serve", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        self.err: list[str] = []
        self.base = ""
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read)
        self._reader.start()
        assert self._ready.wait(30), "".join(self.err)
        assert self.base, "".join(self.err)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            if "serving http://" in line:
                self.base = line.split("serving ", 1)[1].strip().rstrip("/")
                self._ready.set()
        self._ready.set()

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    def wait_for(self, path: str, predicate: Any, deadline: float = 20) -> str:
        end = time.monotonic() + deadline
        body = ""
        while time.monotonic() < end:
            _, body, _ = self.get(path)
            if predicate(body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"{path} never matched; last: {body[:500]}")

    def stop(self) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        self._reader.join(10)
        return self.proc.returncode, out, "".join(self.err)


@pytest.fixture
def watch_procs() -> Iterator[list[Watch]]:
    procs: list[Watch] = []
    yield procs
    for w in procs:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


def rounds_at_least(n: int) -> Any:
    """A predicate on /metrics: at least `n` rounds done (a scrape may skip a count)."""

    def done(text: str) -> bool:
        m = re.search(r"^urlsweep_rounds_total (\S+)$", text, re.M)
        return m is not None and float(m[1]) >= n

    return done


def _metrics(text: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend(family.samples)
    return out


def test_metrics_events_healthz_and_stop(
    http_server: TestHTTPServer, watch_procs: list[Watch]
) -> None:
    ok, missing = http_server.url("/ok"), http_server.url("/status/404")
    w = Watch(ok, missing, "--every", "1s", "--no-store", "--retries", "0")
    watch_procs.append(w)
    text = w.wait_for("/metrics", rounds_at_least(2))
    m = _metrics(text)  # prometheus_client's parser accepts the page
    host = f"127.0.0.1:{http_server.port}"
    success = {s.labels["url"]: s.value for s in m["probe_success"]}
    assert success == {ok: 1.0, missing: 0.0}
    assert all(s.labels["host"] == host for s in m["probe_success"])
    codes = {s.labels["url"]: s.value for s in m["probe_http_status_code"]}
    assert codes == {ok: 200.0, missing: 404.0}
    assert all(s.value >= 0 for s in m["probe_duration_seconds"])
    checks = {
        s.labels["outcome"]: s.value for s in m["urlsweep_checks"] if s.name.endswith("_total")
    }
    assert checks["ok"] >= 2 and checks["broken"] >= 2
    rounds = [s for s in m["urlsweep_rounds"] if s.name == "urlsweep_rounds_total"]
    assert rounds[0].value >= 2
    count = [s for s in m["urlsweep_round_duration_seconds"] if s.name.endswith("_count")]
    assert count[0].value >= 2

    status, body, _ = w.get("/events")
    assert status == 200
    evs = json.loads(body)
    assert [(e["url"], e["from"], e["to"], e["status"]) for e in evs] == [
        (missing, None, "broken", 404)
    ]
    status, body, _ = w.get("/healthz")
    assert status == 200 and body.startswith("ok"), body
    status, body, headers = w.get("/api/status")
    assert status == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert {u["url"] for u in doc["urls"]} == {ok, missing}
    assert w.get("/nope")[0] == 404

    code, out, err = w.stop()
    assert code == 130, err
    assert "Traceback" not in err
    assert [json.loads(line)["url"] for line in out.splitlines()] == [missing]
    port = int(w.base.rpartition(":")[2])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the server is gone with the watch


def test_healthz_503_when_rounds_fall_behind(
    http_server: TestHTTPServer, watch_procs: list[Watch]
) -> None:
    # Each round takes 1.5 s where the schedule wants one every 0.2 s.
    w = Watch(http_server.url("/delay/1.5"), "--every", "0.2s", "--no-store")
    watch_procs.append(w)
    end = time.monotonic() + 20
    seen: list[tuple[int, str]] = []
    while time.monotonic() < end:
        status, body, _ = w.get("/healthz")
        seen.append((status, body))
        if status == 503:
            break
        time.sleep(0.05)
    assert seen[-1][0] == 503, seen[-5:]
    assert "running for" in seen[-1][1] or "late" in seen[-1][1]
    code, _, err = w.stop()
    assert code == 130, err


def test_serve_elsewhere_only_when_asked() -> None:
    from urlsweep.options import OptionError
    from urlsweep.watch.server import parse_address

    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address(":8080") == ("127.0.0.1", 8080)
    assert parse_address("[::1]:0") == ("::1", 0)
    assert parse_address("0.0.0.0:9") == ("0.0.0.0", 9)
    with pytest.raises(OptionError):
        parse_address("127.0.0.1:http")


# -- sinks ---------------------------------------------------------------------------------
def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, "watch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_exec_gets_event_on_stdin_never_a_shell(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    pwned = tmp_path / "PWNED"
    # A URL that would run a command if it ever reached a shell.
    url = http_server.url(f"/status/404?x=$(touch%20{pwned})`touch {pwned}`;touch {pwned}")
    out = tmp_path / "events"
    script = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read() + '\\n')"
    p = _run(
        url,
        "--every",
        "0.1s",
        "--rounds",
        "2",
        "--no-store",
        "--retries",
        "0",
        "--on-change-exec",
        f'{sys.executable} -c "{script}" {out}',
    )
    assert p.returncode == 1, p.stderr
    lines = out.read_text().splitlines()
    assert len([x for x in lines if x]) == 1
    event = json.loads(lines[0])
    assert event["url"] == url and event["to"] == "broken"
    assert json.loads(p.stdout) == event  # the same event on stdout
    assert not pwned.exists()


def test_exec_that_hangs_is_killed_and_the_watch_goes_on(
    tmp_path: Path, http_server: TestHTTPServer
) -> None:
    p = _run(
        http_server.url("/status/500"),
        "--every",
        "0.1s",
        "--rounds",
        "3",
        "--no-store",
        "--retries",
        "0",
        "--on-change-exec",
        "sleep 30",
        "--exec-timeout",
        "0.5",
    )
    assert p.returncode == 1, p.stderr
    assert "killed after 0.5 s" in p.stderr
    assert "round 3:" in p.stderr and "Traceback" not in p.stderr


class Receiver:
    """A webhook receiver: fails the first `failures` POSTs with 503, then takes them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.bodies: list[dict[str, Any]] = []
        self.attempts: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        with self.lock:
            self.attempts.append(time.monotonic())
            if len(self.attempts) <= self.failures:
                reply(handler, 503, "later\n")
                return
            self.bodies.append(json.loads(body))
        reply(handler, 200, "ok\n")


def test_webhook_retries_with_backoff_slack_format(
    http_server: TestHTTPServer, server_factory: Any
) -> None:
    hook = server_factory()
    receiver = Receiver(failures=2)
    hook.route("/hook", receiver)
    url = http_server.url("/status/404")
    p = _run(
        url,
        "--every",
        "0.1s",
        "--rounds",
        "2",
        "--no-store",
        "--retries",
        "0",
        "--on-change-webhook",
        hook.url("/hook"),
        "--webhook-format",
        "slack",
    )
    assert p.returncode == 1, p.stderr
    assert len(receiver.attempts) == 3  # two failures, then delivered
    gaps = [b - a for a, b in zip(receiver.attempts, receiver.attempts[1:], strict=False)]
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0  # backing off: 0.5 s, then 1 s at least
    (body,) = receiver.bodies
    assert body["text"].startswith("urlsweep: ") and url in body["text"]
    assert "broken" in body["text"]
    assert body["event"]["url"] == url and body["event"]["to"] == "broken"
    assert "not delivered" not in p.stderr


def test_webhook_down_is_logged_never_fatal(http_server: TestHTTPServer, free_port: int) -> None:
    url = http_server.url("/status/404")
    p = _run(
        url,
        "--every",
        "0.1s",
        "--rounds",
        "3",
        "--no-store",
        "--retries",
        "0",
        "--on-change-webhook",
        f"http://127.0.0.1:{free_port}/hook",
    )
    assert p.returncode == 1, p.stderr  # the watch's own verdict, not the webhook's
    assert "round 3:" in p.stderr
    assert "--on-change-webhook: event for " in p.stderr and "not delivered" in p.stderr
    assert "Traceback" not in p.stderr
    assert json.loads(p.stdout)["url"] == url  # stdout still got it


def test_webhook_json_format_posts_the_event(
    http_server: TestHTTPServer, server_factory: Any
) -> None:
    hook = server_factory()
    receiver = Receiver(failures=0)
    hook.route("/hook", receiver)
    p = _run(
        http_server.url("/status/410"),
        "--every",
        "0.1s",
        "--rounds",
        "1",
        "--no-store",
        "--on-change-webhook",
        hook.url("/hook"),
    )
    assert p.returncode == 1, p.stderr
    assert receiver.bodies == [json.loads(p.stdout)]
