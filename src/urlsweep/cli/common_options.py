"""Options shared by the store commands, built from their declarations (urlsweep.options) so
they read and behave the same as in `check`; `format_option` can narrow the formats."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from urlsweep.cli.flags import click_option
from urlsweep.options import FORMAT_NAMES, declared

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "FORMAT_NAMES",
    "format_option",
    "limit_option",
    "markdown_limit_option",
    "output_option",
]


def _add(option: click.Option) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        f.__click_params__ = [*getattr(f, "__click_params__", []), option]  # type: ignore[attr-defined]
        return f

    return decorate


def format_option(names: Sequence[str] = FORMAT_NAMES) -> Callable[[F], F]:
    option = click_option(declared("fmt"), "report")
    option.type = click.Choice(tuple(names))
    return _add(option)


def output_option(what: str) -> Callable[[F], F]:
    option = click_option(declared("output"), "report")
    option.help = f"Write {what} to FILE instead of stdout."
    return _add(option)


def limit_option(what: str) -> Callable[[F], F]:
    option = click_option(declared("limit"), "runs")
    option.help = f"Show at most this many {what}, newest first."
    return _add(option)


def markdown_limit_option(f: F) -> F:
    return _add(click_option(declared("markdown_limit"), "report"))(f)
