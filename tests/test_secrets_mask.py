"""docs/security.md, passwords in URLs: `http://user:pass@host/` is checked with the
password, and the password is shown, logged and kept nowhere.

The loopback server answers 200 only with the right Basic credentials (401 otherwise), so a
200 proves the password was sent; every byte urlsweep wrote is then searched for it.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from support.http import TestHTTPServer, reply
from support.store_helpers import CMD, cli, env, urlsweep
from support.term import Pty
from urlsweep.inputs import Target
from urlsweep.result import Hop, Result, mask_userinfo
from urlsweep.store.keys import key_of, target_key, url_key

PASSWORD = "hunter2-Pw"
USER = "alice"
FORMATS = ("text", "json", "jsonl", "csv", "sarif", "junit", "markdown", "html")


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def guarded(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("Authorization") != want:
            reply(h, 401, "who are you\n", [("WWW-Authenticate", 'Basic realm="t"')])
            return
        if h.path.startswith("/slow"):
            h.server.stopping.wait(0.05)  # type: ignore[attr-defined]
        page = '<a href="/page2">next</a> <a href="/gone">gone</a>'
        reply(h, 200, page, content_type="text/html")

    def gone(h: BaseHTTPRequestHandler) -> None:
        reply(h, 404 if h.headers.get("Authorization") == want else 401, "gone\n")

    def hop(h: BaseHTTPRequestHandler) -> None:
        reply(h, 302, "", [("Location", "/secret")])

    with TestHTTPServer("127.0.0.1") as s:
        for path in ("/secret", "/page2", "/slow"):
            s.route(path, guarded)
        s.route("/gone", gone)
        s.route("/hop", hop)
        yield s


def with_password(server: TestHTTPServer, path: str) -> str:
    return server.base_url.replace("://", f"://{USER}:{PASSWORD}@") + path


def leaks(folder: Path, *inputs: Path) -> list[str]:
    """Every file under `folder` but the `inputs` (so outputs, the store and its -wal/-shm)
    that holds the password."""
    return [
        str(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p not in inputs and PASSWORD.encode() in p.read_bytes()
    ]


def test_mask_userinfo_hides_passwords_and_lone_user_names() -> None:
    assert mask_userinfo("http://u:p@h/x") == "http://u:***@h/x"
    assert mask_userinfo("https://ghp_token@github.com/") == "https://***@github.com/"
    # the last "@" of the authority ends a password; a path's "@" is not userinfo
    assert mask_userinfo("http://u:a@b@h/p@q") == "http://u:***@h/p@q"
    assert mask_userinfo("see http://h/a@b and mailto:a@b") == "see http://h/a@b and mailto:a@b"
    assert mask_userinfo("to http://u:p@h/ from https://v:q@g/") == (
        "to http://u:***@h/ from https://v:***@g/"
    )
    record = Result(
        url="http://u:p@h/a",
        final_url="http://u:p@h/b",
        redirects=(Hop("http://u:p@h/a", 301),),
        detail="redirect to http://u:p@h/b",
        sources=("http://u:p@h/",),
    )
    assert "p@" not in json.dumps(record.masked().to_dict())
    plain = Result(url="http://h/a")
    assert plain.masked() is plain  # nothing to mask: no copy
    # the store's keys are of the masked URL, so what it keeps matches what it is asked
    assert target_key(Target("http://u:p@h/a")) == key_of("http://u:***@h/a")
    assert url_key("http://u:***@h/a") == url_key("http://u:other@h/a")


def test_a_password_in_a_url_is_used_but_in_no_output_store_or_log_line(
    server: TestHTTPServer, tmp_path: Path
) -> None:
    # /gone is 404 with the password (401 without): broken, so every format lists it
    urls = [with_password(server, p) for p in ("/secret", "/hop", "/gone")]
    store = tmp_path / "store" / "r.db"
    for fmt in FORMATS:
        out = tmp_path / f"out.{fmt}"
        p = urlsweep("check", "--store", store, "-vv", "-f", fmt, "-o", out, *urls)
        assert p.returncode == 1, p.stderr
        assert PASSWORD not in p.stderr and PASSWORD not in p.stdout
        assert "alice:***@127.0.0.1" in out.read_text(), fmt
        assert "HEAD http://alice:***@127.0.0.1" in p.stderr  # the -vv request lines
    got = {r["url"]: r for r in json.loads((tmp_path / "out.json").read_text())["results"]}
    masked = {u.replace(PASSWORD, "***"): u for u in urls}
    assert got.keys() == masked.keys()
    assert [got[u]["status"] for u in masked] == [200, 200, 404]  # 401 without the password
    shown = with_password(server, "/secret").replace(PASSWORD, "***")
    assert got[urls[1].replace(PASSWORD, "***")]["final_url"] == shown
    for fmt in ("json", "html", "markdown", "junit", "csv"):
        q = cli("report", "--store", store, "-f", fmt)
        assert PASSWORD not in q.stdout and "alice:***@" in q.stdout, fmt
    for typed in (urls[0], shown):  # the URL as typed or as shown finds its history
        h = cli("history", "--store", store, typed)
        assert h.returncode == 0 and "200" in h.stdout and PASSWORD not in h.stdout
    runs = cli("runs", "--store", store, "-f", "json")
    assert PASSWORD not in runs.stdout and "alice:***@" in runs.stdout
    assert leaks(tmp_path) == []


def test_a_crawl_and_processes_keep_the_password_to_the_requests(
    server: TestHTTPServer, tmp_path: Path
) -> None:
    out = tmp_path / "crawl.jsonl"
    p = urlsweep(
        "crawl",
        "--store",
        tmp_path / "c.db",
        "-vv",
        "-f",
        "jsonl",
        "-o",
        out,
        with_password(server, "/secret"),
    )
    assert p.returncode == 1, p.stderr  # /gone is 404 (with the password; 401 without)
    got = {
        json.loads(line)["url"]: json.loads(line)["status"] for line in out.read_text().splitlines()
    }
    base = with_password(server, "").replace(PASSWORD, "***")
    assert got == {f"{base}/secret": 200, f"{base}/page2": 200, f"{base}/gone": 404}
    assert PASSWORD not in p.stderr
    listing = tmp_path / "list.txt"
    listing.write_text("".join(with_password(server, f"/secret?{i}") + "\n" for i in range(20)))
    p = urlsweep(
        "check",
        "-P",
        "2",
        "--store",
        tmp_path / "p.db",
        "-vv",
        "-f",
        "csv",
        "-o",
        tmp_path / "p.csv",
        listing,
    )
    assert p.returncode == 0, p.stderr
    rows = (tmp_path / "p.csv").read_text().splitlines()[1:]
    assert len(rows) == 20 and all(r.count("alice:***@") == 2 and ",200,true," in r for r in rows)
    assert PASSWORD not in p.stderr
    assert leaks(tmp_path, listing) == []


def test_the_terminal_shows_the_url_masked(server: TestHTTPServer, tmp_path: Path) -> None:
    pty = Pty(columns=160)
    code = pty.run([*CMD, "check", "--no-store", "-v", with_password(server, "/secret")], env())
    assert code == 0
    shown = "\n".join(pty.screen().text())
    assert "alice:***@127.0.0.1" in shown and "200" in shown
    assert PASSWORD not in pty.output()


def test_cache_checks_a_url_with_a_password_again_and_resume_still_works(
    server: TestHTTPServer, tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    url = with_password(server, "/secret")
    for _ in range(2):
        server.clear()
        p = urlsweep("check", "--store", store, "--cache-max-age", "1h", url)
        assert p.returncode == 0, p.stderr
        with server.lock:
            assert [r.path for r in server.requests] == ["/secret"]  # asked, not reused

    n = 60
    listing = tmp_path / "urls.txt"
    urls = [with_password(server, f"/slow?{i}") for i in range(n)]
    listing.write_text("\n".join(urls) + "\n")
    args = ["check", "--no-progress", "-w", "1", "-f", "jsonl", "--store", str(tmp_path / "r.db")]
    proc = subprocess.Popen(
        [*CMD, *args, "-o", str(tmp_path / "1.jsonl"), str(listing)],
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with server.lock:
                if sum(r.path.startswith("/slow") for r in server.requests) >= 10:
                    break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    server.clear()
    p = urlsweep(*args, "--resume", "-o", tmp_path / "2.jsonl", listing)
    assert p.returncode == 0, p.stderr
    assert "resuming run 1:" in p.stderr
    with server.lock:
        asked = [r.path for r in server.requests]
    assert 0 < len(asked) < n - 5  # what was stored is not asked again
    rows = [json.loads(line) for line in (tmp_path / "2.jsonl").read_text().splitlines()]
    assert sorted(r["url"] for r in rows) == sorted(u.replace(PASSWORD, "***") for u in urls)
    assert all(r["status"] == 200 for r in rows)
    assert leaks(tmp_path, listing) == []
