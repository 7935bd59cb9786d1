"""What every command shares: exit codes, one-line usage errors, where output goes."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import click

EXIT_OK = 0


EXIT_NOT_OK = 1


EXIT_USAGE = 2


class StdoutProxy:
    """Resolves sys.stdout at every write, so a progress bar can redirect it above itself."""

    def write(self, s: str) -> int:
        return sys.stdout.write(s)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stdout, name)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"urlsweep: error: {message}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[yellow]{message}[/]")


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    if path is None or path == "-":
        yield StdoutProxy()  # type: ignore[misc]
        return
    try:
        f = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    with f:
        yield f
