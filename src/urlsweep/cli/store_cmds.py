"""The store on the command line: what check's --store/--resume/--cache/--fail-after options
(declared in urlsweep.options) do, and the `history`, `runs` and `prune` commands.

Kept apart from main.py so the checking command stays small. Heavy modules are imported only
when used.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from urlsweep.cli.common_options import format_option, limit_option
from urlsweep.cli.flags import options
from urlsweep.cli.store_runs import auto_prune, megabytes, why_not_resumed
from urlsweep.cli.store_runs import say as say  # re-exported: cli/watch.py uses it
from urlsweep.reports.visible import visible

if TYPE_CHECKING:
    from urlsweep.engine.pipeline import ResultSource
    from urlsweep.inputs import Target
    from urlsweep.options import Options
    from urlsweep.store.cachepolicy import CachePolicy, ResultFilter
    from urlsweep.store.db import Store
    from urlsweep.store.recorder import Recorder
    from urlsweep.store.reuse import Reuse
    from urlsweep.store.runs import Run

F = TypeVar("F", bound=Callable[..., Any])


def _default_path() -> str:
    from urlsweep.store.db import DEFAULT_PATH

    return DEFAULT_PATH


def store_path_option(f: F) -> F:
    return options("runs", "store")(f)


@dataclass(frozen=True)
class StoreArgs:
    path: str | None = None  # None: the default path (a failure to open it is a warning)
    enabled: bool = True
    resume: bool = False
    cache_max_age: float | None = None
    cache_exclude: ResultFilter | None = None
    fail_after: int = 1

    @property
    def cache(self) -> CachePolicy | None:
        from urlsweep.store.cachepolicy import CachePolicy, ResultFilter

        if self.cache_max_age is None:
            return None
        return CachePolicy(self.cache_max_age, self.cache_exclude or ResultFilter.parse(""))

    @property
    def store_path(self) -> str | None:
        """The store this run writes, if any (an output must not overwrite it)."""
        return (self.path or _default_path()) if self.enabled else None

    @property
    def needs_store(self) -> str | None:
        """The option that cannot work without a store, if one was given."""
        if self.resume:
            return "--resume"
        if self.cache_max_age is not None:
            return "--cache-max-age"
        if self.fail_after > 1:
            return "--fail-after"
        return None


@dataclass
class StoredRun:
    """What `check` needs from the store: a target filter, a source wrapper, a recorder."""

    recorder: Recorder | None = None
    reuse: Reuse | None = None

    @property
    def targets(self) -> Callable[[Iterable[Target]], Iterable[Target]] | None:
        """Filters the targets of a URL list (resume, cache); None when nothing is reused."""
        return self.reuse.targets if self.reuse is not None and self.reuse.filters else None

    def wrap(self, source: ResultSource) -> ResultSource:
        return self.reuse.wrap(source) if self.reuse is not None else source


@contextlib.contextmanager
def stored_run(
    args: StoreArgs, inputs: Sequence[str], options: Options, *, quiet: bool
) -> Iterator[StoredRun]:
    """Open the store and the run (new or resumed) for the duration of a check."""
    from urlsweep.cli.common import fail

    needs = args.needs_store
    if not args.enabled:
        if needs:
            fail(f"{needs} needs the results store (drop --no-store)")
        yield StoredRun()
        return

    from urlsweep.store.db import Store, StoreError
    from urlsweep.store.recorder import Recorder
    from urlsweep.store.reuse import Reuse

    path = args.path or _default_path()
    try:
        store = Store(path)
    except StoreError as exc:
        if args.path is not None or needs:
            fail(str(exc))
        say(f"warning: results not stored: {exc}", quiet=quiet)
        yield StoredRun()
        return
    with store:
        try:
            previous = store.resumable(inputs, options) if args.resume else None
        except StoreError as exc:
            fail(str(exc))
        if previous is not None:
            run = store.claim(previous)
            done = store.count(run.id)
            say(f"resuming run {run.id}: {done} URLs already checked", quiet=quiet)
        else:
            if args.resume:
                why = why_not_resumed(store, inputs, options)
                say(f"nothing to resume: starting a new run{why}", quiet=quiet)
            run = store.begin_run(inputs, options)
        recorder = Recorder(store, run)
        reuse = None
        if previous is not None or args.cache is not None or args.fail_after > 1:
            reuse = Reuse(
                store=store,
                recorder=recorder,
                resume=previous is not None,
                cache=args.cache,
                fail_after=args.fail_after,
            )
        try:
            yield StoredRun(recorder, reuse)
        except BaseException:
            if previous is None and not recorder.written:
                store.discard_run(run.id)  # stopped before it began (e.g. a usage error)
            raise
        if reuse is not None and reuse.cache_hits:
            say(f"{reuse.cache_hits} results reused from the cache", quiet=quiet)
        goes_on = ""
        if recorder.complete is False:
            goes_on = "; the same command with --resume checks the rest"
        say(f"stored as run {run.id} in {path}{goes_on}", quiet=quiet)
        auto_prune(store, quiet=quiet)


def open_store(path: str | None) -> Store:
    from urlsweep.cli.common import fail
    from urlsweep.store.db import Store, StoreError

    try:
        return Store(path or _default_path(), create=False)
    except StoreError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def pick_run(store: Store, run_id: int | None) -> Run:
    from urlsweep.cli.common import fail

    run = store.latest_run() if run_id is None else store.run(run_id)
    if run is None:
        fail("the store has no runs yet" if run_id is None else f"no run {run_id} in the store")
        raise AssertionError  # unreachable
    return run


def when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


@click.command()
@click.argument("url")
@store_path_option
@limit_option("results")
@format_option(("text", "json"))
def history(url: str, store: str | None, limit: int, fmt: str) -> None:
    """Show the stored results of URL, newest first (one line per run that checked it)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from urlsweep.reports.text import _STYLE, status_text
    from urlsweep.store.keys import url_key

    with open_store(store) as db:
        rows = db.history(url_key(url), limit)
    if fmt == "json":
        records = [
            {
                "run": s.run_id,
                "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(s.checked_at)),
                "cached_from": s.cached_from,
                **s.result.to_dict(),
            }
            for s in rows
        ]
        click.echo(json.dumps(records, ensure_ascii=False, indent=1))
        return
    console = Console(highlight=False, soft_wrap=True)
    if not rows:
        console.print(f"no stored results for {visible(url)}", markup=False)
        return
    table = Table(show_edge=False, pad_edge=False)
    for name in ("run", "checked", "outcome", "status", "time", "note"):
        table.add_column(name, justify="right" if name in ("run", "time") else "left")
    for s in rows:
        r = s.result
        note = r.detail
        if s.cached_from is not None:
            note = f"reused from run {s.cached_from}" + (f"; {note}" if note else "")
        if r.redirects:
            note = f"→ {r.final_url}" + (f"  {note}" if note else "")
        style = _STYLE.get(r.outcome, "")
        table.add_row(
            str(s.run_id),
            when(s.checked_at),
            Text(r.outcome, style=style),
            Text(status_text(r), style=style),
            f"{r.elapsed_ms:.0f} ms",
            Text(visible(note)),
        )
    console.print(Text(visible(rows[0].result.url), style="bold"))
    console.print(table)


@click.command()
@store_path_option
@limit_option("runs")
@format_option(("text", "json"))
def runs(store: str | None, limit: int, fmt: str) -> None:
    """List the stored runs, newest first: the RUN numbers that report takes."""
    from rich.console import Console
    from rich.table import Table

    with open_store(store) as db:
        found = db.runs(limit)
        size = db.size()
        total = db.run_count()
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() | {"counts": r.counts} for r in found], indent=1))
        return
    table = Table(show_edge=False, pad_edge=False)
    for name in ("run", "started", "state", "URLs", "not ok", "time", "inputs"):
        table.add_column(name, justify="right" if name in ("run", "URLs", "not ok") else "left")
    for r in found:
        counts = r.counts or {}
        table.add_row(
            str(r.id),
            when(r.started),
            r.shown_state,
            str(counts.get("total", "")),
            str(counts.get("not_ok", "")),
            f"{r.elapsed:.1f} s",
            visible(" ".join(os.path.relpath(i) if os.path.isabs(i) else i for i in r.inputs)),
        )
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    console.print(f"{total} runs, {megabytes(size)} in {db.path}", markup=False)


@click.command()
@store_path_option
@options("prune", "keep_runs", "older_than")
def prune(store: str | None, keep_runs: int | None, older_than: float | None) -> None:
    """Drop old runs and give their space back to the file system.

    Without options, applies the default that every check applies after it is stored
    (and a watch as it runs): the newest 200 runs are kept, and runs older than 90 days are
    dropped. A live run and anything newer are never dropped. A watch's rows go with its
    rounds; its events are kept for a week (each URL's latest change always).
    """
    from urlsweep.store.prune import DEFAULT_KEEP_RUNS, DEFAULT_OLDER_THAN
    from urlsweep.watch.state import prune_rows

    age = older_than
    if keep_runs is None and age is None:
        keep_runs, age = DEFAULT_KEEP_RUNS, DEFAULT_OLDER_THAN
    with open_store(store) as db:
        done = db.prune(keep_runs, age, also=lambda c: prune_rows(c, age))
        left = db.run_count()
    rows = f", {done.rows} watch rows" if done.rows else ""
    click.echo(
        f"pruned {done.runs} runs ({done.results} results{rows}); {left} runs left;"
        f" store {megabytes(done.size_before)} -> {megabytes(done.size_after)}"
    )


COMMANDS = (history, runs, prune)  # `report` is in report_cmd.py
