"""The options of `check` (and `crawl`) about which links are read and how (issue 14): kinds,
directory index pages, mail, --dump, --remap, the ignore file. Kept apart from main.py so the
command's own module stays small; see docs/documents-and-crawl.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option(
        "--include-kind",
        multiple=True,
        metavar="KIND",
        help="Check only links found in this element[attribute] of documents and pages: "
        "'img', 'a[href]', '[srcset]', 'meta[og:*]'; repeatable (docs/documents-and-crawl.md).",
    ),
    click.option(
        "--remap",
        multiple=True,
        metavar="'REGEX REPLACEMENT'",
        help="Check a rewritten URL: the first REGEX found in a URL is replaced (\\1 allowed), "
        "e.g. 'https://example.com/ http://127.0.0.1:8000/'; repeatable. Not in crawls.",
    ),
    click.option(
        "--ignore-file",
        metavar="FILE",
        default=None,
        help="Regular expressions of URLs not to check, one per line, as --exclude "
        "(default: ./.urlsweepignore when there is one).",
    ),
    click.option(
        "--check-mail",
        is_flag=True,
        help="Look up the domain of each mailto: address (MX, else A/AAAA record); without it "
        "only the address syntax is checked.",
    ),
    click.option(
        "--dns-server",
        metavar="HOST[:PORT]",
        default=None,
        help="DNS server for --check-mail (default: the first nameserver of /etc/resolv.conf).",
    ),
    click.option(
        "--dump",
        is_flag=True,
        help="List the links that would be checked, with where they were found (as skipped "
        "records in any --format), and send no request.",
    ),
    click.option(
        "--index-file",
        "index_files",
        multiple=True,
        metavar="NAME",
        help="With --check-fragments: the page a link to a local directory shows, first found "
        "wins (default: index.html, index.htm, README.md, index.md); repeatable.",
    ),
    click.option(
        "--exclude-kind",
        multiple=True,
        metavar="KIND",
        help="Do not check links found in this element[attribute] (as --include-kind); repeatable.",
    ),
]


def link_options(fn: F) -> F:
    """Apply every option above, in the order `--help` lists them."""
    for option in reversed(_OPTIONS):
        fn = option(fn)
    return fn
