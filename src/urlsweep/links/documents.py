"""Local documents: HTML and Markdown files, directories and globs, and the links in them.

Every document is parsed before the first check, so each URL is checked once and reported
with every `file:line` that links to it (the price: memory for the whole link graph of the
documents, one entry per distinct URL and per sighting, never their text). Links to local
files are checked on disk here; network links go to the threaded engine.
"""

from __future__ import annotations

import dataclasses
import os
import queue
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Unpack
from urllib.parse import quote, unquote, urljoin

from urlsweep import result as R
from urlsweep.engine.pipeline import Engine
from urlsweep.engine.work import Work
from urlsweep.inputs import InputError, Target
from urlsweep.links.confine import Root
from urlsweep.links.doctypes import doc_kind, expand
from urlsweep.links.extract import PageLinks, cut_detail, links_cap, parse_document
from urlsweep.links.extract.kinds import KindFilter
from urlsweep.links.graph import (
    AnchorStore,
    LinkIndex,
    missing_fragments,
    url_key,
    with_sources,
)
from urlsweep.links.mail import MailChecker, is_mail_or_phone
from urlsweep.links.pages import check_with_anchors
from urlsweep.links.remap import Remap
from urlsweep.links.resolve import Base, document_base, resolve
from urlsweep.options import Options
from urlsweep.options.keywords import CheckOptions
from urlsweep.probe import steps as probe
from urlsweep.probe.context import CheckContext
from urlsweep.probe.policy import confine_credentials
from urlsweep.probe.steps import Check
from urlsweep.result import Result


@dataclass(frozen=True, slots=True)
class DocOptions:
    """How links in local documents are resolved and which are checked."""

    base_url: str | None = None  # the URL the root directory is published at
    root_dir: str | None = None  # where root-relative links (/x.html) point; default: cwd
    offline: bool = False  # check local files only; network links are skipped
    check_fragments: bool = False
    bare_urls: bool = False  # also plain-text URLs in Markdown
    kind: str | None = None  # "html" or "markdown" for every document, whatever its name
    allow_outside_root: bool = False  # follow local links out of the root (links/confine.py)
    kinds: KindFilter | None = None  # --include-kind/--exclude-kind
    index_files: tuple[str, ...] = ()  # a directory's index pages; () means INDEX_FILES
    check_mail: bool = False  # look up the domains of mailto: addresses (MX, else A)
    dns_server: tuple[str, int] | None = None  # for --check-mail; None: /etc/resolv.conf
    dump: bool = False  # list the links, check nothing (--dump)
    remap: Remap | None = None  # --remap rules, applied to network links


def _dumped(record: Result) -> Result:
    return dataclasses.replace(
        record, ok=False, outcome=R.SKIPPED, error=None, detail="not checked (--dump)"
    )


def _display(path: str) -> str:
    """Paths as people typed them: relative to the current directory when under it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def document_url(path: str, opts: DocOptions) -> str | None:
    """The published URL of a local document under `--base-url`, or None without one."""
    if not opts.base_url:
        return None
    rel = os.path.relpath(path, opts.root_dir or ".").replace(os.sep, "/")
    return urljoin(opts.base_url, quote(rel))


def base_of(path: str, page: PageLinks, opts: DocOptions) -> Base:
    """What the links of local document `path` resolve against (see links/resolve.py)."""
    try:
        return document_base(path, page.base, document_url(path, opts), opts.root_dir)
    except ValueError as exc:
        return Base(doc=path, problem=f"<base href> {page.base!r} cannot be parsed: {exc}")


def read_document(
    path: str, bare_urls: bool = False, kind: str | None = None, max_links: int | None = None
) -> PageLinks:
    kind = kind or doc_kind(path) or "html"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    return parse_document(data, kind, bare_urls=bare_urls, max_links=max_links)


# What a link to a directory shows, as web servers and site generators serve it: the first
# of these that exists is the page a `dir/#fragment` link points into.
INDEX_FILES = ("index.html", "index.htm", "README.md", "index.md")


class LocalFiles:
    """Checks links to local files on disk; anchors of linked documents parsed once, cached."""

    def __init__(self, anchors: AnchorStore, index_files: tuple[str, ...] = INDEX_FILES) -> None:
        self.anchors = anchors
        self.index_files = index_files

    def index_page(self, directory: str) -> str | None:
        for name in self.index_files:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
        return None

    def _anchors_of(self, path: str) -> frozenset[str] | None:
        known = self.anchors.get(path)
        if known is None and doc_kind(path) and os.path.isfile(path):
            try:
                known = frozenset(read_document(path, max_links=0).anchors)  # anchors only
            except InputError:
                return None
            self.anchors.put(path, known)
        return known

    def check(
        self,
        path: str,
        sources: tuple[str, ...],
        fragments: dict[str, tuple[str, ...]],
        check_fragments: bool,
    ) -> list[Result]:
        shown = _display(path)
        if not os.path.exists(path):
            return [
                Result(
                    url=shown,
                    error=R.MISSING_FILE,
                    detail="no such file or directory",
                    sources=sources,
                )
            ]
        record = Result(url=shown, ok=True, outcome=R.OK, sources=sources)
        if not check_fragments:
            return [record]
        if os.path.isdir(path):
            index = self.index_page(path)
            if index is None:
                return [record, *self._no_index(record, fragments)]
            return [record, *missing_fragments(record, fragments, self._anchors_of(index))]
        return [record, *missing_fragments(record, fragments, self._anchors_of(path))]

    def _no_index(self, record: Result, fragments: dict[str, tuple[str, ...]]) -> list[Result]:
        """A `dir/#fragment` link to a directory with no index page: nothing holds the anchor."""
        names = ", ".join(self.index_files)
        return [
            dataclasses.replace(
                found,
                detail=f"a directory without an index page ({names}) for "
                f"#{unquote(found.url[len(record.url) + 1 :])}",
            )
            for found in missing_fragments(record, fragments, frozenset())
        ]


class DocumentRun:
    """Check every link in local documents (and any further targets, e.g. URL lists).

    A `ResultSource` like the Engine: iterate it once; `cancel()` stops it.
    """

    def __init__(
        self,
        paths: Sequence[str],
        options: Options,
        doc: DocOptions,
        more: Iterable[Target] = (),
    ) -> None:
        self.doc = doc
        # Links in documents name no host: secret headers go to --base-url's host at most,
        # or to the hosts a planned run named (docs/security.md).
        options = confine_credentials(options, [doc.base_url])
        self.index = LinkIndex()  # network URLs
        self.anchors = AnchorStore()
        self._local: queue.SimpleQueue[Result] = queue.SimpleQueue()
        checker = self._check if doc.check_fragments and not doc.offline else None
        self.engine_options = options
        self.engine = Engine(self._targets(list(paths), more), options, checker=checker)
        self.stats = self.engine.stats
        self.root = None if doc.allow_outside_root else Root.of(doc.root_dir, paths)
        self._outside: dict[str, list[str]] = {}  # paths outside the root -> links to them

    def cancel(self) -> None:
        self.engine.cancel()

    def _confined(self, paths: list[str]) -> list[str]:
        """The documents to read: one under the root (or leading out of it by a symlink
        found in a directory) is reported outside_root and never opened."""
        root = self.root
        if root is None:
            return paths
        inside = []
        for path in paths:
            if root.holds(path):
                inside.append(path)
            else:
                self._outside.setdefault(os.path.normpath(path), [])
        return inside

    # -- runs in the engine's feeder thread -----------------------------------------------
    def _targets(self, paths: list[str], more: Iterable[Target]) -> Iterator[Target]:
        paths = self._confined(paths)
        files = LinkIndex()
        skipped: dict[str, str] = {}
        skipped_at = LinkIndex()
        invalid: dict[str, str] = {}  # hrefs that cannot be parsed -> why
        invalid_at = LinkIndex()
        mails = LinkIndex()  # mailto: and tel: links
        workers = min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(workers, thread_name_prefix="urlsweep-parse") as pool:
            cap = self.engine_options.max_page_links
            parsed = pool.map(
                lambda p: read_document(p, self.doc.bare_urls, self.doc.kind, links_cap(cap)),
                paths,
            )
            for path, page in zip(paths, parsed, strict=True):
                self.anchors.put(os.path.normpath(path), page.anchors)
                if page.dropped:  # the document's own record says its links were cut
                    shown = _display(path)
                    self._local.put(
                        Result(
                            url=shown,
                            outcome=R.SKIPPED,
                            detail=cut_detail(page, cap),
                            sources=(shown,),
                        )
                    )
                base = base_of(path, page, self.doc)
                kinds = self.doc.kinds
                for link in page.links:
                    if kinds is not None and not kinds.wants(link):
                        continue
                    where = f"{_display(path)}:{link.line}"
                    if is_mail_or_phone(link.href):
                        mails.add(link.href.strip(), where, None, link.via)
                        continue
                    found = resolve(link.href, base)
                    if found is None:
                        continue
                    if found.kind == "url":
                        url = found.target
                        if self.doc.remap is not None:
                            url = url_key(self.doc.remap(url)) or self.doc.remap(url)
                        self.index.add(url, where, found.fragment, link.via)
                    elif found.kind == "file":
                        files.add(found.target, where, found.fragment, link.via)
                    elif found.kind == "invalid":
                        invalid[found.target] = found.detail
                        invalid_at.add(found.target, where, None, link.via)
                    else:
                        skipped[found.target] = found.detail
                        skipped_at.add(found.target, where, None, link.via)
        mail = MailChecker(
            self.doc.check_mail and not (self.doc.offline or self.doc.dump),
            self.doc.dns_server,
            self.engine_options.timeout,
        )
        for href in mails.urls():
            record = mail.check(href, mails.sources(href), mails.via(href))
            self._local.put(_dumped(record) if self.doc.dump else record)
        if self.doc.dump:
            yield from self._dump(files, skipped, skipped_at, invalid, invalid_at, more)
            return
        local = LocalFiles(self.anchors, self.doc.index_files or INDEX_FILES)
        for path in files.urls():
            if self.root is not None and not self.root.holds(path):
                self._outside.setdefault(path, []).extend(files.sources(path))
                continue
            for r in local.check(
                path, files.sources(path), files.fragments(path), self.doc.check_fragments
            ):
                self._local.put(dataclasses.replace(r, via=files.via(path)))
        for path, sources in self._outside.items():
            why = self.root.why() if self.root is not None else ""
            self._local.put(
                Result(
                    url=_display(path),
                    error=R.OUTSIDE_ROOT,
                    detail=why,
                    sources=tuple(sources),
                    via=files.via(path),
                )
            )
        for href, detail in invalid.items():
            self._local.put(
                Result(
                    url=href,
                    error=R.INVALID_URL,
                    detail=detail,
                    sources=invalid_at.sources(href),
                    via=invalid_at.via(href),
                )
            )
        for href, detail in skipped.items():
            self._local.put(
                Result(
                    url=href,
                    outcome=R.SKIPPED,
                    detail=detail,
                    sources=skipped_at.sources(href),
                    via=skipped_at.via(href),
                )
            )
        for url in self.index.urls():
            if self.doc.offline:
                self._local.put(
                    Result(
                        url=url,
                        outcome=R.SKIPPED,
                        detail="network link not checked (--offline)",
                        sources=self.index.sources(url),
                        via=self.index.via(url),
                    )
                )
            else:
                yield Target(url)
        for target in more:
            if self.doc.offline:
                self._local.put(
                    Result(
                        url=target.raw,
                        outcome=R.SKIPPED,
                        detail="network link not checked (--offline)",
                        sources=(target.source,) if target.source else (),
                    )
                )
            else:
                yield target

    def _dump(
        self,
        files: LinkIndex,
        skipped: dict[str, str],
        skipped_at: LinkIndex,
        invalid: dict[str, str],
        invalid_at: LinkIndex,
        more: Iterable[Target],
    ) -> Iterator[Target]:
        """--dump: every link as a skipped record with its sources; nothing is checked."""
        for index in (files, self.index, skipped_at, invalid_at):
            for url in index.urls():
                shown = _display(url) if index is files else url
                why = skipped.get(url) or invalid.get(url) or ""
                self._local.put(
                    Result(
                        url=shown,
                        outcome=R.SKIPPED,
                        detail=f"not checked (--dump){'; ' + why if why else ''}",
                        sources=index.sources(url),
                        via=index.via(url),
                    )
                )
        for target in more:
            self._local.put(
                Result(
                    url=target.raw,
                    outcome=R.SKIPPED,
                    detail="not checked (--dump)",
                    sources=(target.source,) if target.source else (),
                )
            )
        yield from ()

    # -- checks, run by the engine's driver -----------------------------------------------
    def _check(self, work: Work, host: str, context: CheckContext) -> Check:
        if not self.index.fragments(work.raw):
            return probe.steps(work.raw, work.url, context, work.sources, host=host)
        return check_with_anchors(work, context, self.anchors)

    # -- the caller's thread --------------------------------------------------------------
    def _drain(self) -> Iterator[Result]:
        while True:
            try:
                yield self._local.get_nowait()
            except queue.Empty:
                return

    def __iter__(self) -> Iterator[Result]:
        for result in self.engine:
            yield from self._drain()
            record = with_sources(result, self.index)
            yield record
            if self.doc.check_fragments:
                yield from missing_fragments(
                    record, self.index.fragments(record.url), self.anchors.get(record.url)
                )
        yield from self._drain()


def check_documents(
    paths: str | Sequence[str],
    *,
    base_url: str | None = None,
    root_dir: str | None = None,
    offline: bool = False,
    check_fragments: bool = False,
    bare_urls: bool = False,
    allow_outside_root: bool = False,
    **options: Unpack[CheckOptions],
) -> Iterator[Result]:
    """Check every link in local HTML/Markdown files, directories or globs.

    `options` are the keyword options of `urlsweep.check`. Raises InputError for a path that
    cannot be read.
    """
    files = [f for p in ([paths] if isinstance(paths, str) else paths) for f in expand(p)]
    doc = DocOptions(
        base_url,
        root_dir,
        offline,
        check_fragments,
        bare_urls,
        allow_outside_root=allow_outside_root,
    )
    return iter(DocumentRun(files, Options.from_kwargs(**options), doc))
