"""URLs in CSS: `url(...)`, `@import`, `image-set()` and `src()`, read with tinycss2.

A real tokenizer, not a regular expression: comments, escapes (`url(a\\)b.png)`), quoted and
unquoted forms and strings that merely contain "url(" are told apart as a browser does.
Used for `<style>` blocks, `style` attributes and linked `.css` files.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import tinycss2
from tinycss2 import ast

from urlsweep.links.extract.model import Link, PageLinks

# Functions whose string arguments are URLs (url("x") is a function block in tinycss2).
_URL_FUNCTIONS = frozenset({"url", "src"})
_BLOCKS = (ast.CurlyBracketsBlock, ast.SquareBracketsBlock, ast.ParenthesesBlock)
# At-rules whose URLs are names or conditions, never fetched.
_NOT_FETCHED = frozenset({"namespace", "document", "-moz-document"})
_SET_FUNCTIONS = frozenset({"image-set", "-webkit-image-set"})


Found = tuple[tuple[str, int, str], ...]
_SMALL = 2048  # style attributes and short blocks: cached by their text
_BIG_CACHE = 128  # bigger stylesheets: cached by digest, so the cache never holds their text
_big: OrderedDict[bytes, Found] = OrderedDict()
_big_lock = threading.Lock()


def css_urls(text: str) -> Found:
    """(url, 1-based line, "url" or "@import") for every URL the stylesheet references.

    Cached: a site repeats the same `<style>` block and `style` attributes on every page,
    and tokenizing in Python costs more than parsing the HTML around it in C.
    """
    if len(text) <= _SMALL:
        return _small(text)
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    with _big_lock:
        found = _big.get(key)
        if found is not None:
            _big.move_to_end(key)
            return found
    found = _tokenize(text)
    with _big_lock:
        _big[key] = found
        if len(_big) > _BIG_CACHE:
            _big.popitem(last=False)
    return found


@lru_cache(maxsize=4096)
def _small(text: str) -> Found:
    return _tokenize(text)


def _tokenize(text: str) -> Found:
    return tuple(_walk(tinycss2.parse_component_value_list(text, skip_comments=True)))


def _first_string(args: Iterable[Any]) -> str | None:
    for tok in args:
        if isinstance(tok, ast.WhitespaceToken):
            continue
        return tok.value if isinstance(tok, ast.StringToken) else None
    return None


def _walk(tokens: list[Any]) -> Iterator[tuple[str, int, str]]:
    at: str | None = None  # the at-rule whose prelude is being read
    for tok in tokens:
        if isinstance(tok, ast.WhitespaceToken):
            continue
        if isinstance(tok, ast.AtKeywordToken):
            at = tok.lower_value
            continue
        if at in _NOT_FETCHED:  # @namespace url(...) names, @document url(...) matches
            if isinstance(tok, ast.LiteralToken) and tok.value == ";":
                at = None
            elif isinstance(tok, ast.CurlyBracketsBlock):
                at = None
                yield from _walk(tok.content)
            continue
        what = "@import" if at == "import" else "url"
        if (isinstance(tok, ast.LiteralToken) and tok.value == ";") or isinstance(tok, _BLOCKS):
            at = None
        if isinstance(tok, ast.URLToken):
            yield tok.value, tok.source_line, what
        elif isinstance(tok, ast.StringToken):
            if what == "@import":
                yield tok.value, tok.source_line, what
                at = None  # only the first string: `@import "a.css" layer("b")`
        elif isinstance(tok, ast.FunctionBlock):
            name = tok.lower_name
            if name in _URL_FUNCTIONS:
                value = _first_string(tok.arguments)
                if value is not None:
                    yield value, tok.source_line, what
                at = None
            elif name in _SET_FUNCTIONS:
                for arg in tok.arguments:
                    if isinstance(arg, ast.StringToken):
                        yield arg.value, arg.source_line, "url"
                yield from _walk(tok.arguments)
            else:
                yield from _walk(tok.arguments)
        elif isinstance(tok, _BLOCKS):
            yield from _walk(tok.content)


def css_links(text: str, out: list[Link], line: int, kind: str, attr: str | None = None) -> None:
    """Append the URLs of CSS `text` (starting at document line `line`) as links.

    `attr` None: a stylesheet, each link's attribute is "url" or "@import"; else the HTML
    attribute the CSS sits in (`style`).
    """
    for url, at, what in css_urls(text):
        if url.strip():
            out.append(Link(url.strip(), line + at - 1, kind, False, attr or what))


def parse_css(data: bytes | str) -> PageLinks:
    """A linked stylesheet: its links (kind "css"); CSS has no anchors."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    out = PageLinks()
    css_links(text, out.links, 1, "css")
    return out
