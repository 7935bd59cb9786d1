"""What every command shares: exit codes, one-line usage errors, where output goes."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

import click

from urlsweep.reports.visible import shown

EXIT_OK = 0


EXIT_NOT_OK = 1


EXIT_USAGE = 2  # a usage error, or an input or output that cannot be read or written


class OutputError(Exception):
    """The output cannot be written (a full disk, an I/O error): exit 2, one line."""


def output_failed(message: str, stored: tuple[int, str] | None) -> None:
    """The one line for an output that failed mid-run: what failed, and where the results
    received until then are (the store keeps them; `urlsweep report` writes them again)."""
    if stored is not None:
        run, path = stored
        import shlex

        again = f"urlsweep report --store {shlex.quote(path)} {run}"
        message += f"; the results so far are stored as run {run} ({again})"
    fail(message)


class StdoutProxy:
    """Resolves sys.stdout at every write, so a progress bar can redirect it above itself.

    `rich_proxied_file` is not passed on: rich would write to the terminal under the bar.
    """

    def write(self, s: str) -> int:
        return sys.stdout.write(s)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def __getattr__(self, name: str) -> Any:
        if name == "rich_proxied_file":
            raise AttributeError(name)
        return getattr(sys.stdout, name)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"urlsweep: error: {shown(message)}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[yellow]{escape(shown(message))}[/]")


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def stdout_is_pipe() -> bool:
    """Results piped on (`| head`, `| grep`) most often end on the same screen as stderr,
    where a live bar would cut into their lines: no bar then."""
    import stat

    try:
        return stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def check_output(path: str | None, inputs: Iterable[str] = (), store: str | None = None) -> None:
    """Refuse, before anything is read or sent, an output that would destroy an input or
    the results store, or that cannot be written at all. Nothing is opened here: the file
    is truncated only once the run has something to write."""
    if path is None or path == "-":
        return
    for arg in inputs:
        if arg != "-" and "://" not in arg and os.path.isfile(arg) and _same(path, arg):
            fail(f"-o {path} is also an input: writing it would destroy it")
    if store is not None:
        for kept in (store, store + "-wal", store + "-shm", store + "-journal"):
            if os.path.exists(kept) and _same(path, kept):
                fail(f"-o {path} is the results store: writing it would destroy it")
    if os.path.isdir(path):
        fail(f"cannot write {path}: it is a directory")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            fail(f"cannot write {path}: permission denied")
    else:
        parent = os.path.dirname(path) or "."
        if not os.path.isdir(parent):
            fail(f"cannot write {path}: no such directory {parent}")
        if not os.access(parent, os.W_OK):
            fail(f"cannot write {path}: permission denied")


def write_error(path: str | None, exc: OSError) -> OutputError:
    where = "standard output" if path is None or path == "-" else path
    return OutputError(f"cannot write {where}: {exc.strerror or exc}")


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    """The output stream; a failed write or close raises OutputError (BrokenPipeError, the
    reader gone, is left for the caller to end quietly)."""
    if path is None or path == "-":
        try:
            yield StdoutProxy()  # type: ignore[misc]
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(path, exc) from exc
        return
    try:
        f = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    try:
        with f:
            yield f
    except BrokenPipeError:  # a named pipe whose reader left
        raise
    except OSError as exc:
        raise write_error(path, exc) from exc


def quiet_stdout() -> None:
    """After a closed pipe: nothing more goes to stdout, not even at exit's flush."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class _StderrProxy:
    """sys.stderr at every write: log lines go above a progress bar while one is shown."""

    def write(self, s: str) -> int:
        return sys.stderr.write(s)

    def flush(self) -> None:
        sys.stderr.flush()


def setup_logging(verbose: int) -> None:
    """-v: a line per check (and per retry); -vv: also every request of every check, with
    the answer's address, time and headers that matter; -vvv: also every library's debug."""
    if verbose <= 0:
        return
    import logging  # here: 9 ms of start-up that only -v needs (before workers are spawned)

    class Inert(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            # URLs and answers come from outside; passwords in URLs are never logged
            return shown(super().format(record))

    handler = logging.StreamHandler(_StderrProxy())
    handler.setFormatter(Inert("%(asctime)s %(threadName)-20s %(levelname)-5s %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if verbose > 2 else logging.INFO, handlers=[handler], force=True
    )
    logging.getLogger("urlsweep").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    # libcurl's own verbose account (connections, TLS, headers) only at -vvv
    logging.getLogger("urlsweep.curl").setLevel(logging.DEBUG if verbose > 2 else logging.INFO)
