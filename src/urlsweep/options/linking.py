"""The declarations of how links are read: what the inputs are, which links of documents and
pages count, and the crawl's own options (its budget, hosts, robots.txt, sitemaps).
"""

from __future__ import annotations

from typing import Final

from urlsweep.options.declare import ALL_LIBRARY, CHECK, CRAWL, WATCH, Decl

INPUT_TYPES: Final = ("auto", "urls", "html", "markdown", "sitemap")
_DOCS: Final = frozenset({"check_documents"})
_CRAWL: Final = frozenset({"crawl_site"})
_DOCUMENTS: Final = frozenset({CHECK, WATCH})  # commands that read local documents
_CHECK: Final = frozenset({CHECK})
# Links taken from one page or document at most (docs/security.md): a page generated to hold
# hundreds of thousands of links made a crawl of 16 such pages take 2.6 GB.
DEFAULT_MAX_PAGE_LINKS: Final = 10_000

LINKING: Final[tuple[Decl, ...]] = (
    Decl(
        "input_type",
        "choice",
        "auto",
        "How to read INPUT files. auto: .html/.htm and .md/.markdown are documents whose "
        "links are checked, .xml/.xml.gz are sitemaps, other files are URL lists. "
        "'sitemap' also makes URL INPUTs sitemaps to fetch.",
        commands=_DOCUMENTS,
        target="links",
        flag="--type",
        choices=INPUT_TYPES,
        example="urls",
    ),
    Decl(
        "extract",
        "bool",
        False,
        "Fetch each URL INPUT as a page (GET, size-capped) and check the links in it.",
        commands=_CHECK,
        target="links",
    ),
    Decl(
        "base_url",
        "str",
        None,
        "Where the documents are published: relative links become URLs under it (the "
        "file's path below --root-dir, or the current directory, is appended).",
        commands=_DOCUMENTS,
        target="links",
        metavar="URL",
        library=_DOCS,
        example="https://docs.example/",
    ),
    Decl(
        "root_dir",
        "dir",
        None,
        "Directory that root-relative links (/x.html) in local documents point into.",
        commands=_DOCUMENTS,
        target="links",
        exists=True,
        library=_DOCS,
        example="site",
    ),
    Decl(
        "offline",
        "bool",
        False,
        "Check links to local files only; every network link is reported as skipped.",
        commands=_CHECK,
        target="links",
        library=_DOCS,
    ),
    Decl(
        "check_fragments",
        "bool",
        False,
        "Verify #anchor links against the ids/names of the target page (GitHub-style "
        "heading anchors in Markdown); pages with such links are downloaded.",
        target="links",
        library=_DOCS | _CRAWL,
    ),
    Decl(
        "bare_urls",
        "bool",
        False,
        "Also check plain-text URLs in Markdown.",
        commands=_DOCUMENTS,
        target="links",
        library=_DOCS,
    ),
    Decl(
        "allow_outside_root",
        "bool",
        False,
        "Let local links (../, /x, file://, symlinks) lead out of --root-dir (default: such "
        "a link is broken, outside_root, and the file is never read).",
        commands=_DOCUMENTS,
        target="links",
        library=_DOCS,
    ),
    Decl(
        "max_page_links",
        "int",
        DEFAULT_MAX_PAGE_LINKS,
        "Links taken from one page or document at most (0: all); the page's record says "
        "how many more it had, and those are not checked.",
        lo=0,
        metavar="N",
        library=ALL_LIBRARY,
        example="500",
    ),
    Decl(
        "include_kind",
        "str",
        (),
        "Check only links found in this element[attribute] of documents and pages: 'img', "
        "'a[href]', '[srcset]', 'meta[og:*]'; repeatable (docs/documents-and-crawl.md).",
        target="links",
        multiple=True,
        metavar="KIND",
        example="img",
    ),
    Decl(
        "exclude_kind",
        "str",
        (),
        "Do not check links found in this element[attribute] (as --include-kind); repeatable.",
        target="links",
        multiple=True,
        metavar="KIND",
        example="a[href]",
    ),
    Decl(
        "index_files",
        "str",
        (),
        "With --check-fragments: the page a link to a local directory shows, first found "
        "wins (default: index.html, index.htm, README.md, index.md); repeatable.",
        commands=_DOCUMENTS,
        target="links",
        flag="--index-file",
        multiple=True,
        metavar="NAME",
        example="home.html",
    ),
    Decl(
        "check_mail",
        "bool",
        False,
        "Look up the domain of each mailto: address (MX, else A/AAAA record); without it "
        "only the address syntax is checked.",
        target="links",
    ),
    Decl(
        "dns_server",
        "str",
        None,
        "DNS server for --check-mail (default: the first nameserver of /etc/resolv.conf).",
        target="links",
        metavar="HOST[:PORT]",
        example="127.0.0.1:5353",
    ),
    Decl(
        "dump",
        "bool",
        False,
        "List the links that would be checked, with where they were found (as skipped "
        "records in any --format), and send no request.",
        commands=_CHECK,
        target="links",
    ),
    Decl(
        "remap",
        "str",
        (),
        "Check a rewritten URL: the first REGEX found in a URL is replaced (\\1 allowed), "
        "e.g. 'https://example.com/ http://127.0.0.1:8000/'; repeatable. In a crawl, the "
        "start URLs and every link found (records show the URL checked).",
        commands=frozenset({CHECK, CRAWL}),
        target="links",
        multiple=True,
        metavar="'REGEX REPLACEMENT'",
        example="^https://example.com/ http://127.0.0.1:9/",
    ),
    Decl(
        "ignore_file",
        "path",
        None,
        "Regular expressions of URLs not to check, one per line, as --exclude (default: "
        "./.urlsweepignore when there is one).",
        target="links",
        metavar="FILE",
        example="ignore.txt",
    ),
    Decl(
        "depth",
        "int",
        None,
        "Follow links at most N pages away from the start (default: 50; 0: read the "
        "start pages only).",
        commands=frozenset({CRAWL}),
        target="crawl",
        short="-d",
        lo=0,
        library=_CRAWL,
        example="2",
    ),
    Decl(
        "follow_hosts",
        "str",
        (),
        "Also crawl this host (name, or name:port); repeatable.",
        commands=frozenset({CRAWL}),
        target="crawl",
        flag="--follow-host",
        multiple=True,
        metavar="HOST",
        library=_CRAWL,
        example="docs.example",
    ),
    Decl(
        "max_pages",
        "int",
        None,
        "Read at most N pages (default: 10000); links beyond are checked, not followed.",
        commands=frozenset({CRAWL}),
        target="crawl",
        lo=1,
        library=_CRAWL,
        example="10",
    ),
    Decl(
        "unbounded",
        "bool",
        False,
        "Lift the default budget (10000 pages, depth 50); --max-pages and --depth still "
        "apply when given.",
        commands=frozenset({CRAWL}),
        target="crawl",
    ),
    # The library's crawl_site takes robots=False and sitemap=False for these two.
    Decl(
        "ignore_robots",
        "bool",
        False,
        "Do not obey robots.txt.",
        commands=frozenset({CRAWL}),
        target="crawl",
    ),
    Decl(
        "no_sitemap",
        "bool",
        False,
        "Do not seed the crawl from the sitemaps.",
        commands=frozenset({CRAWL}),
        target="crawl",
    ),
    Decl(
        "max_crawl_delay",
        "float",
        None,
        "Honour robots.txt Crawl-delay up to this many seconds between requests to a "
        "crawled host (default 10; 0: ignore Crawl-delay).",
        commands=frozenset({CRAWL}),
        target="crawl",
        lo=0,
        hi=3600,
        metavar="SECONDS",
        example="0.5",
    ),
)
