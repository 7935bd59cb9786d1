"""Fragments beyond one page: Markdown heading attributes, links to directories (their index
page), and `--check-fragments` on plain URL lists (each page downloaded once)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import sites
from urlsweep.inputs import Target
from urlsweep.links.extract.markdown import heading_attrs, parse_markdown
from urlsweep.links.listfragments import ListFragments
from urlsweep.options import Options

DATA = Path(__file__).parent / "data" / "links"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "urlsweep", *args, "--no-store", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_heading_attribute_blocks_define_anchors_and_slugs_stay() -> None:
    page = parse_markdown((DATA / "headings.md").read_text())
    assert {"custom-id", "kd-id", "pm-id"} <= page.anchors
    # the generated slugs stay: of the text without the block, and as GitHub shows it
    assert {"custom", "custom-custom-id", "kramdown-style", "python-markdown"} <= page.anchors
    assert {"plain-heading", "attrs", "attrs-class-only"} <= page.anchors
    assert heading_attrs("Set {a, b}") == ("Set {a, b}", [])
    assert heading_attrs("Two {#a #b}") == ("Two", ["a", "b"])


def test_fragment_on_a_directory_link_reads_its_index_page(tmp_path: Path) -> None:
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "index.html").write_text('<h2 id="intro">Intro</h2>')
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.md").write_text("# Notes\n\n## Setup\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "index.md").write_text(
        "[a](guide/#intro) [b](guide/#nope) [c](notes/#setup) [d](empty/#x) [e](empty/#top)\n"
    )
    p = run("check", "index.md", "--check-fragments", "-f", "jsonl", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    broken = {r["url"]: r["detail"] for r in map(json.loads, p.stdout.splitlines()) if not r["ok"]}
    assert set(broken) == {"guide#nope", "empty#x"}
    assert "no anchor #nope" in broken["guide#nope"]
    assert "without an index page (index.html" in broken["empty#x"]
    p = run("check", "index.md", "--check-fragments", "--index-file", "README.md", cwd=tmp_path)
    assert "guide#intro" in p.stdout  # index.html is no index page any more


@pytest.fixture(scope="module")
def anchored() -> Iterator[sites.Site]:
    site = sites.Site()
    site.routes["/doc.html"] = sites.html(b'<h1 id="one">1</h1><p id="Two">2</p>')
    site.routes["/data.json"] = (200, {"Content-Type": "application/json"}, b"{}")
    yield site
    site.close()


def rows(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_url_list_fragments_download_each_page_once(anchored: sites.Site, tmp_path: Path) -> None:
    b = anchored.base
    lines = [
        f"{b}/doc.html",
        f"{b}/doc.html#one",
        f"{b}/doc.html#two",  # ids are case-sensitive: #Two exists, #two does not
        f"{b}/doc.html#Two",
        f"{b}/doc.html#one",
        f"{b}/doc.html#top",
        f"{b}/data.json#x",  # not a document: its fragment cannot be checked
    ]
    (tmp_path / "urls.txt").write_text("\n".join(lines) + "\n")
    p = run("check", "urls.txt", "--check-fragments", "-f", "jsonl", "-w", "2", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    got = rows(p.stdout)
    broken = [r for r in got if not r["ok"]]
    assert [(r["url"], r["error"], r["sources"]) for r in broken] == [
        (f"{b}/doc.html#two", "missing_fragment", ["urls.txt:3"])
    ]
    page = next(r for r in got if r["url"] == f"{b}/doc.html" and r["method"] == "GET")
    assert page["sources"] == ["urls.txt:2", "urls.txt:3", "urls.txt:4", "urls.txt:5", "urls.txt:6"]
    assert anchored.gets("/doc.html") == 1  # one download for four fragments
    assert any(r["url"] == f"{b}/data.json" and r["ok"] for r in got)


def test_list_fragments_library(anchored: sites.Site) -> None:
    b = anchored.base
    run_ = ListFragments(
        [Target(f"{b}/doc.html#one", "a:1"), Target(f"{b}/doc.html#zz", "a:2")], Options(timeout=10)
    )
    got = list(run_)
    assert [r.url for r in got] == [f"{b}/doc.html", f"{b}/doc.html#zz"]
    assert got[1].error == "missing_fragment" and got[1].sources == ("a:2",)
