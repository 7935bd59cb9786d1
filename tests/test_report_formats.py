"""Every report format, parsed back: JSON, JSONL, CSV, JUnit XML, Markdown and HTML.

Reports come from a store holding hostile text (script tags, spreadsheet formulas, pipes,
backticks, control characters) and two runs, so change markers are exercised too.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.http import TestHTTPServer
from support.store_helpers import FORMULAS, XSS, log_server, sample_store, urlsweep
from urlsweep.cli.main import main
from urlsweep.result import FIELDS, Result

FIXED = "http://site.invalid/fixed"
BROKE = "http://site.invalid/page/0"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Result]]:
    path = tmp_path_factory.mktemp("formats") / "s.db"
    return path, sample_store(path)


def report(store: tuple[Path, list[Result]], fmt: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["report", "--store", str(store[0]), "-f", fmt, *args])
    assert result.exit_code == 1, result.output  # the run has broken URLs, as `check` says
    return result.output


def broken_first(results: list[Result]) -> list[Result]:
    """The order of every report: broken, unverifiable, then the rest, each as they came."""
    rank = {"broken": 0, "unverifiable": 1}
    return sorted(results, key=lambda r: rank.get(r.outcome, 2))


def test_json(store: tuple[Path, list[Result]]) -> None:
    doc = json.loads(report(store, "json"))
    expected = store[1]
    assert [Result.from_dict(r) for r in doc["results"]] == broken_first(expected)
    s = doc["summary"]
    assert s["total"] == len(expected) and s["ok"] == sum(r.ok for r in expected)
    assert s["by_outcome"]["tolerated"] == 1 and s["not_ok"] == s["total"] - s["ok"] - 1
    assert s["changes"] == {"newly_broken": [BROKE], "newly_fixed": [FIXED]}
    changes = {r["url"]: r["change"] for r in doc["results"] if r["change"]}
    assert changes == {BROKE: "newly_broken", FIXED: "newly_fixed"}


def test_jsonl(store: tuple[Path, list[Result]]) -> None:
    lines = report(store, "jsonl").splitlines()
    assert [Result.from_dict(json.loads(line)) for line in lines] == broken_first(store[1])


def test_csv_round_trip_and_formula_neutralisation(store: tuple[Path, list[Result]]) -> None:
    rows = list(csv.reader(io.StringIO(report(store, "csv"))))
    header, body = rows[0], rows[1:]
    assert header == [*FIELDS, "change"]
    assert len(body) == len(store[1])
    urls = [dict(zip(header, r, strict=True))["url"] for r in body]
    for formula in FORMULAS:
        assert "'" + formula in urls  # shown as text by spreadsheets, never evaluated
    assert XSS in urls  # other cells are left exactly as they were
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    change = {r[0]: r[-1] for r in body if r[-1]}
    assert change == {BROKE: "newly_broken", FIXED: "newly_fixed"}


def test_junit(store: tuple[Path, list[Result]]) -> None:
    root = ET.fromstring(report(store, "junit").encode())
    expected = store[1]
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(expected) == int(suite.get("tests", "-1"))
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert (
        len(failures)
        == sum(r.outcome == "broken" for r in expected)
        == int(suite.get("failures", "-1"))
    )
    assert len(errors) == 1 == int(suite.get("errors", "-1"))  # the 429
    assert len(skipped) == 1 == int(suite.get("skipped", "-1"))  # the tolerated 410
    names = [c.get("name", "") for c in cases]
    assert names == [r.url.replace("\x01", "\\x01") for r in broken_first(expected)]
    assert XSS in names and BROKE in names  # the URL is the name; the change is in the message
    assert "bad\\x01line" in names  # XML cannot carry \x01: written out, document still valid
    broke = next(c for c in cases if c.get("name") == BROKE).find("failure")
    assert broke is not None and broke.get("message", "").startswith("[newly broken] 503")
    slow = next(c for c in cases if c.get("name") == "http://site.invalid/slow")
    assert slow.get("time") == "10.000"
    failure = slow.find("failure")
    assert failure is not None and failure.get("type") == "timeout"


def test_markdown_escapes_everything(store: tuple[Path, list[Result]]) -> None:
    md = report(store, "markdown")
    assert md.startswith("## urlsweep report")
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + sum(not r.ok for r in store[1]) + 1  # header, not ok, fixed
    for row in rows:  # a pipe inside a cell never splits it
        assert len(re.findall(r"(?<!\\)\|", row)) == 5, row
    assert "<script>" not in re.sub(r"`[^`]*`", "", md)  # raw HTML only inside code spans
    assert "\\<b\\>not\\</b\\>" in md
    assert "`` http://a.invalid/pipe\\|and`tick` ``" in md
    assert "### Newly broken (1)" in md and f"- `{BROKE}`" in md
    assert "### Newly fixed (1)" in md


class _Page(HTMLParser):
    """What a browser would build: tags seen, and the text of each table cell."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_is_self_contained_and_escaped(store: tuple[Path, list[Result]]) -> None:
    page = report(store, "html")
    parser = _Page()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    scripts = [a for t, a in parser.tags if t == "script"]
    assert len(scripts) == 1 and scripts[0].get("nonce")
    assert "img" not in tags and "iframe" not in tags
    for tag, attrs in parser.tags:
        for name in ("src", "srcset"):
            assert name not in attrs, (tag, attrs)
        if tag == "a":
            assert (attrs.get("href") or "").startswith("http")
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    assert XSS in parser.cells  # the URL is there, as text
    assert "<script>alert('detail')</script>" in parser.cells
    csp = next(a for t, a in parser.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in (csp.get("content") or "")
    assert "//" not in re.sub(
        r"(href|data-v)=\"[^\"]*\"|<td[^>]*>.*?</td>", "", page
    )  # no URL loaded
    assert tags.count("tr") == len(store[1]) + 1
    assert page.count('data-change="newly_broken"') == 1
    assert page.count('data-change="newly_fixed"') == 1
    assert "<svg" in page and "Response time" in page


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    with log_server() as s:
        yield s


@pytest.mark.parametrize("fmt", ["junit", "markdown", "html"])
def test_check_writes_the_same_formats(fmt: str, server: TestHTTPServer, tmp_path: Path) -> None:
    urls = [f"{server.base_url}/ok", f"{server.base_url}/status/404"]
    out = tmp_path / f"out.{fmt}"
    p = urlsweep("check", "--no-progress", "--no-store", "-f", fmt, "-o", out, *urls)
    assert p.returncode == 1, p.stderr
    text = out.read_text()
    if fmt == "junit":
        suite = ET.fromstring(text).find("testsuite")
        assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    elif fmt == "markdown":
        assert "**1 of 2 URLs need attention**" in text and urls[1] in text
    else:
        parser = _Page()
        parser.feed(text)
        assert set(urls) <= set(parser.cells)


def test_report_of_empty_and_missing_runs(tmp_path: Path) -> None:
    from urlsweep.options import Options
    from urlsweep.store.db import Store

    with Store(tmp_path / "s.db") as s:
        s.begin_run(("x",), Options())
    runner = CliRunner()
    result: Any = runner.invoke(main, ["report", "--store", str(tmp_path / "s.db"), "-f", "html"])
    assert result.exit_code == 0 and "No results." in result.output
    result = runner.invoke(main, ["report", "--store", str(tmp_path / "s.db"), "-f", "markdown"])
    assert "**0 of 0 URLs need attention**" in result.output
    assert "The run was interrupted" in result.output  # it never ended


def test_every_format_name_loads_its_sink() -> None:
    from urlsweep.reports import FORMATS, Sink, sink_class

    for name in FORMATS:
        factory = sink_class(name)
        assert isinstance(factory, type) and issubclass(factory, Sink)
    with pytest.raises(ValueError, match="unknown format"):
        sink_class("yaml")
