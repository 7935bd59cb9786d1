"""Click options shared by several commands, so they read and behave the same everywhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# The names of `reports.FORMATS`, kept here so `--help` needs no report module.
FORMAT_NAMES = ("text", "json", "jsonl", "csv", "sarif", "junit", "markdown", "html")


def format_option(names: Sequence[str] = FORMAT_NAMES) -> Callable[[F], F]:
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(names),
        default="text",
        show_default=True,
        help="Output format.",
    )


def output_option(what: str) -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help=f"Write {what} to FILE instead of stdout.",
    )


def limit_option(what: str) -> Callable[[F], F]:
    return click.option(
        "-n",
        "--limit",
        type=click.IntRange(1, 100_000),
        default=20,
        show_default=True,
        help=f"Show at most this many {what}, newest first.",
    )


def markdown_limit_option(f: F) -> F:
    return click.option(
        "--markdown-limit",
        metavar="CHARS",
        type=click.IntRange(0, None),
        default=65_536,
        show_default=True,
        help="Markdown: stay under this many characters (GitHub's comment limit), broken "
        "results first, then 'N more results'; 0 lifts the limit.",
    )(f)
