"""The `urlsweep` command: parses options, wires inputs -> engine -> sinks, sets exit codes.

Everything here is presentation; the checking itself is the library (`urlsweep.engine`).
The options of `check` and `crawl` are built from their declarations (urlsweep.options,
cli/flags.py); cli/settings.py sorts the values by where they go, so none can be dropped.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any

import click

from urlsweep._version import __version__
from urlsweep.cli.common import (
    OutputError,
    check_output,
    fail,
    output_failed,
    setup_logging,
    stdout_is_pipe,
    warn,
)
from urlsweep.cli.config import ConfigCommand, with_config
from urlsweep.cli.flags import command_params
from urlsweep.cli.interrupts import Interrupts
from urlsweep.cli.report_cmd import report as report_command
from urlsweep.cli.run import dask_engine, run_check
from urlsweep.cli.settings import Prepared, RunArgs, Settings
from urlsweep.cli.store_cmds import COMMANDS as STORE_COMMANDS
from urlsweep.cli.store_cmds import stored_run
from urlsweep.cli.watch import build_watch
from urlsweep.errors import InputError, OptionError, SourceError

if TYPE_CHECKING:
    from urlsweep.store.recorder import Recorder

__all__ = ["Prepared", "RunArgs", "Settings", "check", "crawl_command", "execute", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="urlsweep")
def main() -> None:
    """urlsweep: a fast, threaded web status checker.

    Which of your URLs are alive, slow, redirected or broken? Run `urlsweep demo` to see it
    work offline against a built-in local server, then `urlsweep check urls.txt`.
    """


def _check(**params: Any) -> None:
    """Check the status of every URL in INPUT...

    INPUT is a URL, a file with one URL per line (blank lines and # comments are ignored),
    or - for stdin (the default when no INPUT is given and stdin is not a terminal).
    HTML and Markdown files, directories of them and quoted globs ('docs/**/*.md') have
    their links checked, each reported with every file:line that has it; sitemaps
    (.xml, .xml.gz) have the pages they list checked.

    Every option can also be set in ./urlsweep.toml or [tool.urlsweep] in pyproject.toml
    (see docs/politeness.md); flags given here win, then environment variables.

    Exit status: 0 no URL broken, 1 some URL broken (or an outcome given to --fail-on),
    2 usage or I/O error (an unreadable input, an output that cannot be written),
    130 interrupted.
    """
    run_settings(Settings.of("check", params))


def _crawl(**params: Any) -> None:
    """Check every link of a site, crawling it from START_URL...

    Pages on the start host (and --follow-host hosts) are fetched once each, their links
    taken, and followed to --depth; links to other hosts are checked, not crawled.
    robots.txt is honoured and /sitemap.xml (or robots.txt's Sitemap:) seeds the crawl.
    Records come when the crawl ends, each with every page that links to it; on a
    terminal, broken links are shown as they are found.

    Exit status: 0 no link broken, 1 some link broken (or an outcome given to --fail-on),
    2 usage or I/O error, 130 interrupted.
    """
    params["inputs"] = params.pop("start_urls")
    if not params["inputs"]:
        fail("no START_URL given; see urlsweep crawl -h")
    run_settings(Settings.of("crawl", params))


def run_settings(settings: Settings) -> None:
    """Run a checking command: its values checked and sorted, then `execute`."""
    ctx = click.get_current_context()
    setup_logging(settings.run["verbose"])
    try:
        prepared = settings.prepared(ctx)
    except (OptionError, InputError) as exc:
        fail(str(exc))
    execute(prepared)


def execute(p: Prepared) -> None:
    """Plan the run, drive it to its end and exit with its status."""
    from urlsweep import inputs as inp
    from urlsweep.plan import plan_run

    inputs = p.inputs
    if not inputs:
        if sys.stdin.isatty():
            fail("no INPUT given (a URL, a file of URLs, or - for stdin); see urlsweep check -h")
        inputs = ("-",)
    run = p.run
    check_output(run.output, inputs, p.store.store_path)
    if p.command == "check":
        _unused_document_options(p, inputs)
    show_progress = (
        not (run.no_progress or run.quiet)
        and sys.stderr.isatty()
        and not (run.output in (None, "-") and stdout_is_pipe())
    )
    interrupts = Interrupts(notify=None if run.quiet else warn)
    recorder: Recorder | None = None
    try:
        with (
            interrupts.installed(),
            contextlib.ExitStack() as cluster,
            stored_run(p.store, inputs, p.options, quiet=run.quiet) as stored,
        ):
            try:
                dask = (
                    None if run.dask is None else dask_engine(run.dask, run.partition_size, cluster)
                )
                source, documents = plan_run(
                    inputs,
                    p.options,
                    p.links,
                    processes=run.processes,
                    engine=dask,
                    targets=stored.targets,
                )
            except (InputError, OptionError, SourceError) as exc:
                fail(str(exc))
            recorder = stored.recorder
            if recorder is not None:
                recorder.start()  # after the engine: its workers are forked from one thread
            total = None if documents or not show_progress else inp.count_lines(inputs)
            if (p.command == "crawl" or p.links.extract) and not run.quiet and sys.stderr.isatty():
                from urlsweep.cli.progress import broken_notices
                from urlsweep.links.crawl import Crawler

                if isinstance(source, Crawler):
                    source.on_broken = broken_notices()
            code = run_check(
                stored.wrap(source),
                fmt=run.fmt,
                output=run.output,
                progress=show_progress,
                total=total,
                quiet=run.quiet,
                group=documents,
                fail_on=run.fail_on,
                recorder=stored.recorder,
                interrupts=interrupts,
                markdown_limit=run.markdown_limit,
            )
    except OutputError as exc:
        kept = recorder is not None and recorder.written > 0
        where = (recorder.run.id, str(recorder.store.path)) if recorder and kept else None
        output_failed(str(exc), where)
    sys.exit(interrupts.exit_code(code))


# The options that only local documents read, and their defaults.
_DOCUMENT_ONLY = {
    "root_dir": None,
    "base_url": None,
    "bare_urls": False,
    "allow_outside_root": False,
    "index_files": (),
}


def _unused_document_options(p: Prepared, inputs: tuple[str, ...]) -> None:
    """Warn about document options given for inputs that hold no document: silence would
    let a person believe, say, --root-dir changed something."""
    from urlsweep.options import declared
    from urlsweep.plan import split_inputs

    given = [n for n, default in _DOCUMENT_ONLY.items() if getattr(p.links, n) != default]
    if not given or p.links.extract:
        return
    try:
        if split_inputs(inputs, p.links.input_type).documents:
            return
    except InputError:
        return  # the run reports it, in one line
    for name in given:
        warn(
            f"urlsweep: warning: {declared(name).long} applies to local documents (HTML, "
            "Markdown, CSS files or directories of them); no INPUT is one, so it changes nothing"
        )


_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

check = ConfigCommand(
    "check",
    callback=_check,
    help=_check.__doc__,
    short_help="Check the status of every URL in INPUT...",
    context_settings=_CONTEXT,
    params=[click.Argument(["inputs"], nargs=-1, metavar="[INPUT]..."), *command_params("check")],
)
crawl_command = ConfigCommand(
    "crawl",
    callback=_crawl,
    help=_crawl.__doc__,
    short_help="Crawl a site and check every link in it.",
    context_settings=_CONTEXT,
    params=[
        click.Argument(["start_urls"], nargs=-1, metavar="START_URL..."),
        *command_params("crawl"),
    ],
)
main.add_command(check)
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
    main.add_command(with_config(_command))

main.add_command(build_watch(ConfigCommand))

if __name__ == "__main__":  # pragma: no cover
    main()
