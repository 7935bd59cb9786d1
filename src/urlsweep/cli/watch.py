"""`urlsweep watch`: check's inputs and options, checked every interval, changes reported.

The command is built from `check`'s own options (so flags, config keys and help agree) plus
the watch's; the loop, change detection, sinks and server are the library's
(`urlsweep.watch`). Everything heavy is imported when the command runs.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from urlsweep.engine.source import ResultSource
    from urlsweep.inputs import Target
    from urlsweep.options import Options
    from urlsweep.watch.schedule import WatchRule

from urlsweep.cli.config import WATCH_META


def build_watch(command_cls: type[click.Command]) -> click.Command:
    """The `watch` command: its options are the declared ones (urlsweep.options) that apply
    to it: check's, minus a report's, plus the watch's own."""
    from urlsweep.cli.flags import command_params

    def callback(**kwargs: Any) -> None:
        _watch(**kwargs)

    return command_cls(
        "watch",
        callback=callback,
        help=_HELP,
        short_help="Check URLs every interval; report changes, serve a live page.",
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        params=[click.Argument(["inputs"], nargs=-1, metavar="INPUT..."), *command_params("watch")],
    )


_HELP = """Check INPUT... every interval and report what changes.

INPUT is what check takes: URLs, files of URLs, sitemaps, HTML and Markdown documents; they
are read again every round. A change (an outcome that differs from the URL's last settled
one, seen --fail-after rounds in a row) is printed on stdout (a line of text on a terminal,
a JSON line otherwise: --events-format), stored, and sent to --on-change-exec and
--on-change-webhook. A URL seen for the first time is an event
only when it is not ok.

Every round is a run in the store (urlsweep runs, history); a restart carries on the
schedule, states and round numbers from there.

Exit status: after --rounds N, 0, or 1 when URLs are broken at the end; 2 usage error;
130 on Ctrl-C or SIGTERM (the round in flight finishes its checks and is recorded as
interrupted).
"""


def _rules(source: tuple[str, tuple[Any, ...]] | None) -> tuple[WatchRule, ...]:
    from urlsweep.cli.common import fail
    from urlsweep.options import OptionError
    from urlsweep.store.cachepolicy import parse_duration
    from urlsweep.watch.schedule import WatchRule

    if not source:
        return ()
    path, tables = source
    rules = []
    for i, table in enumerate(tables, 1):
        where = f"{path}: [[watch]] #{i}"
        if not isinstance(table, dict) or set(table) != {"pattern", "interval"}:
            fail(f"{where}: want exactly pattern = '...' and interval = '5m'")
        interval = table["interval"]
        try:
            seconds = (
                float(interval)
                if isinstance(interval, int | float) and not isinstance(interval, bool)
                else parse_duration(str(interval))
            )
            rules.append(WatchRule(str(table["pattern"]), seconds))
        except OptionError as exc:
            fail(f"{where}: {exc}")
    return tuple(rules)


def _watch(**params: Any) -> None:
    from urlsweep.cli.common import fail, setup_logging, warn
    from urlsweep.cli.interrupts import Interrupts
    from urlsweep.cli.settings import Settings
    from urlsweep.cli.store_cmds import say
    from urlsweep.cli.store_runs import megabytes
    from urlsweep.engine.source import SourceError
    from urlsweep.inputs import InputError
    from urlsweep.options import OptionError
    from urlsweep.store.prune import DEFAULT_KEEP_RUNS, DEFAULT_OLDER_THAN
    from urlsweep.watch.runner import WatchConfig, Watcher, plan_source
    from urlsweep.watch.sinks import Delivery, ExecSink, Sink, StdoutSink, WebhookSink

    ctx = click.get_current_context()
    settings = Settings.of("watch", params)
    inputs = settings.inputs
    quiet = bool(settings.run["quiet"])
    setup_logging(settings.run["verbose"])
    if not inputs:
        fail("no INPUT given (URLs or files of URLs to watch); see urlsweep watch -h")
    if "-" in inputs:
        fail("watch reads its inputs again every round: give URLs or files, not stdin (-)")
    rules = _rules(ctx.meta.get(WATCH_META))
    try:
        prepared = settings.prepared(ctx)
    except (InputError, OptionError) as exc:
        fail(str(exc))
    args, link, options, w = prepared.store, prepared.links, prepared.options, prepared.watch
    dask, partition_size = prepared.run.dask, prepared.run.partition_size
    exec_cmd, exec_timeout = w["on_change_exec"], w["exec_timeout"]
    webhook, webhook_format = w["on_change_webhook"], w["webhook_format"]
    webhook_retries: int = w["webhook_retries"]
    serve: str | None = w["serve"]
    keep_runs, older_than = w["keep_runs"], w["older_than"]
    if keep_runs is None and older_than is None:  # as `urlsweep prune` without options
        keep_runs, older_than = DEFAULT_KEEP_RUNS, DEFAULT_OLDER_THAN
    try:
        config = WatchConfig(
            every=w["every"],
            rounds=w["rounds"],
            rules=rules,
            fail_after=args.fail_after,
            keep_runs=keep_runs,
            older_than=older_than,
        )
    except (InputError, OptionError) as exc:
        fail(str(exc))

    def log(message: str) -> None:
        from urlsweep.reports.visible import shown  # no password of a URL on stderr

        click.echo(f"urlsweep: {shown(message)}", err=True)

    with contextlib.ExitStack() as stack:
        engine = None if dask is None else _dask_engine(dask, partition_size, stack)
        try:
            make_source = plan_source(inputs, options, link, engine)
        except (InputError, OptionError) as exc:
            fail(str(exc))
        store = _open_store(args, quiet, stack)
        sinks: list[Sink] = [StdoutSink(sys.stdout, w["events_format"])]
        slow: list[Sink] = []
        stop_delivery = threading.Event()
        try:
            if exec_cmd is not None:
                slow.append(ExecSink(shlex.split(exec_cmd), exec_timeout, log))
            if webhook is not None:
                slow.append(
                    WebhookSink(
                        webhook,
                        fmt=webhook_format,
                        retries=webhook_retries,
                        log=log,
                        stop=stop_delivery,
                    )
                )
        except (OptionError, ValueError) as exc:
            fail(str(exc))
        delivery = Delivery(slow, log, stop_delivery)

        def on_round(n: int, summary: Any, seconds: float, lag: float) -> None:
            if not quiet:
                not_ok = summary.total - summary.ok
                log(
                    f"round {n}: {summary.total} checked, {not_ok} not ok, {seconds:.2f} s,"
                    f" started {lag:.3f} s late"
                )

        def on_prune(done: Any, seconds: float) -> None:
            if not quiet and (done.runs or done.rows):
                log(
                    f"pruned {done.runs} old rounds in {seconds:.3f} s"
                    f" (store {megabytes(done.size_before)} -> {megabytes(done.size_after)})"
                )

        try:
            watcher = Watcher(
                inputs,
                options,
                config,
                make_source,
                store=store,
                sinks=sinks,
                delivery=delivery,
                on_round=on_round,
                on_error=lambda message: log(f"error: {message}; trying again next round"),
                on_prune=on_prune,
            )
        except OptionError as exc:
            fail(str(exc))
        if watcher.resumed_rounds:
            say(f"resuming after round {watcher.resumed_rounds}", quiet=quiet)
        server = None
        if serve is not None:
            from urlsweep.watch.server import StatusServer, parse_address

            try:
                host, port = parse_address(serve)
                server = StatusServer(host, port, watcher.board, watcher.metrics)
            except OptionError as exc:
                fail(str(exc))
                raise  # unreachable: fail exits
            server.start()
            log(f"serving {server.url}")
        delivery.start()
        interrupts = Interrupts(notify=None if quiet else warn)
        try:
            with interrupts.installed(), interrupts.receiving(watcher.stop, watcher.save):
                try:
                    watcher.run()
                except (InputError, OptionError, SourceError) as exc:
                    log(f"error: {exc}")
                    code = 2
                else:
                    code = watcher.exit_status()
        finally:
            if server is not None:
                server.stop()
            delivery.close()
    sys.exit(interrupts.exit_code(code))


def _open_store(args: Any, quiet: bool, stack: contextlib.ExitStack) -> Any:
    from urlsweep.cli.common import fail
    from urlsweep.cli.store_cmds import say
    from urlsweep.store.db import DEFAULT_PATH, Store
    from urlsweep.store.schema import StoreError

    if not args.enabled:
        return None
    try:
        return stack.enter_context(Store(args.path or DEFAULT_PATH))
    except StoreError as exc:
        if args.path is not None or args.fail_after > 1:
            fail(str(exc))
        say(f"warning: results not stored: {exc}", quiet=quiet)
        return None


def _dask_engine(address: str, partition_size: int, stack: contextlib.ExitStack) -> Any:
    """One connection for the whole watch, made by the first round; each round is a
    DaskSource on it."""
    from urlsweep.cli.common import fail
    from urlsweep.options import OptionError

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
    clients: list[Any] = []

    def make(targets: Iterable[Target], options: Options) -> ResultSource:
        if not clients:  # connected with the first round, then kept for the whole watch
            clients.append(stack.enter_context(udask.connect(address)))
        return udask.DaskSource(clients[0], targets, options, partition_size=partition_size)

    return make
