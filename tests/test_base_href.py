"""`<base href>` moves every link of its document, relative or absolute, wherever it stands:
in local files (on disk, under --root-dir, under --base-url) and in crawled pages alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import sites
from urlsweep.links.resolve import Base, document_base, page_base, resolve

CMD = [sys.executable, "-m", "urlsweep"]


def run(*args: str, cwd: Path) -> tuple[int, dict[str, dict[str, object]]]:
    proc = subprocess.run(
        [*CMD, "check", "--no-store", "--no-config", "-f", "jsonl", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, {str(r["url"]): r for r in records}


def test_relative_base_href_in_a_local_file_is_followed(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "sub" / "there.html").write_text("<p id='x'>x</p>")
    # The <base> comes after the first link: it still applies to the whole document.
    (docs / "index.html").write_text(
        '<html><head><link rel="next" href="there.html"><base href="sub/"></head>'
        '<body><a href="there.html#x">t</a> <a href="../index.html">up</a>'
        ' <a href="gone.html">gone</a></body></html>'
    )
    code, by_url = run("--check-fragments", "docs/index.html", cwd=tmp_path)
    assert by_url["docs/sub/there.html"]["outcome"] == "ok"
    assert by_url["docs/index.html"]["outcome"] == "ok"
    assert by_url["docs/sub/gone.html"]["error"] == "missing_file"
    assert "docs/there.html" not in by_url  # read without the base, it was a false missing_file
    assert code == 1


def test_root_relative_base_href_needs_the_root_dir(tmp_path: Path) -> None:
    (tmp_path / "site" / "docs").mkdir(parents=True)
    (tmp_path / "site" / "docs" / "a.html").write_text("a")
    (tmp_path / "site" / "page.html").write_text(
        '<base href="/docs/"><a href="a.html">a</a> <a href="b.html">b</a>'
    )
    code, by_url = run("--root-dir", "site", "site/page.html", cwd=tmp_path)
    assert by_url["site/docs/a.html"]["outcome"] == "ok"
    assert by_url["site/docs/b.html"]["error"] == "missing_file"
    _, without = run("site/page.html", cwd=tmp_path)
    assert {r["outcome"] for r in without.values()} == {"skipped"}
    assert code == 1


def test_relative_base_href_on_a_crawled_page_and_under_base_url(tmp_path: Path) -> None:
    site = sites.Site("127.0.0.1")
    try:
        site.routes["/"] = sites.html(
            b'<html><head><base href="sub/"></head><body><a href="x.html">x</a></body></html>'
        )
        site.routes["/sub/x.html"] = sites.html(sites.page())
        proc = subprocess.run(
            [*CMD, "crawl", "--no-store", "--no-config", "--no-sitemap", "-f", "jsonl", site.base],
            capture_output=True,
            text=True,
            timeout=60,
        )
        urls = {json.loads(line)["url"] for line in proc.stdout.splitlines()}
        assert f"{site.base}/sub/x.html" in urls and proc.returncode == 0
        # A local copy of the page published at the site's root resolves the same way.
        (tmp_path / "index.html").write_text('<base href="sub/"><a href="x.html">x</a>')
        code, by_url = run("--base-url", site.base + "/", "index.html", cwd=tmp_path)
        assert by_url[f"{site.base}/sub/x.html"]["status"] == 200 and code == 0
    finally:
        site.close()


def test_one_resolver_for_pages_and_files() -> None:
    page = page_base("http://127.0.0.1:9/a/b.html", "../c/")
    assert page == Base(url="http://127.0.0.1:9/c/")
    found = resolve("d.html#f", page)
    assert found is not None and (found.kind, found.target, found.fragment) == (
        "url",
        "http://127.0.0.1:9/c/d.html",
        "f",
    )
    local = document_base("docs/a/index.html", "../img/", None, None)
    img = resolve("logo.png", local)
    assert img is not None and (img.kind, img.target) == ("file", "docs/img/logo.png")
    assert resolve("mailto:x@example.invalid", page) is None
    assert resolve("file:///etc/hosts", page) is None  # a web page cannot link to our disk
