"""The HTML report in a real browser (Debian's headless chromium): it renders, its filter
works, and the script hidden in a URL never runs.

Chromium is told to resolve no name at all, so nothing can leave the machine even if the
page tried. `make test` installs chromium when it runs as root with apt; elsewhere these
tests are skipped with a message saying so.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.store_helpers import XSS, sample_store
from urlsweep.cli.main import main
from urlsweep.result import Result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (make test installs Debian's chromium when run as root)",
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Result]]:
    tmp = tmp_path_factory.mktemp("browser")
    results = sample_store(tmp / "s.db")
    out = tmp / "report.html"
    run = CliRunner().invoke(
        main, ["report", "--store", str(tmp / "s.db"), "-f", "html", "-o", str(out)]
    )
    assert run.exit_code == 1, run.output  # the sample run has broken URLs: report says so
    return out, results


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )


class _Dom(HTMLParser):
    """The rendered DOM: body attributes, element names, and each row (hidden or not)."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.title = ""
        self.tags: list[str] = []
        self.rows: list[tuple[bool, str]] = []
        self._row: list[str] | None = None
        self._hidden = False
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "title" and "svg" not in self.tags:  # the document's, not a chart's
            self._in_title = True
        elif tag == "tr" and "data-outcome" in a:
            self._row, self._hidden = [], "hidden" in a

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append((self._hidden, "".join(self._row)))
            self._row = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row.append(data)
        if self._in_title:
            self.title += data


def dom(page: Path, fragment: str = "") -> _Dom:
    p = chromium(page.parent, "--dump-dom", page.as_uri() + fragment)
    assert p.returncode == 0, p.stderr[-2000:]
    parsed = _Dom()
    parsed.feed(p.stdout)
    return parsed


def test_renders_and_injected_script_never_runs(page: tuple[Path, list[Result]]) -> None:
    path, results = page
    d = dom(path)
    assert d.body.get("data-ready") == "1"  # the report's own script ran
    assert d.title == "urlsweep report"  # the payload sets the title to 'pwned' if it runs
    assert "img" not in d.tags  # nor did its <img onerror> become an element
    assert len(d.rows) == len(results) and not any(hidden for hidden, _ in d.rows)
    assert d.body.get("data-shown") == str(len(results))
    assert any(XSS in text for _, text in d.rows)  # shown as text


def test_escaping_alone_stops_the_script(page: tuple[Path, list[Result]]) -> None:
    """Without the Content-Security-Policy safety net, escaping must still hold."""
    path, _ = page
    bare = path.with_name("no-csp.html")
    html = path.read_text()
    without = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert without != html
    bare.write_text(without)
    d = dom(bare)
    assert d.body.get("data-ready") == "1"
    assert d.title == "urlsweep report" and "img" not in d.tags


def test_filter_from_the_address(page: tuple[Path, list[Result]]) -> None:
    path, results = page
    d = dom(path, "#q=SITE.invalid/page/1")  # case-insensitive substring
    shown = [text for hidden, text in d.rows if not hidden]
    expected = [r for r in results if "site.invalid/page/1" in r.url]
    assert len(expected) == 3  # page/1, page/10, page/11
    assert len(shown) == len(expected) and d.body.get("data-shown") == "3"
    assert all("site.invalid/page/1" in t for t in shown)
    d = dom(path, "#outcome=broken&changed=1")  # broken, and changed since the last run
    shown = [text for hidden, text in d.rows if not hidden]
    assert len(shown) == 1 and "site.invalid/page/0" in shown[0]


def png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (no image library needed)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_screenshot(page: tuple[Path, list[Result]]) -> None:
    path, _ = page
    shot = path.parent / "report.png"
    p = chromium(
        path.parent,
        "--window-size=1280,1000",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        path.as_uri(),
    )
    assert p.returncode == 0 and shot.is_file(), p.stderr[-2000:]
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1000)
    # A blank or broken page compresses to almost nothing and has few distinct bytes.
    assert shot.stat().st_size > 20_000
    assert len(set(pixels)) > 100
    assert re.search(rb"[^\xff\x00]{64}", pixels)  # not one flat colour
