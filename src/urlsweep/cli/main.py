"""The `urlsweep` command: parses options, wires inputs -> engine -> sinks, sets exit codes.

Everything here is presentation; the checking itself is the library (`urlsweep.engine`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from typing import Any

import click

from urlsweep._version import __version__
from urlsweep.cli.common import check_output, fail, setup_logging, warn
from urlsweep.cli.common_options import format_option, markdown_limit_option, output_option
from urlsweep.cli.interrupts import Interrupts
from urlsweep.cli.link_options import link_options
from urlsweep.cli.polite import config_options, fail_on_option, politeness_options, take_politeness
from urlsweep.cli.report_cmd import report as report_command
from urlsweep.cli.run import dask_engine, run_check
from urlsweep.cli.store_cmds import COMMANDS as STORE_COMMANDS
from urlsweep.cli.store_cmds import StoreArgs, store_options, stored_run
from urlsweep.cli.watch import WATCH_META, build_watch
from urlsweep.options import DEFAULT_USER_AGENT, OptionError, Options, StatusSet, parse_header

INPUT_TYPES = ("auto", "urls", "html", "markdown", "sitemap")


class ConfigCommand(click.Command):
    """A command whose options may also come from a config file (config.py).

    Applied after parsing, so `ctx.get_parameter_source` tells which flags the user gave:
    those win over the file.
    """

    def invoke(self, ctx: click.Context) -> Any:
        from urlsweep.cli import config as cfg

        explicit = ctx.params.pop("config", None)
        no_config = ctx.params.pop("no_config", False)
        if explicit and no_config:
            fail("give --config FILE or --no-config, not both")
        try:
            path = None if no_config else cfg.discover(explicit)
            if path is not None:
                conf = cfg.load(path)
                cfg.apply(ctx, conf)
                ctx.meta[HOSTS_META] = conf.hosts
                ctx.meta[WATCH_META] = (path, conf.watch)
        except cfg.ConfigError as exc:
            fail(str(exc))
        return super().invoke(ctx)


HOSTS_META = "urlsweep.hosts"


def _status_set(ctx: click.Context, param: click.Parameter, value: str) -> StatusSet:
    try:
        return StatusSet.parse(value)
    except OptionError as exc:
        raise click.BadParameter(str(exc)) from None


def _headers(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_header(h) for h in value)
    except OptionError as exc:
        raise click.BadParameter(str(exc)) from None


def _processes(ctx: click.Context, param: click.Parameter, value: str) -> int | None:
    if value == "auto":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= 256:
        raise click.BadParameter(f"{value!r} is not 'auto' or a number from 1 to 256")
    return n


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="urlsweep")
def main() -> None:
    """urlsweep: a fast, threaded web status checker.

    Which of your URLs are alive, slow, redirected or broken? Run `urlsweep demo` to see it
    work offline against a built-in local server, then `urlsweep check urls.txt`.
    """


@main.command(cls=ConfigCommand)
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1, 10_000),
    default=128,
    show_default=True,
    help="Concurrent checks: requests in flight at once (in a crawl too).",
)
@click.option(
    "-P",
    "--processes",
    default="auto",
    show_default=True,
    callback=_processes,
    metavar="N|auto",
    help="Worker processes sharing the --workers, each checking its share of the hosts. "
    "auto: one per CPU core for URL lists of 10,000+ URLs in files, else 1.",
)
@click.option(
    "-t",
    "--timeout",
    type=click.FloatRange(0.001, 3600),
    default=10.0,
    show_default=True,
    help="Total deadline in seconds per attempt: connect, TLS and response headers.",
)
@click.option(
    "-m",
    "--method",
    type=click.Choice(["head", "get"]),
    default="head",
    show_default=True,
    help="HEAD falls back to GET on 4xx/5xx or a protocol error.",
)
@click.option(
    "--max-redirects",
    type=click.IntRange(0, 100),
    default=10,
    show_default=True,
    help="Redirect hops to follow (each is recorded).",
)
@click.option(
    "--accept",
    default="200-299",
    show_default=True,
    callback=_status_set,
    help="Statuses counted as ok, e.g. 200-299,403.",
)
@format_option()
@output_option("results")
@markdown_limit_option
@store_options
@click.option("-k", "--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option(
    "--ca-cert",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="PEM bundle of trusted CAs (default: Mozilla's, via certifi).",
)
@click.option(
    "-A",
    "--user-agent",
    default=DEFAULT_USER_AGENT,
    show_default=False,
    help="User-Agent header to send.",
)
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    callback=_headers,
    help="Extra request header 'Name: value' (repeatable).",
)
@click.option(
    "--dask",
    metavar="ADDRESS",
    default=None,
    help="Run the checks on a Dask cluster: its scheduler (tcp://host:8786), or local[:N] "
    "for N worker processes here. Needs urlsweep[dask]; see docs/dask.md.",
)
@click.option(
    "--partition-size",
    type=click.IntRange(1, 1_000_000),
    default=500,
    show_default=True,
    help="With --dask: URLs per host in one task (a task takes several hosts).",
)
@click.option("--no-progress", is_flag=True, help="Never show the progress bar.")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log each check with its thread name (-vv: every request; -vvv: libraries too).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress or summary; text output lists only URLs that are not ok.",
)
@click.option(
    "--type",
    "input_type",
    type=click.Choice(INPUT_TYPES),
    default="auto",
    show_default=True,
    help="How to read INPUT files. auto: .html/.htm and .md/.markdown are documents whose "
    "links are checked, .xml/.xml.gz are sitemaps, other files are URL lists. "
    "'sitemap' also makes URL INPUTs sitemaps to fetch.",
)
@click.option(
    "--extract",
    is_flag=True,
    help="Fetch each URL INPUT as a page (GET, size-capped) and check the links in it.",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Where the documents are published: relative links become URLs under it "
    "(the file's path below --root-dir, or the current directory, is appended).",
)
@click.option(
    "--root-dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Directory that root-relative links (/x.html) in local documents point into.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Check links to local files only; every network link is reported as skipped.",
)
@click.option(
    "--check-fragments",
    is_flag=True,
    help="Verify #anchor links against the ids/names of the target page (GitHub-style "
    "heading anchors in Markdown); pages with such links are downloaded.",
)
@click.option("--bare-urls", is_flag=True, help="Also check plain-text URLs in Markdown.")
@click.option(
    "--allow-outside-root",
    is_flag=True,
    help="Let local links (../, /x, file://, symlinks) lead out of --root-dir (default: "
    "such a link is broken, outside_root, and the file is never read).",
)
@link_options
@politeness_options
@fail_on_option
@config_options
def check(
    inputs: tuple[str, ...],
    workers: int,
    processes: int | None,
    timeout: float,
    method: str,
    max_redirects: int,
    accept: StatusSet,
    fmt: str,
    output: str | None,
    insecure: bool,
    ca_cert: str | None,
    user_agent: str,
    headers: tuple[tuple[str, str], ...],
    no_progress: bool,
    verbose: int,
    quiet: bool,
    input_type: str = "auto",
    extract: bool = False,
    base_url: str | None = None,
    root_dir: str | None = None,
    offline: bool = False,
    check_fragments: bool = False,
    bare_urls: bool = False,
    allow_outside_root: bool = False,
    include_kind: tuple[str, ...] = (),
    exclude_kind: tuple[str, ...] = (),
    index_files: tuple[str, ...] = (),
    check_mail: bool = False,
    dns_server: str | None = None,
    dump: bool = False,
    remap: tuple[str, ...] = (),
    ignore_file: str | None = None,
    fail_on: tuple[str, ...] = (),
    dask: str | None = None,
    partition_size: int = 500,
    **crawl: Any,
) -> None:
    """Check the status of every URL in INPUT...

    INPUT is a URL, a file with one URL per line (blank lines and # comments are ignored),
    or - for stdin (the default when no INPUT is given and stdin is not a terminal).
    HTML and Markdown files, directories of them and quoted globs ('docs/**/*.md') have
    their links checked, each reported with every file:line that has it; sitemaps
    (.xml, .xml.gz) have the pages they list checked.

    Every option can also be set in ./urlsweep.toml or [tool.urlsweep] in pyproject.toml
    (see docs/politeness.md); flags given here win.

    Exit status: 0 no URL broken, 1 some URL broken (or an outcome given to --fail-on),
    2 usage or I/O error (an unreadable input, an output that cannot be written),
    130 interrupted.
    """
    from urlsweep import inputs as inp

    setup_logging(verbose)
    crawl_mode = bool(crawl.pop("crawl_mode", False))
    if not inputs:
        if sys.stdin.isatty():
            fail("no INPUT given (a URL, a file of URLs, or - for stdin); see urlsweep check -h")
        inputs = ("-",)
    try:
        options = Options(
            workers=workers,
            timeout=timeout,
            method=method,
            max_redirects=max_redirects,
            accept=accept,
            insecure=insecure,
            ca_cert=ca_cert,
            user_agent=user_agent,
            headers=headers,
            hosts=click.get_current_context().meta.get(HOSTS_META, ()),
            **take_politeness(crawl),
        )
        from urlsweep.links.remap import ignore_patterns

        ignored = ignore_patterns(ignore_file)
        if ignored:
            options = dataclasses.replace(options, exclude=(*options.exclude, *ignored))
    except (inp.InputError, OptionError) as exc:
        fail(str(exc))
    markdown_limit = int(crawl.pop("markdown_limit", 65_536))
    check_output(output, inputs, StoreArgs.current().store_path)
    show_progress = not (no_progress or quiet) and sys.stderr.isatty()
    from urlsweep.engine.source import SourceError
    from urlsweep.plan import LinkArgs, plan_run

    interrupts = Interrupts(notify=None if quiet else warn)
    with (
        interrupts.installed(),
        contextlib.ExitStack() as cluster,
        stored_run(StoreArgs.current(), inputs, options, quiet=quiet) as stored,
    ):
        try:
            source, documents = plan_run(
                inputs,
                options,
                LinkArgs(
                    input_type=input_type,
                    extract=extract,
                    base_url=base_url,
                    root_dir=root_dir,
                    offline=offline,
                    check_fragments=check_fragments,
                    bare_urls=bare_urls,
                    allow_outside_root=allow_outside_root,
                    include_kind=include_kind,
                    exclude_kind=exclude_kind,
                    index_files=index_files,
                    check_mail=check_mail,
                    dns_server=dns_server,
                    dump=dump,
                    remap=remap,
                    crawl=crawl if crawl_mode else None,
                ),
                processes=processes,
                engine=None if dask is None else dask_engine(dask, partition_size, cluster),
                targets=stored.targets,
            )
        except (inp.InputError, OptionError, SourceError) as exc:
            fail(str(exc))
        total = None if documents or not show_progress else inp.count_lines(inputs)
        code = run_check(
            stored.wrap(source),
            fmt=fmt,
            output=output,
            progress=show_progress,
            total=total,
            quiet=quiet,
            group=documents,
            fail_on=fail_on,
            recorder=stored.recorder,
            interrupts=interrupts,
            markdown_limit=markdown_limit,
        )
    sys.exit(interrupts.exit_code(code))


_CHECK_ONLY = (
    "input_type",
    "extract",
    "base_url",
    "root_dir",
    "offline",
    "bare_urls",
    "index_files",
    "allow_outside_root",
    "dask",
    "partition_size",
    "dump",
    "remap",
)


def _crawl(**kwargs: Any) -> None:
    """Check every link of a site, crawling it from START_URL...

    Pages on the start host (and --follow-host hosts) are fetched once each, their links
    taken, and followed to --depth; links to other hosts are checked, not crawled.
    robots.txt is honoured and /sitemap.xml (or robots.txt's Sitemap:) seeds the crawl.
    Results come when the crawl ends, each with every page that links to it.

    Exit status: 0 no link broken, 1 some link broken (or an outcome given to --fail-on),
    2 usage or I/O error, 130 interrupted.
    """
    kwargs["inputs"] = kwargs.pop("start_urls")
    if not kwargs["inputs"]:
        fail("no START_URL given; see urlsweep crawl -h")
    check.callback(crawl_mode=True, **kwargs)  # type: ignore[misc]


crawl_command = ConfigCommand(
    "crawl",
    callback=_crawl,
    help=_crawl.__doc__,
    short_help="Crawl a site and check every link in it.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    params=[
        click.Argument(["start_urls"], nargs=-1, metavar="START_URL..."),
        *(p for p in check.params if p.name not in _CHECK_ONLY and p.name != "inputs"),
        click.Option(
            ["-d", "--depth"],
            type=click.IntRange(0, None),
            default=None,
            help="Follow links at most N pages away from the start (default: 50; "
            "0: read the start pages only).",
        ),
        click.Option(
            ["--follow-host", "follow_hosts"],
            multiple=True,
            metavar="HOST",
            help="Also crawl this host (name, or name:port); repeatable.",
        ),
        click.Option(
            ["--max-pages"],
            type=click.IntRange(1, None),
            default=None,
            help="Read at most N pages (default: 10000); links beyond are checked, not followed.",
        ),
        click.Option(
            ["--unbounded"],
            is_flag=True,
            help="Lift the default budget (10000 pages, depth 50); --max-pages and --depth "
            "still apply when given.",
        ),
        click.Option(["--ignore-robots"], is_flag=True, help="Do not obey robots.txt."),
        click.Option(
            ["--max-crawl-delay"],
            type=click.FloatRange(0, 3600),
            default=None,
            metavar="SECONDS",
            help="Honour robots.txt Crawl-delay up to this many seconds between requests "
            "to a crawled host (default 10; 0: ignore Crawl-delay).",
        ),
        click.Option(
            ["--no-sitemap"], is_flag=True, help="Do not seed the crawl from the sitemaps."
        ),
    ],
)
main.add_command(crawl_command)


@main.command()
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1, 1000),
    default=None,
    help="Workers for the concurrent run (default: one per URL).",
)
def demo(workers: int | None) -> None:
    """Check a built-in local server twice: one worker, then many, and compare.

    Offline: the server runs on 127.0.0.1 and stops by itself.
    """
    from urlsweep.cli.demo import run_demo

    run_demo(workers)


for _command in (*STORE_COMMANDS, report_command):
    main.add_command(_command)

main.add_command(build_watch(check, ConfigCommand, HOSTS_META))

if __name__ == "__main__":  # pragma: no cover
    main()
