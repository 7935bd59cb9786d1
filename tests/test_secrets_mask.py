"""docs/security.md, passwords in URLs: `http://user:pass@host/` is checked with the
password, and the password is shown, logged and kept nowhere.

The loopback server answers 200 only with the right Basic credentials (401 otherwise), so a
200 proves the password was sent (and the server's log of Authorization headers says so);
every byte urlsweep wrote, every file it left and every row of the store are then searched
for it. A second password arrives in a redirect's `Location`, as a hostile server may send.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import cast

import pytest

from support.http import TestHTTPServer, reply
from support.store_helpers import CMD, cli, env, urlsweep
from support.term import Pty
from urlsweep.inputs import Target
from urlsweep.result import Hop, Result, mask_userinfo
from urlsweep.store.keys import key_of, target_key, url_key

PASSWORD = "hunter2-Pw"
USER = "alice"
# The password of the URL a redirect names (`Location: http://bob:...@host/secret`).
PASSWORD2 = "s3cond-Pw"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
BASIC2 = "Basic " + base64.b64encode(f"bob:{PASSWORD2}".encode()).decode()
FORMATS = ("text", "json", "jsonl", "csv", "sarif", "junit", "markdown", "html")


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    want = BASIC

    def guarded(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("Authorization") not in (want, BASIC2):
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

    def to_bob(h: BaseHTTPRequestHandler) -> None:
        port = cast(TestHTTPServer, h.server).port
        reply(h, 302, "", [("Location", f"http://bob:{PASSWORD2}@127.0.0.1:{port}/secret")])

    with TestHTTPServer("127.0.0.1") as s:
        for path in ("/secret", "/page2", "/slow"):
            s.route(path, guarded)
        s.route("/gone", gone)
        s.route("/hop", hop)
        s.route("/to-bob", to_bob)
        yield s


def with_password(server: TestHTTPServer, path: str) -> str:
    return server.base_url.replace("://", f"://{USER}:{PASSWORD}@") + path


def leaks(folder: Path, *inputs: Path) -> list[str]:
    """Every file under `folder` but the `inputs` (so outputs, the store and its -wal/-shm)
    that holds either password."""
    return [
        str(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and p not in inputs
        and (PASSWORD.encode() in p.read_bytes() or PASSWORD2.encode() in p.read_bytes())
    ]


def stored_leaks(db: Path) -> list[str]:
    """Every row of every table of the store that holds either password (blobs too); the
    tables must be there and hold rows, or the search proves nothing."""
    con = sqlite3.connect(db)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert {"runs", "results", "current", "seen"} <= set(tables), tables
        found, rows = [], 0
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                rows += 1
                text = repr(row)
                if PASSWORD in text or PASSWORD2 in text:
                    found.append(f"{table}: {text[:200]}")
        assert rows > 0
        return found
    finally:
        con.close()


def authorizations(server: TestHTTPServer) -> set[str | None]:
    with server.lock:
        return {r.headers.get("authorization") for r in server.requests}


def no_password(text: str) -> bool:
    return PASSWORD not in text and PASSWORD2 not in text


def test_mask_userinfo_hides_passwords_and_lone_user_names() -> None:
    assert mask_userinfo("http://u:p@h/x") == "http://u:***@h/x"
    assert mask_userinfo("https://ghp_token@github.com/") == "https://***@github.com/"
    # the last "@" of the authority ends a password; a path's "@" is not userinfo
    assert mask_userinfo("http://u:a@b@h/p@q") == "http://u:***@h/p@q"
    assert mask_userinfo("see http://h/a@b and mailto:a@b") == "see http://h/a@b and mailto:a@b"
    assert mask_userinfo("to http://u:p@h/ from https://v:q@g/") == (
        "to http://u:***@h/ from https://v:***@g/"
    )
    # a quote ends a URL (it is percent-encoded inside one): JSON text stays as it was
    assert mask_userinfo('["http://h/","x@y"]') == '["http://h/","x@y"]'
    assert mask_userinfo("bad proxy 'http://u:p@[x'") == "bad proxy 'http://u:***@[x'"
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
    # /gone is 404 with the password (401 without): broken, so every format lists it;
    # /to-bob redirects to a URL with another password, which is used and masked too
    urls = [with_password(server, p) for p in ("/secret", "/hop", "/gone", "/to-bob")]
    store = tmp_path / "store" / "r.db"
    server.clear()
    for fmt in FORMATS:
        out = tmp_path / f"out.{fmt}"
        verbose = "-vvv" if fmt == "text" else "-vv"  # -vvv: every library's debug too
        p = urlsweep("check", "--store", store, verbose, "-f", fmt, "-o", out, *urls)
        assert p.returncode == 1, p.stderr
        assert no_password(p.stderr) and no_password(p.stdout), fmt
        assert "alice:***@127.0.0.1" in out.read_text(), fmt
        assert "HEAD http://alice:***@127.0.0.1" in p.stderr  # the -vv request lines
        assert "location http://bob:***@127.0.0.1" in p.stderr  # the redirect, logged
    # the check itself sent both passwords, each where its URL said
    assert authorizations(server) >= {BASIC, BASIC2}
    got = {r["url"]: r for r in json.loads((tmp_path / "out.json").read_text())["results"]}
    masked = {u.replace(PASSWORD, "***"): u for u in urls}
    assert got.keys() == masked.keys()
    # 401 without the password
    assert [got[u]["status"] for u in masked] == [200, 200, 404, 200]
    shown = with_password(server, "/secret").replace(PASSWORD, "***")
    assert got[urls[1].replace(PASSWORD, "***")]["final_url"] == shown
    bob = got[urls[3].replace(PASSWORD, "***")]
    assert bob["final_url"] == f"http://bob:***@127.0.0.1:{server.port}/secret"
    assert bob["redirects"] == [{"url": urls[3].replace(PASSWORD, "***"), "status": 302}]
    for fmt in FORMATS:
        q = cli("report", "--store", store, "-f", fmt)
        assert no_password(q.stdout) and "alice:***@" in q.stdout, fmt
    for typed in (urls[0], shown):  # the URL as typed or as shown finds its history
        h = cli("history", "--store", store, typed)
        assert h.returncode == 0 and "200" in h.stdout and PASSWORD not in h.stdout
    runs = cli("runs", "--store", store, "-f", "json")
    assert no_password(runs.stdout) and "alice:***@" in runs.stdout
    assert leaks(tmp_path) == []
    assert stored_leaks(store) == []


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
    records = {r["url"]: r for r in map(json.loads, out.read_text().splitlines())}
    base = with_password(server, "").replace(PASSWORD, "***")
    got = {url: r["status"] for url, r in records.items()}
    assert got == {f"{base}/secret": 200, f"{base}/page2": 200, f"{base}/gone": 404}
    assert f"{base}/secret" in records[f"{base}/gone"]["sources"]  # the page, masked
    assert PASSWORD not in p.stderr
    assert stored_leaks(tmp_path / "c.db") == []
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
    # The workers' -vv lines reach this stderr, masked like the main process's own.
    assert p.stderr.count(" INFO  HEAD http://alice:***@127.0.0.1") == 20, p.stderr
    assert PASSWORD not in p.stderr
    assert leaks(tmp_path, listing) == []


def test_dask_keeps_the_password_to_the_requests(server: TestHTTPServer, tmp_path: Path) -> None:
    store = tmp_path / "k.db"
    out = tmp_path / "k.jsonl"
    url = with_password(server, "/to-bob")
    p = urlsweep(
        "check", "--dask", "local:1", "-vv", "--store", store, "-f", "jsonl", "-o", out, url
    )
    assert p.returncode == 0, p.stderr
    (got,) = map(json.loads, out.read_text().splitlines())
    assert got["url"] == url.replace(PASSWORD, "***") and got["status"] == 200
    assert got["final_url"] == f"http://bob:***@127.0.0.1:{server.port}/secret"
    assert no_password(p.stderr) and no_password(p.stdout)
    assert leaks(tmp_path) == [] and stored_leaks(store) == []


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


def test_local_documents_mask_the_links_they_hold(server: TestHTTPServer, tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "page.html"
    doc.parent.mkdir()
    doc.write_text(
        f'<a href="{with_password(server, "/secret")}">in</a>'
        f'<a href="{with_password(server, "/to-bob")}">hop</a>'
        f'<a href="{with_password(server, "/gone")}">gone</a>'
    )
    server.clear()
    out = tmp_path / "doc.jsonl"
    store = tmp_path / "d.db"
    p = urlsweep("check", "--store", store, "-vv", "-f", "jsonl", "-o", out, doc)
    assert p.returncode == 1, p.stderr
    rows = {r["url"]: r for r in map(json.loads, out.read_text().splitlines())}
    base = with_password(server, "").replace(PASSWORD, "***")
    assert {u: r["status"] for u, r in rows.items()} == {
        f"{base}/secret": 200,
        f"{base}/to-bob": 200,
        f"{base}/gone": 404,
    }
    assert all(r["sources"] == [f"{doc}:1"] for r in rows.values())
    assert authorizations(server) >= {BASIC, BASIC2}
    assert no_password(p.stderr) and no_password(p.stdout)
    assert leaks(tmp_path, doc) == [] and stored_leaks(store) == []


_rounds = re.compile(r"^urlsweep_rounds_total (\S+)$", re.M)


def test_watch_masks_its_output_events_page_metrics_and_store(
    server: TestHTTPServer, tmp_path: Path
) -> None:
    store = tmp_path / "w.db"
    events = tmp_path / "events.jsonl"
    keep = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read() + chr(10))"
    urls = [with_password(server, p) for p in ("/secret", "/gone", "/to-bob")]
    args = ["watch", "--store", str(store), "-vv", "--every", "0.2s", "--retries", "0"]
    hook = f'{sys.executable} -c "{keep}" {events}'
    proc = subprocess.Popen(
        [*CMD, *args, "--serve", "127.0.0.1:0", "--on-change-exec", hook, *urls],
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            if "serving http://" in line:
                ready.set()
        ready.set()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert ready.wait(30), "".join(err)
        base = next(x for x in err if "serving http://" in x).split("serving ", 1)[1].strip()

        def get(path: str) -> str:
            with urllib.request.urlopen(base.rstrip("/") + path, timeout=10) as r:
                return str(r.read().decode())

        deadline = time.monotonic() + 30
        while float(_rounds.findall(get("/metrics") + "urlsweep_rounds_total 0\n")[0]) < 3:
            assert time.monotonic() < deadline, "".join(err)
            time.sleep(0.05)
        pages = {path: get(path) for path in ("/", "/api/status", "/events", "/metrics")}
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join(10)
    assert proc.returncode == 130, "".join(err)
    shown = with_password(server, "/gone").replace(PASSWORD, "***")
    assert [json.loads(line)["url"] for line in out.splitlines()] == [shown]  # the event
    assert [json.loads(line)["url"] for line in events.read_text().splitlines() if line] == [shown]
    for path, body in pages.items():
        assert no_password(body) and "alice:***@" in body, path
    assert "location http://bob:***@" in "".join(err)  # the redirect's target, masked
    assert authorizations(server) >= {BASIC, BASIC2}
    assert no_password("".join(err)) and no_password(out)
    assert leaks(tmp_path) == [] and stored_leaks(store) == []


def test_messages_naming_a_url_mask_its_password(tmp_path: Path) -> None:
    typed = f"ftp://{USER}:{PASSWORD}@127.0.0.1/"
    p = urlsweep("crawl", "--no-store", typed)
    assert p.returncode == 2 and p.stderr.startswith(f"urlsweep: error: ftp://{USER}:***@")
    p = urlsweep("check", "--no-store", "--proxy", f"http://{USER}:{PASSWORD}@[x", "http://h/")
    assert p.returncode == 2 and f"'http://{USER}:***@[x'" in p.stderr
    assert PASSWORD not in p.stderr


def test_the_library_returns_what_it_checked_and_logs_no_password(
    server: TestHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    import urlsweep

    caplog.set_level(logging.DEBUG, logger="urlsweep")
    url = with_password(server, "/to-bob")
    (got,) = urlsweep.check([url], retries=0)
    assert got.url == url and got.status == 200  # as checked: the caller's own URL
    assert got.final_url == f"http://bob:{PASSWORD2}@127.0.0.1:{server.port}/secret"
    shown = got.masked()  # what the CLI shows and the store keeps
    assert shown.url == url.replace(PASSWORD, "***") and no_password(json.dumps(shown.to_dict()))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "alice:***@" in logged and no_password(logged)
