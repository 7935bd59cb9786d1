"""Every kind of link the extractor reads, from fixture files of each kind (tests/data/links)."""

from __future__ import annotations

from pathlib import Path

from urlsweep.links.extract import parse_document
from urlsweep.links.extract.css import css_urls, parse_css
from urlsweep.links.extract.html import parse_html, parse_srcset, refresh_url

DATA = Path(__file__).parent / "data" / "links"


def test_every_url_attribute_of_html5_and_legacy_html() -> None:
    page = parse_html((DATA / "kinds.html").read_bytes())
    found = [(link.via, link.href) for link in page.links]
    assert page.base == "sub/"  # the first <base href> only
    assert found == [
        ("html[manifest]", "app.appcache"),
        ("meta[refresh]", "refresh.html"),
        ("meta[og:image]", "og.png"),
        ("meta[twitter:image]", "https://img.invalid/tw.png"),
        ("link[href]", "site.css"),
        ("link[imagesrcset]", "hero-1x.png"),
        ("link[imagesrcset]", "hero-2x.png"),
        ("style[@import]", "print.css"),
        ("style[url]", "hero.jpg"),
        ("style[url]", "i1.png"),
        ("style[url]", "i2.png"),
        ("script[src]", "app.js"),
        ("body[background]", "body-bg.png"),
        ("a[href]", "page.html"),
        ("a[ping]", "https://t.invalid/p1"),
        ("a[ping]", "https://t.invalid/p2"),
        ("area[href]", "area.html"),
        ("img[src]", "img.png"),
        ("img[longdesc]", "desc.html"),
        ("img[srcset]", "data:image/png;base64,AAA,BBB"),
        ("img[srcset]", "img-2x.png"),
        ("source[src]", "s.webp"),
        ("source[srcset]", "s-100.webp"),
        ("source[srcset]", "s-200.webp"),
        ("video[src]", "movie.mp4"),
        ("video[poster]", "poster.jpg"),
        ("track[src]", "subs.vtt"),
        ("audio[src]", "sound.ogg"),
        ("iframe[src]", "frame.html"),
        ("embed[src]", "flash.swf"),
        ("object[codebase]", "https://obj.invalid/base/"),
        ("object[data]", "https://obj.invalid/base/movie.swf"),
        ("object[archive]", "https://obj.invalid/base/one.jar"),
        ("object[archive]", "https://obj.invalid/base/two.jar"),
        ("applet[codebase]", "applets/"),
        ("applet[archive]", "applets/a.jar"),
        ("applet[archive]", "applets/b.jar"),
        ("form[action]", "submit.cgi"),
        ("input[src]", "button.png"),
        ("button[formaction]", "alt.cgi"),
        ("blockquote[cite]", "quote.html"),
        ("q[cite]", "q.html"),
        ("del[cite]", "del.html"),
        ("ins[cite]", "ins.html"),
        ("table[background]", "table.png"),
        ("td[background]", "td.png"),
        ("div[style]", "div-bg.png"),
        ("image[xlink:href]", "svg-image.png"),
        ("use[href]", "sprite.svg#icon"),
        ("a[xlink:href]", "svg-link.html"),
    ]
    lines = {link.href: link.line for link in page.links}
    assert lines["hero.jpg"] == 15 and lines["i2.png"] == 17 and lines["div-bg.png"] == 35
    refresh = next(link for link in page.links if link.attr == "refresh")
    assert refresh.is_page  # a crawl follows a refresh like a link
    assert not next(link for link in page.links if link.attr == "ping").is_page


def test_meta_refresh_content_forms() -> None:
    assert refresh_url("0; url=https://x.invalid/a") == "https://x.invalid/a"
    assert refresh_url("0;URL = 'b.html'") == "b.html"
    assert refresh_url('3, url="c d.html"') == "c d.html"
    assert refresh_url("1.5; next.html") == "next.html"
    assert refresh_url("5") is None  # a reload of the page itself
    assert refresh_url("  ") is None


def test_srcset_candidates_as_the_standard_splits_them() -> None:
    assert parse_srcset("a.png 1x,b.png 2x") == ["a.png", "b.png"]
    assert parse_srcset("a.png, b.png") == ["a.png", "b.png"]  # trailing comma ends a URL
    assert parse_srcset("data:x/y;base64,A,B 1x, c.png (junk, more) 2x, d.png") == [
        "data:x/y;base64,A,B",
        "c.png",
        "d.png",
    ]
    assert parse_srcset(" ,, ") == []


def test_linked_stylesheet_urls_and_imports() -> None:
    page = parse_document((DATA / "site.css").read_bytes(), "css")
    assert [(link.via, link.href, link.line) for link in page.links] == [
        ("css[@import]", "base.css", 2),
        ("css[url]", "bg.png", 3),
        ("css[url]", "font.woff2", 4),
        ("css[url]", "print-bg.png", 5),
    ]
    assert not any(link.is_page for link in page.links)


def test_css_tokenizer_cases_a_regex_gets_wrong() -> None:
    assert [u for u, _, _ in css_urls(r"a{b:url(x\)y.png)}")] == ["x)y.png"]
    assert css_urls('a{content:"url(no.png)"} /* url(no2.png) */') == ()
    assert [u for u, _, w in css_urls("@import 'a.css'; @IMPORT url(b.css);")] == [
        "a.css",
        "b.css",
    ]
    big = "a{b:c}" * 1000 + "d{e:url(big.png)}"  # over the small cache: cached by digest
    assert [u for u, _, _ in css_urls(big)] == ["big.png"]
    assert [u for u, _, _ in css_urls(big)] == ["big.png"]
    assert parse_css(b"").links == []


def test_style_attribute_without_a_url_is_not_tokenized_but_escapes_are() -> None:
    page = parse_html(b'<p style="color:red">x</p><p style="background:u\\72 l(esc.png)">y</p>')
    assert [link.href for link in page.links] == ["esc.png"]


def test_post_forms_and_css_names_are_not_links() -> None:
    page = parse_html(
        b'<form method="post" action="/post"><button formaction="/b1">x</button>'
        b'<button formaction="/b2" formmethod="get">y</button></form>'
        b'<form action="/get"><input type="submit" formaction="/i1" formmethod="POST"></form>'
        b"<style>@namespace svg url(http://www.w3.org/2000/svg);"
        b"@-moz-document url(http://x.invalid/) { a { b: url(in-doc.png) } }</style>"
    )
    assert [link.href for link in page.links] == ["/b2", "/get", "in-doc.png"]
