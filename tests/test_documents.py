"""Local HTML and Markdown documents: resolving, disk checks, sources, fragments, SARIF."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from support import sites

CMD = [sys.executable, "-m", "urlsweep"]
SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="module")
def web() -> Iterator[sites.Site]:
    site = sites.Site()
    site.routes["/ok"] = sites.html(sites.page())
    site.routes["/page.html"] = sites.html(sites.page(extra='<h2 id="here">h</h2>'))
    yield site
    site.close()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def docs(tmp_path: Path, web: sites.Site, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A docs folder; the current directory is its parent, so sources read docs/...:N."""
    w = web.base
    write(
        tmp_path / "docs",
        {
            "index.md": (
                "# Home\n"  # 1
                "\n"
                "[guide](guide/intro.md) and [start](guide/intro.md#getting-started)\n"  # 3
                "[bad anchor](guide/intro.md#nope)\n"  # 4
                "[missing](missing.md)\n"  # 5
                f"[web ok]({w}/ok) [web gone]({w}/gone)\n"  # 6
                "![logo](img/logo.png) [css](/assets/style.css) <mailto:a@b.invalid>\n"  # 7
                "[page](page.html#top-section) [same page](#home)\n"  # 8
                "\n"
                "[ref link][r] and `[not a link](nowhere.md)`\n"  # 10
                "\n"
                "    [indented code](nowhere-either.md)\n"  # 12
                "\n"
                "[r]: guide/intro.md\n"
            ),
            "guide/intro.md": (
                "# Getting Started\n"  # 1
                "\n"
                "[back](../index.md) [also missing](../missing.md)\n"  # 3
                f"[web gone again]({w}/gone)\n"  # 4
            ),
            "page.html": (
                "<!doctype html>\n"  # 1
                "<html><body>\n"  # 2
                '<h1 id="top-section">Page</h1>\n'  # 3
                '<a href="guide/intro.md">guide</a>\n'  # 4
                '<a href="nope.html">nope</a>\n'  # 5
                '<img src="img/logo.png" srcset="img/logo.png 1x, img/missing@2x.png 2x">\n'  # 6
                "</body></html>\n"
            ),
            "img/logo.png": "png",
            "assets/style.css": "body{}",
            "notes.txt": f"{w}/ok\n",  # not a document: ignored when a directory is given
        },
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path / "docs"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CMD, *args], capture_output=True, text=True, timeout=60)


def records(p: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in p.stdout.splitlines()]


def broken(rows: list[dict[str, object]]) -> dict[str, set[str]]:
    return {str(r["url"]): set(r["sources"]) for r in rows if r["outcome"] == "broken"}  # type: ignore[call-overload]


def test_docs_folder_reports_exactly_the_broken_links_with_every_source(
    docs: Path, web: sites.Site
) -> None:
    p = run("check", "docs", "--root-dir", "docs", "--check-fragments", "-f", "jsonl")
    assert p.returncode == 1, p.stderr
    rows = records(p)
    assert broken(rows) == {
        "docs/missing.md": {"docs/index.md:5", "docs/guide/intro.md:3"},
        "docs/guide/intro.md#nope": {"docs/index.md:4"},
        f"{web.base}/gone": {"docs/index.md:6", "docs/guide/intro.md:4"},
        "docs/nope.html": {"docs/page.html:5"},
        "docs/img/missing@2x.png": {"docs/page.html:6"},
    }
    by_url = {r["url"]: r for r in rows}
    # Every sighting, in reading order: the reference link counts where it is used.
    assert by_url["docs/guide/intro.md"]["sources"] == [
        "docs/index.md:3",
        "docs/index.md:4",
        "docs/index.md:10",
        "docs/page.html:4",
    ]
    assert by_url["docs/assets/style.css"]["ok"] is True  # root-relative, via --root-dir
    assert by_url[f"{web.base}/ok"]["status"] == 200
    assert not any("nowhere" in str(u) for u in by_url)
    # a mailto: link is no web link: its address syntax is checked, and it is not requested
    assert by_url["mailto:a@b.invalid"]["outcome"] == "skipped"
    assert len(rows) == len(by_url), "each URL reported once"
    assert ("GET", "/gone") in web.log or ("HEAD", "/gone") in web.log


def test_offline_checks_local_files_only(docs: Path, web: sites.Site) -> None:
    web.clear()
    p = run("check", "docs", "--offline", "-f", "jsonl")
    rows = records(p)
    assert p.returncode == 1, p.stderr
    assert not web.log, "no network request with --offline"
    skipped = {r["url"] for r in rows if r["outcome"] == "skipped"}
    assert {f"{web.base}/ok", f"{web.base}/gone", "/assets/style.css"} == skipped - {
        "mailto:a@b.invalid"  # syntax checked only, also offline
    }
    assert set(broken(rows)) == {"docs/missing.md", "docs/nope.html", "docs/img/missing@2x.png"}
    # A clean document passes: skipped links are not failures (docs CI without network).
    (docs / "clean.md").write_text(f"[a](index.md) [b]({web.base}/gone)\n")
    p = run("check", "docs/clean.md", "--offline", "-q")
    assert p.returncode == 0, p.stdout + p.stderr


def test_globs_pick_documents_and_text_groups_by_file(docs: Path) -> None:
    p = run("check", "docs/**/*.md", "--offline", "-q")
    assert p.returncode == 1
    out = p.stdout.splitlines()
    # Grouped by source file, with the line of each broken link.
    first = out.index("docs/guide/intro.md")
    assert "3" in out[first + 1] and "docs/missing.md" in out[first + 1]
    assert "docs/index.md" in out and "nope.html" not in p.stdout  # page.html not matched


def test_base_url_turns_relative_links_into_urls(docs: Path, web: sites.Site) -> None:
    web.clear()
    write(docs, {"site/a.html": '<a href="b.html#x">b</a>\n<a href="/page.html#here">p</a>\n'})
    p = run(
        "check",
        "docs/site/a.html",
        "--base-url",
        f"{web.base}/",
        "--root-dir",
        "docs",
        "--check-fragments",
        "-f",
        "jsonl",
    )
    rows = records(p)
    assert broken(rows) == {f"{web.base}/site/b.html": {"docs/site/a.html:1"}}
    assert {r["url"] for r in rows} == {f"{web.base}/site/b.html", f"{web.base}/page.html"}
    assert web.gets("/page.html") == 1  # fetched once to read its anchors: #here is there


def test_sarif_output_validates_and_points_at_lines(docs: Path, tmp_path: Path) -> None:
    out = tmp_path / "links.sarif"
    p = run("check", "docs", "--offline", "-f", "sarif", "-o", str(out))
    assert p.returncode == 1
    log = json.loads(out.read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    found = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["properties"]["url"],
        )
        for r in log["runs"][0]["results"]
    }
    assert found == {
        ("docs/index.md", 5, "docs/missing.md"),
        ("docs/guide/intro.md", 3, "docs/missing.md"),
        ("docs/page.html", 5, "docs/nope.html"),
        ("docs/page.html", 6, "docs/img/missing@2x.png"),
    }
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"broken-link"}


def test_document_input_errors(docs: Path) -> None:
    for args, message in (
        (["check", "docs/nothing/*.md"], "no HTML or Markdown file matches"),
        (["check", "docs", "--base-url", "ftp://x/"], "not an http(s) URL"),
        (["check", "--extract", "docs"], "--extract"),
        (["check", "docs/img"], "no HTML or Markdown files"),
    ):
        p = run(*args)
        assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr
