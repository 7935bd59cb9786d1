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
