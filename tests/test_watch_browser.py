"""The live page of `urlsweep watch --serve` in Debian's headless chromium, judged by the
DOM its script renders: rows from /api/status, sparklines, filters from the address, and a
URL carrying markup shown as text, never run."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from support.http import TestHTTPServer
from test_html_browser import CHROMIUM, chromium
from test_watch_server import Watch, rounds_at_least

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (make test installs Debian's chromium when run as root)",
)


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.title = ""
        self.tags: list[str] = []
        self.rows: list[tuple[bool, dict[str, str | None], str]] = []
        self._row: list[str] | None = None
        self._attrs: dict[str, str | None] = {}
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "title" and "svg" not in self.tags:
            self._in_title = True
        elif tag == "tr" and "data-outcome" in a:
            self._row, self._attrs = [], a
        elif tag == "polyline" and self._row is not None:
            self._row.append("[spark]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append(("hidden" in self._attrs, self._attrs, "".join(self._row)))
            self._row = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row.append(data)
        if self._in_title:
            self.title += data


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Watch, list[str]]]:
    tmp = tmp_path_factory.mktemp("live")
    http_server = TestHTTPServer()
    http_server.start()
    payload = (
        "/\"><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    )
    urls = [http_server.url("/ok"), http_server.url("/status/404"), http_server.url(payload)]
    listing = tmp / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    w = Watch(str(listing), "--every", "0.3s", "--no-store", "--retries", "0")
    try:
        w.wait_for("/metrics", rounds_at_least(3))
        yield w, urls
    finally:
        w.stop()
        http_server.stop()


def dom(tmp: Path, url: str) -> _Dom:
    # Names still resolve to nothing; only the watch's loopback address is let through (the
    # last --host-resolver-rules given wins over the helper's).
    p = chromium(
        tmp,
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=4000",
        "--dump-dom",
        url,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    d = _Dom()
    d.feed(p.stdout)
    return d


def test_page_renders_from_script_and_markup_in_urls_never_runs(
    live: tuple[Watch, list[str]], tmp_path: Path
) -> None:
    w, urls = live
    d = dom(tmp_path, w.base + "/")
    assert d.body.get("data-ready") == "1"  # the page's own script ran
    assert int(d.body.get("data-polls") or 0) >= 1  # and updated it from /api/status
    assert int(d.body.get("data-round") or 0) >= 3
    assert d.title == "urlsweep watch"  # the payload sets 'pwned' if it runs
    assert "img" not in d.tags and d.tags.count("script") == 1
    assert len(d.rows) == 3 and not any(hidden for hidden, _, _ in d.rows)
    by_url = {next(u for u in urls if text.startswith(u)): (a, text) for _, a, text in d.rows}
    assert set(by_url) == set(urls)  # the payload URL shown as text, whole
    attrs, text = by_url[urls[1]]
    assert attrs["data-outcome"] == "broken" and "404" in text
    attrs, text = by_url[urls[0]]
    assert attrs["data-outcome"] == "ok" and "100.00 %" in text  # uptime over the day
    assert all("[spark]" in text for _, _, text in d.rows)  # sparklines drawn by the script


def test_filters_from_the_address(live: tuple[Watch, list[str]], tmp_path: Path) -> None:
    w, urls = live
    d = dom(tmp_path, w.base + "/#outcome=broken")
    shown = [text for hidden, _, text in d.rows if not hidden]
    assert len(d.rows) == 3 and d.body.get("data-shown") == str(len(shown))
    assert any(t.startswith(urls[1]) for t in shown)
    assert not any(t.startswith(urls[0]) for t in shown)  # ok: filtered out
    host = urls[0].split("/")[2]
    d = dom(tmp_path, w.base + f"/#host={host}&outcome=ok")
    shown = [text for hidden, _, text in d.rows if not hidden]
    assert len(shown) == 1 and shown[0].startswith(urls[0])
