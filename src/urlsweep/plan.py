"""Which run a command line asks for: a URL list, documents and sitemaps, --extract, a crawl.

Kept apart from the CLI so the library can build the same runs; nothing here prints.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urlsweep.inputs import InputError, Target, check_inputs, classify_arg, read_inputs
from urlsweep.links.doctypes import doc_kind, expand, is_glob, is_sitemap_path
from urlsweep.options import OptionError, Options

if TYPE_CHECKING:
    from urlsweep.engine.pipeline import ResultSource
    from urlsweep.links.extract.kinds import KindFilter


_LISTS_ONLY = (
    "--dask checks URL lists (URLs, files of URLs, stdin); "
    "documents, sitemaps, --offline, --extract and crawls run without it"
)
_NO_FILTER = "--resume and --cache-max-age work on URL lists, not documents, sitemaps or crawls"


@dataclass(frozen=True, slots=True)
class LinkArgs:
    """The document and crawl options of `check` and `crawl`, as given."""

    input_type: str = "auto"
    extract: bool = False
    base_url: str | None = None
    root_dir: str | None = None
    offline: bool = False
    check_fragments: bool = False
    bare_urls: bool = False
    allow_outside_root: bool = False
    crawl: dict[str, Any] | None = None  # `crawl` command options; None for `check`
    include_kind: tuple[str, ...] = ()  # check only links found in these element[attribute]s
    exclude_kind: tuple[str, ...] = ()
    index_files: tuple[str, ...] = ()  # --index-file: a directory's index pages
    check_mail: bool = False  # --check-mail
    dns_server: str | None = None  # --dns-server HOST[:PORT]
    dump: bool = False  # --dump: list the links, send no request
    remap: tuple[str, ...] = ()  # --remap 'REGEX REPLACEMENT'
    ignore_file: str | None = None  # --ignore-file: applied to Options.exclude by the caller


def _dns(args: LinkArgs) -> tuple[str, int] | None:
    from urlsweep.links.mail import parse_server

    try:
        return parse_server(args.dns_server) if args.dns_server else None
    except ValueError as exc:
        raise OptionError(str(exc)) from None


def _kinds(args: LinkArgs) -> KindFilter | None:
    from urlsweep.links.extract.kinds import KindFilter, check_pattern

    for pattern in (*args.include_kind, *args.exclude_kind):
        problem = check_pattern(pattern)
        if problem:
            raise OptionError(f"--include-kind/--exclude-kind: {problem}")
    return KindFilter.of(args.include_kind, args.exclude_kind)


@dataclass(slots=True)
class InputPlan:
    documents: list[str]
    sitemaps: list[str]
    plain: list[str]  # URLs, URL-list files, stdin


def split_inputs(inputs: Sequence[str], input_type: str = "auto") -> InputPlan:
    """Sort INPUTs by how they are read; raises InputError for one that cannot be read."""
    plan = InputPlan([], [], [])
    for arg in inputs:
        if arg == "-":
            plan.plain.append(arg)
        elif "://" in arg:
            (plan.sitemaps if input_type == "sitemap" else plan.plain).append(arg)
        elif os.path.isdir(arg) or (is_glob(arg) and not os.path.exists(arg)):
            found = expand(arg)
            if not found:
                raise InputError(f"{arg}: no HTML or Markdown files in this directory")
            plan.documents.extend(found)
        else:
            classify_arg(arg)  # raises for a missing or unreadable file
            kind = input_type
            if kind == "auto":
                kind = doc_kind(arg) or ("sitemap" if is_sitemap_path(arg) else "urls")
            if kind in ("html", "markdown", "css"):
                plan.documents.append(arg)
            elif kind == "sitemap":
                plan.sitemaps.append(arg)
            else:
                plan.plain.append(arg)
    check_inputs(plan.plain)
    return plan


def plan_run(
    inputs: Sequence[str],
    options: Options,
    args: LinkArgs,
    *,
    processes: int | None = 1,
    engine: Callable[[Iterable[Target], Options], ResultSource] | None = None,
    targets: Callable[[Iterable[Target]], Iterable[Target]] | None = None,
) -> tuple[ResultSource, bool]:
    """The run for these inputs, and whether its records carry document sources.

    `processes` applies to URL lists (None: decided by their size, see parallel.py). Only
    the modules the run needs are imported: a plain URL list starts as fast as before.
    `engine`, if given, checks a URL list instead of local threads and processes (--dask).
    `targets` filters the targets of a URL list before they are checked (the store's
    --resume and cache); runs over documents, sitemaps or a crawl cannot take one.
    """
    if engine is not None and (args.crawl is not None or args.extract):
        raise OptionError(_LISTS_ONLY)
    if engine is not None and processes not in (None, 1):
        raise OptionError("--processes does not apply with --dask: the cluster has workers")
    if targets is not None and (args.crawl is not None or args.extract):
        raise OptionError(_NO_FILTER)
    if args.base_url is not None and not args.base_url.lower().startswith(("http://", "https://")):
        raise OptionError(f"--base-url {args.base_url!r} is not an http(s) URL")
    if args.dump and (args.crawl is not None or args.extract):
        raise OptionError(
            "--dump sends no request: it lists the links of local documents, sitemap files "
            "and URL lists, not of pages it would have to fetch (crawl, --extract)"
        )
    if args.crawl is not None:
        from urlsweep.links.crawl import Crawler, CrawlOptions

        bad = [u for u in inputs if not u.lower().startswith(("http://", "https://"))]
        if bad:
            raise InputError(f"{bad[0]}: crawl starts from URLs (http:// or https://)")
        from urlsweep.links.remap import Remap

        crawl = CrawlOptions.from_command(args.crawl, args.check_fragments)
        crawl = dataclasses.replace(
            crawl,
            kinds=_kinds(args),
            check_mail=args.check_mail,
            dns_server=_dns(args),
            remap=Remap.parse(args.remap),
        )
        return Crawler(list(inputs), options, crawl), True
    plan = split_inputs(inputs, args.input_type)
    from urlsweep.links.remap import Remap

    remap = Remap.parse(args.remap)

    def listed() -> Iterable[Target]:
        plain = read_inputs(plan.plain)
        return remap.targets(plain) if remap is not None else plain

    if args.extract:
        from urlsweep.links.crawl import Crawler, CrawlOptions

        if plan.documents or plan.sitemaps:
            raise InputError("--extract reads pages from URLs (or files listing them)")
        seeds = [t.raw for t in read_inputs(plan.plain)]
        crawl = CrawlOptions(  # every page named is read: the inputs are the budget
            depth=0,
            max_pages=None,
            robots=False,
            sitemap=False,
            check_fragments=args.check_fragments,
            kinds=_kinds(args),
            check_mail=args.check_mail,
            dns_server=_dns(args),
            remap=remap,
        )
        return Crawler(seeds, options, crawl), True
    if args.dump and any("://" in s for s in plan.sitemaps):
        raise OptionError("--dump sends no request: give sitemaps as files, not URLs")
    if not (plan.documents or plan.sitemaps or args.offline or args.dump):
        plain = listed()
        wanted = targets(plain) if targets is not None else plain
        if args.check_fragments:
            if engine is not None:
                raise OptionError("--check-fragments reads pages here: it runs without --dask")
            from urlsweep.links.listfragments import ListFragments

            return ListFragments(wanted, options), False
        if engine is not None:
            return engine(wanted, options), False
        from urlsweep.scale.auto import auto_processes

        n = auto_processes(plan.plain) if processes is None else processes
        if n > 1:  # this process only reads and writes: no libcurl, no engine here
            from urlsweep.scale.local import ProcessEngine

            source = ProcessEngine(wanted, options, n)
            source.start()  # while the caller sets up its output
            return source, False
        from urlsweep.engine.pipeline import Engine

        return Engine(wanted, options), False
    if engine is not None:
        raise OptionError(_LISTS_ONLY)
    if targets is not None:
        raise OptionError(_NO_FILTER)
    from urlsweep.links.documents import DocOptions, DocumentRun
    from urlsweep.links.sitemap import sitemap_targets

    doc = DocOptions(
        base_url=args.base_url,
        root_dir=args.root_dir,
        offline=args.offline,
        check_fragments=args.check_fragments,
        bare_urls=args.bare_urls,
        allow_outside_root=args.allow_outside_root,
        kind=args.input_type if args.input_type in ("html", "markdown") else None,
        kinds=_kinds(args),
        index_files=args.index_files,
        check_mail=args.check_mail,
        dns_server=_dns(args),
        dump=args.dump,
        remap=remap,
    )

    from urlsweep.probe.policy import confine_credentials

    # Secret headers go to the hosts the user typed, not to those the documents and
    # sitemaps link to (docs/security.md).
    named = [a for a in (*plan.plain, *plan.sitemaps) if "://" in a]
    options = confine_credentials(options, [*named, args.base_url])
    more = itertools.chain(sitemap_targets(plan.sitemaps, options), listed())
    return DocumentRun(plan.documents, options, doc, more), True
