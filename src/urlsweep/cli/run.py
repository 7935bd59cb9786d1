"""Driving one run to its end: results -> store -> sink, progress, summary, exit code."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from urlsweep.cli.common import (
    EXIT_NOT_OK,
    EXIT_OK,
    EXIT_USAGE,
    OutputError,
    fail,
    open_output,
    quiet_stdout,
    write_error,
)
from urlsweep.cli.interrupts import EXIT_INTERRUPTED, Interrupts
from urlsweep.options import OptionError, Options
from urlsweep.reports.visible import shown

if TYPE_CHECKING:
    from rich.console import Console

    from urlsweep.engine.source import ResultSource
    from urlsweep.inputs import Target
    from urlsweep.result import Result
    from urlsweep.store.recorder import Recorder


def dask_engine(
    address: str, partition_size: int, stack: contextlib.ExitStack
) -> Callable[[Iterable[Target], Options], ResultSource]:
    """What checks a URL list with --dask; it connects when called, and `stack` disconnects."""
    try:
        from urlsweep.scale import dask as udask
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in ("dask", "distributed"):
            raise
        fail("--dask needs Dask on this machine: pip install 'urlsweep[dask]'")
    try:
        udask.parse_address(address)
    except OptionError as exc:
        fail(str(exc))

    def make(targets: Iterable[Target], options: Options) -> ResultSource:
        client = stack.enter_context(udask.connect(address))
        return udask.DaskSource(client, targets, options, partition_size=partition_size)

    return make


def run_check(
    engine: ResultSource,
    *,
    fmt: str,
    output: str | None,
    progress: bool,
    total: int | None,
    quiet: bool,
    group: bool = False,
    fail_on: Iterable[str] = (),
    recorder: Recorder | None = None,
    interrupts: Interrupts,
    markdown_limit: int | None = None,
) -> int:
    """Drive one run to its end and return the exit code. Shared by every checking command.

    `engine` is anything that yields Results and can be cancelled: the threaded Engine, or a
    layer that spreads the work over processes or a cluster. A broken URL makes the exit
    code 1; so does any outcome in `fail_on` (e.g. unverifiable). `recorder` keeps every
    result in the store before it is written out. `interrupts` holds the command's
    Ctrl-C handling: a first signal cancels `engine`, a second leaves at once.

    The output is opened (a file truncated) only when there is something to write: an input
    that turns out unreadable before any result leaves an existing file as it was. An output
    that cannot be written (a full disk) stops the run with one line and exit 2; the results
    received so far stay in the store. A reader that went away (`| head`) ends it quietly.
    """
    from urlsweep.cli.progress import ProgressBar
    from urlsweep.engine.source import SourceError
    from urlsweep.inputs import InputError
    from urlsweep.reports import Sink, make_sink
    from urlsweep.summary import Summary

    summary = Summary()
    # The summary's printer (rich, ~30 ms to import) loads once the first result is in, not
    # before: the first requests (and worker processes' own imports) go first, and the wait
    # for the next answers hides it. A text output or a progress bar has it loaded already.
    printer = threading.Thread(target=_load_printer, name="urlsweep-preload", daemon=True)
    kwargs: dict[str, object] = {"only_failures": quiet, "group": group} if fmt == "text" else {}
    if fmt == "markdown" and markdown_limit is not None:
        kwargs["limit"] = markdown_limit
    sinks: list[Sink] = []
    live: Console | None = None  # a progress bar's console while it shows above stdout

    with contextlib.ExitStack() as out:

        def sink() -> Sink:
            if not sinks:
                sinks.append(make_sink(fmt, out.enter_context(open_output(output)), **kwargs))
                if live is not None and output in (None, "-"):
                    sinks[0].print_above(live)
            return sinks[0]

        def write(result: Result) -> None:
            try:
                sink().write(result)
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise write_error(output, exc) from exc

        def close() -> None:
            try:
                if input_error is None or sinks:
                    sink().close(summary)
                out.close()  # the file closed (and its last bytes written) here
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise write_error(output, exc) from exc

        def flush() -> None:
            if sinks:
                sinks[0].flush()

        input_error: str | None = None
        output_error: str | None = None
        complete = False
        with interrupts.receiving(engine.cancel, flush, *last_words(recorder)):
            try:
                try:
                    with ProgressBar(engine.stats, total, progress) as bar:
                        live = bar.stdout_console
                        try:
                            for result in engine:
                                if printer.ident is None:
                                    printer.start()
                                if recorder is not None:
                                    recorder.write(result)  # masks what it keeps
                                result = result.masked()  # what every format shows
                                summary.add(result)
                                write(result)
                                bar.received += 1
                            complete = not interrupts.interrupted
                        except (InputError, SourceError) as exc:
                            input_error = str(exc)
                        finally:
                            live = None
                            if sinks:
                                sinks[0].print_above(None)  # the bar goes: held lines first
                    summary.finish(
                        interrupted=interrupts.interrupted, duplicates=engine.stats.duplicates
                    )
                    close()
                except BrokenPipeError:
                    # The reader went away (`| head`): stop quietly, as Unix tools do.
                    engine.cancel()
                    quiet_stdout()
                    return EXIT_NOT_OK if summary.failures(fail_on) else EXIT_OK
            except OutputError as exc:
                engine.cancel()
                complete = False
                output_error = str(exc)
                with contextlib.suppress(OSError, OutputError):
                    out.close()  # what is still buffered cannot be written either
            finally:
                if recorder is not None:
                    recorder.close(summary, complete)

    if printer.ident is not None:
        printer.join()
    from rich.console import Console

    from urlsweep.reports.text import TextSink, summary_table

    if output_error is not None:
        raise OutputError(output_error)  # the caller says it, with where the results are
    err = Console(stderr=True)
    if not quiet:
        table = summary_table(summary)
        err.print(table)
        if sinks and isinstance(sinks[0], TextSink):
            more = "urlsweep report -q lists them all" if recorder is not None else ""
            try:
                sinks[0].recap(reserved=table.row_count + 3, more=more)  # + "stored as", prompt
            except BrokenPipeError:
                quiet_stdout()
    if input_error is not None:
        err.print(f"urlsweep: error: {shown(input_error)}", markup=False, highlight=False)
        return EXIT_USAGE
    if interrupts.interrupted:
        return EXIT_INTERRUPTED
    if summary.total == 0 and not quiet:
        err.print("[yellow]no URLs in the input[/]")
    return EXIT_NOT_OK if summary.failures(fail_on) else EXIT_OK


def _load_printer() -> None:
    import rich.console  # noqa: F401

    import urlsweep.reports.text  # noqa: F401


def last_words(recorder: Recorder | None) -> tuple[Callable[[], None], ...]:
    return () if recorder is None else (recorder.abort,)
