"""`urlsweep report`: a stored run in any output format, broken results first."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

import click

from urlsweep.cli.common_options import format_option, markdown_limit_option, output_option
from urlsweep.cli.flags import options
from urlsweep.cli.store_cmds import _default_path, open_store, pick_run, store_path_option, when

if TYPE_CHECKING:
    from urlsweep.reports.base import Sink
    from urlsweep.store.runs import Run
    from urlsweep.summary import Summary


@click.command()
@click.argument("run_id", metavar="[RUN]", type=int, required=False)
@store_path_option
@format_option()
@output_option("the report")
@markdown_limit_option
@options("report", "compare_id", "quiet")
def report(
    run_id: int | None,
    store: str | None,
    fmt: str,
    output: str | None,
    compare_id: int | None,
    quiet: bool,
    markdown_limit: int = 65_536,
) -> None:
    """Report a stored run (the latest by default) in any output format.

    Broken results come first, then unverifiable ones, then the rest. URLs broken now but
    not in the previous run over the same inputs are marked newly broken; URLs ok now that
    were broken then are marked newly fixed.

    Exit status: 0 the run has no broken URL, 1 it has some, 2 usage or I/O error.
    """
    from urlsweep.cli.common import (
        EXIT_NOT_OK,
        OutputError,
        check_output,
        fail,
        open_output,
        quiet_stdout,
    )
    from urlsweep.reports import make_sink
    from urlsweep.reports.base import rank
    from urlsweep.summary import Summary

    check_output(output, (), store or _default_path())
    with open_store(store) as db:
        run = pick_run(db, run_id)
        base = pick_run(db, compare_id) if compare_id is not None else db.previous_run(run)
        if base is not None and base.id == run.id:
            fail("--compare needs a different run")
        changes = db.changes(run.id, base.id) if base is not None else None
        summary = Summary(started=0.0, finished=run.elapsed)
        summary.interrupted = run.state != "done"
        summary.duplicates = int((run.counts or {}).get("duplicates", 0))
        summary.run = run.to_dict() | {"compared_with": base.id if base else None}
        summary.changes = changes
        try:
            with open_output(output) as stream:
                kwargs: dict[str, Any] = {"changes": changes}
                if fmt == "text":
                    kwargs["only_failures"] = quiet
                if fmt == "markdown":
                    kwargs["limit"] = markdown_limit
                sink = make_sink(fmt, stream, **kwargs)
                for place in range(3):  # broken first: one pass over the run for each rank
                    for result in db.results(run.id):
                        if rank(result) == place:
                            summary.add(result)
                            sink.write(result)
                sink.close(summary)
                if fmt == "text":
                    _report_footer(stream, run, base, changes, summary, listed=sink)
        except BrokenPipeError:
            quiet_stdout()
        except OutputError as exc:
            fail(str(exc))
    if summary.failures():
        sys.exit(EXIT_NOT_OK)


def _report_footer(
    stream: TextIO,
    run: Run,
    base: Run | None,
    changes: dict[str, str] | None,
    summary: Summary,
    listed: Sink,
) -> None:
    """The text report's end: which run, what changed, the counts."""
    from rich.console import Console

    from urlsweep.reports.text import CHANGE_LABELS, summary_table
    from urlsweep.reports.visible import visible

    console = Console(file=stream, highlight=False, soft_wrap=True)
    if getattr(listed, "lines_written", 0):
        console.print()  # apart from the listing above, if there is one
    state = "" if run.state == "done" else f" ({run.state})"
    against = f", compared with run {base.id}" if base else ""
    console.print(f"run {run.id}, started {when(run.started)}{state}{against}")
    for kind, label in CHANGE_LABELS.items():
        urls = sorted(u for u, c in (changes or {}).items() if c == kind)
        if urls:
            console.print(f"{label}: {len(urls)}", markup=False)
            for u in urls:
                console.print(f"  {visible(u)}", markup=False)
    console.print(summary_table(summary))
