"""docs/security.md, link-dense and deeply nested pages: a page (or local document) gives at
most --max-page-links links (default 10000) and its record says how many more it had; a
link nested 1000 or 10000 elements deep (past libxml2's limit, where the whole rest of the
page used to vanish) is extracted. Real loopback servers that log what they are asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from support.http import TestHTTPServer, reply
from support.store_helpers import urlsweep
from urlsweep.links.extract import PageLinks
from urlsweep.links.extract.html import parse_html
from urlsweep.options.linking import DEFAULT_MAX_PAGE_LINKS

LINKS = 300  # links on /dense
DEPTHS = (1000, 10000)


def nested(depth: int) -> str:
    """A page with a link `depth` elements deep, and one after the nest."""
    return (
        "<html><body>\n"
        + "<div>" * depth
        + f'\n<a href="/t/{depth}">deep</a>\n'
        + "</div>" * depth
        + f'\n<a href="/after/{depth}">after</a></body></html>'
    )


@pytest.fixture(scope="module")
def site() -> Iterator[TestHTTPServer]:
    dense = "".join(f'<a href="/d/{i}">{i}</a>\n' for i in range(LINKS)) + '<p id="end">'

    def page(body: str) -> object:
        return lambda h: reply(h, 200, body, content_type="text/html")

    def ok(h: BaseHTTPRequestHandler) -> None:
        reply(h, 200, "ok\n")

    with TestHTTPServer("127.0.0.1") as s:
        s.route("/dense", page(dense))  # type: ignore[arg-type]
        for depth in DEPTHS:
            s.route(f"/deep/{depth}", page(nested(depth)))  # type: ignore[arg-type]
        for prefix in ("/d/*", "/t/*", "/after/*"):
            s.route(prefix, ok)
        yield s


def records(path: Path) -> dict[str, dict[str, object]]:
    return {r["url"]: r for r in map(json.loads, path.read_text().splitlines())}


def asked(server: TestHTTPServer) -> set[str]:
    with server.lock:
        return {r.path for r in server.requests}


def test_a_page_gives_at_most_max_page_links_and_its_record_says_so(
    site: TestHTTPServer, tmp_path: Path
) -> None:
    for command in (["crawl", "--depth", "1"], ["check", "--extract"]):
        site.clear()
        out = tmp_path / "out.jsonl"
        p = urlsweep(
            *command, "--no-store", "--max-page-links", "50", "-f", "jsonl", "-o", out,
            site.url("/dense"),
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        got = records(out)
        taken = {site.url(f"/d/{i}") for i in range(50)}
        assert set(got) == {site.url("/dense"), *taken}, command  # 51 records, not 301
        detail = str(got[site.url("/dense")]["detail"])
        assert detail.startswith("250 more links not checked: only the first 50 links"), detail
        assert "--max-page-links" in detail
        # and a line on stderr, as the text output shows no detail of an ok record
        assert f"urlsweep: warning: {site.url('/dense')}: {detail}" in p.stderr
        assert all(got[u]["status"] == 200 for u in taken)
        assert not {f"/d/{i}" for i in range(50, LINKS)} & asked(site)  # the rest never asked


def test_the_default_cap_holds_for_documents_and_zero_lifts_it(tmp_path: Path) -> None:
    doc = tmp_path / "many.html"
    n = DEFAULT_MAX_PAGE_LINKS + 50
    doc.write_text("".join(f'<a href="http://127.0.0.1:9/p/{i}">x</a>\n' for i in range(n)))
    out = tmp_path / "dump.jsonl"
    p = urlsweep("check", "--no-store", "--dump", "-f", "jsonl", "-o", out, doc, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    got = records(out)
    assert len(got) == DEFAULT_MAX_PAGE_LINKS + 1  # the links kept, and the document's record
    cut = got["many.html"]
    assert cut["outcome"] == "skipped" and str(cut["detail"]).startswith("50 more links")
    assert "http://127.0.0.1:9/p/9999" in got and "http://127.0.0.1:9/p/10000" not in got
    small = tmp_path / "small.md"
    small.write_text("".join(f"[x](http://127.0.0.1:9/m/{i})\n" for i in range(30)))
    for cap, want in (("10", 11), ("0", 30)):
        p = urlsweep(
            "check", "--no-store", "--dump", "--max-page-links", cap, "-f", "jsonl", "-o", out,
            small, cwd=tmp_path,
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        assert len(records(out)) == want, cap


def test_anchors_past_the_cut_still_count() -> None:
    page = parse_html(b'<a href="/1">1</a><a href="/2">2</a><a href="/3">3</a><p id="late">')
    cut = parse_html(b'<a href="/1">1</a><a href="/2">2</a><a href="/3">3</a><p id="late">', 0, 2)
    assert [link.href for link in page.links] == ["/1", "/2", "/3"] and page.dropped == 0
    assert [link.href for link in cut.links] == ["/1", "/2"] and cut.dropped == 1
    assert cut.anchors == page.anchors == {"late"}


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_link_nested_deeper_than_libxml2_goes_is_extracted(depth: int) -> None:
    page = parse_html(nested(depth).encode())
    assert [(link.href, link.line) for link in page.links] == [
        (f"/t/{depth}", 3),
        (f"/after/{depth}", 5),
    ]


def test_past_libxml2s_depth_every_kind_of_link_is_read_as_lxml_reads_it() -> None:
    """The other parser finds what lxml finds (links, lines, kinds, anchors, base, forms
    that POST left out) in the page of every link kind, nested 10 or 3000 deep."""
    kinds = (Path(__file__).parent / "data" / "links" / "kinds.html").read_text()

    def nest(n: int) -> bytes:
        page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "<div>" * n, kinds, count=1)
        return page.replace("</body>", "</div>" * n + "</body>").encode()

    def seen(page: PageLinks) -> list[tuple[str, int, str, str, bool]]:
        return [(x.href, x.line, x.kind, x.attr, x.nofollow) for x in page.links]

    shallow, deep = parse_html(nest(10)), parse_html(nest(3000))
    assert len(shallow.links) > 40 and seen(deep) == seen(shallow)
    assert deep.anchors == shallow.anchors and deep.base == shallow.base


def test_deeply_nested_pages_and_documents_are_checked_in_full(
    site: TestHTTPServer, tmp_path: Path
) -> None:
    site.clear()
    out = tmp_path / "deep.jsonl"
    pages = [site.url(f"/deep/{d}") for d in DEPTHS]
    p = urlsweep("check", "--extract", "--no-store", "-f", "jsonl", "-o", out, *pages)
    assert p.returncode == 0, p.stderr
    links = {site.url(f"/{kind}/{d}") for d in DEPTHS for kind in ("t", "after")}
    assert set(records(out)) == {*pages, *links}
    assert {f"/t/{d}" for d in DEPTHS} <= asked(site)
    doc = tmp_path / "deep.html"
    doc.write_text(nested(10000).replace('"/', '"http://127.0.0.1:9/'))
    p = urlsweep("check", "--no-store", "--dump", "-f", "jsonl", "-o", out, doc, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    got = records(out)
    assert {u: r["sources"] for u, r in got.items()} == {
        "http://127.0.0.1:9/t/10000": ["deep.html:3"],
        "http://127.0.0.1:9/after/10000": ["deep.html:5"],
    }
