"""Output formats. Every format is a `Sink`: fed each result as it arrives, closed once.

Streaming formats (text, jsonl, csv) write as results come, so a long run is useful while
it runs; `json` is one document, valid once the sink is closed; junit, markdown and html
put totals first, so they spool their rows and write everything at the end.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TextIO

from urlsweep.reports.base import Sink

# Format name -> (module, class). A run imports only the format it writes (the HTML and
# JUnit writers alone take longer to import than starting the interpreter). Every factory
# takes the stream and an optional `changes` mapping (see Sink).
FORMATS: dict[str, tuple[str, str]] = {
    "text": ("text", "TextSink"),
    "json": ("jsonfmt", "JsonSink"),
    "jsonl": ("jsonfmt", "JsonlSink"),
    "csv": ("csvfmt", "CsvSink"),
    "sarif": ("sarif", "SarifSink"),
    "junit": ("junit", "JunitSink"),
    "markdown": ("markdown", "MarkdownSink"),
    "html": ("html", "HtmlSink"),
}


def sink_class(fmt: str) -> Callable[..., Sink]:
    try:
        module, name = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
    factory: Callable[..., Sink] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return factory


def make_sink(fmt: str, stream: TextIO, **kwargs: Any) -> Sink:
    return sink_class(fmt)(stream, **kwargs)


__all__ = ["FORMATS", "Sink", "make_sink", "sink_class"]
