"""Link extraction: HTML (lxml) and Markdown (markdown-it-py), with line numbers and anchors."""

from __future__ import annotations

from urlsweep.links.extract import Link
from urlsweep.links.extract.html import parse_html, parse_srcset
from urlsweep.links.extract.markdown import github_slug, parse_markdown


def test_html_links_of_every_kind_with_lines() -> None:
    page = parse_html(
        b"<!doctype html>\n<html><head>\n"  # 1-2
        b'<base href="/docs/">\n'  # 3
        b'<link rel="stylesheet" href="s.css"><link rel="preconnect" href="https://cdn.invalid">\n'
        b'<script src="app.js"></script>\n'  # 5
        b"</head><body>\n"  # 6
        b'<a href=" x.html " rel="nofollow noopener">x</a>\n'  # 7
        b'<img src="a.png" srcset="a.png 1x, b%20c.png 2x">\n'  # 8
        b'<picture><source srcset="w.webp 100w,  v.webp 200w"></picture>\n'  # 9
        b'<iframe src="frame.html"></iframe><a>no href</a><a href="">empty</a>\n'  # 10
        b'<p id="intro">hi</p><a name="legacy"></a>\n'  # 11
        b"</body></html>\n"
    )
    assert page.base == "/docs/"
    assert page.links == [
        Link("s.css", 4, "link-resource"),
        Link("app.js", 5, "script", attr="src"),
        Link("x.html", 7, "a", nofollow=True),
        Link("a.png", 8, "img", attr="src"),
        Link("a.png", 8, "img", attr="srcset"),
        Link("b%20c.png", 8, "img", attr="srcset"),
        Link("w.webp", 9, "source", attr="srcset"),
        Link("v.webp", 9, "source", attr="srcset"),
        Link("frame.html", 10, "iframe", attr="src"),
    ]
    assert page.anchors == {"intro", "legacy"}
    assert [link.is_page for link in page.links if link.kind in ("a", "iframe", "img")] == [
        True,
        False,
        False,
        False,
        True,
    ]


def test_html_survives_bad_and_empty_markup() -> None:
    assert parse_html(b"").links == []
    assert parse_html(b"   \n").links == []
    broken = parse_html(b"<a href='ok.html'>unclosed <div><p><a href=\"two.html\"")
    assert [link.href for link in broken.links] == ["ok.html"]
    assert parse_srcset(" a.png 1x ,b.png 2x,, ") == ["a.png", "b.png"]


def test_markdown_inline_reference_autolinks_images_and_raw_html() -> None:
    page = parse_markdown(
        "# Title\n"  # 1
        "\n"
        "A [link](a.md) and <https://auto.invalid/x>\n"  # 3
        'continues [ref][r] here, ![pic](p.png "t")\n'  # 4
        "\n"
        '<div id="raw"><a href="raw.html">raw</a></div>\n'  # 6
        "\n"
        "`[code](no.md)` and https://bare.invalid/y.\n"  # 8
        "\n"
        "```\n[fenced](no2.md)\n```\n"  # 10-12
        "\n"
        "[r]: ref.md\n"
    )
    assert page.links == [
        Link("a.md", 3, "markdown", attr="link"),
        Link("https://auto.invalid/x", 3, "markdown", attr="link"),
        Link("ref.md", 4, "markdown", attr="link"),
        Link("p.png", 4, "img", attr="src"),
        Link("raw.html", 6, "a"),
    ]
    assert page.anchors == {"title", "raw"}
    bare = parse_markdown("see https://bare.invalid/y. and (https://p.invalid/z)\n", bare_urls=True)
    assert [link.href for link in bare.links] == ["https://bare.invalid/y", "https://p.invalid/z"]


def test_github_heading_anchors() -> None:
    assert github_slug("Getting Started") == "getting-started"
    assert github_slug("What's new in v2.0?") == "whats-new-in-v20"
    assert github_slug("  C++ & Rust_FFI  ") == "c--rust_ffi"
    assert github_slug("Ünïcode Héading") == "ünïcode-héading"
    page = parse_markdown("# API\n## API\nSetext\n======\n# `code` *em*\n")
    assert page.anchors == {"api", "api-1", "setext", "code-em"}
