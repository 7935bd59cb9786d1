"""Markdown link extraction with markdown-it-py (CommonMark): inline, reference and autolinks.

Raw HTML inside Markdown (`<a href>`, `<img src>`) goes through the HTML extractor. Anchors
are GitHub-style heading slugs plus any ids/names in raw HTML.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from urlsweep.links.extract.html import parse_html
from urlsweep.links.extract.model import Link, PageLinks

# Bare URLs in text: only where Markdown saw plain text (never in code), up to whitespace or
# a character that rarely ends a URL in prose.
_BARE_URL = re.compile(r"https?://[^\s<>\"'`]+")
_TRAILING = ".,:;!?*_~'\""


# markdown-it and mdurl fill caches lazily (a Ruler's rule chains, mdurl's percent-encoding
# tables) and publish each before it is full: two threads parsing at once on a cold parser
# crashed in mdurl.encode (IndexError) or could run half a rule chain. Documents are read on a
# thread pool, so parses take turns; parsing is pure Python and holds the GIL anyway, so the
# lock costs no parallelism (the file reads and the HTML parses around it still overlap).
_PARSE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def reset_parsers() -> None:
    """Drop the shared parser (tests use it to start cold, as a fresh process does)."""
    with _PARSE_LOCK:
        _parser.cache_clear()


def github_slug(text: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    out = []
    for ch in text.strip().lower():
        cat = unicodedata.category(ch)
        if ch in " -":
            out.append("-" if ch == " " else ch)
        elif ch == "_" or cat[0] in "LNM":
            out.append(ch)
    return "".join(out)


# A heading's trailing attribute block: `{#id}` (Pandoc, Python-Markdown attr_list) or
# `{: #id .cls}` (kramdown); only blocks of #ids, .classes and key=value pairs.
_ATTR_BLOCK = re.compile(r"\s*\{:?((?:\s*(?:#[^\s{}#.]+|\.[^\s{}]+|[\w-]+=\S+))+)\s*\}\s*$")


def heading_attrs(text: str) -> tuple[str, list[str]]:
    """(heading text without its attribute block, the ids the block declares)."""
    m = _ATTR_BLOCK.search(text)
    if m is None:
        return text, []
    ids = [word[1:] for word in m.group(1).split() if word.startswith("#")]
    return text[: m.start()], ids


def _strip_bare(url: str) -> str:
    while url and url[-1] in _TRAILING:
        url = url[:-1]
    if url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1]
    return url


def _inline(tok: Token, out: PageLinks, bare_urls: bool) -> str:
    """Collect links of one inline block; return its plain text (for heading slugs)."""
    line = (tok.map[0] if tok.map else 0) + 1
    text: list[str] = []
    in_link = 0
    for child in tok.children or ():
        kind = child.type
        if kind in ("softbreak", "hardbreak"):
            line += 1
            text.append(" ")
        elif kind == "link_open":
            in_link += 1
            href = str(child.attrs.get("href") or "")
            if href:
                out.links.append(Link(href, line, "markdown", attr="link"))
        elif kind == "link_close":
            in_link -= 1
        elif kind == "image":
            src = str(child.attrs.get("src") or "")
            if src:
                out.links.append(Link(src, line, "img", attr="src"))
            text.append(child.content)
        elif kind in ("text", "code_inline"):
            text.append(child.content)
            if bare_urls and kind == "text" and not in_link:
                for m in _BARE_URL.finditer(child.content):
                    out.links.append(Link(_strip_bare(m.group()), line, "markdown", attr="bare"))
        elif kind == "html_inline":
            _raw_html(child.content, line - 1, out)
    return "".join(text)


def _raw_html(content: str, line_offset: int, out: PageLinks) -> None:
    found = parse_html(content, line_offset=line_offset)
    out.links.extend(found.links)
    out.anchors.update(found.anchors)


def parse_markdown(text: str, bare_urls: bool = False) -> PageLinks:
    """Links (with 1-based line numbers) and heading anchors of a Markdown document."""
    out = PageLinks()
    with _PARSE_LOCK:
        tokens = _parser().parse(text)
    slugs: dict[str, int] = {}
    heading = False
    for tok in tokens:
        if tok.type == "heading_open":
            heading = True
        elif tok.type == "heading_close":
            heading = False
        elif tok.type == "inline":
            plain = _inline(tok, out, bare_urls)
            if heading:
                text, ids = heading_attrs(plain)
                out.anchors.update(ids)
                # The slug of the text without the block (MkDocs, Pandoc with the block read as
                # attributes) and of the whole text (GitHub, which shows the block as text).
                for variant in dict.fromkeys((text, plain) if ids or text != plain else (plain,)):
                    slug = github_slug(variant)
                    n = slugs.get(slug, 0)
                    slugs[slug] = n + 1
                    out.anchors.add(slug if n == 0 else f"{slug}-{n}")
        elif tok.type == "html_block":
            _raw_html(tok.content, tok.map[0] if tok.map else 0, out)
    return out
