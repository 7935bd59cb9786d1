"""Small things a user notices, each through the real command: the whole check's time and
each attempt's; broken results first in whole-written reports; Markdown within GitHub's
comment limit; JUnit names; `report`'s exit status and -q; duplicate lines' sources; HTML
sources behind "N more"; -vv logging more than -v; control characters in every format."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from support.http import TestHTTPServer

CMD = [sys.executable, "-m", "urlsweep"]
FORMATS = ("text", "json", "jsonl", "csv", "sarif", "junit", "markdown", "html")


def run(*args: str | Path, code: int | None = None) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([*CMD, *map(str, args)], capture_output=True, text=True, timeout=90)
    if code is not None:
        assert p.returncode == code, (p.stdout[-2000:], p.stderr[-2000:])
    assert "Traceback" not in p.stderr, p.stderr
    return p


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_elapsed_is_the_whole_check_and_each_attempt_is_in_every_format(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    url = http_server.base_url + "/status/503"
    store = tmp_path / "s.db"
    opts = ("--retries", "2", "--backoff", "0.05", "--store", store, "--no-progress")
    (rec,) = records(run("check", url, "-f", "jsonl", *opts, code=1).stdout)
    assert rec["attempts"] == 3 and len(rec["attempt_ms"]) == 3
    # The whole check spans the three attempts and the two waits between them.
    assert rec["elapsed_ms"] > sum(rec["attempt_ms"])
    shown = " + ".join(f"{ms:.0f}" for ms in rec["attempt_ms"])
    for fmt in FORMATS:
        out = run("report", "--store", store, "-f", fmt, code=1).stdout
        if fmt in ("json", "jsonl"):
            assert '"attempt_ms":[' in out.replace(" ", ""), fmt
        elif fmt == "csv":
            (row,) = list(csv.DictReader(io.StringIO(out)))
            assert [float(ms) for ms in row["attempt_ms"].split()] == rec["attempt_ms"]
        elif fmt == "sarif":
            props = json.loads(out)["runs"][0]["results"][0]["properties"]
            assert props["attempt_ms"] == rec["attempt_ms"]
        else:
            assert f"3 attempts: {shown} ms" in out, (fmt, out[-3000:])


def _mixed(server: TestHTTPServer, tmp_path: Path, n: int = 30) -> Path:
    urls = tmp_path / "urls.txt"
    lines = []
    for i in range(n):
        lines.append(server.base_url + (f"/status/404?n={i}" if i % 5 == 4 else f"/ok?n={i}"))
    urls.write_text("\n".join(lines) + "\n")
    return urls


def test_whole_reports_list_broken_first_and_report_exits_1(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = _mixed(http_server, tmp_path)
    store = tmp_path / "s.db"
    run("check", urls, "--store", store, "-f", "jsonl", code=1)
    for fmt in ("text", "jsonl", "csv", "junit", "markdown", "html"):
        out = run("report", "--store", store, "-f", fmt, code=1).stdout
        found = re.findall(r"/(status/404|ok)\?n=(\d+)", out)
        kinds = [k for k, _ in found]
        assert "status/404" in kinds, fmt
        first_ok = kinds.index("ok") if "ok" in kinds else len(kinds)
        assert all(k == "status/404" for k in kinds[:first_ok]), fmt
        assert "status/404" not in kinds[first_ok:], fmt
    # Whole-written formats from `check` too.
    for fmt in ("junit", "html"):
        out = run("check", urls, "--no-store", "-f", fmt, code=1).stdout
        seen = dict.fromkeys(re.findall(r"/(status/404|ok)\?n=(\d+)", out))  # a URL once
        kinds = [k for k, _ in seen]
        assert kinds[:6] == ["status/404"] * 6 and "status/404" not in kinds[6:], fmt
    # The streamed listing keeps arrival order: a check of one ok URL exits 0, report too.
    ok_store = tmp_path / "ok.db"
    run("check", http_server.base_url + "/ok", "--store", ok_store, code=0)
    run("report", "--store", ok_store, code=0)


def test_junit_names_are_the_urls_and_changes_go_in_the_message(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    flip = {"status": 200}

    def handler(h: Any) -> None:
        from support.http import reply

        reply(h, flip["status"], "x")

    http_server.route("/flip", handler)
    url = http_server.base_url + "/flip"
    run("check", url, "--store", store, code=0)
    flip["status"] = 500
    run("check", url, "--store", store, "--retries", "0", code=1)
    root = ET.fromstring(run("report", "--store", store, "-f", "junit", code=1).stdout)
    (case,) = root.iter("testcase")
    assert case.get("name") == url
    failure = case.find("failure")
    assert failure is not None and failure.get("message", "").startswith("[newly broken] 500")


def test_markdown_stays_under_the_comment_limit_broken_first(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    long = "x" * 300
    lines = [f"{http_server.base_url}/status/404?n={i}&{long}" for i in range(400)]
    urls.write_text("\n".join(lines) + "\n")
    store = tmp_path / "s.db"
    run("check", urls, "--store", store, "-f", "jsonl", "-o", tmp_path / "o.jsonl", code=1)
    md = run("report", "--store", store, "-f", "markdown", code=1).stdout
    assert len(md) <= 65_536
    rows = [line for line in md.splitlines() if line.startswith("| ✗")]
    assert 100 < len(rows) < 400
    assert f"{400 - len(rows)} more results not shown" in md
    full = run("report", "--store", store, "-f", "markdown", "--markdown-limit", "0", code=1)
    assert len(full.stdout) > 65_536 and full.stdout.count("| ✗") == 400
    small = run("check", urls, "--no-store", "-f", "markdown", "--markdown-limit", "5000", code=1)
    assert len(small.stdout) <= 5000 and "more results not shown" in small.stdout


def test_report_quiet_starts_with_its_first_line(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    run("check", http_server.base_url + "/ok", "--store", store, code=0)
    out = run("report", "--store", store, "-q", code=0).stdout
    assert out.startswith("run 1, started"), repr(out[:80])


@pytest.mark.parametrize("processes", ["1", "2"])
def test_duplicate_lines_keep_every_source(
    http_server: TestHTTPServer, tmp_path: Path, processes: str
) -> None:
    slow = http_server.base_url + "/delay/1.5"  # still waiting when its duplicates are read
    lines = [f"{http_server.base_url}/ok?n={i}" for i in range(300)]
    lines[0] = slow
    lines[150] = slow
    lines[299] = slow.replace("http://", "HTTP://")  # the same URL once normalised
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(lines) + "\n")
    out = run("check", urls, "--no-store", "-f", "jsonl", "-w", "4", "-P", processes, code=0).stdout
    (rec,) = [r for r in records(out) if "/delay/" in r["url"]]
    assert rec["sources"] == [f"{urls}:1", f"{urls}:151", f"{urls}:300"]


def test_html_lists_the_first_sources_and_the_rest_behind_n_more(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        (docs / f"p{i}.md").write_text(f"[x]({http_server.base_url}/status/404)\n")
    page = run("check", docs, "--no-store", "-f", "html", code=1).stdout
    cell = re.search(r'<td class="src">(.*?)</td>', page)
    assert cell is not None
    before, _, more = cell.group(1).partition("<details")
    assert before.count("p") >= 3 and len(re.findall(r"p\d+\.md", before)) == 3
    assert "<summary>9 more</summary>" in more and len(re.findall(r"p\d+\.md", more)) == 9


def test_vv_logs_every_request_v_one_line_per_check(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    url = http_server.base_url + "/redirect/2"
    v = run("check", url, "--no-store", "-v", code=0).stderr
    vv = run("check", url, "--no-store", "-vv", code=0).stderr
    assert re.search(r"INFO .*HEAD .*/redirect/2 -> 200", v), v
    hops = re.findall(r"DEBUG\s+HEAD (\S+) -> (\d+) from 127\.0\.0\.1", vv)
    assert len(hops) == 3 and [s for _, s in hops] == ["302", "302", "200"], vv
    assert "location" in vv
    assert "DEBUG" not in v
    assert len(vv.splitlines()) > len(v.splitlines())


def test_control_characters_are_visible_in_every_format(tmp_path: Path) -> None:
    hostile = "http://127.0.0.1:1/a\x1b]0;owned\x07b\x1b[2Jc\u202ed"
    page = tmp_path / "page.html"
    page.write_text(f'<meta charset="utf-8"><a href="{hostile}">x</a>\n', encoding="utf-8")
    for fmt in FORMATS:
        out = run("check", page, "--no-store", "--retries", "0", "-f", fmt, code=1).stdout
        if fmt in ("json", "jsonl"):
            urls = [
                r["url"] for r in (records(out) if fmt == "jsonl" else json.loads(out)["results"])
            ]
            assert hostile in urls  # the exact string, JSON-escaped on the wire
            assert "\x1b" not in out
            continue
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, fmt
        assert "\\x1b]0;owned\\x07" in out.replace("\\\\", "\\"), (fmt, out[-2000:])
        if fmt == "junit":
            ET.fromstring(out)  # still well-formed XML 1.0
    # The store's listings too: a file name and a URL from outside.
    store = tmp_path / "s.db"
    named = tmp_path / "odd\x1b[2Jname.html"
    named.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    run("check", named, "--store", store, "--retries", "0", code=1)
    for argv in (("runs",), ("history", hostile), ("report",)):
        p = run(*argv, "--store", store)
        assert "\x1b" not in p.stdout + p.stderr and "\x07" not in p.stdout, argv
