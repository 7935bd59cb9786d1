"""--remap rewrites URLs before they are checked; .urlsweepignore keeps URLs out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import sites
from urlsweep.inputs import Target
from urlsweep.links.remap import Remap, ignore_patterns
from urlsweep.options import OptionError


def test_remap_rules() -> None:
    remap = Remap.parse([r"^https://example\.com/(.*) http://127.0.0.1:8000/\1", "a b"])
    assert remap is not None
    assert remap("https://example.com/docs/x") == "http://127.0.0.1:8000/docs/x"
    assert remap("https://a.org/") == "https://b.org/"  # the first matching rule only
    assert remap("https://other.org/") == "https://other.org/"
    assert [t.raw for t in remap.targets([Target("https://example.com/y", "l:1")])] == [
        "http://127.0.0.1:8000/y"
    ]
    assert Remap.parse([]) is None
    for bad in ("justone", "( x", r"a \9"):
        with pytest.raises(OptionError):
            Remap.parse([bad])


def test_ignore_file(tmp_path: Path) -> None:
    f = tmp_path / "ign"
    f.write_text("# comment\n\n^https://ads\\.\n")
    assert ignore_patterns(str(f)) == (r"^https://ads\.",)
    f.write_text("ok\n(bad\n")
    with pytest.raises(OptionError, match="ign:2"):
        ignore_patterns(str(f))
    with pytest.raises(OptionError):
        ignore_patterns(str(tmp_path / "missing"))


def test_remap_and_ignore_through_the_cli(tmp_path: Path) -> None:
    site = sites.Site()
    try:
        site.routes["/docs/a"] = sites.html(b"ok")
        (tmp_path / ".urlsweepignore").write_text("^https://ads\\.example\\.org/\n")
        (tmp_path / "list.txt").write_text(
            "https://ads.example.org/x\nhttps://prod.invalid/docs/a\n"
        )
        (tmp_path / "d.html").write_text('<a href="https://prod.invalid/docs/a">a</a>\n')
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "urlsweep",
                "check",
                "list.txt",
                "d.html",
                "--no-store",
                "-f",
                "jsonl",
                "--remap",
                f"^https://prod\\.invalid/ {site.base}/",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert p.returncode == 0, p.stderr + p.stdout
        got = [json.loads(line) for line in p.stdout.splitlines()]
        by_url = {r["url"]: r for r in got}
        assert by_url["https://ads.example.org/x"]["error"] == "excluded"
        checked = [r for r in got if r["url"].startswith(site.base)]
        assert checked and all(r["ok"] for r in checked)
        assert {s for r in checked for s in r["sources"]} >= {"d.html:1"}
        assert site.requested("/docs/a")
        bad = subprocess.run(
            [
                sys.executable,
                "-m",
                "urlsweep",
                "check",
                "list.txt",
                "--no-store",
                "--remap",
                "onlyone",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert bad.returncode == 2 and "--remap" in bad.stderr
    finally:
        site.close()


def _crawl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "urlsweep",
            "crawl",
            "--no-store",
            "--no-config",
            "-f",
            "jsonl",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_remap_in_a_crawl_reads_the_new_host_and_reports_what_it_checked(tmp_path: Path) -> None:
    """A site's local build checked for its production URLs: the start URL and every link
    are rewritten; the records show the URLs checked (as lychee does), sources included."""
    site = sites.Site()
    prod = "https://docs.prod.invalid"  # never resolved: .invalid, and remapped anyway
    try:
        site.routes["/"] = sites.html(
            sites.page(f"{prod}/guide.html", "about.html", f"{prod}/img/logo.png")
        )
        site.routes["/guide.html"] = sites.html(sites.page(f"{prod}/gone.html", "/"))
        site.routes["/about.html"] = sites.html(sites.page(f"{prod}/guide.html#x"))
        site.routes["/img/logo.png"] = (200, {"Content-Type": "image/png"}, b"png")
        p = _crawl(
            f"{prod}/", "--remap", f"^https://docs\\.prod\\.invalid/ {site.base}/", cwd=tmp_path
        )
        got = {r["url"]: r for r in map(json.loads, p.stdout.splitlines())}
        assert p.returncode == 1, p.stderr
        assert set(got) == {
            site.base + path
            for path in ("/", "/guide.html", "/about.html", "/img/logo.png", "/gone.html")
        }
        # Production links are pages of the crawl, on the remapped host: read once each.
        assert site.gets("/guide.html") == 1 and site.requested("/robots.txt")
        assert set(got[site.base + "/guide.html"]["sources"]) == {
            site.base + "/",
            site.base + "/about.html",
        }
        assert got[site.base + "/gone.html"]["outcome"] == "broken"
        assert got[site.base + "/gone.html"]["sources"] == [site.base + "/guide.html"]
        # Without --remap the same crawl reads nothing of the site: the start is .invalid.
        plain = _crawl(f"{prod}/", cwd=tmp_path)
        records = [json.loads(line) for line in plain.stdout.splitlines()]
        assert [r["url"] for r in records] == [f"{prod}/"] and not records[0]["ok"]
    finally:
        site.close()


def test_remap_applies_to_extract_too(tmp_path: Path) -> None:
    site = sites.Site()
    try:
        site.routes["/p"] = sites.html(sites.page("https://prod.invalid/q"))
        site.routes["/q"] = sites.html(sites.page())
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "urlsweep",
                "check",
                "--extract",
                "--no-store",
                "-f",
                "jsonl",
                "https://prod.invalid/p",
                "--remap",
                f"^https://prod\\.invalid/ {site.base}/",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        got = {r["url"]: r for r in map(json.loads, p.stdout.splitlines())}
        assert p.returncode == 0, p.stderr
        assert got[site.base + "/q"]["ok"] and got[site.base + "/q"]["sources"] == [
            site.base + "/p"
        ]
        assert set(got) == {site.base + "/p", site.base + "/q"}
    finally:
        site.close()
