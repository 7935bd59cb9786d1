"""Where a link points: the one resolver for crawled pages and local documents alike.

A document is read against a `Base`: the URL it is served at (a crawled page, or a local
file published under `--base-url`), or, for a local file with no URL, its own directory and
the `--root-dir` that root-relative links point into. Its first `<base href>` (relative or
absolute) moves that base for every link of the document, wherever the element stands, as
in browsers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit

from urlsweep.links.graph import url_key


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


@lru_cache(maxsize=4096)
def _origin(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def _web(href: str) -> bool:
    return href.startswith("//") or urlsplit(href).scheme.lower() in ("http", "https")


def page_base(final_url: str, base_href: str | None) -> Base:
    """The base of a page fetched from `final_url` (after redirects); a `<base href>` that
    cannot be parsed is ignored."""
    try:
        return Base(url=urljoin(final_url, base_href) if base_href else final_url)
    except ValueError:
        return Base(url=final_url)


def document_base(
    path: str, base_href: str | None, published: str | None, root: str | None
) -> Base:
    """The base of local document `path`; `published` is its URL under --base-url, if any."""
    if published is not None:
        return Base(url=urljoin(published, base_href) if base_href else published, doc=path)
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
    href = href.strip()
    if href.startswith("/") and not href.startswith("//") and "/." not in href:
        absolute = _origin(base) + href  # root-relative: the common case, no urljoin
    else:
        try:
            absolute = urljoin(base, href)
        except ValueError:  # "http://[x": its own key, the engine reports it invalid_url
            return href.partition("#")[0] or href, None
    absolute, sep, fragment = absolute.partition("#")
    key = url_key(absolute)
    if key is None:
        return None
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
