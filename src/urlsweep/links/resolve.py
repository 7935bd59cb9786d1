"""Where a link points: the one resolver for crawled pages and local documents alike.

A document is read against a `Base`: the URL it is served at (a crawled page, or a local
file published under `--base-url`), or, for a local file with no URL, its own directory and
the `--root-dir` that root-relative links point into. Its first `<base href>` (relative or
absolute) moves that base for every link of the document, wherever the element stands, as
in browsers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

import can_ada

from urlsweep.links.graph import keyed, url_key

# What the URL Standard strips around a URL (C0 controls and space) and drops inside it.
_C0_SPACE = "".join(map(chr, range(33)))
_TAB_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_SLASHES = frozenset("/\\")


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where one link points: a network `url`, a local `file`, or `skip` (with why)."""

    kind: str
    target: str
    fragment: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Base:
    """What relative links of one document resolve against.

    `url` is an absolute http(s) URL when the document has one; otherwise links are files:
    relative ones under `folder` (the document's directory, moved by a relative `<base href>`),
    root-relative ones under `root` (None: they cannot be resolved, and are skipped).
    """

    url: str | None = None
    doc: str | None = None  # the local document (a "#fragment" link points at it)
    folder: str = "."
    root: str | None = None
    problem: str = ""  # set when the document's own <base href> cannot be followed


class _BaseParts(NamedTuple):
    """The prefixes of a base URL that relative links are appended to."""

    scheme: str  # "http" or "https"
    origin: str  # scheme://userinfo@host:port, for "/path"
    folder: str  # ... up to the last "/" of the path, for "path"
    path: str  # ... the whole path, for "?query"
    whole: str  # ... and the query, for "#fragment" and ""


@lru_cache(maxsize=4096)
def _base_parts(base: str) -> _BaseParts | None:
    """None when `base` is no http(s) URL the standard can parse."""
    try:
        url = can_ada.parse(base)
    except ValueError:
        return None
    scheme = url.protocol[:-1]
    if scheme not in ("http", "https"):
        return None
    auth = url.username + (":" + url.password if url.password else "")
    origin = f"{url.protocol}//{auth + '@' if auth else ''}{url.host}"
    path = url.pathname
    folder = origin + path[: path.rfind("/") + 1]
    return _BaseParts(scheme, origin, folder, origin + path, origin + path + url.search)


def join(base: str, href: str) -> str:
    """`href` made absolute against the http(s) URL `base`, as a browser does it (the
    WHATWG URL Standard), not as RFC 3986 and urllib's urljoin do: C0 controls and spaces
    around it are stripped, tabs and newlines inside it dropped, a backslash is a slash
    (`\\\\host\\x` is another host), `http:x` on an http page is relative. Dot segments
    (`../` past the root stays at the root), percent-encoding and IDNA are left to
    `normalise`, which parses the result with the same standard (Ada). Not parsed here:
    the result is a string for `url_key`, and its fragment is the link's own.
    """
    href = href.strip(_C0_SPACE)
    if "\t" in href or "\n" in href or "\r" in href:
        href = _TAB_NEWLINE.sub("", href)
    if href.startswith(("http://", "https://")):
        return href  # absolute: the common case of external links
    parts = _base_parts(base)
    if parts is None:
        return urljoin(base, href)
    scheme = _SCHEME.match(href)
    if scheme is not None:
        name = scheme.group()[:-1].lower()
        rest = href[scheme.end() :]
        if name != parts.scheme or (rest[:1] in _SLASHES and rest[1:2] in _SLASHES):
            return href  # another scheme, or an authority: absolute
        href = rest  # "http:x" on an http page: relative, as in browsers
    first = href[:1]
    if first in _SLASHES:
        if href[1:2] in _SLASHES:
            return f"{parts.scheme}:{href}"  # "//host/x", "\\\\host\\x"
        return parts.origin + href
    if not first:
        return parts.whole
    if first == "?":
        return parts.path + href
    if first == "#":
        return parts.whole + href
    return parts.folder + href


def _parsed(url: str) -> str:
    """`url` as the standard writes it (a base shown in records reads as it is used)."""
    try:
        return can_ada.parse(url).href
    except ValueError:
        return url


def _web(href: str) -> bool:
    return href.startswith("//") or urlsplit(href).scheme.lower() in ("http", "https")


def page_base(final_url: str, base_href: str | None) -> Base:
    """The base of a page fetched from `final_url` (after redirects); a `<base href>` that
    cannot be parsed is ignored."""
    try:
        return Base(url=_parsed(join(final_url, base_href)) if base_href else final_url)
    except ValueError:
        return Base(url=final_url)


def document_base(
    path: str, base_href: str | None, published: str | None, root: str | None
) -> Base:
    """The base of local document `path`; `published` is its URL under --base-url, if any."""
    if published is not None:
        url = _parsed(join(published, base_href)) if base_href else published
        return Base(url=url, doc=path)
    folder = os.path.dirname(path) or "."
    if not base_href:
        return Base(doc=path, folder=folder, root=root)
    if _web(base_href):
        return Base(url=urljoin("https:", base_href), doc=path)
    parts = urlsplit(base_href)
    if parts.scheme:  # file:, or another scheme no link of ours can follow
        if parts.scheme.lower() == "file":
            return Base(doc=path, folder=os.path.dirname(unquote(parts.path)) or "/", root=root)
        return Base(doc=path, problem=f"<base href> {base_href!r} is not a web or file URL")
    where = unquote(parts.path)
    inside = where if where.endswith("/") else os.path.dirname(where)  # "sub/" or "sub/x.html"
    if where.startswith("/"):
        if root is None:
            return Base(doc=path, problem="root-relative <base href>: give --root-dir")
        return Base(doc=path, folder=os.path.join(root, inside.lstrip("/")), root=root)
    return Base(doc=path, folder=os.path.normpath(os.path.join(folder, inside)), root=root)


def resolve_url(base: str, href: str) -> tuple[str, str | None] | None:
    """(url to check, fragment or None) for `href` against the absolute URL `base`;
    None for links nobody checks (mailto:, javascript:, data:, file: ...)."""
    try:
        absolute = join(base, href)
    except ValueError:  # urljoin on a base the standard cannot read: "http://[x"
        href = href.strip()
        return href.partition("#")[0] or href, None
    absolute, sep, fragment = absolute.partition("#")
    found = keyed(absolute)
    if found is None:
        return None
    key, valid = found
    if not valid:  # "//[x": reported as written, where it can be found in the page
        href = href.strip(_C0_SPACE)
        return href.partition("#")[0] or href, None
    return key, (fragment if sep else None)


def resolve(href: str, base: Base) -> Resolved | None:
    """Where `href` of the document read against `base` points; None for links nobody
    checks (mailto:, tel:, javascript:, data:, ftp: ...); kind "invalid" for one that
    cannot be parsed (`http://[x`): one invalid_url record, the other links unharmed."""
    try:
        return _resolve(href.strip(), base)
    except ValueError as exc:
        return Resolved("invalid", href.strip(), None, f"cannot parse URL: {exc}")


def _resolve(href: str, base: Base) -> Resolved | None:
    parts = urlsplit(href)
    scheme = parts.scheme.lower()
    fragment = parts.fragment if "#" in href else None
    if scheme and len(scheme) > 1:  # one letter: a Windows drive, not a scheme
        if scheme in ("http", "https"):
            return _network(href, fragment)
        if scheme == "file" and base.doc is not None:
            return Resolved("file", os.path.normpath(unquote(parts.path)), fragment)
        return None
    if base.url is not None:
        found = resolve_url(base.url, href)
        if found is None:
            return None
        return Resolved("url", found[0], found[1])
    if href.startswith("//"):
        return _network(urljoin("https:", href), fragment)
    if base.problem:
        return Resolved("skip", href, None, base.problem)
    if not parts.path:  # "#anchor" or "?q": this very document (or its <base href> folder)
        same = base.doc if base.folder == (os.path.dirname(base.doc or "") or ".") else None
        return Resolved("file", os.path.normpath(same or base.folder), fragment)
    path = unquote(parts.path)
    if path.startswith("/"):
        if base.root is None:
            return Resolved("skip", href, None, "root-relative link: give --root-dir or --base-url")
        return Resolved("file", os.path.normpath(os.path.join(base.root, path[1:])), fragment)
    return Resolved("file", os.path.normpath(os.path.join(base.folder, path)), fragment)


def _network(url: str, fragment: str | None) -> Resolved:
    return Resolved("url", url_key(url) or url.partition("#")[0], fragment)
