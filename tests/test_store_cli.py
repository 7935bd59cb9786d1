"""The store from the command line: where it lives, cache, --fail-after, history, report."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.http import TestHTTPServer
from support.store_helpers import cli, flip, log_server, paths, urlsweep


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    with log_server() as s:
        yield s


def url_list(tmp_path: Path, *urls: str) -> Path:
    f = tmp_path / "urls.txt"
    f.write_text("".join(u + "\n" for u in urls))
    return f


def check_json(*args: str | Path, code: int | None = None) -> tuple[dict[str, Any], str]:
    p = urlsweep("check", "--no-progress", "--retries", "0", "-f", "json", *args)
    if code is not None:
        assert p.returncode == code, p.stderr
    assert "Traceback" not in p.stderr
    return json.loads(p.stdout), p.stderr


def by_url(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["url"]: r for r in doc["results"]}


def test_store_is_on_by_default_in_cwd(tmp_path: Path, server: TestHTTPServer) -> None:
    p = urlsweep("check", "--no-progress", f"{server.base_url}/ok", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "stored as run 1 in .urlsweep/results.db" in p.stderr
    assert (tmp_path / ".urlsweep" / "results.db").is_file()
    runs = json.loads(
        cli("runs", "-f", "json", "--store", tmp_path / ".urlsweep/results.db").stdout
    )
    assert [(r["id"], r["state"], r["counts"]["total"]) for r in runs] == [(1, "done", 1)]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_no_store(tmp_path: Path, server: TestHTTPServer, how: str) -> None:
    args = ["--no-store"] if how == "flag" else []
    extra = {"URLSWEEP_NO_STORE": "1"} if how == "env" else {}
    p = urlsweep(
        "check", "--no-progress", *args, f"{server.base_url}/ok", cwd=tmp_path, env_extra=extra
    )
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / ".urlsweep").exists()
    assert "stored as" not in p.stderr


def test_store_env_var_and_option(tmp_path: Path, server: TestHTTPServer) -> None:
    env_db = tmp_path / "env.db"
    p = urlsweep(
        "check", "--no-progress", f"{server.base_url}/ok", env_extra={"URLSWEEP_STORE": str(env_db)}
    )
    assert p.returncode == 0 and env_db.is_file()
    opt_db = tmp_path / "sub" / "opt.db"
    p = urlsweep(
        "check",
        "--no-progress",
        "--store",
        opt_db,
        f"{server.base_url}/ok",
        env_extra={"URLSWEEP_STORE": str(env_db)},
    )
    assert p.returncode == 0 and opt_db.is_file()
    assert json.loads(cli("runs", "-f", "json", URLSWEEP_STORE=str(env_db)).stdout)[0]["id"] == 1


def test_unusable_store_errors(tmp_path: Path, server: TestHTTPServer) -> None:
    url = f"{server.base_url}/ok"
    p = urlsweep("check", "--no-progress", "--store", tmp_path, url)  # a directory
    assert p.returncode == 2
    assert p.stderr.startswith("urlsweep: error: ") and len(p.stderr.splitlines()) == 1
    p = urlsweep("check", "--no-progress", "--no-store", "--resume", url)
    assert p.returncode == 2 and "--resume needs the results store" in p.stderr
    p = urlsweep("check", "--cache-max-age", "soon", url)
    assert p.returncode == 2 and "bad duration" in p.stderr
    p = cli("report", "--store", tmp_path / "none.db")
    assert p.returncode == 2 and "no store at" in p.stderr
    assert not (tmp_path / "none.db").exists()
    (tmp_path / ".urlsweep").write_text("a file where the default store directory goes")
    p = urlsweep("check", "--no-progress", url, cwd=tmp_path)  # default path: warn, go on
    assert p.returncode == 0
    assert "warning: results not stored" in p.stderr


def test_cache_reuses_fresh_results(tmp_path: Path, server: TestHTTPServer) -> None:
    db = tmp_path / "s.db"
    b = server.base_url
    urls = url_list(tmp_path, f"{b}/ok?c", f"{b}/status/404?c", f"{b}/status/503?c", f"{b}/ok?c")
    first, _ = check_json("--store", db, urls, code=1)
    assert first["summary"]["total"] == 3 and first["summary"]["duplicates"] == 1
    server.clear()
    second, err = check_json("--store", db, "--cache-max-age", "1h", urls, code=1)
    # 503 is excluded from the cache by default (429,5xx,errors): only it is asked again
    assert paths(server) == {"/status/503?c": 2}  # HEAD, then GET on the 5xx
    assert len(by_url(first)[f"{b}/ok?c"]["sources"]) == 2  # both lines that have it

    def unsourced(doc: dict[str, Any]) -> dict[str, Any]:
        # A result answered from the cache lists the first line only (store/reuse.py).
        return {u: {**r, "sources": r["sources"][:1]} for u, r in by_url(doc).items()}

    assert unsourced(second) == unsourced(first) | {
        f"{b}/status/503?c": unsourced(second)[f"{b}/status/503?c"]
    }
    assert second["summary"]["total"] == 3 and second["summary"]["duplicates"] == 1
    assert "2 results reused from the cache" in err
    server.clear()
    check_json("--store", db, "--cache-max-age", "1h", "--cache-exclude-status", "none", urls)
    assert paths(server) == {}
    server.clear()
    check_json("--store", db, "--cache-max-age", "1h", "--cache-exclude-status", "4xx,5xx", urls)
    assert set(paths(server)) == {"/status/404?c", "/status/503?c"}
    server.clear()
    check_json("--store", db, "--cache-max-age", "1h", "-m", "get", urls)  # other options
    assert len(paths(server)) == 3
    hist = json.loads(cli("history", "--store", db, f"{b}/ok?c", "-f", "json").stdout)
    assert [h["run"] for h in hist] == [5, 4, 3, 2, 1]
    assert [h["cached_from"] for h in hist] == [None, 1, 1, 1, None]


def test_fail_after_and_report_changes(tmp_path: Path, server: TestHTTPServer) -> None:
    db = tmp_path / "s.db"
    flaky, ok, gone = (
        f"{server.base_url}/flip",
        f"{server.base_url}/ok",
        f"{server.base_url}/status/410",
    )
    urls = url_list(tmp_path, flaky, ok, gone)
    outcomes = []
    codes = []
    flip(server, 500)
    for _ in range(3):
        p = urlsweep(
            "check", "--no-progress", "-f", "json", "--store", db, "--fail-after", "3", urls
        )
        codes.append(p.returncode)
        outcomes.append({u: r["outcome"] for u, r in by_url(json.loads(p.stdout)).items()})
    assert codes == [0, 0, 1]
    assert [o[flaky] for o in outcomes] == ["tolerated", "tolerated", "broken"]
    assert [o[ok] for o in outcomes] == ["ok"] * 3
    flip(server, 200)
    fixed, _ = check_json("--store", db, "--fail-after", "3", urls, code=1)
    assert by_url(fixed)[flaky]["outcome"] == "ok"

    def report(*args: str | Path) -> dict[str, Any]:
        p = cli("report", "--store", db, "-f", "json", *args)
        doc: dict[str, Any] = json.loads(p.stdout)
        # Like `check`: 1 when the reported run has broken URLs (tolerated ones do not count).
        assert p.returncode == (1 if doc["summary"]["by_outcome"].get("broken") else 0), p.stderr
        return doc

    r3, r4 = report("3"), report()
    assert r3["summary"]["changes"] == {"newly_broken": [flaky, gone], "newly_fixed": []}
    assert r4["summary"]["changes"] == {"newly_broken": [], "newly_fixed": [flaky]}
    assert by_url(r4)[flaky]["change"] == "newly_fixed" and by_url(r4)[ok]["change"] is None
    assert r4["summary"]["run"]["id"] == 4 and r4["summary"]["run"]["compared_with"] == 3
    assert report("4", "--compare", "1")["summary"]["changes"]["newly_broken"] == [gone]
    assert "changes" not in report("1")["summary"]  # nothing before it to compare with
    text = cli("report", "--store", db).stdout
    assert f"{flaky}  [newly fixed]" in text and "newly fixed: 1" in text
    p = cli("report", "--store", db, "9")
    assert p.returncode == 2 and p.stderr.strip() == "urlsweep: error: no run 9 in the store"
    hist = cli("history", "--store", db, flaky, COLUMNS="200").stdout
    assert hist.count("tolerated") == 2 and "failing 2 runs in a row, flagged at 3" in hist


def test_formats_listed_in_help_and_docs(server: TestHTTPServer) -> None:
    from urlsweep.cli.common_options import FORMAT_NAMES
    from urlsweep.reports import FORMATS

    assert tuple(FORMATS) == FORMAT_NAMES
    help_text = urlsweep("check", "--help").stdout
    for option in ("--store", "--no-store", "--resume", "--cache-max-age", "--fail-after"):
        assert option in help_text
    doc = (Path(__file__).parent.parent / "docs" / "store-and-reports.md").read_text()
    for option in (
        "--store",
        "--no-store",
        "--resume",
        "--cache-max-age",
        "--cache-exclude-status",
        "--fail-after",
        "URLSWEEP_STORE",
    ):
        assert option in doc, option
    for fmt in FORMAT_NAMES:
        assert f"--format {fmt}" in doc or f"-f {fmt}" in doc, fmt


def test_an_unchanged_result_adds_no_result_row(tmp_path: Path, server: TestHTTPServer) -> None:
    # Timing (elapsed_ms, attempt_ms) differs every run but is not what a result says.
    db = tmp_path / "s.db"
    urls = url_list(tmp_path, f"{server.base_url}/ok?u", f"{server.base_url}/status/404?u")
    for _ in range(3):
        check_json("--store", db, urls, code=1)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM results").fetchone() == (2,)
